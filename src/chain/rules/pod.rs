//! Pod link: the CSI volume wiring (driver, SPC attribute, readOnly), the SPC's existence,
//! subPath mounts, and the cluster-wide driver facts every mount depends on.

use super::params;
use super::remedy::{self, AUDIENCE, CSIDRIVER};
use super::set;
use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::index::DRIVER;
use crate::chain::model::{Fact, Finding, Link, Severity, Status};
use crate::snapshot::{ContainerStateObs, SourceKind, VolumeSourceObs};

pub(crate) fn check(cx: &mut Ctx, link: &mut Link) {
    super::compare(cx, link, "driver", cx.driver, DRIVER);
    set(link, Status::Ok, "wired");
    super::placement::check(cx, link);
    wiring(cx, link);
    spc_exists(cx, link);
    super::provider::check(cx, link);
    super::spc_namespace::check(cx, link);
    sub_paths(cx, link);
    super::admission::check(cx, link);
    super::node_selector::check(cx, link);
    driver_facts(cx, link);
    super::other_volume::check(cx, link);
    super::env_secrets::check(cx, link);
    super::env_secret_typo::check(cx, link);
    super::env_config_maps::check(cx, link);
}

fn wiring(cx: &Ctx, link: &mut Link) {
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    if cx.driver != DRIVER {
        problems.push(format!("driver is {:?}, not {DRIVER}", cx.driver));
        evidence.push(format!(
            "volumes[{}].csi.driver: {}",
            cx.volume.name, cx.driver
        ));
    }
    if let Some(key) = cx.spc_key_typo {
        problems.push(format!(
            "volumeAttributes has {key:?} instead of \"secretProviderClass\" (keys are case-sensitive)"
        ));
        evidence.push(format!(
            "volumes[{}].csi.volumeAttributes.{key}: {}",
            cx.volume.name, cx.spc_name
        ));
    } else if cx.spc_name.is_empty() {
        problems.push("volumeAttributes.secretProviderClass is missing".to_string());
        evidence.push(format!(
            "volumes[{}].csi.volumeAttributes: {:?}",
            cx.volume.name, cx.attributes
        ));
    }
    if cx.read_only != Some(true) {
        problems.push(
            "csi.readOnly is not true: the driver refuses it (\"Readonly is not true in request\")"
                .to_string(),
        );
        evidence.push(format!(
            "volumes[{}].csi.readOnly: {}",
            cx.volume.name,
            cx.read_only.map_or("unset".to_string(), |b| b.to_string())
        ));
    }
    let ro = match cx.read_only {
        Some(true) => "true",
        Some(false) => "false",
        None => "unset",
    };
    super::compare(cx, link, "readOnly", ro, "true");
    if problems.is_empty() {
        return;
    }
    let message = format!("volume {}: {}", cx.volume.name, problems.join("; "));
    link.findings
        .push(cx.remedied(Code::KVC103, cx.owner_resource(), message, evidence));
}

fn spc_exists(cx: &Ctx, link: &mut Link) {
    if cx.spc_name.is_empty() {
        return;
    }
    super::note(cx, link, || Fact::new("secretProviderClass", cx.spc_name));
    if cx.spc.is_some() {
        return;
    }
    if super::spc_unread(cx, link) {
        return;
    }
    if super::spc_crd::absent(cx, link, spc_reference(cx)) {
        return;
    }
    if written_but_unread(cx, link) {
        return;
    }
    if super::read_gone_for_retired(cx, link, &format!("SecretProviderClass {}", cx.spc_name)) {
        return;
    }
    // Name the nearest SPC in the namespace: a typo is the usual cause.
    let nearest = (cx.ix.spcs_in(cx.ns()))
        .map(|s| (strsim::levenshtein(&s.name, cx.spc_name), s.name.as_str()))
        .min();
    let mut message = format!(
        "volume {} references SecretProviderClass {} which does not exist in namespace {}",
        cx.volume.name,
        cx.spc_name,
        cx.ns()
    );
    let (confirm, mut fix) = remedy::commands(cx, Code::KVC101);
    if let Some((d, name)) = nearest
        && d <= 3
    {
        // The rename is an edit of this workload's own volume: naming it makes each
        // workload's finding (and fix) its own, where one finding for all of them carried
        // the first one's edit only (audit LL7). Replicas of one workload still share it.
        message = format!(
            "volume {} of {} references SecretProviderClass {} which does not exist in namespace {} (did you mean {name}?)",
            cx.volume.name,
            cx.owner_resource(),
            cx.spc_name,
            cx.ns()
        );
        fix = remedy::edit_owner(
            cx,
            &format!(
                "volumes[{}].csi.volumeAttributes.secretProviderClass: {name}",
                cx.volume.name
            ),
        );
    }
    let mut evidence = vec![spc_reference(cx)];
    let near_miss = nearest.is_some_and(|(d, _)| d <= 3);
    // FACTS §11: the SPC must be in the pod's namespace. One of that name elsewhere is the
    // one meant: say where, and copy it here (its own namespace may still use it).
    if !near_miss && let Some(other) = elsewhere(cx) {
        message.push_str(&format!(
            " (the manifests define it in namespace {}: the driver reads the SecretProviderClass from the pod's namespace only)",
            other.namespace
        ));
        evidence.push(format!(
            "SecretProviderClass {}/{}",
            other.namespace, other.name
        ));
        fix = copy_to_namespace(cx, other);
    } else if !near_miss && cx.source().kind != SourceKind::Manifests {
        fix = copy_from_anywhere(cx);
    }
    let mut f = cx.finding(
        Code::KVC101,
        cx.spc_resource(),
        message,
        evidence,
        confirm,
        fix,
    );
    if cx.source().kind == SourceKind::Manifests && !near_miss {
        offline_absence(cx, &mut f);
    }
    link.findings.push(f);
}

