//! Sync link: `secretObjects` → the Kubernetes Secret the driver writes (FACTS §2).
//! Static: objectName must be a mounted file name, TLS Secrets need tls.key + tls.crt from a
//! secret-type object, validation fields present. Runtime: the Secret exists (only while a pod
//! mounts the SPC), matches the mount, and nothing relies on it without keeping it alive.

use super::remedy;
use super::{set, unknown};
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Use;
use crate::chain::model::{Fact, Link, Status};
use crate::snapshot::{ObjectType, SecretObjectSpec};

const TLS: &str = "kubernetes.io/tls";

/// Returns the entries of `secretObjects` the driver can never build (bit `i` for entry `i`,
/// the first 64): a static cause says why, and their consumers wait on it.
pub(crate) fn check(cx: &mut Ctx, link: &mut Link) -> u64 {
    let Some(spc) = cx.spc else {
        super::no_spc(cx, link);
        return 0;
    };
    if spc.secret_objects.is_empty() {
        set(link, Status::Ok, "no sync");
        return 0;
    }
    super::note(cx, link, || {
        let names: Vec<&str> = spc
            .secret_objects
            .iter()
            .map(|s| s.secret_name.as_str())
            .collect();
        Fact::new("secretObjects", names.join(", "))
    });
    match spc.secret_objects.as_slice() {
        [one] => set(link, Status::Ok, one.secret_name.as_str()),
        _ => set(link, Status::Ok, "synced"),
    }
    // The SPC's own findings come first, so the causes index the link's findings alike.
    // A shared side's causes are read in place (copying them was an allocation per chain).
    let own;
    let causes: &[Option<usize>] = match &cx.side {
        Some(side) => {
            link.findings.extend_from_slice(&side.sync);
            &side.sync_causes
        }
        None => {
            own = statics(cx, spc, link);
            &own
        }
    };
    let never_built = causes
        .iter()
        .take(64)
        .enumerate()
        .filter(|(_, c)| c.is_some())
        .fold(0u64, |mask, (i, _)| mask | 1 << i);
    if cx.template {
        if link.status == Status::Ok {
            set(link, Status::Pending, "template");
        }
        return never_built;
    }
    for (i, (so, cause)) in spc.secret_objects.iter().zip(causes).enumerate() {
        runtime(cx, link, i, so, *cause);
    }
    never_built
}

/// What the SPC says about its synced Secrets, whoever mounts it: invalid entries (KVC806),
/// keys fed by no mounted file (KVC801), TLS Secrets without a key (KVC804), and users of the
/// Secret that do not keep it alive (KVC803).
///
/// Returns, per entry, the index of the first finding that already says why the driver cannot
/// build it (so runtime effects of that entry follow it instead of naming a second cause).
pub(crate) fn statics(
    cx: &Ctx,
    spc: &crate::snapshot::SpcObs,
    link: &mut Link,
) -> Vec<Option<usize>> {
    let causes: Vec<Option<usize>> = spc
        .secret_objects
        .iter()
        .map(|so| {
            let before = link.findings.len();
            static_checks(cx, link, so);
            (link.findings.len() > before).then_some(before)
        })
        .collect();
    for (so, cause) in spc.secret_objects.iter().zip(&causes) {
        match cause {
            // The driver never builds this Secret: whoever serves it waits on the cause; it
            // is not a Secret at risk of garbage collection.
            Some(i) => {
                let waiting = ingress_users(cx, so).map(|u| {
                    format!("{u} serves Secret {} (spec.tls[].secretName): it has none until this is fixed", so.secret_name).into()
                });
                link.findings[*i].evidence.extend(waiting);
            }
            None => lifetime(cx, link, so),
        }
    }
    causes
}

/// The Ingresses that name `so`'s Secret for TLS, as `Ingress/<name>`, sorted, once each.
fn ingress_users(cx: &Ctx, so: &SecretObjectSpec) -> impl Iterator<Item = String> {
    let mut users: Vec<String> = cx
        .ix
        .ingress_tls
        .get(&(cx.ns(), so.secret_name.as_str()))
        .into_iter()
        .flatten()
        .map(|i| format!("Ingress/{}", i.name))
        .collect();
    users.sort();
    users.dedup();
    users.into_iter()
}

