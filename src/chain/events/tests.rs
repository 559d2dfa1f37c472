//! The classifier against the provider's and kubelet's own messages.

use super::*;

const WRAP: &str = "MountVolume.SetUp failed for volume \"secrets-store01-inline\" : rpc error: code = Unknown desc = failed to mount secrets store objects for pod app/web-7d9f-abcde, err: rpc error: code = Unknown desc = failed to mount objects, error: ";

fn wrapped(cause: &str) -> String {
    format!("{WRAP}{cause}")
}

#[test]
fn the_one_pass_search_answers_as_substring_search_does() {
    // Needles inside needles (AADSTS70021 in AADSTS700211, "not found" in several),
    // at both ends of the text, twice, and none at all.
    let texts = [
        wrapped(
            "AADSTS700211: No matching federated identity record found for presented assertion issuer",
        ),
        "not found in the list of registered CSI drivers".to_string(),
        wrapped(
            "secretproviderclasses.secrets-store.csi.x-k8s.io \"db\" not found; 429 Too Many Requests",
        ),
        wrapped("ForbiddenByRbac ForbiddenByRbac"),
        String::new(),
        "AADSTS7002".to_string(),
    ];
    for text in &texts {
        let hay = Haystack::of(text);
        for needle in NEEDLES {
            assert_eq!(
                hay.any(bit(needle)),
                text.contains(needle),
                "{needle:?} in {text:?}"
            );
        }
    }
}

#[test]
fn aadsts_codes_do_not_shadow_each_other() {
    let body = |code: &str| {
        wrapped(&format!(
            "failed to get objectType:secret, objectName:db-pass, objectVersion:: ClientAssertionCredential authentication failed. \nPOST https://login.microsoftonline.com/tid/oauth2/v2.0/token\n--------\nRESPONSE 400: 400 Bad Request\n--------\n{{ \"error\": \"invalid_request\", \"error_description\": \"{code}: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://westeurope.oic.prod-aks.azure.com/tid/guid/'. Assertion Subject: 'system:serviceaccount:app:web'. Assertion Audience: 'api://AzureADTokenExchange'.\" }}"
        ))
    };
    // AADSTS70021 does not say which of issuer, subject and audience differs.
    assert_eq!(classify(&body("AADSTS70021")), Some(Code::KVC405));
    assert_eq!(classify(&body("AADSTS700213")), Some(Code::KVC401));
    assert_eq!(classify(&body("AADSTS7002138")), Some(Code::KVC401));
    let issuer = wrapped(
        "... \"error_description\": \"AADSTS700211: No matching federated identity record found for presented assertion issuer 'https://x/'.\"",
    );
    assert_eq!(classify(&issuer), Some(Code::KVC402));
    assert_eq!(
        assertion(&body("AADSTS70021"), "Subject").as_deref(),
        Some("system:serviceaccount:app:web")
    );
}

#[test]
fn key_vault_errors() {
    let rbac = wrapped(
        "failed to get objectType:secret, objectName:db, objectVersion:: GET https://kv1.vault.azure.net/secrets/db/\n--------\nRESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n--------\n{\"error\":{\"code\":\"Forbidden\",\"message\":\"Caller is not authorized to perform action on resource.\\r\\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\\r\\nDecisionReason: 'DeniedWithNoValidRBAC' \",\"innererror\":{\"code\":\"ForbiddenByRbac\"}}}",
    );
    assert_eq!(classify(&rbac), Some(Code::KVC501));
    let policy = wrapped(
        "... The user, group or application 'appid=1;oid=2;iss=x' does not have secrets get permission on key vault 'kv1;location=westeurope'.",
    );
    assert_eq!(classify(&policy), Some(Code::KVC501));
    let missing = wrapped(
        "RESPONSE 404: 404 Not Found\nERROR CODE: SecretNotFound\n A secret with (name/id) db was not found in this key vault.",
    );
    assert_eq!(classify(&missing), Some(Code::KVC601));
    let disabled = wrapped(
        "RESPONSE 403: 403 Forbidden\nERROR CODE: Forbidden\n Operation get is not allowed on a disabled secret. SecretDisabled",
    );
    assert_eq!(classify(&disabled), Some(Code::KVC602));
    let throttled =
        wrapped("GET https://kv1.vault.azure.net/secrets/db/\nRESPONSE 429: 429 Too Many Requests");
    assert_eq!(classify(&throttled), Some(Code::KVC704));
    let fw = wrapped(
        "RESPONSE 403 ... Client address is not authorized and caller is not a trusted service. ForbiddenByFirewall",
    );
    assert_eq!(classify(&fw), Some(Code::KVC505));
}

