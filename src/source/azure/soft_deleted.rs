//! A vault's soft-deleted objects, read live where an object the SPCs name was not found.
//!
//! Soft delete is always on: a deleted object keeps its name until its scheduled purge, a GET
//! answers 404 as for a name never used, and a create of the name fails 409 Conflict
//! (ObjectIsDeletedButRecoverable) until it is recovered (Microsoft Learn, "Azure Key Vault
//! soft-delete overview"). With the deleted listing read, KVC601's fix is the recover alone;
//! without it, `recover || … || set`, which works either way but says less.
//!
//! Read through the listings (`GET {vault}/deletedsecrets`, `/deletedkeys`,
//! `/deletedcertificates`, as `az keyvault … list-deleted`): their items carry ids and dates,
//! never a value, where "Get Deleted Secret" answers with the value. Asked only for a vault and
//! type with a miss, so a healthy cluster costs no request. A listing that fails (403 without
//! the list permission, more pages than read) leaves that vault's deleted objects unread: the
//! rule then keeps its fix for both cases, so no gap is reported for it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::cloud::CloudEndpoints;
use super::dataplane::{KEYVAULT_API, MAX_PAGES, MAX_RESULTS, unix};
use super::http::{FetchError, Http};
use crate::snapshot::{DeletedObjectObs, ObjectType, Observed, VaultObjectObs, VaultObs};

/// The (vault, type) listings that could explain a miss: an object the SPCs name that is found
/// under no type in its vault (`fetched`: the look-ups of [`super::AzureObserver::observe`],
/// the other types' included). A secret's or key's miss also lists the deleted certificates:
/// a certificate's secret and key are deleted with it, and come back only with it.
pub(super) fn listings_for(
    wanted: &BTreeSet<(String, ObjectType, String)>,
    fetched: &[VaultObjectObs],
) -> BTreeSet<(String, ObjectType)> {
    let found = |vault: &str, name: &str| {
        fetched.iter().any(|o| {
            matches!(o.state, Observed::Known(Some(_)))
                && o.vault.eq_ignore_ascii_case(vault)
                && o.name.eq_ignore_ascii_case(name)
        })
    };
    let missed = |(vault, t, name): &(String, ObjectType, String)| {
        fetched.iter().any(|o| {
            matches!(o.state, Observed::Known(None))
                && o.object_type == *t
                && o.vault == *vault
                && o.name == *name
        }) && !found(vault, name)
    };
    let mut out = BTreeSet::new();
    for (vault, t, _) in wanted.iter().filter(|w| missed(w)) {
        out.insert((vault.clone(), *t));
        if *t != ObjectType::Cert {
            out.insert((vault.clone(), ObjectType::Cert));
        }
    }
    out
}

/// The vault's soft-deleted objects of type `t`.
pub(super) async fn list(
    http: &Http,
    ep: &CloudEndpoints,
    vault: &str,
    t: ObjectType,
) -> Result<Vec<DeletedObjectObs>, FetchError> {
    let url = format!(
        "{}/deleted{}?api-version={KEYVAULT_API}&maxresults={MAX_RESULTS}",
        ep.vault_url(vault),
        t.collection()
    );
    let items = http.list(&ep.vault_scope, &url, MAX_PAGES).await?;
    Ok(items.iter().filter_map(|i| item(t, i)).collect())
}

/// One listed item: its name from its `id` (`https://{vault}/secrets/{name}`), its dates
/// (Unix seconds) and whether a certificate manages it.
pub(super) fn item(t: ObjectType, item: &Value) -> Option<DeletedObjectObs> {
    let id = item.get("id")?.as_str()?;
    let marker = format!("/{}/", t.collection());
    let (_, rest) = id.split_once(&marker)?;
    let name = rest.split('/').next().filter(|n| !n.is_empty())?;
    Some(DeletedObjectObs {
        object_type: t,
        name: name.to_string(),
        deleted_on: unix(item.get("deletedDate")),
        scheduled_purge: unix(item.get("scheduledPurgeDate")),
        managed: item.get("managed").and_then(Value::as_bool) == Some(true),
    })
}

/// Each vault's deleted objects from the listings read (`read`: by vault name as the SPCs
/// spell it). A deleted certificate's secret and key are listed beside it as managed when the
/// listings did not list them: Key Vault deletes them with it, under its name.
pub(super) fn attach<'v>(
    vaults: impl Iterator<Item = &'v mut VaultObs>,
    read: &BTreeMap<(String, ObjectType), Vec<DeletedObjectObs>>,
) {
    if read.is_empty() {
        return;
    }
    for v in vaults {
        let mut listed = (read.iter())
            .filter(|((vault, _), _)| vault.eq_ignore_ascii_case(&v.name))
            .peekable();
        if listed.peek().is_none() {
            continue;
        }
        let mut all: Vec<DeletedObjectObs> = listed.flat_map(|(_, l)| l.iter().cloned()).collect();
        let certificates: Vec<DeletedObjectObs> = (all.iter())
            .filter(|d| d.object_type == ObjectType::Cert)
            .cloned()
            .collect();
        for c in certificates {
            for t in [ObjectType::Secret, ObjectType::Key] {
                let have = (all.iter())
                    .any(|d| d.object_type == t && d.name.eq_ignore_ascii_case(&c.name));
                if !have {
                    all.push(DeletedObjectObs {
                        object_type: t,
                        managed: true,
                        ..c.clone()
                    });
                }
            }
        }
        v.deleted_objects = Some(all);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_item_gives_its_name_dates_and_manager() {
        let d = item(
            ObjectType::Secret,
            &json!({"recoveryId": "https://kv.vault.azure.net/deletedsecrets/db-pass",
                    "id": "https://kv.vault.azure.net/secrets/db-pass", "deletedDate": 1493937855,
                    "scheduledPurgeDate": 1501713855, "managed": true}),
        )
        .expect("an item");
        assert_eq!(d.name, "db-pass");
        assert_eq!(d.deleted_on.map(|t| t.as_second()), Some(1493937855));
        assert_eq!(d.scheduled_purge.map(|t| t.as_second()), Some(1501713855));
        assert!(d.managed);
        assert!(
            item(
                ObjectType::Key,
                &json!({"id": "https://kv.vault.azure.net/secrets/x"})
            )
            .is_none()
        );
    }

    #[test]
    fn only_a_name_found_under_no_type_is_listed_for() {
        let obs = |t, name: &str, state| VaultObjectObs {
            vault: "kv".into(),
            object_type: t,
            name: name.into(),
            state,
        };
        let wanted: BTreeSet<_> = [
            ("kv".to_string(), ObjectType::Secret, "gone".to_string()),
            ("kv".to_string(), ObjectType::Secret, "typed".to_string()),
            ("kv".to_string(), ObjectType::Key, "here".to_string()),
        ]
        .into();
        let fetched = vec![
            obs(ObjectType::Secret, "gone", Observed::Known(None)),
            obs(ObjectType::Secret, "typed", Observed::Known(None)),
            obs(
                ObjectType::Cert,
                "typed",
                Observed::Known(Some(Default::default())),
            ),
            obs(
                ObjectType::Key,
                "here",
                Observed::Known(Some(Default::default())),
            ),
        ];
        let l = listings_for(&wanted, &fetched);
        assert_eq!(
            l,
            [
                ("kv".to_string(), ObjectType::Secret),
                ("kv".to_string(), ObjectType::Cert)
            ]
            .into()
        );
    }
}