/// Whether the driver writes a file named `name` for this SPC (alias or name; `alias/i` with
/// version history).
fn is_mounted_file(cx: &Ctx, name: &str) -> bool {
    let Some(p) = cx.params.as_deref() else {
        return false;
    };
    p.objects.iter().any(|o| {
        let f = o.file_name();
        match o.object_version_history {
            Some(n) if n > 1 => name
                .strip_prefix(f)
                .and_then(|r| r.strip_prefix('/'))
                .and_then(|i| i.parse::<i32>().ok())
                .is_some_and(|i| (0..n).contains(&i)),
            _ => f == name,
        }
    })
}

/// Files the driver writes for this SPC (alias or name; `alias/i` with version history).
fn mounted_files(cx: &Ctx) -> Vec<String> {
    let Some(p) = cx.params.as_deref() else {
        return Vec::new();
    };
    let mut files = Vec::with_capacity(p.objects.len());
    for o in &p.objects {
        match o.object_version_history {
            Some(n) if n > 1 => {
                for i in 0..n {
                    files.push(format!("{}/{i}", o.file_name()));
                }
            }
            _ => files.push(o.file_name().to_string()),
        }
    }
    files
}

fn static_checks(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    let params = cx.params.as_deref();
    two_writers(cx, link, so);
    // Driver validation (secretutil.ValidateSecretObject): the Secret is never created.
    let mut invalid = Vec::new();
    if so.secret_name.is_empty() {
        invalid.push("secret name is empty");
    }
    if so.type_.is_empty() {
        invalid.push("secret type is empty");
    }
    if so.data.is_empty() {
        invalid.push("data is empty");
    }
    if !invalid.is_empty() {
        // The driver only logs a failed validation (no event): the SPC itself shows it.
        let confirm = remedy::show_spc(cx, "{.spec.secretObjects}");
        link.findings.push(cx.finding(
            Code::KVC806,
            cx.spc_resource(),
            format!(
                "secretObjects entry {:?} of SecretProviderClass {} is invalid ({}): the driver never creates it",
                so.secret_name,
                cx.spc_name,
                invalid.join(", ")
            ),
            vec![format!("secretObjects: {{secretName: {:?}, type: {:?}, data: {} entries}}", so.secret_name, so.type_, so.data.len())],
            confirm,
            remedy::edit_spc(cx, "secretObjects[]: secretName, type and data are all required"),
        ));
    }
    // With `objects` unreadable the provider mounts nothing (the Mount link says why) and the
    // files it would write are unknown: whether a key names one cannot be told.
    if params.is_some_and(|p| p.problems.is_empty()) {
        unmatched_keys(cx, link, so);
    }
    if so.type_ == TLS {
        let mut problems = Vec::new();
        for d in &so.data {
            if d.key != "tls.key" && d.key != "tls.crt" {
                problems.push(format!(
                    "key '{}' is not supported. Only 'tls.key' and 'tls.crt' are supported",
                    d.key
                ));
            }
        }
        for k in ["tls.key", "tls.crt"] {
            if !so.data.iter().any(|d| d.key == k) {
                problems.push(format!("{k} is missing"));
            }
        }
        let keys_wrong = !problems.is_empty();
        // FACTS §5: cert mounts the certificate alone, key the PUBLIC KEY PEM; only the
        // certificate's secret holds the private key with its chain.
        let mut wrong_sources: Vec<(usize, &str, ObjectType)> = so
            .data
            .iter()
            .filter_map(|d| {
                params?.objects.iter().enumerate().find(|(_, o)| {
                    o.file_name() == d.object_name
                        && matches!(o.object_type, Some(ObjectType::Cert | ObjectType::Key))
                })
            })
            .filter_map(|(i, o)| Some((i, o.object_name.as_str(), o.object_type?)))
            .collect();
        wrong_sources.dedup();
        for t in [ObjectType::Cert, ObjectType::Key] {
            let names: Vec<&str> = wrong_sources
                .iter()
                .filter(|(_, _, ty)| *ty == t)
                .map(|(_, n, _)| *n)
                .collect();
            if names.is_empty() {
                continue;
            }
            let mounts = match t {
                ObjectType::Key => {
                    "the public key (a PUBLIC KEY PEM): no private key and no certificate"
                }
                _ => "only the public certificate: no private key for tls.key",
            };
            problems.push(format!(
                "built from objectType {} ({}), which mounts {mounts} (use objectType: secret)",
                t.as_str(),
                names.join(", ")
            ));
        }
        let mut edits: Vec<String> = wrong_sources
            .iter()
            .map(|(i, n, _)| format!("objects[{i}] ({n}).objectType: secret"))
            .collect();
        if keys_wrong || edits.is_empty() {
            edits.push(format!(
                "secretObjects[{}]: keys tls.key and tls.crt, both from an objectType: secret object",
                so.secret_name
            ));
        }
        let edit = edits.join("; ");
        if !problems.is_empty() {
            let (confirm, _) = remedy::commands(cx, Code::KVC804);
            link.findings.push(
                cx.finding(
                    Code::KVC804,
                    cx.spc_resource(),
                    format!(
                        "kubernetes.io/tls Secret {}: {}",
                        so.secret_name,
                        problems.join("; ")
                    ),
                    so.data
                        .iter()
                        .map(|d| format!("data: {{objectName: {}, key: {}}}", d.object_name, d.key))
                        .collect(),
                    confirm,
                    remedy::edit_spc(cx, &edit),
                ),
            );
        }
    }
}