#[test]
fn tenant_errors_and_tls_keys() {
    let wrong_issuer = wrapped(
        "failed to get objectType:secret, objectName:db, objectVersion:: GET https://kv1.vault.azure.net/secrets/db/\n--------\nRESPONSE 401: 401 Unauthorized\nERROR CODE: Unauthorized\n--------\n{\"error\":{\"code\":\"Unauthorized\",\"message\":\"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/aaaa/, found https://sts.windows.net/bbbb/.\"}}",
    );
    assert_eq!(classify(&wrong_issuer), Some(Code::KVC406));
    // GetSecretData's wrap of GetCertPart (FACTS §2): a certificate-only file read for tls.key.
    let tls = "failed to get data in spc app/gw-kv for secret gw-tls, err: failed to get cert data from file /var/lib/kubelet/pods/0b3c/volumes/kubernetes.io~csi/secrets-store/mount/gw-tls, err: pkcs12: error reading P12 data: asn1: syntax error: sequence truncated";
    assert_eq!(
        classify_event("FailedToCreateSecret", tls),
        Some(Code::KVC804),
        "the file exists; it has no key"
    );
}

/// `Assertion Issuer/Subject/Audience` of an AADSTS70021 body, as presented.
#[test]
fn presented_assertion_fields() {
    let m = "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://i/'. Assertion Subject: 'system:serviceaccount:a:b'. Assertion Audience: 'api://AzureADTokenExchange'.";
    let p = presented(m).expect("all three");
    assert_eq!(p.issuer, "https://i/");
    assert_eq!(p.subject, "system:serviceaccount:a:b");
    assert_eq!(p.audience, "api://AzureADTokenExchange");
    assert!(presented("AADSTS70021: no fields").is_none());
}

#[test]
fn version_ids_containing_429_are_not_throttling() {
    let m = wrapped(
        "failed to get objectType:secret, objectName:db, objectVersion:b82206cb5ac249918008b0b97fd1fd66: boom",
    );
    assert_eq!(classify(&m), None);
    assert_eq!(classify("x 4290 y"), None);
}

#[test]
fn driver_and_kubelet_shapes() {
    assert_eq!(
        classify(
            "kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name secrets-store.csi.k8s.io not found in the list of registered CSI drivers"
        ),
        Some(Code::KVC104)
    );
    assert_eq!(
        classify(
            "MountVolume.SetUp failed for volume \"v\" : rpc error: code = InvalidArgument desc = Readonly is not true in request"
        ),
        Some(Code::KVC103)
    );
    assert_eq!(
        classify(&wrapped(
            "failed to build auth config for mode None: failed to parse workload identity tokens, error: service account tokens not found"
        )),
        Some(Code::KVC105)
    );
    let binding = "failed to parse identity binding token, error: token for audience api://AKSIdentityBinding not found";
    assert_eq!(classify(&wrapped(binding)), Some(Code::KVC105));
    assert_eq!(token_audience(binding), Some("api://AKSIdentityBinding"));
    assert_eq!(
        classify(
            "MountVolume.SetUp failed for volume \"v\" : rpc error: code = Unknown desc = failed to get secretproviderclass app/azure-kv, error: secretproviderclasses.secrets-store.csi.x-k8s.io \"azure-kv\" not found"
        ),
        Some(Code::KVC101)
    );
    assert_eq!(
        classify(&wrapped(
            "failed to build auth config for mode None: failed to get credentials, nodePublishSecretRef secret is not set"
        )),
        Some(Code::KVC302)
    );
    assert_eq!(
        classify(&wrapped(
            "failed to get vault: Invalid vault name: \"https://kv1.vault.azure.net\", must be between 3 and 24 chars"
        )),
        Some(Code::KVC302)
    );
    // The service-principal Secret is missing: kubelet before the driver, the rotation
    // reconciler later (FACTS §3): the credential the parameters choose, not "unexplained".
    assert_eq!(
        classify(
            "MountVolume.SetUp failed for volume \"s\" : kubernetes.io/csi: mounter.SetUpAt failed to get service accoount token attributes: fetching NodePublishSecretRef shop/sp-creds failed: kubernetes.io/csi: failed to find the secret sp-creds in the namespace shop with error: secrets \"sp-creds\" not found"
        ),
        Some(Code::KVC302)
    );
    assert_eq!(
        classify(
            "failed to get node publish secret shop/sp-creds, err: secret \"sp-creds\" not found"
        ),
        Some(Code::KVC302)
    );
    assert_eq!(
        classify(&wrapped(
            "Invalid vaultObjectTypes. Should be secret, key, or cert"
        )),
        Some(Code::KVC705)
    );
    // Booleans are parsed with strconv.ParseBool (FACTS §5): a parameter it refuses is the
    // parameter's finding, not "a reason no rule explains".
    assert_eq!(
        classify(&wrapped(
            "failed to parse usePodIdentity: strconv.ParseBool: parsing \"no\": invalid syntax"
        )),
        Some(Code::KVC302)
    );
    // `objects` that does not parse, as a list or one item, in the provider's words (v1.4 to
    // v1.8.2 parseObjects).
    for item in [
        "failed to yaml unmarshal objects, error: yaml: line 4: did not find expected '-' indicator",
        "unmarshal failed for keyVaultObjects at index 0, error: yaml: unmarshal errors:\n  line 2: mapping key \"objectName\" already defined at line 1",
        // An encoding the provider does not know (audit CCC9: it was KVC701 beside KVC705).
        "failed to get objectType:secret, objectName:db-password, objectVersion:: invalid objectEncoding: base32, should be hex, base64 or utf-8",
    ] {
        assert_eq!(classify(&wrapped(item)), Some(Code::KVC705), "{item}");
    }
    // No provider on the node, at mount (driver v1.5 and v1.6 NodePublishVolume).
    assert_eq!(
        classify(&wrapped(
            "error connecting to provider \"azure\": provider not found: provider \"azure\""
        )),
        Some(Code::KVC104)
    );
}

