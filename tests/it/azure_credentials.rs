//! Without credentials the Azure side must say why, not fail the program. Own test binary:
//! it reads the process environment.

use kvchain::source::args::AzureArgs;
use kvchain::source::azure::AzureObserver;

#[tokio::test]
async fn no_azure_flag_is_a_reason() {
    let r = AzureObserver::new(&AzureArgs {
        no_azure: true,
        ..Default::default()
    })
    .await;
    assert_eq!(r.err().as_deref(), Some("Azure disabled (--no-azure)"));
}

#[tokio::test]
async fn missing_login_says_run_az_login() {
    let env_login = [
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_TOKEN_CREDENTIALS",
    ]
    .iter()
    .any(|k| std::env::var_os(k).is_some());
    let path = std::env::var_os("PATH").unwrap_or_default();
    let has_cli =
        std::env::split_paths(&path).any(|d| d.join("az").is_file() || d.join("azd").is_file());
    if env_login || has_cli {
        eprintln!("skipped: this machine may have Azure credentials");
        return;
    }
    let reason = match AzureObserver::new(&AzureArgs::default()).await {
        Ok(_) => panic!("no credential source exists, yet the observer was created"),
        Err(reason) => reason,
    };
    assert!(
        reason.starts_with("no Azure credentials: run `az login`"),
        "{reason}"
    );
}

#[test]
fn the_real_transport_builds_with_the_crate_tls_setup() {
    // kube and the Azure SDK share one rustls provider; building the SDK's default client
    // must not panic over an ambiguous provider.
    let _client = azure_core::http::new_http_client(None);
}
