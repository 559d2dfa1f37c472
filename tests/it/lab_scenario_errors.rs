//! docs/scenarios.md "Format": "Every error names the file, the document (1-based) and the
//! field path, never a wrong-typed value". Each case breaks one field of the documented
//! complete example (1 Cluster, 2 ManagedIdentity, 3 KeyVault, 4 RoleAssignment, 5 Timeline,
//! 6 Namespace, 7 ServiceAccount, 8 SecretProviderClass, 9 Deployment).

use std::path::Path;

use kvchain::source::lab::scenario;

fn example() -> &'static str {
    let doc = include_str!("../../docs/scenarios.md");
    let start = doc.rfind("```yaml\n").unwrap() + "```yaml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    &doc[start..end]
}

/// The example with `from` replaced by `to` (which must be there), parsed: its error text.
fn error_of(from: &str, to: &str) -> String {
    let text = example();
    assert!(text.contains(from), "the example has {from:?}");
    let text = text.replacen(from, to, 1);
    match scenario::parse("example", Path::new("my.yaml"), &text) {
        Ok(_) => panic!("accepted: {from:?} → {to:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_example_itself_parses() {
    scenario::parse("example", Path::new("my.yaml"), example()).unwrap();
}

#[test]
fn an_unknown_timeline_fault_names_its_event_and_field() {
    let e = error_of(
        "rotateSecret: {vault: kv-demo, name: db-password, value: still-not-real}",
        "applyFault: {id: fic-typo}",
    );
    assert_eq!(
        e,
        "my.yaml, document 5: Timeline: spec.events[0].applyFault.id: unknown fault \"fic-typo\""
    );
}

#[test]
fn a_rotation_of_an_unknown_vault_names_its_event_and_field() {
    let e = error_of(
        "rotateSecret: {vault: kv-demo,",
        "rotateSecret: {vault: kv-nope,",
    );
    assert_eq!(
        e,
        "my.yaml, document 5: Timeline: spec.events[0].rotateSecret.vault: \"kv-nope\" is not a KeyVault of this scenario"
    );
}

#[test]
fn a_role_assignment_to_an_unknown_vault_names_its_document() {
    let e = error_of(
        "  scope:\n    vault: kv-demo",
        "  scope:\n    vault: kv-missing",
    );
    assert_eq!(
        e,
        "my.yaml, document 4: RoleAssignment: spec.scope.vault: \"kv-missing\" is not a KeyVault of this scenario"
    );
}

#[test]
fn a_bad_object_scope_names_its_field() {
    let e = error_of(
        "  scope:\n    vault: kv-demo",
        "  scope:\n    vault: kv-demo\n    object: db-password",
    );
    assert!(
        e.starts_with("my.yaml, document 4: RoleAssignment: spec.scope.object: "),
        "{e}"
    );
}

#[test]
fn replicas_over_the_limit_name_the_deployment_document() {
    let e = error_of("  replicas: 2", "  replicas: 300000");
    assert_eq!(
        e,
        "my.yaml, document 9: Deployment: spec.replicas: 300000 is more than the lab's limit of 200000 pods"
    );
    let e = error_of("  replicas: 2", "  replicas: -1");
    assert!(
        e.starts_with("my.yaml, document 9: Deployment: spec.replicas: "),
        "{e}"
    );
}

#[test]
fn a_poll_interval_under_a_second_names_the_cluster_field() {
    let e = error_of("rotationPollInterval: 2m", "rotationPollInterval: 0s");
    assert_eq!(
        e,
        "my.yaml, document 1: Cluster: spec.csiDriver.rotationPollInterval: must be at least 1s"
    );
}

#[test]
fn a_secret_with_value_and_versions_names_its_index_and_never_the_value() {
    let e = error_of(
        "      value: not-a-real-password",
        "      value: not-a-real-password\n      versions: [{value: CANARY-v2}]",
    );
    assert!(
        e.starts_with("my.yaml, document 3: KeyVault: spec.secrets[0]: "),
        "{e}"
    );
    assert!(e.contains("exclusive"), "{e}");
    assert!(
        !e.contains("not-a-real-password") && !e.contains("CANARY"),
        "{e}"
    );
}

#[test]
fn a_secret_defined_twice_names_the_second() {
    let e = error_of(
        "      value: not-a-real-password",
        "      value: not-a-real-password\n    - name: db-password\n      value: CANARY-twice",
    );
    assert!(
        e.starts_with("my.yaml, document 3: KeyVault: spec.secrets[1].name: "),
        "{e}"
    );
    assert!(!e.contains("CANARY"), "{e}");
}
