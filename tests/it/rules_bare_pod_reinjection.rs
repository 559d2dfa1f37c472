//! A pod nothing owns, recreated so that the workload-identity webhook injects it again
//! (KVC204, KVC206; audit DD3). FACTS §6: the webhook mutates on CREATE only, and injects each
//! variable "only if the name is absent … Pre-existing env vars are not overwritten". A
//! mutated pod keeps the injected env in its spec, so `kubectl get pod -o yaml | kubectl
//! replace --force -f -` hands the webhook a pod that already holds the old AZURE_CLIENT_ID
//! (or AZURE_TENANT_ID): nothing changes, and the same fix comes back. The recreate removes
//! the injected variables on the way, so the webhook injects them anew from the account.

use kvchain::chain::testkit::{self as tk, APP, NS, TENANT};
use kvchain::chain::{Code, Finding};
use kvchain::snapshot::*;

use super::cause_kit::*;

const WRONG: &str = "11111111-2222-4333-8444-555555555555";

/// The healthy app's pod with no owner (a bare pod).
fn bare() -> Snapshot {
    let mut s = tk::healthy();
    tk::pod_mut(&mut s, APP).owners.clear();
    s
}

fn literal(name: &str, value: &str) -> EnvObs {
    EnvObs {
        name: name.into(),
        source: EnvSourceObs::Literal {
            value: Some(value.into()),
        },
    }
}

/// The recreate drops `var` from the pod's dump before `replace --force`, and is valid shell.
fn assert_strips(f: &Finding, var: &str) {
    let pod = tk::pod_name(APP, 0);
    let get =
        format!("kubectl get pod {pod} -n {NS} -o yaml | kubectl set env -f - --local -o yaml ");
    let at = f.fix.find(&get).unwrap_or_else(|| panic!("{}", f.fix));
    let (pipeline, _) = f.fix[at..].split_once("  # ").unwrap();
    assert!(
        pipeline.contains(&format!(" {var}- "))
            && pipeline.ends_with(" | kubectl replace --force -f -"),
        "{}",
        f.fix
    );
    // Valid shell (the stand-ins of a pipeline log at once: their order is not asserted).
    super::paste_kit::paste(&f.fix, "", "");
}

/// KVC204 on the service account: the annotation is a typo, the bare pod was created with it.
#[test]
fn a_bare_pods_recreate_after_the_annotation_fix_drops_the_injected_client_id() {
    let mut s = bare();
    tk::sa_mut(&mut s, APP)
        .annotations
        .insert("azure.workload.identity/client-id".into(), WRONG.into());
    tk::created_with_client_id(&mut s, NS, WRONG);
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(
        f.fix.starts_with("kubectl annotate serviceaccount"),
        "{}",
        f.fix
    );
    assert_strips(f, "AZURE_CLIENT_ID");
}

/// KVC204 on the pod: the annotation was corrected, the bare pod still holds the old id
/// (what a plain `-o yaml | replace --force` leaves): its recreate drops it.
#[test]
fn a_bare_pod_still_holding_the_old_client_id_is_recreated_without_it() {
    let mut s = bare();
    tk::created_with_client_id(&mut s, NS, WRONG);
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(f.resource.starts_with("Pod/"), "{}", f.resource);
    assert_strips(f, "AZURE_CLIENT_ID");
    assert!(!f.fix.contains("if the pod spec sets"), "{}", f.fix);
}

/// KVC206: the same for the tenant the webhook injected.
#[test]
fn a_bare_pods_recreate_after_the_tenant_fix_drops_the_injected_tenant() {
    let mut s = bare();
    tk::sa_mut(&mut s, APP).annotations.insert(
        "azure.workload.identity/tenant-id".into(),
        OTHER_TENANT.into(),
    );
    (tk::pod_mut(&mut s, APP).containers[0].env).push(literal("AZURE_TENANT_ID", OTHER_TENANT));
    let c = one(&s);
    let f = find(&c, Code::KVC206);
    assert!(
        f.fix.contains(&format!(
            "azure.workload.identity/tenant-id={TENANT} --overwrite && "
        )),
        "{}",
        f.fix
    );
    assert_strips(f, "AZURE_TENANT_ID");
}

/// `kubectl set env` edits containers, not init containers (which the webhook injects too,
/// FACTS §6): an init container holding the variable gets the pod edited by hand instead.
#[test]
fn an_init_container_holding_the_old_id_gets_the_pod_edited_by_hand() {
    let mut s = bare();
    tk::created_with_client_id(&mut s, NS, WRONG);
    let init = ContainerObs {
        name: "init".into(),
        init: true,
        env: vec![literal("AZURE_CLIENT_ID", WRONG)],
        ..ContainerObs::default()
    };
    tk::pod_mut(&mut s, APP).containers.push(init);
    let c = one(&s);
    let f = find(&c, Code::KVC204);
    assert!(!f.fix.contains("kubectl set env"), "{}", f.fix);
    assert!(
        f.fix.contains("kubectl replace --force -f ")
            && f.fix.contains("AZURE_CLIENT_ID")
            && f.fix.contains("init container"),
        "{}",
        f.fix
    );
}
