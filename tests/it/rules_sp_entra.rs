//! Service-principal mode (FACTS §5: no identity mode and no clientID ⇒ the provider signs in
//! with the nodePublishSecretRef Secret's `clientid`/`clientsecret`). Entra ID's answers about
//! that credential (learn.microsoft.com, Azure SDK service-principal troubleshooting,
//! ClientSecretCredential): AADSTS700016, the application is not found in the tenant (the
//! client id or the tenant id is wrong); AADSTS7000215, an invalid client secret. Both are the
//! Secret's fault (or the tenant's), and the fix edits the Secret; setting the SPC's clientID
//! would move it to workload identity, which it is not using.

use kvchain::chain::testkit::{self as tk, APP, TENANT};
use kvchain::chain::{Code, LinkKind, Status};
use kvchain::fingerprint::Fingerprint;
use kvchain::snapshot::*;

use super::cause_kit::*;

pub(super) const CREDS: &str = "kvcreds";
pub(super) const APP_ID: &str = "11111111-2222-3333-4444-555555555555";

/// The healthy app in service-principal mode: no clientID, each pod's volume names Secret
/// `kvcreds`, which holds both keys. Failing with `cause`.
pub(super) fn service_principal_failing(cause: &str) -> Snapshot {
    let mut s = tk::healthy();
    let spc = tk::spc_mut(&mut s, APP);
    spc.parameters.remove("clientID");
    tk::reparse(spc);
    for p in s.pods.items.iter_mut() {
        if let VolumeSourceObs::Csi {
            node_publish_secret,
            ..
        } = &mut p.volumes[0].source
        {
            *node_publish_secret = Some(CREDS.into());
        }
    }
    s.secrets.items.push(SecretObs {
        namespace: tk::NS.into(),
        name: CREDS.into(),
        type_: "Opaque".into(),
        labels: Default::default(),
        annotations: Default::default(),
        owners: vec![],
        data: [
            ("clientid".to_string(), Fingerprint::of(b"an app id")),
            ("clientsecret".to_string(), Fingerprint::of(b"a secret")),
        ]
        .into(),
        created_at: None,
        updated_at: None,
    });
    failing_with(s, cause)
}

pub(super) fn client_secret_credential(status: &str, body: &str) -> String {
    format!(
        "failed to get objectType:secret, objectName:web-db-pass, objectVersion:: ClientSecretCredential authentication failed. \nPOST https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token\n----\nRESPONSE {status}\n----\n{body}\n----"
    )
}

#[test]
fn an_unknown_application_is_the_secrets_clientid_not_the_spcs() {
    let body = format!(
        "{{ \"error\": \"unauthorized_client\", \"error_description\": \"AADSTS700016: Application with identifier '{APP_ID}' was not found in the directory '{TENANT}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.\", \"error_codes\": [700016] }}"
    );
    let s = service_principal_failing(&client_secret_credential("400: 400 Bad Request", &body));
    let c = one(&s);
    assert_eq!(
        codes(&c),
        [Code::KVC302],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC302);
    assert_eq!(f.resource, format!("Secret/{CREDS}"));
    assert!(has_event(f), "{f:#?}");
    // Filled from the message: no placeholder for the id it names.
    assert!(f.message.contains(APP_ID), "{}", f.message);
    assert!(f.message.contains("clientid"), "{}", f.message);
    assert!(!f.message.contains("<clientID>") && !f.confirm.contains("<clientID>"));
    assert!(
        f.fix.contains(&format!("kubectl patch secret {CREDS} ")),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("clientid"), "{}", f.fix);
    // The other fault Entra names: the tenant, edited in the SPC.
    assert!(f.fix.contains("tenant"), "{}", f.fix);
    assert!(!f.fix.contains("clientID"), "{}", f.fix);
    assert_eq!(c.link(LinkKind::Identity).status, Status::Broken);
}

#[test]
fn an_invalid_client_secret_is_the_secrets_clientsecret() {
    let body = format!(
        "{{ \"error\": \"invalid_client\", \"error_description\": \"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{APP_ID}'.\", \"error_codes\": [7000215] }}"
    );
    let s = service_principal_failing(&client_secret_credential("401: 401 Unauthorized", &body));
    let c = one(&s);
    assert_eq!(
        codes(&c),
        [Code::KVC302],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC302);
    assert_eq!(f.resource, format!("Secret/{CREDS}"));
    assert!(f.message.contains("clientsecret"), "{}", f.message);
    assert!(
        f.fix.contains(&format!("kubectl patch secret {CREDS} ")),
        "{}",
        f.fix
    );
    assert!(f.fix.contains("clientsecret"), "{}", f.fix);
    // A new secret of the app the message names, written without being printed.
    assert!(
        f.fix.contains(&format!(
            "az ad app credential reset --id {APP_ID} --append"
        )),
        "{}",
        f.fix
    );
    assert!(with(&c, Code::KVC701).is_empty());
}
