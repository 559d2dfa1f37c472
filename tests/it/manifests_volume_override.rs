//! FACTS §5: the driver merges the pod volume's `volumeAttributes` over the SPC's parameters,
//! so a `volumeAttributes.clientID` is the id the mount uses. Where the service account and
//! the SPC agree and only the volume's override differs, the finding names the override as
//! where the mount's id comes from, and the fix puts the override right (the annotation, which
//! is already what the SPC says, only as the alternative): from manifests nothing tells which
//! identity is meant, and re-pointing the account at the stray id would break the app.

use kvchain::chain::{Code, diagnose};
use kvchain::source::manifests;

const SPC_CLIENT: &str = "3f2c9a1e-7b4d-4e8a-9c1f-2a6b5d8e0f13";
const STRAY: &str = "99999999-2222-4333-8444-555555555555";

#[test]
fn a_volume_override_is_named_as_the_mounts_id_and_put_right() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/examples/healthy");
    let web = std::fs::read_to_string(root.join("web.yaml"))
        .unwrap()
        .replace(
            "            secretProviderClass: \"web-kv\"",
            &format!(
                "            secretProviderClass: \"web-kv\"\n            clientID: \"{STRAY}\""
            ),
        );
    let accounts = std::fs::read_to_string(root.join("serviceaccounts.json")).unwrap();
    assert!(
        accounts.contains(SPC_CLIENT),
        "the example's account names the SPC's id"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("web.yaml"), web).unwrap();
    std::fs::write(dir.path().join("serviceaccounts.json"), accounts).unwrap();
    let snap = manifests::load(&[dir.path().to_path_buf()]).expect("loads");
    let chains = diagnose(&snap);
    let f = chains
        .iter()
        .flat_map(|c| c.findings())
        .find(|f| f.code == Code::KVC204)
        .expect("KVC204");
    assert!(
        f.message.contains(&format!(
            "pod volume secrets-store-inline overrides SecretProviderClass web-kv's clientID {SPC_CLIENT} with volumeAttributes.clientID {STRAY}"
        )),
        "{}",
        f.message
    );
    assert!(
        f.fix.starts_with(&format!(
            "kubectl edit deployment/web -n shop  # volume secrets-store-inline: volumeAttributes.clientID: {SPC_CLIENT}"
        )),
        "{}",
        f.fix
    );
    // The annotation to the stray id is the alternative, after the comment, never the command.
    let command = f.fix.split("  #").next().unwrap_or_default();
    assert!(!command.contains("kubectl annotate"), "{}", f.fix);
}