/// KVC807: another SecretProviderClass of the namespace syncs the same Secret. The driver
/// writes it from whichever pod's SPC it reconciles (FACTS §2: v1.6 creates or updates on
/// every reconcile; before, the first creates it and rotation patches it from each), so its
/// content flips between the two and readers get either.
fn two_writers(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    let Some(writers) = cx
        .ix
        .secret_writers
        .get(&(cx.ns(), so.secret_name.as_str()))
    else {
        return;
    };
    if writers.len() < 2 {
        return;
    }
    // One message whichever SPC's chain tells it: the report shows the conflict once.
    let mut names: Vec<&str> = writers.iter().map(|w| w.name.as_str()).collect();
    names.sort_unstable();
    let (last, rest) = names.split_last().unwrap_or((&"", &[]));
    link.findings.push(cx.remedied(
        Code::KVC807,
        format!("Secret/{}", so.secret_name),
        format!(
            "SecretProviderClasses {} and {last} {} sync Secret {}: the driver writes it from each one's mounts, so its content follows whichever wrote last and its readers may get any of their values",
            rest.join(", "),
            if rest.len() == 1 { "both" } else { "all" },
            so.secret_name
        ),
        writers
            .iter()
            .map(|w| format!("SecretProviderClass {}: secretObjects[].secretName: {}", w.name, so.secret_name))
            .collect(),
    ));
}

/// KVC801: keys whose objectName is no mounted file. The driver builds a Secret whole or not
/// at all (FACTS §3: FailedToCreateSecret "failed to get data in spc … file matching objectName
/// <x> not found in the pod"), so one finding per Secret names every such key and its fix.
fn unmatched_keys(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    let Some(params) = cx.params.as_deref() else {
        return;
    };
    let files = mounted_files(cx);
    let (mut why, mut evidence, mut edits) = (Vec::new(), Vec::new(), Vec::new());
    let mut list_files = false;
    let mut objects_confirm = false;
    for d in so
        .data
        .iter()
        .filter(|d| !is_mounted_file(cx, &d.object_name))
    {
        let name = &d.object_name;
        evidence.push(format!(
            "secretObjects[{}].data: {{objectName: {name}, key: {}}}",
            so.secret_name, d.key
        ));
        // The file meant, written under a key the provider ignores (`alias:` for objectAlias).
        let misspelt = params.objects.iter().find_map(|o| {
            let (key, _) = o.ignored.iter().find(|(_, v)| v == name)?;
            Some((o, key.as_str()))
        });
        if let Some((o, key)) = misspelt {
            why.push(format!(
                "key {}: objectName {name} matches no mounted file: objects[{}] sets it as `{key}`, a field the provider does not read (objectAlias?), so the file is named {}",
                d.key, o.index, o.object_name
            ));
            evidence.push(format!(
                "objects[{}]: {{objectName: {}, {key}: {name}}}",
                o.index, o.object_name
            ));
            edits.push(format!("objects[{}]: rename {key} to objectAlias", o.index));
            objects_confirm = true;
            continue;
        }
        let aliased = params
            .objects
            .iter()
            .find(|o| o.object_name == *name && o.object_alias.is_some());
        let meant = match aliased {
            Some(o) => {
                why.push(format!(
                    "key {}: objectName {name} matches no mounted file: {name} is the Key Vault name, the file is its objectAlias {}",
                    d.key,
                    o.file_name()
                ));
                Some(o.file_name().to_string())
            }
            None => {
                why.push(format!(
                    "key {}: objectName {name} matches no mounted file",
                    d.key
                ));
                list_files = true;
                // The file meant: the nearest mounted file.
                files
                    .iter()
                    .min_by_key(|f| strsim::levenshtein(f, name))
                    .cloned()
            }
        };
        edits.push(match meant {
            Some(f) => format!(
                "secretObjects[{}].data[key={}].objectName: {f}",
                so.secret_name, d.key
            ),
            None => format!(
                "secretObjects[{}].data[key={}]: name a mounted file (the SPC mounts none)",
                so.secret_name, d.key
            ),
        });
    }
    let Some(first) = so
        .data
        .iter()
        .find(|d| !is_mounted_file(cx, &d.object_name))
    else {
        return;
    };
    let mounted = if list_files {
        format!(" (mounted files: {})", files.join(", "))
    } else {
        String::new()
    };
    let confirm = if objects_confirm {
        remedy::show_spc(cx, "{.spec.parameters.objects}")
    } else {
        remedy::commands(cx, Code::KVC801).0
    };
    link.findings.push(cx.finding(
        Code::KVC801,
        cx.spc_resource(),
        format!(
            "Secret {} is never created: {}{mounted}; the driver builds a Secret whole or not at all (\"file matching objectName {} not found in the pod\")",
            so.secret_name,
            why.join("; "),
            first.object_name
        ),
        evidence,
        confirm,
        remedy::edit_spc(cx, &edits.join("; ")),
    ));
}