#[test]
fn sync_events() {
    assert_eq!(
        classify_event(
            "FailedToCreateSecret",
            "failed to get data in spc app/azure-sync for secret foosecret, err: file matching objectName db-pass not found in the pod"
        ),
        Some(Code::KVC801)
    );
    assert_eq!(
        classify_event(
            "FailedToCreateSecret",
            "secrets \"foosecret\" is forbidden: User \"system:serviceaccount:kube-system:secrets-store-csi-driver\" cannot create resource \"secrets\""
        ),
        Some(Code::KVC806)
    );
}

#[test]
fn unexplained_and_volume_extraction() {
    // FACTS §3's ">4 MiB" message is explained (KVC708); the machine's own limit, which the
    // driver does not count as its flag's ([D] provider_client.go isMaxRecvMsgSizeError), and
    // an error no rule knows are not.
    let big = wrapped(
        "rpc error: code = ResourceExhausted desc = grpc: received message larger than max (5242990 vs. 4194304)",
    );
    assert_eq!(classify(&big), Some(Code::KVC708));
    assert_eq!(
        classify(&wrapped(
            "grpc: received message larger than max length allowed on current machine"
        )),
        None
    );
    let m = wrapped("failed to write file: no such file or directory");
    assert_eq!(classify(&m), None);
    assert_eq!(volume_of(&m), Some("secrets-store01-inline"));
    assert!(is_followup(
        "Unable to attach or mount volumes: unmounted volumes=[v], unattached volumes=[v]: timed out waiting for the condition"
    ));
}

/// FACTS §3: the kubelet names the driver the volume asks for. The Secrets Store driver's name
/// is that driver missing on the node (KVC104); any other is the volume's own typo (KVC103,
/// audit XB-facts).
#[test]
fn an_unregistered_driver_is_the_node_only_under_the_drivers_own_name() {
    let m = |d: &str| {
        format!(
            "MountVolume.SetUp failed for volume \"v\" : kubernetes.io/csi: mounter.SetUpAt failed to get CSI client: driver name {d} not found in the list of registered CSI drivers"
        )
    };
    assert_eq!(classify(&m("secrets-store.csi.k8s.io")), Some(Code::KVC104));
    assert_eq!(
        classify(&m("secrets-store.csi.x-k8s.io")),
        Some(Code::KVC103)
    );
    assert_eq!(unregistered_driver(&m("x")), Some("x"));
}
