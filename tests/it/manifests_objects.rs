//! `check -f`: what the SecretProviderClass's `objects` and `secretObjects` decide alone.
//! An objectType the provider refuses (FACTS §5 "Invalid vaultObjectTypes") is never fetched,
//! so the Object link cannot be ok from manifests (README: the Azure side is unknown, never
//! ok); a typed Secret whose data keys the API server's validation requires are missing is
//! never created (FACTS §2 the driver writes exactly `data[].key`; §3 FailedToCreateSecret).

use kvchain::chain::{Chain, Code, Finding, LinkKind, Severity, Status, diagnose};
use kvchain::source::manifests;

/// A Deployment mounting SPC `kv` (objects `db` of `object_type`, and `tls-cert` as a
/// secret) whose `secretObjects` are `secret_objects` (YAML flow, indented under spec).
fn manifests_with(object_type: &str, secret_objects: &str) -> String {
    format!(
        r#"apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata: {{name: kv, namespace: shop}}
spec:
  provider: azure
  parameters:
    clientID: 2b4d6f8a-1c3e-4a5b-9d7f-0e2c4a6b8d0f
    keyvaultName: kv-shop
    tenantID: 72f988bf-86f1-41af-91ab-2d7cd011db47
    objects: |
      array:
        - |
          objectName: db
          objectType: {object_type}
        - |
          objectName: registry
          objectType: secret
  secretObjects: {secret_objects}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: c, image: i, volumeMounts: [{{name: secrets, mountPath: /mnt/secrets, readOnly: true}}]}}]
      volumes:
      - name: secrets
        csi: {{driver: secrets-store.csi.k8s.io, readOnly: true, volumeAttributes: {{secretProviderClass: kv}}}}
"#
    )
}

fn chain(text: &str) -> Chain {
    let snap = manifests::load_str("m.yaml", text).expect("loads");
    let mut chains = diagnose(&snap);
    assert_eq!(chains.len(), 1);
    chains.remove(0)
}

/// `certificate` (for `cert`) and `Secret` are refused by the provider before any Key Vault
/// call: the Object link is never ok (nor broken: the Mount link's KVC705 is the cause).
#[test]
fn an_invalid_object_type_never_makes_the_object_link_ok() {
    for bad in ["certificate", "Secret"] {
        let c = chain(&manifests_with(bad, "[]"));
        let object = &c.links[LinkKind::VaultObject.index()];
        assert!(
            matches!(object.status, Status::Unknown | Status::Pending),
            "{bad}: {:?} {}",
            object.status,
            object.summary
        );
        assert!(
            c.findings().any(|f| f.code == Code::KVC705),
            "{bad}: KVC705 says why"
        );
    }
    let good = chain(&manifests_with("secret", "[]"));
    assert_eq!(
        good.links[LinkKind::VaultObject.index()].status,
        Status::Unknown,
        "a valid object is Azure unknown from manifests"
    );
}

/// The KVC806 findings of a chain whose SPC syncs one Secret of `type_` with `keys` (each
/// fed by the mounted file `registry`).
fn typed(type_: &str, keys: &[&str]) -> Vec<Finding> {
    let data: Vec<String> = keys
        .iter()
        .map(|k| format!("{{objectName: registry, key: {k:?}}}"))
        .collect();
    let so = format!(
        "[{{secretName: synced, type: {type_:?}, data: [{}]}}]",
        data.join(", ")
    );
    let c = chain(&manifests_with("secret", &so));
    c.findings()
        .filter(|f| f.code == Code::KVC806)
        .cloned()
        .collect()
}

