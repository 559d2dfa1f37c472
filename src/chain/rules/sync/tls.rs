//! KVC804: a `kubernetes.io/tls` entry of `secretObjects` the driver cannot build. FACTS §2:
//! only keys `tls.key` and `tls.crt` (and the API server needs both); FACTS §5: an objectType
//! `cert` object mounts the certificate alone and a `key` object the public key — only the
//! certificate's `secret` object holds the private key with its chain. The driver takes each
//! key from the file mapped to it (GetCertPart): tls.key the private key, tls.crt the
//! CERTIFICATE blocks; so each key is judged by its own file, and tls.crt from a `cert` file
//! beside tls.key from the certificate's `secret` file is a valid Secret.
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
    // Keys named wrong are judged as the rename leaves them too (audit TT1: one symptom, one
    // cause): renamed to tls.key and tls.crt, a `cert` file still gives no private key, and a
    // fix that only renamed them would meet a second KVC804.
    let renamed = keys_wrong.then(|| renamed(so)).flatten();
    let judged = renamed.as_ref().unwrap_or(so);
    let wrong_sources = wrong_sources(params.map(|p| p.objects.as_slice()), judged);
    for (i, w) in wrong_sources.iter().enumerate() {
        let keys = w.keys.join(" and ");
        let lacks = w
            .keys
            .iter()
            .map(|k| match *k {
                "tls.key" => "no private key for tls.key",
                _ => "no certificate for tls.crt",
            })
            .collect::<Vec<_>>()
            .join(" and ");
        let mounts = match w.ty {
            ObjectType::Key => "the public key (a PUBLIC KEY PEM)",
            _ => "only the public certificate",
        };
        let once = if renamed.is_some() && i == 0 {
            "and once renamed, "
        } else {
            ""
        };
        problems.push(format!(
            "{once}{keys} from objectType {} ({}), which mounts {mounts}: {lacks} (use objectType: secret)",
            w.ty.as_str(),
            w.object.object_name
        ));
    }
    if problems.is_empty() {
        if unexportable_key(cx, link, so) {
            return;
        }
        // Keys and object types right: what the files hold (a PFX's base64 text, audit CCC3).
        super::tls_pfx::check(cx, link, so);
        return;
    }
    let mut edits: Vec<String> = wrong_sources
        .iter()
        .map(|w| source_edit(cx, judged, w))
        .collect();
    let missing: Vec<&str> = ["tls.key", "tls.crt"]
        .into_iter()
        .filter(|k| !so.data.iter().any(|d| d.key == *k))
        .collect();
    if unsupported.is_empty() && missing.len() == 1 {
        // One key left out, the other made: add that one, the other stays as it is.
        let from = match missing[0] {
            "tls.key" => {
                "the certificate's objectType: secret object (its PEM holds the private key)"
            }
            _ => "the certificate's objectType: cert or secret object",
        };
        edits.push(format!(
            "secretObjects[{}].data: add an entry with key {} whose objectName is the file of {from}",
            so.secret_name, missing[0]
        ));
    } else if keys_wrong || edits.is_empty() {
        let mut edit = match &renamed {
            // The rename comes first: the source edits above name the entry's new keys.
            Some(r) => rename_edit(cx, so, r, !wrong_sources.is_empty()),
            None => format!(
                "secretObjects[{}]: keys tls.key and tls.crt, both from the objectType: secret object of a certificate (its PEM holds the private key and the chain)",
                so.secret_name
            ),
        };
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
        if renamed.is_some() {
            edits.insert(0, edit);
        } else {
            edits.push(edit);
        }
    }
    let (confirm, _) = remedy::commands(cx, Code::KVC804);
    link.findings.push(
        cx.finding(
            Code::KVC804,
            cx.spc_resource(),
            format!("{}{}", about(so), problems.join("; ")),
            so.data
                .iter()
                .map(|d| format!("data: {{objectName: {}, key: {}}}", d.object_name, d.key))
                .collect(),
            confirm,
            with_secret_grant(cx, &wrong_sources, remedy::edit_spc(cx, &edits.join("; "))),
        ),
    );
}

