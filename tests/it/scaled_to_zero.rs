//! A workload scaled to zero mounts nothing: the driver makes a synced Secret only while a pod
//! mounts its SecretProviderClass (FACTS §2: "No mount ⇒ no Secret"; §11: the SPC's synced
//! Secret is never created when no pod mounts it). A consumer of that Secret is broken
//! (KVC904), and the fix is to scale the mounting workload up — unless the workload's template
//! could not mount either, which its template chain shows and the KVC904 points at.

use kvchain::chain::testkit::{self as tk, APP, NS};
use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::snapshot::*;
use kvchain::source::lab::world::{Workload, World};
use kvchain::source::lab::{self, export};

/// Deployment `web` of `s` scaled to zero, its template kept (as the live and lab sources keep
/// the template of a workload with a CSI volume); its pods are left to the caller.
fn park(s: &mut Snapshot) {
    let mut template = s.pods.items[0].clone();
    template.name = APP.into();
    template.owners.clear();
    template.template_of = Some(tk::owner("Deployment", APP));
    template.containers[0].state = ContainerStateObs::Unknown;
    let w = tk::workload_mut(s, "Deployment", APP);
    w.replicas = Some(0);
    w.template = Some(Box::new(template));
}

/// The testkit's healthy world with Deployment `web` scaled to zero (its template kept, as
/// the live and lab sources keep the template of a workload with a CSI volume), no pod
/// mounting the SPC, the synced Secret gone, and a bare pod `reader` that reads it by env.
fn scaled_to_zero_with_reader() -> Snapshot {
    let mut s = tk::healthy();
    park(&mut s);
    let mut reader = s.pods.items[0].clone();
    reader.name = "reader".into();
    reader.owners.clear();
    reader
        .volumes
        .retain(|v| !matches!(v.source, VolumeSourceObs::Csi { .. }));
    reader.containers[0].mounts.clear();
    s.pods.items = vec![reader].into();
    s.spc_statuses.items.clear();
    s.secrets.items.clear();
    s
}

fn kvc904(chains: &[Chain]) -> Finding {
    let found: Vec<&Finding> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC904)
        .collect();
    assert_eq!(found.len(), 1, "{chains:#?}");
    found[0].clone()
}

fn template_chain<'c>(chains: &'c [Chain], name: &str) -> &'c Chain {
    chains
        .iter()
        .find(|c| {
            !c.volume.is_empty()
                && c.workload
                    .as_ref()
                    .is_some_and(|w| w.kind == "Deployment" && w.name == name)
        })
        .unwrap_or_else(|| panic!("no template chain for Deployment/{name}: {chains:#?}"))
}

/// The template would mount: scaling the workload up is the fix, pasted as is.
#[test]
fn a_consumer_of_a_scaled_down_workloads_secret_is_told_to_scale_it_up() {
    let chains = diagnose(&scaled_to_zero_with_reader());
    let f = kvc904(&chains);
    assert_eq!(f.resource, "Pod/reader");
    assert!(
        f.message.contains(&format!("Deployment/{APP}"))
            && f.message.contains("scaled to zero (replicas 0)"),
        "{}",
        f.message
    );
    assert_eq!(
        f.fix,
        format!("kubectl scale deployment/{APP} -n {NS} --replicas=1")
    );
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with(&format!("Deployment/{APP}: replicas 0"))),
        "{f:#?}"
    );
    // The template's chain is diagnosed, and has nothing that would stop its pods.
    let t = template_chain(&chains, APP);
    assert!(
        t.findings().all(|f| f.severity != Severity::Error),
        "{:#?}",
        t.links
    );
    // One symptom, one finding: the reader's missing Secret is its KVC904, not also a KVC903
    // on the template's chain.
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.code != Code::KVC903),
        "{chains:#?}"
    );
}

