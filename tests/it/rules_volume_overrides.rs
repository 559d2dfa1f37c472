//! A pod volume's `volumeAttributes` are merged over its SecretProviderClass's parameters
//! before the provider is called (FACTS §5: `maps.Copy(parameters, attrib)`): for a parameter
//! the volume sets, the volume is what the mount uses. A finding about such a parameter names
//! the override, and its fix edits the volume (in its owner's template), never the SPC, whose
//! own value editing would change nothing.

use kvchain::chain::testkit::{self as tk, APP};
use kvchain::chain::{Chain, Code, Finding, diagnose};
use kvchain::snapshot::*;

fn override_on_volumes(s: &mut Snapshot, key: &str, value: &str) {
    for p in s.pods.items.iter_mut() {
        if let VolumeSourceObs::Csi { attributes, .. } = &mut p.volumes[0].source {
            attributes.insert(key.into(), value.into());
        }
    }
}

/// The findings whose text concerns `key`, with at least one.
fn about<'c>(chains: &'c [Chain], key: &str) -> Vec<&'c Finding> {
    let found: Vec<&Finding> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.fix.contains(key) || f.evidence.iter().any(|e| e.contains(key)))
        .collect();
    assert!(!found.is_empty(), "no finding about {key}: {chains:#?}");
    found
}

fn assert_fixes_the_volume(chains: &[Chain], key: &str, value: &str) {
    for f in about(chains, key) {
        assert!(
            f.fix.contains(&format!("volumeAttributes.{key}"))
                && f.fix.starts_with(&format!("kubectl edit deployment/{APP}")),
            "{}: {}",
            f.code,
            f.fix
        );
        assert!(
            !f.fix.contains("secretproviderclass"),
            "{}: {}",
            f.code,
            f.fix
        );
        assert!(
            f.evidence
                .iter()
                .any(|e| e.contains(&format!("volumeAttributes.{key}: {value}"))),
            "{}: {:?}",
            f.code,
            f.evidence
        );
    }
}

#[test]
fn a_vault_name_the_volume_sets_is_put_right_on_the_volume() {
    let mut s = tk::healthy();
    override_on_volumes(&mut s, "keyvaultName", "kv");
    assert_fixes_the_volume(&diagnose(&s), "keyvaultName", "kv");
}

#[test]
fn a_tenant_the_volume_sets_is_put_right_on_the_volume() {
    let mut s = tk::healthy();
    let other = "f00dcafe-0000-4000-8000-00000000beef";
    let key = tk::spc_mut(&mut s, APP)
        .parameters
        .keys()
        .find(|k| k.eq_ignore_ascii_case("tenantid"))
        .expect("the testkit's SPC names its tenant")
        .clone();
    override_on_volumes(&mut s, &key, other);
    assert_fixes_the_volume(&diagnose(&s), &key, other);
}

/// Without an override the same vault-name finding still edits the SPC.
#[test]
fn without_an_override_the_spc_is_edited() {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.insert("keyvaultName".into(), "kv".into());
    tk::reparse(spc);
    let chains = diagnose(&s);
    for f in about(&chains, "keyvaultName") {
        assert!(
            f.fix.contains("secretproviderclass"),
            "{}: {}",
            f.code,
            f.fix
        );
        assert!(!f.fix.contains("volumeAttributes"), "{}: {}", f.code, f.fix);
    }
}

/// The volume's clientID is the one the mount uses: the finding about it names the volume's,
/// not "the SecretProviderClass's", which holds the other (audit H10). With the service
/// account and the SPC agreeing, that finding is the Identity link's alone (audit X4: one
/// symptom, one cause; FACTS §5, §6).
#[test]
fn a_client_id_the_volume_sets_is_named_as_the_volumes() {
    let mut s = tk::healthy();
    let stray = "11111111-2222-4333-8444-555555555555";
    override_on_volumes(&mut s, "clientID", stray);
    let chains = diagnose(&s);
    let naming: Vec<_> = chains
        .iter()
        .flat_map(|c| c.findings())
        .filter(|f| f.message.contains(stray))
        .collect();
    assert!(!naming.is_empty(), "{chains:#?}");
    for f in naming {
        assert_eq!(f.code, Code::KVC301, "{}", f.message);
        assert!(
            f.message.contains("volumeAttributes.clientID overrides")
                && !f
                    .message
                    .contains(&format!("SecretProviderClass's clientId {stray}")),
            "{}",
            f.message
        );
    }
}