/// `fix`, and the grant to read the certificates' secrets where the identity is known to lack
/// it: the edit reads each as objectType secret, which needs `getSecret` (FACTS §8: Secrets
/// User, or an access policy's secret `get`), and one object the identity may not read fails
/// the whole mount, the certificate file that works today included (audit I4).
fn with_secret_grant(cx: &Ctx, sources: &[WrongSource], fix: String) -> String {
    let lacking = sources.iter().any(|w| {
        crate::chain::rules::access::may_read(cx, ObjectType::Secret, &w.object.object_name)
            == Some(false)
    });
    let (Some(vault), Some(identity), true) = (
        crate::chain::rules::access::chain_vault(cx),
        crate::chain::rules::access::chain_identity(cx),
        lacking,
    ) else {
        return fix;
    };
    let grant = if vault.rbac {
        remedy::grant_roles(cx, &[remedy::role_for(ObjectType::Secret)])
    } else {
        remedy::set_policy(
            cx,
            &vault.name,
            &identity.principal_id,
            &[ObjectType::Secret],
        )
    };
    format!("{grant} && {fix}")
}

/// Entry `so` (its keys not tls.key and tls.crt) as renaming them makes it, when which file
/// each key is meant to read is plain: every key reads one file (both keys then read it), or
/// one file is behind the keys named like a private key (`*.key`, `key`) and one behind those
/// named like a certificate (`*.crt`, `cert`). Otherwise `None`: the fix then says only what
/// the keys must be.
fn renamed(so: &SecretObjectSpec) -> Option<SecretObjectSpec> {
    let one_file = |pick: &dyn Fn(&str) -> bool| -> Option<&str> {
        let mut files = so
            .data
            .iter()
            .filter(|d| pick(&d.key.to_ascii_lowercase()))
            .map(|d| d.object_name.as_str());
        let first = files.next()?;
        files.all(|f| f == first).then_some(first)
    };
    let (key_file, crt_file) = match one_file(&|_| true) {
        Some(f) => (f, f),
        None => (
            one_file(&|k| k.contains("key") && !k.contains("crt") && !k.contains("cert"))?,
            one_file(&|k| (k.contains("crt") || k.contains("cert")) && !k.contains("key"))?,
        ),
    };
    let entry = |object_name: &str, key: &str| crate::snapshot::SecretObjectData {
        object_name: object_name.to_string(),
        key: key.to_string(),
    };
    Some(SecretObjectSpec {
        data: vec![entry(key_file, "tls.key"), entry(crt_file, "tls.crt")],
        ..so.clone()
    })
}

/// The edit renaming entry `so`'s keys as `r` has them. `sourced`: an edit of the source
/// follows (a cert or key file behind a key); else the files already hold their parts.
fn rename_edit(cx: &Ctx, so: &SecretObjectSpec, r: &SecretObjectSpec, sourced: bool) -> String {
    let was: Vec<&str> = so.data.iter().map(|d| d.key.as_str()).collect();
    let (key_file, crt_file) = (&r.data[0].object_name, &r.data[1].object_name);
    let from = if key_file == crt_file {
        format!("both from objectName {key_file}")
    } else {
        format!("tls.key from objectName {key_file} and tls.crt from objectName {crt_file}")
    };
    // Said only when the SPC mounts that file as objectType secret: the file holds the key.
    let holds = cx
        .params
        .as_deref()
        .and_then(|p| p.objects.iter().find(|o| o.file_name() == *key_file))
        .filter(|o| !sourced && o.object_type == Some(ObjectType::Secret))
        .map_or(
            "",
            |_| " (objectType secret: its PEM holds the private key and the chain)",
        );
    format!(
        "secretObjects[{}].data: keys tls.key and tls.crt in place of {}, {from}{holds}",
        so.secret_name,
        was.join(", ")
    )
}

/// An object of the SPC whose file feeds tls keys of the entry that it cannot give them.
struct WrongSource<'a> {
    object: &'a SpcObject,
    ty: ObjectType,
    /// The keys it feeds and lacks the part of (tls.key, tls.crt), in the entry's order.
    keys: Vec<&'a str>,
}

/// The objects feeding a key of tls entry `so` from a file without the part the driver takes
/// for that key (FACTS §2, the driver's GetCertPart per key and file): tls.key takes the
/// private key of its file, which a `cert` object (the certificate alone) and a `key` object
/// (the PUBLIC KEY PEM) lack; tls.crt takes the CERTIFICATE blocks of its file, which only a
/// `key` object lacks (FACTS §5). So tls.crt from a `cert` object and tls.key from the
/// certificate's `secret` object, two files, is a valid tls Secret.
fn wrong_sources<'a>(
    objects: Option<&'a [SpcObject]>,
    so: &'a SecretObjectSpec,
) -> Vec<WrongSource<'a>> {
    let mut out: Vec<WrongSource> = Vec::new();
    for d in &so.data {
        let Some(o) = objects
            .into_iter()
            .flatten()
            .find(|o| o.file_name() == d.object_name)
        else {
            continue;
        };
        let lacks = match (d.key.as_str(), o.object_type) {
            ("tls.key", Some(t @ (ObjectType::Cert | ObjectType::Key))) => Some(t),
            ("tls.crt", Some(t @ ObjectType::Key)) => Some(t),
            _ => None,
        };
        let Some(ty) = lacks else { continue };
        match out.iter_mut().find(|w| w.object.index == o.index) {
            Some(w) if !w.keys.contains(&d.key.as_str()) => w.keys.push(&d.key),
            Some(_) => {}
            None => out.push(WrongSource {
                object: o,
                ty,
                keys: vec![&d.key],
            }),
        }
    }
    out
}