/// AADSTS70021 (FACTS §5, §7): a subject no federated credential has fails every mount of
/// the scaled-up pods, so scaling up alone makes no Secret. The template's chain names the
/// break, and the consumer's KVC904 points at it.
#[test]
fn scaling_up_a_template_whose_chain_is_broken_is_said_not_to_help() {
    let mut s = scaled_to_zero_with_reader();
    tk::fic_mut(&mut s, APP).subject = format!("system:serviceaccount:{NS}:someone-else");
    let chains = diagnose(&s);
    let t = template_chain(&chains, APP);
    assert_eq!(t.link(LinkKind::Federation).status, Status::Broken);
    let cause = t
        .findings()
        .find(|f| f.code == Code::KVC401)
        .unwrap_or_else(|| panic!("{:#?}", t.links));
    let f = kvc904(&chains);
    assert!(
        f.message.contains("would not make the Secret")
            && f.message.contains(&format!("KVC401 on {}", cause.resource)),
        "{}",
        f.message
    );
    assert!(
        f.fix.starts_with(&format!(
            "kubectl scale deployment/{APP} -n {NS} --replicas=1  # after fixing KVC401"
        )),
        "{}",
        f.fix
    );
    assert!(
        f.evidence.iter().any(|e| e.contains(t.id.as_str())),
        "{f:#?}"
    );
}

/// A workload scaled to zero on purpose, whose Secret nobody else waits on, is no finding:
/// its template is not diagnosed.
#[test]
fn a_scaled_down_workload_nobody_waits_on_is_left_alone() {
    let mut s = scaled_to_zero_with_reader();
    tk::fic_mut(&mut s, APP).subject = format!("system:serviceaccount:{NS}:someone-else");
    s.pods.items.clear();
    let chains = diagnose(&s);
    assert!(chains.is_empty(), "{chains:#?}");
}

const BILLING: &str = r#"
apiVersion: v1
kind: ServiceAccount
metadata:
  name: billing
  namespace: shop
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: billing-kv
  namespace: shop
spec:
  provider: azure
  parameters:
    clientID: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92
    keyvaultName: kv-shop-lab
    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
    objects: |
      array:
        - |
          objectName: billing-api-key
          objectType: secret
  secretObjects:
    - secretName: billing-secret
      type: Opaque
      data:
        - objectName: billing-api-key
          key: key
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing
  namespace: shop
spec:
  replicas: 0
  selector:
    matchLabels: {app: billing}
  template:
    metadata:
      labels: {app: billing, azure.workload.identity/use: "true"}
    spec:
      serviceAccountName: billing
      containers:
        - name: app
          image: busybox
          volumeMounts:
            - {name: s, mountPath: /mnt/s, readOnly: true}
      volumes:
        - name: s
          csi: {driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {secretProviderClass: billing-kv}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: billing-reader
  namespace: shop
spec:
  replicas: 1
  selector:
    matchLabels: {app: billing-reader}
  template:
    metadata:
      labels: {app: billing-reader}
    spec:
      containers:
        - name: app
          image: busybox
          env:
            - name: KEY
              valueFrom: {secretKeyRef: {name: billing-secret, key: key}}
"#;

/// The built-in cluster and healthy checkout, plus billing (scaled to zero, mounting
/// billing-kv) and billing-reader (reading its synced Secret). `federated`: the identity
/// billing-kv uses has a federated credential for ServiceAccount billing.
fn zero_reader(federated: bool) -> World {
    let d = |f: &str| std::fs::read_to_string(format!("assets/scenarios/{f}")).unwrap();
    let mut healthy = d("healthy.yaml");
    if federated {
        let fic = "      audiences: [api://AzureADTokenExchange]\n";
        let billing = format!(
            "{fic}    - name: fic-billing\n      issuer: https://westeurope.oic.prod-aks.azure.com/5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b/6d8f2a3b-4c5e-4f70-9b1c-2d3e4f5a6b7c/\n      subject: system:serviceaccount:shop:billing\n{fic}"
        );
        assert_eq!(healthy.matches(fic).count(), 1);
        healthy = healthy.replace(fic, &billing);
    }
    let text = [d("cluster.yaml"), d("shop.yaml"), healthy, BILLING.into()].join("\n---\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zero-reader.yaml");
    std::fs::write(&path, text).unwrap();
    let mut w = World::new(lab::load(path.to_str().unwrap()).expect("scenario loads"));
    w.run_until_stable(lab::MAX_SETTLE);
    w
}

fn reader_904(chains: &[Chain]) -> Option<&Finding> {
    chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC904 && f.resource == "Deployment/billing-reader")
}