/// A SecretProviderClass of the chain's name in another namespace (the first, by namespace),
/// read from manifests only: a chain of a cluster reads its own namespace's objects alone
/// (`chain::engine`), so there the fix finds it itself ([`copy_from_anywhere`]).
fn elsewhere<'a>(cx: &Ctx<'a>) -> Option<&'a crate::snapshot::SpcObs> {
    if cx.source().kind != SourceKind::Manifests {
        return None;
    }
    cx.snap()
        .spcs
        .items
        .iter()
        .filter(|s| s.name == cx.spc_name && s.namespace != cx.ns())
        .min_by(|a, b| a.namespace.cmp(&b.namespace))
}

/// A fix that puts SecretProviderClass `other` into the pod's namespace, pasteable as it is:
/// with its manifest file known, that file's `metadata.namespace` edited and applied
/// (`kubectl apply -n` refuses a document naming another namespace); else the object copied
/// from its namespace, without the fields that tie it to the original.
fn copy_to_namespace(cx: &Ctx, other: &crate::snapshot::SpcObs) -> String {
    let (ns, from) = (cx.ns(), other.namespace.as_str());
    let name = remedy::sh_word(&other.name);
    // A file holding other objects is not re-applied whole (audit TT2): the live copy below.
    let own = (other.file.as_deref()).and_then(|f| cx.source().own_file(f));
    if let Some(file) = own {
        let file = remedy::sh_word(file);
        // Pods of its own namespace mount it: moving it would break them (their own KVC101,
        // FACTS §11: the driver reads the pod's namespace only), so only a copy (audit LL6).
        if cx.ix.spc_users(from, &other.name).is_some() {
            return format!(
                "${{EDITOR:-vi}} {file} && kubectl apply -f {file}  # add a copy of SecretProviderClass {name} with metadata.namespace: {ns} (a second document; keep the one in {from}: pods there mount it)"
            );
        }
        return format!(
            "${{EDITOR:-vi}} {file} && kubectl apply -f {file}  # set metadata.namespace: {ns} on SecretProviderClass {name} (now {from}), or add a copy with namespace {ns}"
        );
    }
    let copy = format!(
        "kubectl get secretproviderclass {name} -n {from} -o yaml | sed -e 's/^  namespace: {from}$/  namespace: {ns}/' -e '/^  resourceVersion:/d' -e '/^  uid:/d' -e '/^  creationTimestamp:/d' | kubectl apply -f -  # a copy in namespace {ns}; {from} keeps its own"
    );
    match other.file.as_deref() {
        // The manifests keep the copy too, the file never applied whole.
        Some(file) => format!(
            "{copy}; add the same copy to {} (a second document with metadata.namespace: {ns}), but do not apply that file whole: it holds other objects, which kubectl apply -f would re-apply as written",
            remedy::sh_word(file)
        ),
        None => copy,
    }
}

