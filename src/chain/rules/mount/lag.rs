//! KVC703: a mount behind the vault's latest version for longer than rotation allows, and
//! the pending first poll after rotation was turned on again.

use std::time::Duration;

use super::LAG_SLACK;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Fact, Link, Status};
use crate::chain::rules::set;

/// KVC703: mounted version ≠ vault latest for longer than a poll interval (+ slack); with
/// rotation known off, as soon as a newer version exists: no poll ever fetches it (FACTS §4,
/// audit GG1). `poll`: the driver's interval, None when its flags were not read — then no lag
/// is measured against an assumed one (it is configurable, 5m in AKS's example, FACTS §4):
/// the version behind is a fact of the link, whose rotation check is unknown already (GG2).
pub(super) fn lag(cx: &Ctx, link: &mut Link, poll: Option<Duration>) {
    let Some(p) = cx.params.as_deref() else {
        return;
    };
    let Some(st) = cx.status else { return };
    let csi = cx.cluster().csi_driver.known();
    let rotation_off = super::remedy::rotation_off(cx);
    // Rotation turned on again (a repaired `disable-rotation`): a version created while it
    // was off is fetched at the first poll after that moment (FACTS §4), not before.
    let enabled_at = csi
        .filter(|_| !rotation_off)
        .and_then(|c| c.rotation_enabled_at);
    let vault = p.keyvault_name.as_deref().unwrap_or_default();
    for (i, o) in p.objects.iter().enumerate() {
        if o.object_version.is_some() {
            continue; // pinned: KVC603 already says it never moves
        }
        let Some(t) = o.object_type else { continue };
        let Some(obj) = cx
            .vault_object(i, vault, t, &o.object_name)
            .and_then(|f| f.state.known())
            .and_then(|s| s.as_ref())
        else {
            continue;
        };
        let Some(latest) = newest_mounted(o, obj) else {
            continue;
        };
        let Some(mounted) = st.objects.iter().find(|so| o.is_status_id(&so.id)) else {
            continue;
        };
        if mounted.version == latest.version {
            continue;
        }
        // No creation time: no lag to measure.
        let Some(since) = latest.created else {
            continue;
        };
        let limit = match poll {
            _ if rotation_off => jiff::SignedDuration::ZERO,
            Some(poll) => jiff::SignedDuration::try_from(poll + LAG_SLACK)
                .unwrap_or(jiff::SignedDuration::MAX),
            None => {
                link.facts.push(Fact::new(
                    "rotation",
                    format!(
                        "the vault's latest {} {} version {} is not the mounted {}; the driver's rotation poll interval was not read, so whether the mount lags is not known",
                        t.as_str(),
                        o.object_name,
                        latest.version,
                        mounted.version
                    ),
                ));
                continue;
            }
        };
        // Rotation enabled after the version was created: the lag counts from then.
        let enabled = enabled_at.filter(|on| *on > since);
        let from = enabled.unwrap_or(since);
        // Lagging once the clock is past `from + limit`; the message then gives the lag.
        let clock = cx.ix.clock();
        let now = clock.now();
        if !from.checked_add(limit).is_ok_and(|t| clock.after(t)) {
            if let Some(on) = enabled {
                rotation_pending(
                    link,
                    (t.as_str(), &o.object_name),
                    &latest.version,
                    on,
                    now,
                    poll.unwrap_or_default(),
                );
            }
            continue;
        }
        let lag = now.duration_since(since);
        let failed = cx
            .events
            .iter()
            .any(|(_, e)| e.reason == "MountRotationFailed" && e.type_ != "Normal");
        let why = if rotation_off {
            "rotation is disabled, so no poll ever fetches it".to_string()
        } else if let Some(on) = enabled {
            format!(
                "rotation was enabled {}s ago, more than a poll interval, and no rotation event says why (drivers from v1.6.0 re-fetch without events): this lag is the only signal",
                now.duration_since(on).as_secs()
            )
        } else if failed {
            "its rotation polls fail (MountRotationFailed events)".to_string()
        } else {
            "no rotation event says why (drivers from v1.6.0 re-fetch without events): this lag is the only signal".to_string()
        };
        // Rotation off is a state of the SecretProviderClass's mounts, not of one pod: every
        // pod that mounted before the new version holds the old one for good (FACTS §4). Said
        // once for the SPC, a finding its pods' chains share (as KVC702 is), each pod's SPCPS
        // its evidence; with rotation on, a pod's lag is its own (its republish, its events).
        let (resource, holder) = if rotation_off {
            (
                format!("SecretProviderClass/{}", cx.spc_name),
                format!("pods mounting SecretProviderClass {} hold", cx.spc_name),
            )
        } else {
            (
                format!("Pod/{}", cx.pod.name),
                format!("pod {} still mounts", cx.pod.name),
            )
        };
        let mut f = cx.remedied(
            Code::KVC703,
            resource,
            format!(
                "{holder} {} {} version {} while the vault's latest is {} (created {}s ago{}): {why}",
                t.as_str(),
                o.object_name,
                mounted.version,
                latest.version,
                lag.as_secs(),
                match poll {
                    Some(p) if !rotation_off => format!(", poll interval {}s", p.as_secs()),
                    _ => String::new(),
                }
            ),
            vec![
                format!("SPCPS {}: {} version {}", st.name, mounted.id, mounted.version),
                format!(
                    "Key Vault {vault}: latest {} created {}",
                    latest.version,
                    crate::glance::time(since)
                ),
            ],
        );
        if rotation_off {
            // Every pod's mount of the SPC, this one's among them.
            f.confirm = format!(
                "kubectl get secretproviderclasspodstatus -n {ns} -o jsonpath='{{range .items[?(@.status.secretProviderClassName==\"{spc}\")]}}{{.metadata.name}}{{\"\\t\"}}{{.status.objects}}{{\"\\n\"}}{{end}}'",
                ns = cx.ns(),
                spc = cx.spc_name
            )
            .into();
        }
        link.findings.push(f);
    }
}

/// The version a mount of `o` should hold: the vault's latest. With objectVersionHistory
/// (> 1) `<type>/<name>/0` holds the newest enabled version (FACTS §1, §5: disabled versions
/// are skipped), so a disabled latest shifts the indexes: what /0 holds then is not a lag to
/// measure from a creation time (the lost index is KVC801's), and none is returned.
fn newest_mounted<'v>(
    o: &crate::spc::SpcObject,
    obj: &'v crate::snapshot::VaultObject,
) -> Option<&'v crate::snapshot::ObjectVersion> {
    let latest = obj.latest()?;
    (latest.enabled || o.object_version_history.is_none_or(|n| n <= 1)).then_some(latest)
}

/// A mount behind the vault's latest version while the first poll since rotation was turned
/// on again is still due (FACTS §4: the driver re-fetches every poll interval): pending, with
/// the version the poll should bring, not KVC703 (§11: a repaired fault reads healthy within
/// one poll of the next rotation).
fn rotation_pending(
    link: &mut Link,
    (kind, object): (&str, &str),
    latest: &str,
    on: jiff::Timestamp,
    now: jiff::Timestamp,
    poll: Duration,
) {
    if link.status == Status::Ok {
        set(link, Status::Pending, "rotation pending");
    }
    link.facts.push(Fact::new(
        "rotation",
        format!(
            "rotation was enabled {}s ago; the next poll (every {}s) should bring {kind} {object} version {latest}",
            now.duration_since(on).as_secs(),
            poll.as_secs()
        ),
    ));
}