/// KVC803: the synced Secret is used by something that does not mount the SPC (an Ingress,
/// another workload): it lives only as long as the mounting pods' owners do.
fn lifetime(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    // Seen absent, the Secret is no risk but a loss: what names it says so (KVC904, KVC802).
    let key = (cx.ns(), so.secret_name.as_str());
    if cx.snap().secrets.unknown_in(cx.ns()).is_none() && !cx.ix.secrets.contains_key(&key) {
        return;
    }
    // Other workloads consuming it without the mount are KVC903 on the consumers link.
    let users: Vec<String> = ingress_users(cx, so).collect();
    if users.is_empty() {
        return;
    }
    link.findings.push(cx.remedied(
        Code::KVC803,
        format!("Secret/{}", so.secret_name),
        format!(
            "synced Secret {} is used by {} which does not mount SecretProviderClass {}: the driver makes the mounting pods' owners its owners, so it is garbage-collected when they go (and absent while no pod mounts it)",
            so.secret_name,
            users.join(", "),
            cx.spc_name
        ),
        users.iter().map(|u| format!("{u} references Secret {}", so.secret_name)).collect(),
    ));
}

/// `so` is `secretObjects[i]`.
fn runtime(cx: &Ctx, link: &mut Link, i: usize, so: &SecretObjectSpec, cause: Option<usize>) {
    if so.secret_name.is_empty() {
        return;
    }
    if let Some(reason) = cx.snap().secrets.unknown_in(cx.ns()) {
        if link.status == Status::Ok {
            unknown(link, "Secret unknown", reason);
        }
        return;
    }
    let Some(secret) = cx.synced_secret(i) else {
        missing(cx, link, so, cause);
        return;
    };
    super::compare(cx, link, "synced Secret type", &secret.type_, &so.type_);
    if so.type_ == TLS && !secret.data.contains_key("tls.key") {
        link.findings.push(cx.remedied(
            Code::KVC804,
            format!("Secret/{}", secret.name),
            format!("kubernetes.io/tls Secret {} has no tls.key", secret.name),
            vec![format!(
                "keys: {}",
                secret.data.keys().cloned().collect::<Vec<_>>().join(", ")
            )],
        ));
    }
    content(cx, link, so, secret);
}

