//! The lab's service-principal path (FACTS §5): without an SPC `clientID` the Azure provider
//! takes `clientid`/`clientsecret` from the volume's `nodePublishSecretRef` Secret, matching the
//! keys case-insensitively; kubelet itself fails first when that Secret does not exist. The lab
//! has no Entra app registrations, so two present keys end in a message naming the lab.

use std::time::Duration;

use kvchain::snapshot::Snapshot;
use kvchain::source::lab::world::World;
use kvchain::source::lab::{self, export};

const CLUSTER: &str = include_str!("../../assets/scenarios/cluster.yaml");
const SHOP: &str = include_str!("../../assets/scenarios/shop.yaml");

/// An SPC without clientID (service-principal mode) and a bare pod whose volume names the
/// credentials Secret `sp-creds`; `extra` adds documents (the Secret, a timeline).
fn world(spc_params: &str, extra: &str) -> World {
    world_as("default", spc_params, extra)
}

fn world_as(sa: &str, spc_params: &str, extra: &str) -> World {
    let spc = format!(
        r#"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: sp-kv, namespace: shop}}
spec:
  provider: azure
  parameters:
    keyvaultName: kv-shop-lab
    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
{spc_params}    objects: |
      array:
        - |
          objectName: cart-redis-password
          objectType: secret"#
    );
    let pod = format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: sp-pod, namespace: shop}}
spec:
  serviceAccountName: {sa}
  containers:
    - name: app
      image: busybox
      volumeMounts: [{{name: s, mountPath: /mnt/s, readOnly: true}}]
  volumes:
    - name: s
      csi:
        driver: secrets-store.csi.k8s.io
        readOnly: true
        volumeAttributes: {{secretProviderClass: sp-kv}}
        nodePublishSecretRef: {{name: sp-creds}}"#
    );
    let mut docs = vec![CLUSTER, SHOP, &spc, &pod];
    if !extra.is_empty() {
        docs.push(extra);
    }
    let sc = lab::scenario::parse("sp", std::path::Path::new("sp.yaml"), &docs.join("\n---\n"))
        .expect("scenario loads");
    World::new(sc)
}

fn secret(body: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: sp-creds, namespace: shop}}\ntype: Opaque\n{body}"
    )
}

/// The messages of the pod's events with this reason.
fn messages(s: &Snapshot, reason: &str) -> Vec<String> {
    s.events
        .items
        .iter()
        .filter(|e| e.involved_name == "sp-pod" && e.reason == reason)
        .map(|e| e.message.clone())
        .collect()
}

fn failed_mounts(w: &mut World) -> Vec<String> {
    w.advance(Duration::from_secs(30));
    messages(&export::snapshot(w), "FailedMount")
}

#[test]
fn a_missing_credentials_secret_fails_in_kubelet_before_the_driver() {
    let mut w = world("", "");
    let m = failed_mounts(&mut w);
    assert!(
        m.iter().any(|m| m.contains(
            "fetching NodePublishSecretRef shop/sp-creds failed: kubernetes.io/csi: failed to find the secret sp-creds in the namespace shop with error: secrets \"sp-creds\" not found"
        )),
        "{m:#?}"
    );
    assert!(
        m.iter().all(|m| !m.contains("could not find client")),
        "{m:#?}"
    );
}

#[test]
fn credential_keys_are_matched_case_insensitively_and_an_absent_one_is_named() {
    // stringData is what kubectl users write: the API server stores it as data.
    let mut w = world("", &secret("stringData:\n  ClientID: some-app-id\n"));
    let m = failed_mounts(&mut w);
    assert!(
        m.iter()
            .any(|m| m.ends_with("could not find clientsecret in secrets")),
        "{m:#?}"
    );
    let mut w = world("", &secret("data:\n  CLIENTSECRET: c2VjcmV0\n"));
    let m = failed_mounts(&mut w);
    assert!(
        m.iter()
            .any(|m| m.ends_with("could not find clientid in secrets")),
        "{m:#?}"
    );
    // An empty value is as good as none.
    let mut w = world(
        "",
        &secret("stringData:\n  clientid: \"\"\n  clientsecret: x\n"),
    );
    let m = failed_mounts(&mut w);
    assert!(
        m.iter()
            .any(|m| m.ends_with("could not find clientid in secrets")),
        "{m:#?}"
    );
}

