//! The other kinds the chains read (service accounts, SecretProviderClasses and their pod
//! statuses, Secrets, events, Ingresses) → observations.

use super::*;

pub fn service_account(sa: &ServiceAccount) -> ServiceAccountObs {
    ServiceAccountObs {
        namespace: ns(&sa.metadata),
        name: name(&sa.metadata),
        annotations: StrMap::shared_from(sa.metadata.annotations.as_ref()),
        image_pull_secrets: pull_secrets(
            each(&sa.image_pull_secrets).iter().map(|r| r.name.as_str()),
        ),
        use_label: (sa.metadata.labels.as_ref())
            .and_then(|l| l.get("azure.workload.identity/use"))
            .cloned(),
    }
}

pub fn spc(s: &SecretProviderClass) -> SpcObs {
    spc_parsed_by(s, crate::spc::parse)
}

/// [`spc`], its parameters parsed by `parse` (a source that parsed them before reuses that).
pub fn spc_parsed_by(
    s: &SecretProviderClass,
    parse: impl FnOnce(&BTreeMap<String, String>) -> crate::spc::AzureSpc,
) -> SpcObs {
    let parameters = s.spec.parameters.clone().unwrap_or_default();
    SpcObs {
        namespace: ns(&s.metadata),
        name: name(&s.metadata),
        annotations: StrMap::shared_from(s.metadata.annotations.as_ref()),
        provider: s.spec.provider.clone().unwrap_or_default(),
        parsed: parse(&parameters),
        namespace_less: None,
        controller: owners(&s.metadata.owner_references)
            .into_iter()
            .find(|o| o.controller),
        parameters,
        file: None,
        secret_objects: each(&s.spec.secret_objects)
            .iter()
            .map(|o| SecretObjectSpec {
                secret_name: o.secret_name.as_deref().unwrap_or_default().into(),
                type_: o.type_.clone().unwrap_or_default(),
                labels: o.labels.clone().unwrap_or_default(),
                annotations: crate::reloader::resource_side(o.annotations.as_ref()),
                // The driver trims both before it reads the file and writes the key
                // (secretutil.GetSecretData): ` password ` is the key `password` (audit
                // WWW-real; it was KVC806, a refused key, on a Secret the driver makes).
                data: each(&o.data)
                    .iter()
                    .map(|d| SecretObjectData {
                        object_name: d.object_name.as_deref().unwrap_or_default().trim().into(),
                        key: d.key.as_deref().unwrap_or_default().trim().into(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

pub fn spcps(s: &SecretProviderClassPodStatus) -> SpcPodStatusObs {
    let st = s.status.clone().unwrap_or_default();
    SpcPodStatusObs {
        namespace: ns(&s.metadata),
        name: name(&s.metadata),
        pod_name: st.pod_name.unwrap_or_default().into(),
        spc_name: st.secret_provider_class_name.unwrap_or_default().into(),
        mounted: st.mounted.unwrap_or(false),
        target_path: st.target_path.unwrap_or_default(),
        objects: st
            .objects
            .unwrap_or_default()
            .into_iter()
            .map(|o| SpcpsObject {
                id: o.id.unwrap_or_default().into(),
                version: o.version.unwrap_or_default().into(),
            })
            .collect(),
        updated_at: latest_managed_write(&s.metadata),
        files: None,
        pem_parts: Default::default(),
    }
}

/// The newest managedFields write time: when a controller last touched the object.
fn latest_managed_write(meta: &ObjectMeta) -> Option<jiff::Timestamp> {
    meta.managed_fields
        .iter()
        .flatten()
        .filter_map(|m| m.time.as_ref().map(|t| t.0))
        .max()
        .or(meta.creation_timestamp.as_ref().map(|t| t.0))
}

/// Fingerprints the values and drops them: the returned observation holds no secret bytes.
pub fn secret(s: &Secret) -> SecretObs {
    let mut data: BTreeMap<String, Fingerprint> = s
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), Fingerprint::of(&v.0)))
        .collect();
    for (k, v) in s.string_data.iter().flatten() {
        data.insert(k.clone(), Fingerprint::of(v.as_bytes()));
    }
    SecretObs {
        namespace: ns(&s.metadata),
        name: name(&s.metadata),
        type_: s.type_.clone().unwrap_or_else(|| "Opaque".into()),
        labels: StrMap::shared_from(s.metadata.labels.as_ref()),
        annotations: crate::reloader::resource_side(s.metadata.annotations.as_ref()).into(),
        owners: owners(&s.metadata.owner_references),
        data,
        created_at: s.metadata.creation_timestamp.as_ref().map(|t| t.0),
        updated_at: latest_managed_write(&s.metadata),
    }
}

pub fn event(e: &Event) -> EventObs {
    let count = e
        .series
        .as_ref()
        .and_then(|s| s.count)
        .or(e.count)
        .unwrap_or(1)
        .max(0) as u32;
    let first_seen = [
        e.first_timestamp.as_ref().map(|t| t.0),
        e.event_time.as_ref().map(|t| t.0),
    ]
    .into_iter()
    .flatten()
    .min();
    let last_written = [
        e.series
            .as_ref()
            .and_then(|s| s.last_observed_time.as_ref())
            .map(|t| t.0),
        e.last_timestamp.as_ref().map(|t| t.0),
        e.event_time.as_ref().map(|t| t.0),
    ]
    .into_iter()
    .flatten()
    .max();
    EventObs {
        namespace: e
            .involved_object
            .namespace
            .as_deref()
            .map_or_else(|| ns(&e.metadata), Name::from),
        involved_kind: e.involved_object.kind.as_deref().unwrap_or_default().into(),
        involved_name: e.involved_object.name.as_deref().unwrap_or_default().into(),
        involved_uid: e.involved_object.uid.clone().unwrap_or_default(),
        type_: e.type_.clone().unwrap_or_default(),
        reason: e.reason.clone().unwrap_or_default(),
        message: e
            .message
            .as_deref()
            .map(|m| super::event_text::without_secrets(m).into_owned())
            .unwrap_or_default(),
        // An event written through events.k8s.io (kube-scheduler's FailedScheduling, among
        // others) and read as core/v1 keeps its repeats in `series`: `count` and
        // `lastTimestamp` are unset and `eventTime` is the first occurrence, so the series says
        // how often and how recently it happened (audit L6).
        count,
        source: e
            .source
            .as_ref()
            .and_then(|s| s.component.clone())
            .or_else(|| e.reporting_component.clone())
            .unwrap_or_default(),
        // An event seen once with only `firstTimestamp` written (no `lastTimestamp`,
        // `eventTime` or series) happened then: its one occurrence is its most recent (the
        // Event API's `count` and `lastTimestamp`), so it ages like any other (FACTS §11).
        // Seen more often, when it last happened is not known.
        last_seen: last_written.or(first_seen.filter(|_| count <= 1)),
        first_seen,
    }
}

pub fn ingress(i: &Ingress) -> IngressObs {
    IngressObs {
        namespace: ns(&i.metadata),
        name: name(&i.metadata),
        tls_secrets: i
            .spec
            .iter()
            .flat_map(|s| s.tls.iter().flatten())
            .filter_map(|t| t.secret_name.clone())
            .collect(),
    }
}