/// The synced Secret does not exist. `cause`: a static finding that already explains why the
/// driver cannot build it (the absence is its effect, not a second cause with its own fix).
fn missing(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec, cause: Option<usize>) {
    let mounted_anywhere = cx
        .ix
        .mounted_per_spc
        .get(&(cx.ns(), cx.spc_name))
        .copied()
        .unwrap_or(0);
    if mounted_anywhere == 0 {
        link.findings.push(cx.remedied(
            Code::KVC802,
            format!("Secret/{}", so.secret_name),
            format!(
                "synced Secret {} does not exist because no running pod has SecretProviderClass {} mounted: no mount, no Secret",
                so.secret_name, cx.spc_name
            ),
            vec![format!("no SecretProviderClassPodStatus with mounted: true for {} in {}", cx.spc_name, cx.ns())],
        ));
        return;
    }
    if !cx.mounted() {
        set(link, Status::Pending, "not mounted");
        return;
    }
    if let Some(f) = cause.and_then(|i| link.findings.get_mut(i)) {
        f.evidence.push(
            format!(
                "pod {} has {} mounted; Secret {} not found: the driver cannot build it",
                cx.pod.name, cx.spc_name, so.secret_name
            )
            .into(),
        );
        return;
    }
    let sync_off = cx
        .cluster()
        .csi_driver
        .known()
        .and_then(|c| c.sync_secret_enabled.known())
        == Some(&false);
    let why = if sync_off {
        "secret sync is disabled in the driver (helm syncSecret.enabled=false: no RBAC to write Secrets)"
    } else {
        "the driver failed to create it (see FailedToCreateSecret events and the driver log)"
    };
    let mut evidence = vec![format!(
        "pod {} has {} mounted; Secret {} not found",
        cx.pod.name, cx.spc_name, so.secret_name
    )];
    let before = evidence.len();
    evidence.extend(
        cx.events_for(Code::KVC806)
            .map(crate::chain::context::event_evidence),
    );
    let failed = evidence.len() > before;
    let events_seen = cx.snap().events.unknown_in(cx.ns()).is_none();
    if !sync_off && !failed && events_seen {
        // FACTS §2: the SPCPS controller re-checks every 5 minutes that the Secret exists and
        // creates it; a Secret deleted by hand comes back then (or at the next rotation
        // poll). Nothing failed: no pod needs deleting.
        let mut f = cx.remedied(
            Code::KVC806,
            format!("Secret/{}", so.secret_name),
            format!(
                "synced Secret {} is missing although SecretProviderClass {} is mounted, and no FailedToCreateSecret event says the driver failed: deleted since it was written, it is recreated at the driver's next reconcile (every 5 minutes) or rotation poll",
                so.secret_name, cx.spc_name
            ),
            evidence,
        );
        f.severity = crate::chain::model::Severity::Warning;
        f.fix = format!(
            "# nothing to delete: the driver recreates it within 5 minutes; if it stays missing, FailedToCreateSecret events and the driver log say why: kubectl get events -n {} --field-selector reason=FailedToCreateSecret",
            cx.ns()
        )
        .into();
        link.findings.push(f);
        return;
    }
    link.findings.push(cx.remedied(
        Code::KVC806,
        format!("Secret/{}", so.secret_name),
        format!(
            "synced Secret {} is missing although SecretProviderClass {} is mounted: {why}",
            so.secret_name, cx.spc_name
        ),
        evidence,
    ));
}

/// KVC805: Secret values vs mounted file fingerprints (when the source can see files).
fn content(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec, secret: &crate::snapshot::SecretObs) {
    let Some(status) = cx.status else {
        return;
    };
    let Some(files) = status.files.as_ref() else {
        return;
    };
    let mut differ = Vec::new();
    for d in &so.data {
        let Some(value) = secret.data.get(&d.key) else {
            continue;
        };
        // A TLS Secret holds the key and the certificates split out of the PEM file (FACTS §2),
        // never the whole file: compare with those parts, or not at all when they are unknown.
        let file = if so.type_ == TLS {
            let parts = status.pem_parts.get(&d.object_name);
            match d.key.as_str() {
                "tls.key" => parts.and_then(|p| p.key.as_ref()),
                "tls.crt" => parts.and_then(|p| p.cert.as_ref()),
                _ => None,
            }
        } else {
            files.get(d.object_name.as_str())
        };
        let Some(file) = file else {
            continue;
        };
        if file != value {
            differ.push(format!(
                "key {} ({} vs file {}: {})",
                d.key, value, d.object_name, file
            ));
        }
    }
    if differ.is_empty() {
        return;
    }
    link.findings.push(cx.remedied(
        Code::KVC805,
        format!("Secret/{}", secret.name),
        format!(
            "synced Secret {} differs from what pod {} has mounted: {}",
            secret.name,
            cx.pod.name,
            differ.iter().map(|d| d.split(' ').nth(1).unwrap_or("")).collect::<Vec<_>>().join(", ")
        ),
        differ,
    ));
}

/// Whether a consumer reads this Secret through env (a start-time snapshot).
pub(crate) fn is_env(u: &Use) -> bool {
    matches!(u, Use::Env { .. } | Use::EnvFrom { .. })
}
