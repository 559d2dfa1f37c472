//! Audit TT6: a SecretProviderClass with an ownerReference marked `controller: true` (the AKS
//! app routing operator's, owned by an Ingress) is reconciled by that controller: a patch of
//! it does not last. Its fixes name the owner to change and run nothing; an SPC no controller
//! owns keeps its patch.

use crate::manifest_run::{check_docs, findings_of};

/// SPC `web-tls` of team-a on the node's identity (KVC303), `owner` the metadata lines it adds.
fn spc(owner: &str, tenant: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: web-tls
  namespace: team-a
{owner}spec:
  provider: azure
  parameters:
    useVMManagedIdentity: 'true'
    userAssignedIdentityID: 7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918
    keyvaultName: kv-team-a
{tenant}    objects: |
      array:
        - |
          objectName: web-cert
          objectType: secret
"
    )
}

const OWNED: &str = "  labels: {app.kubernetes.io/managed-by: aks-app-routing-operator}
  ownerReferences:
  - {apiVersion: networking.k8s.io/v1, kind: Ingress, name: web, uid: 0f1e2d3c-4b5a-4697-8877-665544332211, controller: true}
";

const TENANT: &str = "    tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47\n";

#[test]
fn a_controller_owned_spc_is_changed_through_its_owner() {
    let (_, r, _) = check_docs(&[&spc(OWNED, TENANT)]);
    let f = findings_of(&r, "KVC303");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    // The move to workload identity cannot be made through the Ingress either: the add-on
    // reads with its own identity by design (audit AAA6), so the fix says so and moves nothing.
    assert!(
        fix.starts_with("# nothing to move: SecretProviderClass web-tls is made by the AKS application routing add-on for Ingress web"),
        "{fix}"
    );
    assert!(fix.contains("a patch here is reconciled back"), "{fix}");
    // Pasted, it runs nothing: no patch its controller would revert.
    let run = crate::paste_kit::paste(fix, "", "");
    assert!(run.calls.is_empty(), "{:?}", run.calls);
    // An edit of the SPC (KVC302: no tenant) names the owner too.
    let (_, r, _) = check_docs(&[&spc(OWNED, "")]);
    let f = findings_of(&r, "KVC302");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.starts_with("# SecretProviderClass web-tls is managed by Ingress/web"),
        "{fix}"
    );
}

#[test]
fn an_spc_no_controller_owns_keeps_its_patch() {
    let (_, r, _) = check_docs(&[&spc("", TENANT)]);
    let f = findings_of(&r, "KVC303");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("kubectl patch secretproviderclass web-tls -n team-a"),
        "{fix}"
    );
    assert!(!fix.contains("managed by"), "{fix}");
}

/// The owner lines of an SPC the AKS app routing operator generated for Ingress web.
const OWNER_ONLY: &str = "  ownerReferences:
  - {apiVersion: networking.k8s.io/v1, kind: Ingress, name: web, uid: 0f1e2d3c-4b5a-4697-8877-665544332211, controller: true}
";

/// SPC `name` of team-a on workload identity `client`, `owner` its owner lines, `provider`
/// its spec.provider, syncing Secret dbs.
fn wi_spc(name: &str, owner: &str, provider: &str, client: &str) -> String {
    format!(
        "apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: {name}
  namespace: team-a
{owner}spec:
  provider: {provider}
  parameters: {{clientID: '{client}', keyvaultName: kv-team-a, tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47, objects: \"array:\\n  - |\\n    objectName: db\\n    objectType: secret\\n\"}}
  secretObjects:
  - secretName: dbs
    type: Opaque
    data: [{{objectName: db, key: pw}}]
"
    )
}

/// Deployment `name` of team-a as app-sa mounting SPC `spc`, reading dbs through env,
/// annotated `own` (a flow map).
fn deploy(name: &str, spc: &str, own: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: team-a, annotations: {own}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}, azure.workload.identity/use: 'true'}}}}
    spec:
      serviceAccountName: app-sa
      containers:
      - name: c
        image: i
        env:
        - name: PW
          valueFrom: {{secretKeyRef: {{name: dbs, key: pw}}}}
        volumeMounts: [{{name: kv, mountPath: /mnt/kv, readOnly: true}}]
      volumes:
      - name: kv
        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: {spc}}}}}
"
    )
}

const ONE: &str = "11111111-2222-4333-8444-555555555555";
const TWO: &str = "aaaaaaaa-2222-4333-8444-555555555555";

fn sa(client: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: app-sa, namespace: team-a, annotations: {{azure.workload.identity/client-id: '{client}'}}}}\n"
    )
}

/// Audit TT6's rest: every route that patched the SPC names the owner when a controller owns
/// it, and a pasted fix never patches that SPC. KVC104 (spec.provider `Azure`, the provider
/// rule's own fix), KVC902 (the consumer restart that tags the Secret through the SPC's
/// secretObjects) and KVC204 (the shared account's SPC moved onto its identity, one
/// parameter patched).
#[test]
fn every_route_names_the_owner_of_a_controlled_spc() {
    let spc = wi_spc("web-tls", OWNER_ONLY, "Azure", ONE);
    let search = "{reloader.stakater.com/search: 'true'}";
    let app = deploy("api", "web-tls", search);
    let (_, r, _) = check_docs(&[&sa(ONE), &spc, &app]);
    for code in ["KVC104", "KVC902"] {
        let f = findings_of(&r, code);
        assert_eq!(f.len(), 1, "{code}: {r:#}");
        let fix = f[0]["fix"].as_str().unwrap();
        assert!(
            fix.contains("SecretProviderClass web-tls is managed by Ingress/web (its controller): change that"),
            "{code}: {fix}"
        );
        let run = crate::paste_kit::paste_kube(fix, "", "", "");
        assert!(
            run.called("kubectl [patch] [secretproviderclass]")
                .is_empty(),
            "{code}: {:?}",
            run.calls
        );
        if code == "KVC902" {
            // The Secret already there is still tagged: the owner's note comes last.
            assert!(
                !run.called("kubectl [annotate] [secret] [dbs]").is_empty(),
                "{:?}",
                run.calls
            );
        }
    }

    let other = wi_spc("other-kv", OWNER_ONLY, "azure", TWO);
    let (_, r, _) = check_docs(&[
        &sa(ONE),
        &wi_spc("app-kv", "", "azure", ONE),
        &other,
        &deploy("one", "app-kv", "{}"),
        &deploy("two", "other-kv", "{}"),
    ]);
    let f = findings_of(&r, "KVC204");
    assert_eq!(f.len(), 1, "{r:#}");
    let fix = f[0]["fix"].as_str().unwrap();
    assert!(
        fix.contains("SecretProviderClass other-kv is managed by Ingress/web"),
        "{fix}"
    );
    let run = crate::paste_kit::paste_kube(fix, "", "", "");
    assert!(
        run.called("kubectl [patch] [secretproviderclass]")
            .is_empty(),
        "{:?}",
        run.calls
    );
}