/// KVC101's fix in a cluster: copy the SecretProviderClass of that name from whichever
/// namespace holds it (`kubectl get -A` lists items with metadata four spaces in), without
/// the fields that tie it to the original; `kubectl apply -n` would refuse a document naming
/// another namespace. None anywhere: apply says "no objects passed", and it must be written.
fn copy_from_anywhere(cx: &Ctx) -> String {
    let (ns, name) = (cx.ns(), remedy::sh_word(cx.spc_name));
    format!(
        "kubectl get secretproviderclass -A --field-selector metadata.name={name} -o yaml | sed -e 's/^    namespace: .*$/    namespace: {ns}/' -e '/^    resourceVersion:/d' -e '/^    uid:/d' -e '/^    creationTimestamp:/d' | kubectl apply -f -  # copies SecretProviderClass {name} into namespace {ns} from the namespace that has it (the driver reads the pod's namespace only); if none has it, apply it from its manifest"
    )
}

/// The volume's reference to its SecretProviderClass, as KVC101's evidence.
fn spc_reference(cx: &Ctx) -> String {
    format!(
        "volumes[{}].csi.volumeAttributes.secretProviderClass: {}",
        cx.volume.name, cx.spc_name
    )
}

/// The files define the SPC, but its document could not be read (no `kind`, a field of the
/// wrong type): it is neither absent nor elsewhere, and the fix is to correct that document.
fn written_but_unread(cx: &Ctx, link: &mut Link) -> bool {
    let subject = format!(
        "volume {} references SecretProviderClass {}",
        cx.volume.name, cx.spc_name
    );
    let found = super::unread_finding(
        cx,
        (Code::KVC101, cx.spc_resource()),
        ("SecretProviderClass", cx.spc_name),
        &subject,
        vec![spc_reference(cx)],
    );
    found.map(|f| link.findings.push(f)).is_some()
}

/// Offline, an SPC that is in none of the given files is unknown, not absent (it may be
/// applied from elsewhere): a warning. It stays an error when the files put it in another
/// namespace — the driver only looks in the pod's.
fn offline_absence(cx: &Ctx, f: &mut Finding) {
    if elsewhere(cx).is_some() {
        // An error, named where it is (`spc_exists`): the driver only looks in the pod's.
        return;
    }
    f.severity = Severity::Warning;
    f.message = if params::is_placeholder(cx.spc_name) {
        let (confirm, mut fix) = super::remedy::unrendered(
            &format!("volume {}'s volumeAttributes.secretProviderClass", cx.volume.name),
            cx.spc_name,
        );
        // The one SecretProviderClass of the namespace is very likely the one meant.
        let mut here = cx.ix.spcs_in(cx.ns());
        if let (Some(only), None) = (here.next(), here.next()) {
            fix.push_str(&format!(
                " (the only SecretProviderClass in namespace {} is {})",
                cx.ns(),
                only.name
            ));
        }
        f.confirm = confirm.into();
        f.fix = fix.into();
        format!(
            "volume {} names SecretProviderClass {}: an unrendered template value; render the template before applying",
            cx.volume.name, cx.spc_name
        )
    } else {
        format!(
            "volume {} references SecretProviderClass {}, which is not in the given manifests: unknown offline; if it does not exist in namespace {} when the pod starts, the mount fails",
            cx.volume.name,
            cx.spc_name,
            cx.ns()
        )
    }
    .into();
}

