//! The summary of an evidence line (text report, TUI) keeps the cause of an azidentity error:
//! its first line ("<Credential> authentication failed. <reason>", [SDK] azidentity
//! errors.go) and an OAuth body's `error_description` when it has no `message` (the node's
//! metadata endpoint answers `"error_description": "Identity not found"`), not only the HTTP
//! status.

use kvchain::glance::{decisive, evidence};

const IMDS: &str = "MountVolume.SetUp failed for volume \"secrets-store\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod shop/catalog-1, err: rpc error: code = Unknown desc = failed to mount objects, error: failed to get objectType:secret, objectName:catalog-apikey, objectVersion:: ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource\nGET http://169.254.169.254/metadata/identity/oauth2/token\n--------------------------------------------------------------------------------\nRESPONSE 400 Bad Request\n--------------------------------------------------------------------------------\n{\n  \"error\": \"invalid_request\",\n  \"error_description\": \"Identity not found\"\n}\n--------------------------------------------------------------------------------\nTo troubleshoot, visit https://aka.ms/azsdk/go/identity/troubleshoot#managed-id";

#[test]
fn an_imds_refusal_keeps_its_reason_and_description() {
    let d = decisive(IMDS);
    assert!(
        d.contains("ManagedIdentityCredential authentication failed. the requested identity isn't assigned to this resource"),
        "{d}"
    );
    assert!(d.contains("Identity not found"), "{d}");
    assert!(d.contains("RESPONSE 400 Bad Request"), "{d}");
    let line = evidence(&format!("FailedMount (x9, kubelet): {IMDS}"));
    assert!(line.contains("isn't assigned to this resource"), "{line}");
}

#[test]
fn an_aadsts_failure_still_reads_as_its_code() {
    // The first line says nothing more ("authentication failed. " and a line break): the
    // AADSTS code is the cause, as before.
    let m = "ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/t/oauth2/v2.0/token\n----\nRESPONSE 400: 400 Bad Request\n----\n{ \"error\": \"invalid_request\", \"error_description\": \"AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'x'.\" }";
    let d = decisive(m);
    assert!(
        d.contains("AADSTS70021: No matching federated identity record found"),
        "{d}"
    );
    assert!(!d.contains("authentication failed"), "{d}");
}
