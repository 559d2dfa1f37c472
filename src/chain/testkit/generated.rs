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

/// Reloader rolling the Deployments of the first `apps` apps out after a rotation: every
/// synced Secret and vault version written 5 minutes ago; each of those apps' ReplicaSet is
/// revision 1 and a new one (revision 2) runs its first pod, started a minute ago. The other
/// pods hold the previous value in env (KVC901) while the rollout replaces them.
pub fn rolling_out_after_rotation(s: &mut Snapshot, apps: usize) {
    const REVISION: &str = "deployment.kubernetes.io/revision";
    let written = ago(SignedDuration::from_mins(5));
    let started = ago(SignedDuration::from_mins(1));
    for secret in s.secrets.items.iter_mut() {
        secret.updated_at = Some(written);
    }
    for object in s.azure.objects.iter_mut() {
        if let Observed::Known(Some(o)) = &mut object.state {
            o.versions[0].created = Some(written);
        }
    }
    let names: Vec<String> = (s.spcs.items.iter())
        .take(apps)
        .map(|spc| spc.name.trim_end_matches("-kv").to_string())
        .collect();
    for app in &names {
        let rs = replica_set(app);
        let Some(old) = (s.workloads.items.iter_mut()).find(|w| w.name == rs.as_str()) else {
            continue;
        };
        old.annotations.insert(REVISION.into(), "1".into());
        let mut new = old.clone();
        let new_rs = format!("{rs}-new");
        new.name = new_rs.as_str().into();
        new.annotations.insert(REVISION.into(), "2".into());
        s.workloads.items.push(new);
        let Some(pod) = (s.pods.items.iter_mut()).find(|p| p.name.starts_with(&rs)) else {
            continue;
        };
        pod.owners = vec![owner("ReplicaSet", &new_rs)];
        pod.created_at = Some(started);
        for c in &mut pod.containers {
            c.state = ContainerStateObs::Running {
                started_at: started,
            };
        }
    }
}
