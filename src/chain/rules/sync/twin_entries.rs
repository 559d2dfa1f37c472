//! Two `secretObjects` entries of one SecretProviderClass naming the same Secret (KVC807,
//! audit FF6). The driver's SPCPS controller builds each entry on its own, in order, from that
//! entry's data alone ([D] `controllers/secretproviderclasspodstatus_controller.go`, FACTS §2):
//! v1.6.0 creates the Secret from an entry or, when it exists, replaces it (Update) with that
//! entry's data, type and labels, so every reconcile ends with the last entry's keys; up to
//! v1.5 ([D5]) the first entry creates it, the later ones find it and are skipped, and the
//! rotation reconciler patches it to each entry's data in turn (a two-way merge patch, which
//! drops the keys that entry does not make). Either way the Secret holds one entry's keys at
//! a time, never every entry's: a reader of another entry's key breaks (or not) by version and
//! moment. The same clash as two SPCs writing one Secret, inside one SPC.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::Link;
use crate::snapshot::{SecretObjectSpec, SpcObs};

/// Whether `spc` names Secret `secret` in more than one `secretObjects` entry (names trimmed,
/// as the driver does).
pub(crate) fn named_twice(spc: &SpcObs, secret: &str) -> bool {
    let secret = secret.trim();
    (spc.secret_objects.iter())
        .filter(|so| so.secret_name.trim() == secret)
        .nth(1)
        .is_some()
}

/// KVC807 once per Secret that two or more entries of the SPC name, naming the entries; and
/// once per key that one entry's data names twice.
pub(super) fn check(cx: &Ctx, spc: &SpcObs, link: &mut Link) {
    twin_keys(cx, spc, link);
    let entries = &spc.secret_objects;
    if entries.len() < 2 {
        return;
    }
    // Sorted by name, then position: each Secret's entries in order (a long list is no
    // quadratic scan).
    let mut named: Vec<(&str, usize)> = (entries.iter().enumerate())
        .map(|(i, so)| (so.secret_name.trim(), i))
        .filter(|(name, _)| !name.is_empty())
        .collect();
    named.sort_unstable();
    for twins in named.chunk_by(|a, b| a.0 == b.0).filter(|g| g.len() > 1) {
        let name = twins[0].0;
        let at: Vec<(usize, &SecretObjectSpec)> =
            twins.iter().map(|&(_, i)| (i, &entries[i])).collect();
        link.findings.push(finding(cx, name, &at));
    }
}

fn finding(
    cx: &Ctx,
    name: &str,
    at: &[(usize, &SecretObjectSpec)],
) -> crate::chain::model::Finding {
    let keys = |so: &SecretObjectSpec| {
        so.data
            .iter()
            .map(|d| d.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let listed: Vec<String> = at
        .iter()
        .map(|(i, so)| format!("secretObjects[{i}] (keys {})", keys(so)))
        .collect();
    let (last, rest) = listed.split_last().unwrap_or((&listed[0], &[]));
    let mut f = cx.remedied(
        Code::KVC807,
        format!("Secret/{name}"),
        format!(
            "{} and {last} of SecretProviderClass {} {} name Secret {name}: the driver builds the Secret from each entry on its own, whole, so it holds one entry's keys at a time and never all of them (driver v1.6.0 rewrites it from each entry in turn at every reconcile and keeps the last one's; before v1.6 the first entry creates it and rotation rewrites it from each in turn)",
            rest.join(", "),
            cx.spc_name,
            if rest.len() == 1 { "both" } else { "all" }
        ),
        at.iter()
            .map(|(i, so)| {
                format!(
                    "secretObjects[{i}]: secretName {name}, type {:?}, data keys: {}",
                    so.type_,
                    keys(so)
                )
            })
            .collect(),
    );
    let (first, _) = at[0];
    let later: Vec<String> = at[1..]
        .iter()
        .map(|(i, _)| format!("secretObjects[{i}]"))
        .collect();
    let mut merge = format!(
        "one entry per Secret: move the data items of {} into secretObjects[{first}] and remove {}",
        later.join(", "),
        if later.len() == 1 { "it" } else { "them" }
    );
    let mut all_keys: Vec<&str> = at
        .iter()
        .flat_map(|(_, so)| so.data.iter().map(|d| d.key.as_str()))
        .collect();
    all_keys.sort_unstable();
    if all_keys.windows(2).any(|w| w[0] == w[1]) {
        merge.push_str(" (keep one data item per key)");
    }
    if at
        .iter()
        .any(|(_, so)| so.type_.trim() != at[0].1.type_.trim())
    {
        merge.push_str("; one Secret has one type: keep the type its readers need");
    }
    f.fix = super::remedy::edit_spc(cx, &merge).into();
    f
}

/// KVC807 for a key one entry's `data` names twice: the driver fills the Secret's data item
/// by item, so the later one's file is the key's value, whatever the earlier one says (FACTS
/// §2; [D] `pkg/util/secretutil/secret.go` GetSecretData). Every build makes that value again,
/// so a Secret that "differs" from the earlier file is no stale one (audit CCC1).
fn twin_keys(cx: &Ctx, spc: &SpcObs, link: &mut Link) {
    for (i, so) in spc.secret_objects.iter().enumerate() {
        for (at, d) in so.data.iter().enumerate() {
            let Some(later) = (so.data[at + 1..].iter()).rfind(|e| e.key == d.key) else {
                continue;
            };
            // Said once per key: at its first item, naming the last.
            if so.data[..at].iter().any(|e| e.key == d.key) {
                continue;
            }
            let name = so.secret_name.trim();
            let mut f = cx.remedied(
                Code::KVC807,
                format!("Secret/{name}"),
                format!(
                    "secretObjects[{i}] of SecretProviderClass {} writes key {} of Secret {name} twice, from {} and then from {}: the driver fills the key item by item, so it holds {}'s value, at every build",
                    cx.spc_name, d.key, d.object_name, later.object_name, later.object_name
                ),
                vec![format!(
                    "secretObjects[{i}].data: key {} from {} and from {}",
                    d.key, d.object_name, later.object_name
                )],
            );
            f.fix = crate::chain::rules::remedy::edit_spc(
                cx,
                &format!(
                    "secretObjects[{i}].data: one item per key: give the item reading {} a key of its own, or remove the one that should not be there",
                    d.object_name
                ),
            )
            .into();
            link.findings.push(f);
        }
    }
}
