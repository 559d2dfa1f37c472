//! The SecretProviderClass parser never panics, whatever the `objects` string or parameters,
//! and every object it returns has a file name the driver would write.

use std::collections::BTreeMap;

use kvchain::chain::{diagnose, testkit};
use kvchain::spc;
use proptest::prelude::*;

fn params(objects: String) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    m.insert("keyvaultName".to_string(), "kv1".to_string());
    m.insert("tenantId".to_string(), "t".to_string());
    m.insert("objects".to_string(), objects);
    m
}

/// YAML-ish fragments so generated input often gets past the first parse.
fn yamlish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("array:\n".to_string()),
        Just("  - |\n".to_string()),
        Just("    objectName: a\n".to_string()),
        Just("    objectType: secret\n".to_string()),
        Just("    objectType: [\n".to_string()),
        Just("    objectAlias: ../x\n".to_string()),
        Just("    objectVersionHistory: 3\n".to_string()),
        Just("    objectFormat: pfx\n".to_string()),
        Just("    filePermission: 0999\n".to_string()),
        Just("\t".to_string()),
        Just(": : :\n".to_string()),
        Just("- - -\n".to_string()),
        Just("&a *a\n".to_string()),
        "\\PC{0,12}",
    ];
    prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_arbitrary_objects(s in "\\PC*") {
        let _ = spc::parse(&params(s));
    }

    #[test]
    fn parse_never_panics_on_yamlish_objects(s in yamlish()) {
        let parsed = spc::parse(&params(s));
        for o in &parsed.objects {
            prop_assert_eq!(o.file_name().is_empty(), o.object_name.is_empty() && o.object_alias.is_none());
        }
        for p in &parsed.problems {
            prop_assert!(!p.field.is_empty() && !p.message.is_empty());
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_parameters(
        m in prop::collection::btree_map("[a-zA-Z]{0,24}", "\\PC{0,40}", 0..12)
    ) {
        let _ = spc::parse(&m);
    }

    /// Diagnosis on whatever the parser made of it never panics either.
    #[test]
    fn diagnose_never_panics_on_arbitrary_spc_parameters(
        objects in yamlish(),
        kv in "\\PC{0,30}",
        flag in "\\PC{0,6}",
    ) {
        let mut s = testkit::healthy();
        let spc = testkit::spc_mut(&mut s, testkit::APP);
        spc.parameters.insert("objects".into(), objects);
        spc.parameters.insert("keyvaultName".into(), kv);
        spc.parameters.insert("useVMManagedIdentity".into(), flag);
        testkit::reparse(spc);
        let chains = diagnose(&s);
        prop_assert_eq!(chains.len(), 1);
    }
}