/// In the lab the scaled-down Deployment's subject has no federated credential (AADSTS70021
/// once scaled up): its template chain shows KVC401, and billing-reader's KVC904 names both
/// the Deployment to scale and that cause.
#[test]
fn lab_a_scaled_down_mounter_without_federation_is_named_with_its_cause() {
    let w = zero_reader(false);
    let snap = export::snapshot(&w);
    assert!(
        snap.secrets
            .items
            .iter()
            .all(|s| s.name != "billing-secret")
    );
    let chains = diagnose(&snap);
    let t = template_chain(&chains, "billing");
    assert!(
        t.findings().any(|f| f.code == Code::KVC401),
        "{:#?}",
        t.links
    );
    let f = reader_904(&chains).unwrap_or_else(|| panic!("{chains:#?}"));
    assert!(
        f.message
            .contains("Deployment/billing mounts it in the pod template but is scaled to zero")
            && f.message.contains("KVC401"),
        "{}",
        f.message
    );
    assert!(
        f.fix.starts_with(
            "kubectl scale deployment/billing -n shop --replicas=1  # after fixing KVC401"
        ),
        "{}",
        f.fix
    );
    // Diagnosed through the template's chain, billing-kv is no longer an SPC "mounted by no
    // pod" checked on its own (where it read healthy).
    assert!(
        kvchain::chain::unmounted_spcs(&snap, &chains)
            .iter()
            .all(|v| v.name != "billing-kv")
    );
}

/// With the credential in place the fix is the scale command alone; carried out in the lab,
/// the pod mounts billing-kv, the driver creates billing-secret, and the reader's chain is
/// gone.
#[test]
fn lab_scaling_the_named_workload_up_makes_the_secret() {
    let mut w = zero_reader(true);
    let chains = diagnose(&export::snapshot(&w));
    let f = reader_904(&chains).unwrap_or_else(|| panic!("{chains:#?}"));
    assert_eq!(
        f.fix,
        "kubectl scale deployment/billing -n shop --replicas=1"
    );
    // `kubectl scale deployment/billing -n shop --replicas=1`, as the lab's API would do it.
    let key = ("Deployment".into(), "shop".into(), "billing".into());
    let mut d = w.workloads.get(&key).cloned().expect("Deployment/billing");
    let Workload::Deployment(dep) = &mut d else {
        panic!("a Deployment");
    };
    dep.spec.as_mut().expect("spec").replicas = Some(1);
    w.add_workload(d);
    w.run_until_stable(lab::MAX_SETTLE);
    let snap = export::snapshot(&w);
    assert!(
        snap.secrets
            .items
            .iter()
            .any(|s| s.name == "billing-secret"),
        "the driver made the Secret"
    );
    let chains = diagnose(&snap);
    assert!(reader_904(&chains).is_none(), "{chains:#?}");
    assert!(
        chains
            .iter()
            .flat_map(|c| c.findings())
            .all(|f| f.severity != Severity::Error),
        "{chains:#?}"
    );
}

/// FACTS §11: "a Deployment scaled to zero keeps its Secret (the ReplicaSet lives)". An Ingress
/// serving it still has its certificate, frozen: nothing mounts the SPC, so rotation cannot
/// update it. One KVC803 (on the Ingress's chain, none on the template's nor the SPC's own
/// check) names the scaled-down Deployment and scales it up.
#[test]
fn an_ingress_serving_a_scaled_down_workloads_kept_secret_is_told_to_scale_it_up() {
    let mut s = tk::healthy();
    park(&mut s);
    s.pods.items.clear();
    s.spc_statuses.items.clear();
    s.ingresses.items.push(IngressObs {
        namespace: NS.into(),
        name: "edge".into(),
        tls_secrets: vec![tk::secret_name(APP)],
    });
    let chains = diagnose(&s);
    let found: Vec<&Finding> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.code == Code::KVC803)
        .collect();
    assert_eq!(found.len(), 1, "{chains:#?}");
    let f = found[0];
    assert!(
        f.message.contains(&format!("Deployment/{APP}"))
            && f.message.contains("scaled to zero")
            && f.message.contains("frozen"),
        "{}",
        f.message
    );
    assert_eq!(
        f.fix,
        format!("kubectl scale deployment/{APP} -n {NS} --replicas=1")
    );
    let verdicts = kvchain::chain::unmounted_spcs(&s, &chains);
    assert!(
        verdicts
            .iter()
            .all(|v| v.findings.iter().all(|f| f.code != Code::KVC803)),
        "{verdicts:#?}"
    );
}