/// The edit that gives the keys `w` feeds the certificate's secret in place of object `w.object`
/// (a cert or key object), and nothing to the entry's other keys: the entry pointed at an
/// objectType secret object of the same name the SPC already mounts; else the object itself
/// turned `objectType: secret` while nothing else reads its file (a tls.crt of this entry reading
/// it still gets the certificates from the secret's PEM); else a new object under an alias of
/// its own, the object left as its readers have it.
fn source_edit(cx: &Ctx, so: &SecretObjectSpec, w: &WrongSource) -> String {
    let o = w.object;
    let file = o.file_name();
    let repoint = |to: &str| {
        w.keys
            .iter()
            .map(|k| {
                format!(
                    "secretObjects[{}].data[key={k}] objectName {file} to {to}",
                    so.secret_name
                )
            })
            .collect::<Vec<_>>()
            .join(" and ")
    };
    if let Some(s) = mounted_secret(cx, o) {
        return format!(
            "set {}: objects[{}] ({}, objectType secret) already mounts the certificate's private key and chain",
            repoint(s.file_name()),
            s.index,
            s.object_name
        );
    }
    let readers = file_readers(cx, so, file);
    if readers.is_empty() {
        return format!(
            "objects[{}] ({}).objectType: secret",
            o.index, o.object_name
        );
    }
    let alias = free_alias(cx, file);
    format!(
        "objects: add an item {{objectName: {}, objectType: secret, objectAlias: {alias}}} and set {}; leave objects[{}] ({}) as it is: {} {} its file {file}, which objectType: secret would turn into the private key and chain",
        o.object_name,
        repoint(&alias),
        o.index,
        o.object_name,
        readers.join(", "),
        if readers.len() == 1 { "reads" } else { "read" }
    )
}

/// The objectType secret item of the SPC that already mounts the certificate `o` (a cert or
/// key object) names, at the same version, under another file: the entry can read it as is.
fn mounted_secret<'c>(cx: &'c Ctx, o: &SpcObject) -> Option<&'c SpcObject> {
    cx.params.as_deref().and_then(|p| {
        p.objects.iter().find(|s| {
            s.object_type == Some(ObjectType::Secret)
                && s.object_name == o.object_name
                && s.file_name() != o.file_name()
                && s.object_version == o.object_version
                && s.object_version_history.is_none_or(|h| h <= 1)
        })
    })
}

/// The objectType `secret` item entry `so` takes tls.key from, with what the vault says of it,
/// when that is a secret backing a certificate (only such a secret holds a private key whose
/// presence depends on the certificate's policy).
fn tls_key_backing<'c>(
    cx: &'c Ctx,
    so: &SecretObjectSpec,
) -> Option<(&'c SpcObject, &'c crate::snapshot::VaultObject)> {
    let p = cx.params.as_deref()?;
    let o = (so.data.iter())
        .filter(|d| d.key == "tls.key")
        .find_map(|d| {
            (p.objects.iter()).find(|o| {
                o.object_type == Some(ObjectType::Secret) && o.file_name() == d.object_name
            })
        })?;
    let v = cx
        .ix
        .object(cx.keyvault(), ObjectType::Secret, &o.object_name)
        .and_then(|f| f.state.known()?.as_ref())
        .filter(|v| v.backs_certificate)?;
    Some((o, v))
}

/// Why entry `so`'s tls.key source cannot be told to hold a private key, with that source's
/// Key Vault object name: it is a secret backing a certificate whose policy was not read (the
/// live source's reason, e.g. a 403 on certificates/get), so a non-exportable key — a failure
/// no SPC edit ends — is not ruled out. `None` when the exportability is known or the source
/// backs no certificate.
pub(super) fn exportability_unknown<'c>(
    cx: &'c Ctx,
    so: &SecretObjectSpec,
) -> Option<(&'c str, String)> {
    let (o, v) = tls_key_backing(cx, so)?;
    v.key_exportable.is_none().then(|| {
        let why = v
            .key_exportable_unknown
            .as_deref()
            .unwrap_or("its policy was not read");
        let name = o.object_name.as_str();
        (
            name,
            format!("whether certificate {name}'s key is exportable is not known ({why})"),
        )
    })
}