/// subPath mounts of the CSI volume, or of a Secret volume fed by this SPC's sync.
fn sub_paths(cx: &Ctx, link: &mut Link) {
    // A retired pod (evicted, finished, being deleted) starts and reads nothing again: its
    // subPath copy harms no reader (FACTS §4 is about a running one), and its owner's
    // template, which the fix edits, may long have lost the subPath (audit II1).
    if cx.retired() {
        return;
    }
    let synced = |name: &str| {
        cx.spc
            .is_some_and(|s| s.secret_objects.iter().any(|o| o.secret_name == name))
    };
    for c in &cx.pod.containers {
        // An init container seen terminated while the pod runs has run to completion ("Init
        // containers always run to completion"): it reads the file no more, subPath or not. A
        // native sidecar (restartPolicy: Always) keeps running and stays judged (audit U3).
        if c.init
            && matches!(c.state, ContainerStateObs::Terminated { .. })
            && cx.pod.phase == "Running"
        {
            continue;
        }
        for m in &c.mounts {
            let Some(sub) = &m.sub_path else { continue };
            // Already stale: KVC901 on the Consumers link says so, the subPath as its cause.
            if super::consumers::stale::sub_path_now_stale(cx, c, m) {
                continue;
            }
            let what = if m.volume == cx.volume.name {
                format!("the CSI volume {}", m.volume)
            } else {
                match cx.pod.volume(&m.volume).map(|v| &v.source) {
                    Some(VolumeSourceObs::Secret { secret_name, .. }) if synced(secret_name) => {
                        format!("volume {} of synced Secret {secret_name}", m.volume)
                    }
                    _ => continue,
                }
            };
            let list = if c.init {
                "initContainers"
            } else {
                "containers"
            };
            let mut f = cx.remedied(
                Code::KVC102,
                cx.owner_resource(),
                format!(
                    "container {} mounts {what} with subPath {sub}: a subPath is a copy taken at start, rotated content never reaches {}",
                    c.name, m.path
                ),
                vec![format!(
                    "{list}[{}].volumeMounts: {{name: {}, mountPath: {}, subPath: {sub}}}",
                    c.name, m.volume, m.path
                )],
            );
            f.fix = super::remedy::mount_as_directory(cx, &c.name, m).into();
            // This container's mounts, where it is listed (an init container or sidecar is
            // not under `containers`).
            f.confirm = format!(
                "kubectl get {} -n {} -o jsonpath='{{{}}}'",
                cx.owner_kubectl(),
                cx.ns(),
                super::remedy::container_path(cx.pod_spec_path(), c, false, ".volumeMounts")
            )
            .into();
            link.findings.push(f);
        }
    }
}

/// Cluster facts: driver registered, provider running, token for the exchange audience.
fn driver_facts(cx: &Ctx, link: &mut Link) {
    let Some(csi) = cx.cluster().csi_driver.known() else {
        // Offline nothing is known of the DaemonSets, but a Windows pod still needs theirs.
        link.findings.extend(super::node::windows_unscheduled(cx));
        return;
    };
    if !csi.installed {
        link.findings.push(cx.remedied(
            Code::KVC104,
            CSIDRIVER.to_string(),
            "the CSIDriver secrets-store.csi.k8s.io is not registered: kubelet cannot mount any Secrets Store volume".to_string(),
            vec!["kubectl get csidriver secrets-store.csi.k8s.io: NotFound".to_string()],
        ));
    } else if csi.azure_provider.known() == Some(&false) && super::provider::is_azure(cx) {
        link.findings.push(cx.remedied(
            Code::KVC104,
            CSIDRIVER.to_string(),
            format!(
                "the Azure provider of the Secrets Store CSI driver is not running: mounts fail with \"{}\"",
                crate::spc::provider_lookup_error(crate::spc::AZURE_PROVIDER)
            ),
            vec!["no running secrets-store-provider-azure pod".to_string()],
        ));
    } else if let Some(f) =
        super::node::absent(cx, link).or_else(|| super::node::windows_unscheduled(cx))
    {
        link.findings.push(f);
    }
    // Only workload identity and identity binding read a token, each for its own audience.
    // Another provider's SPC reads no token of the Azure provider's audiences.
    let needed = remedy::token_audience(cx).filter(|_| !super::provider::is_other(cx));
    if let (Some(needed), true, Some(auds)) = (needed, csi.installed, csi.token_audiences.known())
        && !auds.iter().any(|a| a == needed)
    {
        // One CSIDriver for every mount: the finding names each audience the cluster's mounts
        // miss, so every chain shows one and the same finding. FACTS §5: no tokens at all, or
        // tokens for other audiences only, fail differently.
        let missing: Vec<String> = remedy::audiences_needed(cx)
            .into_iter()
            .filter(|a| !auds.iter().any(|have| have == a))
            .map(|a| {
                let error = if auds.is_empty() {
                    "service account tokens not found".to_string()
                } else {
                    format!("token for audience {a} not found")
                };
                let mode = if a == AUDIENCE {
                    "workload-identity"
                } else {
                    "identity-binding"
                };
                format!("{a} ({mode} mounts fail with \"{error}\")")
            })
            .collect();
        link.findings.push(cx.remedied(
            Code::KVC105,
            CSIDRIVER.to_string(),
            format!(
                "the CSIDriver requests no service-account token for {}",
                missing.join(" nor for ")
            ),
            vec![format!("CSIDriver.spec.tokenRequests audiences: {auds:?}")],
        ));
    }
}

pub(crate) use crate::spc::{parse_bool, truthy};
