//! KVC804: a `kubernetes.io/tls` entry of `secretObjects` the driver cannot build. FACTS §2:
//! only keys `tls.key` and `tls.crt` (and the API server needs both); FACTS §5: an objectType
//! `cert` object mounts the certificate alone and a `key` object the public key — only the
//! certificate's `secret` object holds the private key with its chain.
//!
//! The fix changes what this entry reads and nothing another reader relies on (audit A17-8):
//! an object whose file something else reads — another `secretObjects` entry, a container of
//! any pod that mounts the SPC's volume — keeps its type, and the entry gets an object of its
//! own (the provider's documented way to mount one certificate as cert, key and secret side by
//! side, under aliases); a key some consumer reads that a tls Secret cannot hold is named with
//! its readers, who must change too.

use super::TLS;
use super::remedy;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::Use;
use crate::chain::model::Link;
use crate::snapshot::{ObjectType, PodObs, SecretObjectSpec, VolumeSourceObs};
use crate::spc::SpcObject;

pub(super) fn check(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) {
    if so.type_ != TLS {
        return;
    }
    let params = cx.params.as_deref();
    let mut problems = Vec::new();
    let mut unsupported: Vec<&str> = Vec::new();
    for d in &so.data {
        if d.key != "tls.key" && d.key != "tls.crt" && !unsupported.contains(&d.key.as_str()) {
            unsupported.push(&d.key);
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
    // FACTS §5: cert mounts the certificate alone, key the PUBLIC KEY PEM.
    let mut wrong_sources: Vec<(&SpcObject, ObjectType)> = so
        .data
        .iter()
        .filter_map(|d| {
            params?.objects.iter().find(|o| {
                o.file_name() == d.object_name
                    && matches!(o.object_type, Some(ObjectType::Cert | ObjectType::Key))
            })
        })
        .filter_map(|o| Some((o, o.object_type?)))
        .collect();
    wrong_sources.dedup_by_key(|(o, _)| o.index);
    for t in [ObjectType::Cert, ObjectType::Key] {
        let names: Vec<&str> = wrong_sources
            .iter()
            .filter(|(_, ty)| *ty == t)
            .map(|(o, _)| o.object_name.as_str())
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
    if problems.is_empty() {
        return;
    }
    let mut edits: Vec<String> = wrong_sources
        .iter()
        .map(|(o, _)| source_edit(cx, so, o))
        .collect();
    if keys_wrong || edits.is_empty() {
        let mut edit = format!(
            "secretObjects[{}]: keys tls.key and tls.crt, both from the objectType: secret object of a certificate (its PEM holds the private key and the chain)",
            so.secret_name
        );
        // A key a tls Secret cannot hold, which a consumer reads: it goes with the rename.
        let readers = key_readers(cx, &so.secret_name, &unsupported);
        if !readers.is_empty() {
            edit.push_str(&format!(
                "; {} {} {} from it, which a kubernetes.io/tls Secret cannot hold: give them another Secret that makes it (a secretObjects entry of type Opaque) and point them at it",
                readers.join(", "),
                if readers.len() == 1 { "reads" } else { "read" },
                unsupported.join(", ")
            ));
        }
        edits.push(edit);
    }
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
            remedy::edit_spc(cx, &edits.join("; ")),
        ),
    );
}

/// The edit that gives entry `so` the certificate's secret in place of object `o` (a cert or
/// key object): `o` itself turned `objectType: secret` while nothing else reads its file, else
/// a new object under an alias of its own, `o` left as its readers have it.
fn source_edit(cx: &Ctx, so: &SecretObjectSpec, o: &SpcObject) -> String {
    let file = o.file_name();
    let readers = file_readers(cx, so, file);
    if readers.is_empty() {
        return format!(
            "objects[{}] ({}).objectType: secret",
            o.index, o.object_name
        );
    }
    let alias = free_alias(cx, file);
    format!(
        "objects: add an item {{objectName: {}, objectType: secret, objectAlias: {alias}}} and set secretObjects[{}].data objectName {file} to {alias}; leave objects[{}] ({}) as it is: {} {} its file {file}, which objectType: secret would turn into the private key and chain",
        o.object_name,
        so.secret_name,
        o.index,
        o.object_name,
        readers.join(", "),
        if readers.len() == 1 { "reads" } else { "read" }
    )
}

/// A file name no object of the SPC writes: `<file>-secret`, numbered if taken.
fn free_alias(cx: &Ctx, file: &str) -> String {
    let taken = |name: &str| {
        cx.params
            .as_deref()
            .is_some_and(|p| p.objects.iter().any(|o| o.file_name() == name))
    };
    let mut alias = format!("{file}-secret");
    let mut n = 2;
    while taken(&alias) {
        alias = format!("{file}-secret-{n}");
        n += 1;
    }
    alias
}

/// Who reads mounted file `file` of this SPC besides tls entry `so`: other `secretObjects`
/// entries that copy it (a tls one is broken alike, and fixed by the same edit), and the
/// containers of every pod of the namespace that mount the SPC's volume (the whole directory,
/// or that file by subPath), as sorted descriptions.
fn file_readers(cx: &Ctx, so: &SecretObjectSpec, file: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(spc) = cx.spc {
        for other in spc
            .secret_objects
            .iter()
            .filter(|other| !std::ptr::eq(*other, so) && other.type_ != TLS)
        {
            for d in other.data.iter().filter(|d| d.object_name == file) {
                out.push(format!(
                    "secretObjects[{}] (key {})",
                    other.secret_name, d.key
                ));
            }
        }
    }
    for pod in cx.ix.pods_mounting(cx.ns(), cx.spc_name) {
        let volumes: Vec<&str> = pod
            .volumes
            .iter()
            .filter(|v| matches!(&v.source, VolumeSourceObs::Csi { attributes, .. }
                if attributes.get(crate::chain::index::SPC_ATTRIBUTE).is_some_and(|s| s == cx.spc_name)))
            .map(|v| v.name.as_str())
            .collect();
        for c in &pod.containers {
            let reads = c.mounts.iter().any(|m| {
                volumes.contains(&m.volume.as_str())
                    && m.sub_path.as_deref().is_none_or(|sp| {
                        sp.is_empty() || sp == file || sp.starts_with(&format!("{file}/"))
                    })
            });
            if reads {
                out.push(format!(
                    "{} {}",
                    owner_of(cx, pod),
                    container_kind(c, &c.name)
                ));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `init container x`, `container x`.
fn container_kind(c: &crate::snapshot::ContainerObs, name: &str) -> String {
    if c.init {
        format!("init container {name}")
    } else {
        format!("container {name}")
    }
}

fn owner_of(cx: &Ctx, pod: &PodObs) -> String {
    match cx.ix.workload_of(pod) {
        Some((k, n)) => format!("{k}/{n}"),
        None => format!("Pod/{}", pod.name),
    }
}

/// The consumers of Secret `secret` that read one of `keys` (env, envFrom, a secret or
/// projected volume's items), as sorted `<owner> <how>` descriptions.
fn key_readers(cx: &Ctx, secret: &str, keys: &[&str]) -> Vec<String> {
    if keys.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for c in cx
        .ix
        .secret_consumers
        .get(&(cx.ns(), secret))
        .into_iter()
        .flatten()
    {
        let reads = match &c.how {
            Use::Env { key, .. } => keys.contains(key),
            Use::EnvFrom { .. } => true,
            Use::ImagePull => false,
            Use::Volume { volume } => match c.pod.volume(volume).map(|v| &v.source) {
                Some(VolumeSourceObs::Secret { keys: items, .. }) => {
                    items.is_empty() || items.iter().any(|k| keys.contains(&k.as_str()))
                }
                // A source without items projects every key (it is then not listed here).
                Some(VolumeSourceObs::Projected { secret_items, .. }) => {
                    let mut mine = secret_items
                        .iter()
                        .filter(|s| s.secret == secret)
                        .peekable();
                    mine.peek().is_none()
                        || mine.any(|s| s.keys.iter().any(|k| keys.contains(&k.as_str())))
                }
                _ => false,
            },
        };
        if reads {
            out.push(format!(
                "{} {}",
                owner_of(cx, c.pod),
                crate::chain::rules::consumers::describe_in(c.pod, &c.how)
            ));
        }
    }
    out.sort();
    out.dedup();
    out
}