/// KVC804 for a tls.key read from the objectType `secret` object of a certificate whose key is
/// not exportable: Key Vault returns that secret without the private key (the certificate
/// alone), so the driver finds no key for tls.key however the SPC is written (audit GGG-A5:
/// said "the SPC has changed since, wait" beside a failure that never ends). Known where the
/// certificate's policy was read (the lab; the live source's `cert_policy`); `None` leaves the
/// other checks to judge. True when it told.
fn unexportable_key(cx: &Ctx, link: &mut Link, so: &SecretObjectSpec) -> bool {
    let Some((o, _)) = tls_key_backing(cx, so).filter(|(_, v)| v.key_exportable == Some(false))
    else {
        return false;
    };
    let (kv, name) = (cx.keyvault_arg(), &o.object_name);
    link.findings.push(cx.finding(
        Code::KVC804,
        cx.spc_resource(),
        format!(
            "{}tls.key from objectType secret ({name}), but certificate {name}'s key is not exportable: Key Vault returns its secret without the private key (the certificate alone), so the driver finds no key for tls.key and never builds the Secret",
            about(so)
        ),
        vec![format!(
            "certificate {name} in Key Vault {kv}: policy keyProperties.exportable: false"
        )],
        format!(
            "az keyvault certificate show --vault-name {kv} -n {name} --query policy.keyProperties.exportable"
        ),
        format!(
            "az keyvault certificate create --vault-name {kv} -n {name} -p \"$(az keyvault certificate show --vault-name {kv} -n {name} --query policy -o json | jq '.keyProperties.exportable = true')\"  # a new version whose key is exportable (an HSM key never is: use an RSA or EC software key there); the mount fetches it at the next rotation poll or a new mount"
        ),
    ));
    true
}

/// How KVC804's message starts for entry `so`.
fn about(so: &SecretObjectSpec) -> String {
    format!("kubernetes.io/tls Secret {}: ", so.secret_name)
}

/// With rotation known off, KVC804's fix that edits `objects` (an item's objectType turned
/// secret, or an item added) is followed by this pod's remount: the driver never fetches an
/// already-mounted volume again, so only a new mount holds the file the entry then reads, and
/// the Secret is built from it (FACTS §4: "SPC edits after pod start are picked up only by
/// rotation; without rotation: delete synced Secret and restart pod"; audit DD1, FF1-b). An
/// edit that only points the entry at an item already mounted needs none (FACTS §2: the
/// driver builds the Secret from the mounted files at its next reconcile). A template (no pod)
/// and a fix that is only a note (an unrendered SPC) get none.
pub(super) fn remount_after_edit(cx: &Ctx, spc: &crate::snapshot::SpcObs, link: &mut Link) {
    if cx.template || !remedy::rotation_off(cx) {
        return;
    }
    let objects = cx.params.as_deref().map(|p| p.objects.as_slice());
    for so in spc.secret_objects.iter().filter(|so| so.type_ == TLS) {
        // Judged as KVC804 judged it: the entry as its rename leaves it (audit TT1).
        let keys_wrong = so
            .data
            .iter()
            .any(|d| d.key != "tls.key" && d.key != "tls.crt");
        let renamed = keys_wrong.then(|| renamed(so)).flatten();
        let edits_objects = wrong_sources(objects, renamed.as_ref().unwrap_or(so))
            .iter()
            .any(|w| mounted_secret(cx, w.object).is_none());
        if !edits_objects && !super::tls_pfx::edits_objects(cx, so) {
            continue;
        }
        let about = about(so);
        for f in link.findings.iter_mut().filter(|f| {
            f.code == Code::KVC804 && f.message.starts_with(&about) && !f.fix.starts_with('#')
        }) {
            f.fix = remedy::in_turn(&[
                &f.fix,
                "# rotation is off: only a new mount fetches the edited objects",
                &remedy::remount(cx),
            ])
            .into();
        }
    }
}

/// A file name no object of the SPC writes: `<file>-secret`, numbered if taken.
pub(super) fn free_alias(cx: &Ctx, file: &str) -> String {
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
pub(super) fn file_readers(cx: &Ctx, so: &SecretObjectSpec, file: &str) -> Vec<String> {
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
