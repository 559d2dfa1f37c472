//! The lab's Key Vault data plane: which grants read which objects.

use super::*;
use crate::source::lab::scenario::{RoleAssignmentSpec, ScopeSpec};

fn vault() -> LabVault {
    let spec = serde_yaml::from_str(
        "tenantID: t\nsecrets:\n  - {name: db, value: v1}\n  - {name: db2, value: v2}\nkeys:\n  - {name: db}\n",
    )
    .expect("a vault spec");
    let v = KeyVault {
        name: "kv".into(),
        spec,
    };
    LabVault::from_spec(&v, Timestamp::UNIX_EPOCH)
}

/// Key Vault Administrator: every data action, so only the scope decides.
fn assignment(object: Option<&str>) -> RoleAssignment {
    RoleAssignment {
        name: "ra".into(),
        spec: RoleAssignmentSpec {
            principal_id: "p".into(),
            role: "Key Vault Administrator".into(),
            scope: ScopeSpec {
                object: object.map(String::from),
                ..ScopeSpec::of_vault("kv")
            },
            data_actions: None,
            not_data_actions: Vec::new(),
        },
        created_at: None,
    }
}

fn read(ra: &RoleAssignment, object_type: ObjectType, name: &str) -> Result<(), String> {
    let token = Token {
        client_id: "c".into(),
        principal_id: "p".into(),
        tenant: "t".into(),
    };
    let req = Request {
        host: "kv.vault.azure.net",
        object_type,
        name,
        version: None,
    };
    let mut v = vault();
    get(
        &mut v,
        &token,
        [ra].into_iter(),
        "sub",
        "westeurope",
        &req,
        Timestamp::UNIX_EPOCH,
    )
    .map(|_| ())
}

#[test]
fn an_object_scoped_role_grants_that_object_only() {
    let scoped = assignment(Some("secrets/db"));
    assert_eq!(read(&scoped, ObjectType::Secret, "db"), Ok(()));
    for (t, name) in [(ObjectType::Secret, "db2"), (ObjectType::Key, "db")] {
        let err = read(&scoped, t, name).expect_err("outside the role's scope");
        assert!(err.contains("ForbiddenByRbac"), "{err}");
        // The error names the object the read was refused on, under the vault's id.
        let collection = t.collection();
        assert!(
            err.contains(&format!("/vaults/kv/{collection}/{name}")),
            "{err}"
        );
    }
    let vault_wide = assignment(None);
    assert_eq!(read(&vault_wide, ObjectType::Secret, "db2"), Ok(()));
    assert_eq!(read(&vault_wide, ObjectType::Key, "db"), Ok(()));
}