/// Kubernetes' Secret validation: dockerconfigjson needs `.dockerconfigjson`, dockercfg
/// `.dockercfg`, ssh-auth `ssh-privatekey`, basic-auth `username` or `password` (either one
/// alone is accepted). Missing, the create is refused: an error on the Sync link naming the key.
#[test]
fn a_typed_secret_without_the_key_its_type_requires_is_never_created() {
    for (type_, keys, want) in [
        (
            "kubernetes.io/dockerconfigjson",
            &["dockerconfigjson"][..],
            ".dockerconfigjson",
        ),
        ("kubernetes.io/dockercfg", &["config"][..], ".dockercfg"),
        ("kubernetes.io/ssh-auth", &["id_rsa"][..], "ssh-privatekey"),
        (
            "kubernetes.io/basic-auth",
            &["user"][..],
            "username or password",
        ),
    ] {
        let found = typed(type_, keys);
        assert_eq!(found.len(), 1, "{type_}: {found:?}");
        let f = &found[0];
        assert_eq!(f.severity, Severity::Error, "{type_}");
        assert_eq!(f.link, LinkKind::Sync, "{type_}");
        assert!(
            f.message.contains(type_)
                && f.message.contains(want)
                && f.message.contains("never made"),
            "{type_}: {}",
            f.message
        );
        assert!(
            f.fix
                .contains(&format!("data[0].key: {}", want.split(' ').next().unwrap())),
            "{type_}: {}",
            f.fix
        );
    }
    // The dot left out: said as a near miss.
    let near = typed("kubernetes.io/dockerconfigjson", &["dockerconfigjson"]);
    assert!(
        near[0].message.contains("did you mean .dockerconfigjson?"),
        "{}",
        near[0].message
    );
    for (type_, keys) in [
        ("kubernetes.io/dockerconfigjson", &[".dockerconfigjson"][..]),
        ("kubernetes.io/dockercfg", &[".dockercfg"][..]),
        (
            "kubernetes.io/ssh-auth",
            &["ssh-privatekey", "known_hosts"][..],
        ),
        ("kubernetes.io/basic-auth", &["username"][..]),
        ("kubernetes.io/basic-auth", &["password"][..]),
        ("Opaque", &["anything"][..]),
    ] {
        assert!(typed(type_, keys).is_empty(), "{type_} {keys:?}");
    }
}

/// The SPC `kv` of [`manifests_with`] with item `db` holding `line` too.
fn item_with(line: &str) -> Chain {
    let text = manifests_with("secret", "[]").replacen(
        "          objectType: secret\n",
        &format!("          objectType: secret\n          {line}\n"),
        1,
    );
    assert!(text.contains(line));
    chain(&text)
}

/// Audit Z5. The provider decodes each item with gopkg.in/yaml.v3 into
/// `ObjectVersionHistory int32` (FACTS §5: "`objectVersionHistory` (int, …)"). yaml.v3's
/// `decoder.scalar` (go-yaml/yaml branch v3, decode.go) tags a quoted scalar `!!str`
/// (`if n.indicatedString() { tag = strTag; resolved = n.Value }`) and, for an int kind,
/// takes a string only into a `time.Duration`; else `d.terror`: `cannot unmarshal !!str `3`
/// into int32`, and the mount fails ("unmarshal failed for keyVaultObjects at index 0").
/// A string field takes a quoted scalar as its text (`out.SetString(n.Value)`).
#[test]
fn a_quoted_object_version_history_fails_the_mount_and_the_fix_removes_the_quotes() {
    let c = item_with("objectVersionHistory: \"3\"");
    let bad: Vec<_> = c.findings().filter(|f| f.code == Code::KVC705).collect();
    assert_eq!(bad.len(), 1, "{:#?}", c.findings().collect::<Vec<_>>());
    let f = bad[0];
    assert_eq!(f.severity, Severity::Error);
    assert!(
        f.message.contains(
            "objects.array[0].objectVersionHistory: is a string (a quoted number), not an integer"
        ),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .starts_with("kubectl edit secretproviderclass kv -n shop  # ")
            && f.fix
                .contains("objects.array[0].objectVersionHistory: remove the quotes"),
        "{}",
        f.fix
    );
    assert_eq!(c.link(LinkKind::Mount).status, Status::Broken);
    // Unquoted, the same history decodes; quoted where the provider's field is a string,
    // any scalar is its text.
    for line in [
        "objectVersionHistory: 3",
        "objectVersion: \"latest\"",
        "objectAlias: '7'",
    ] {
        let c = item_with(line);
        assert!(
            !c.findings().any(|f| f.code == Code::KVC705),
            "{line}: {:#?}",
            c.findings().collect::<Vec<_>>()
        );
    }
}