#[test]
fn both_keys_present_fail_with_a_lab_message_and_never_show_their_values() {
    for body in [
        "stringData:\n  clientid: CANARY-5e1d-id\n  clientsecret: CANARY-5e1d-secret\n",
        // base64 of CANARY-5e1d-id / CANARY-5e1d-secret
        "data:\n  clientId: Q0FOQVJZLTVlMWQtaWQ=\n  clientSecret: Q0FOQVJZLTVlMWQtc2VjcmV0\n",
    ] {
        let mut w = world("", &secret(body));
        let m = failed_mounts(&mut w);
        assert!(!m.is_empty());
        assert!(
            m.iter()
                .all(|m| m.contains("kvchain lab") && !m.contains("could not find")),
            "{m:#?}"
        );
        let json = serde_json::to_string(&export::snapshot(&w)).unwrap();
        assert!(!json.contains("CANARY-5e1d"), "a credential value leaked");
    }
}

#[test]
fn rotation_reports_a_deleted_credentials_secret_in_the_reconcilers_words() {
    // With a clientID the provider uses workload identity; kubelet still reads the Secret.
    let timeline = "apiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata: {name: t}\nspec:\n  events:\n    - at: 1m\n      deleteSecret: {namespace: shop, name: sp-creds}\n";
    let extra = [
        secret("stringData:\n  unrelated: x\n"),
        timeline.to_string(),
        include_str!("../../assets/scenarios/healthy.yaml").to_string(),
    ]
    .join("\n---\n");
    let mut w = world_as(
        "checkout",
        "    clientID: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92\n",
        &extra,
    );
    w.advance(Duration::from_secs(50));
    let s = export::snapshot(&w);
    assert!(
        messages(&s, "FailedMount").is_empty(),
        "mounted with workload identity"
    );
    w.advance(Duration::from_secs(90));
    let s = export::snapshot(&w);
    assert!(
        messages(&s, "MountRotationFailed")
            .iter()
            .any(|m| m == "failed to get node publish secret shop/sp-creds, err: secret \"sp-creds\" not found"),
        "{:#?}",
        messages(&s, "MountRotationFailed")
    );
}

/// FACTS §5: identity binding (`useAzureTokenProxy: "true"`) reads the service-account token
/// for api://AKSIdentityBinding. The lab's CSIDriver requests only the exchange audience by
/// default: the mount fails the way the provider says, and the diagnosis names the same cause
/// (KVC105) instead of a healthy mount beside "no token".
#[test]
fn identity_binding_mounts_need_the_binding_audience() {
    // The identity holds its binding credential too (FACTS §5: one per identity, audience
    // api://AKSIdentityBinding), which serves the binding's exchange once the token is there.
    let healthy = include_str!("../../assets/scenarios/healthy.yaml")
        .replace(
            "    clientID: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92\n",
            "    clientID: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92\n    useAzureTokenProxy: \"true\"\n",
        )
        .replace(
            "      audiences: [api://AzureADTokenExchange]\n",
            "      audiences: [api://AzureADTokenExchange]\n    - name: aks-identity-binding\n      issuer: https://westeurope.oic.prod-aks.azure.com/5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b/6d8f2a3b-4c5e-4f70-9b1c-2d3e4f5a6b7c/\n      subject: system:serviceaccount:kube-system:identity-binding\n      audiences: [api://AKSIdentityBinding]\n",
        );
    assert!(healthy.contains("aks-identity-binding"));
    let run = |cluster: &str| {
        let sc = lab::scenario::parse(
            "binding",
            std::path::Path::new("binding.yaml"),
            &[cluster, SHOP, &healthy].join("\n---\n"),
        )
        .expect("scenario loads");
        let mut w = World::new(sc);
        w.advance(Duration::from_secs(60));
        export::snapshot(&w)
    };
    let s = run(CLUSTER);
    assert!(
        s.events.items.iter().any(|e| e.reason == "FailedMount"
            && e.message
                .contains("token for audience api://AKSIdentityBinding not found")),
        "{:#?}",
        s.events.items
    );
    let chains = kvchain::chain::diagnose(&s);
    let checkout: Vec<_> = chains
        .iter()
        .filter(|c| c.spc.contains("checkout"))
        .collect();
    assert!(!checkout.is_empty());
    for c in checkout {
        assert!(
            c.findings().any(|f| f.code == kvchain::chain::Code::KVC105),
            "{c:#?}"
        );
        assert_ne!(
            c.link(kvchain::chain::LinkKind::Mount).status,
            kvchain::chain::Status::Ok
        );
    }
    // Both audiences requested, as the Azure provider's chart does: the mount succeeds.
    let both = CLUSTER.replace(
        "tokenAudiences: [api://AzureADTokenExchange]",
        "tokenAudiences: [api://AzureADTokenExchange, api://AKSIdentityBinding]",
    );
    assert_ne!(both, CLUSTER);
    let s = run(&both);
    assert!(
        !s.events.items.iter().any(|e| e.reason == "FailedMount"),
        "{:#?}",
        s.events.items
    );
}
