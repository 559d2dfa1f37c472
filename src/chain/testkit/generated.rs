//! Large generated worlds for benches and load tests.

use super::*;

/// A large mixed world for benches and load tests: `spcs` apps (one SPC each) spread over 50
/// namespaces, `pods` pods spread over them; the Azure side is known. Every 7th app has a
/// subject typo, every 11th no role, every 13th a disabled object, every 17th a FailedMount
/// event (with its SPCPS gone), every 19th a rotated object its pods have not picked up.
pub fn generated_snapshot(pods: usize, spcs: usize) -> Snapshot {
    let mut s = empty();
    let spcs = spcs.max(1);
    let per = pods / spcs;
    let extra = pods % spcs;
    for i in 0..spcs {
        let ns = format!("ns-{:02}", i % 50);
        let app = format!("app-{i:05}");
        let n = per + usize::from(i < extra);
        add_app(&mut s, &ns, &app, n);
        if i % 7 == 3 {
            fic_mut(&mut s, &app).subject =
                format!("system:serviceaccount:{ns}:{}", app.replace('-', "_"));
        }
        if i % 11 == 5 {
            role_mut(&mut s, &ns, &app).data_actions =
                vec!["Microsoft.KeyVault/vaults/certificates/read".into()];
        }
        if i % 13 == 7
            && let Observed::Known(Some(o)) = &mut object_mut(&mut s, &app).state
        {
            o.versions[0].enabled = false;
        }
        if i % 17 == 9 {
            unmount(&mut s, &app);
            for j in 0..n {
                let pod = pod_name(&app, j);
                s.events.items.push(failed_mount(
                    &ns,
                    &pod,
                    "secrets-store-inline",
                    "failed to get objectType:secret, objectName:x, objectVersion:: RESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden ForbiddenByRbac",
                ));
            }
        }
        if i % 19 == 11
            && let Observed::Known(Some(o)) = &mut object_mut(&mut s, &app).state
        {
            o.versions.insert(
                0,
                ObjectVersion {
                    version: V2.into(),
                    enabled: true,
                    created: Some(ago(SignedDuration::from_hours(1))),
                    expires: None,
                    not_before: None,
                    fingerprint: None,
                },
            );
        }
    }
    s
}
