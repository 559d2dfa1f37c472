//! NodePublishVolume for the Secrets Store CSI driver with the Azure provider, as the lab runs
//! it: driver checks, SPC lookup, parameters merged with the volume attributes, the provider's
//! validation, auth selection, then per object a token exchange (lazily, once) and a Key Vault
//! GET. The result is the files to write or the FailedMount message kubelet would record.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jiff::Timestamp;

use super::azure::{self, LabIdentity, Request, Token};
use super::messages as msg;
use super::provider::{self, Auth};
use super::scenario::{ClusterSpec, RoleAssignment};
use super::vaults::Vaults;
use crate::snapshot::crd::SecretProviderClass;
use crate::spc::AzureSpc;
use crate::spc::cloud::AzureCloud;

/// SPC parses by their merged parameters. FxHash: every publish hashes its parameters (the
/// objects YAML included), and SipHash's DoS resistance buys nothing in a simulation.
pub type ParseCache = rustc_hash::FxHashMap<BTreeMap<String, String>, Arc<AzureSpc>>;

pub const DRIVER: &str = "secrets-store.csi.k8s.io";

/// The Azure side the provider talks to.
pub struct AzureWorld<'a> {
    pub cluster: &'a ClusterSpec,
    pub identities: &'a [LabIdentity],
    /// clientId → identities (several tenants may reuse one).
    pub identity_index: &'a HashMap<String, Vec<usize>>,
    pub vaults: &'a mut Vaults,
    pub role_assignments: &'a [RoleAssignment],
    /// principalId → role assignments.
    pub ra_index: &'a HashMap<String, Vec<usize>>,
    /// Merged SPC parameters → parsed provider view.
    pub parse_cache: &'a mut ParseCache,
}

/// The CSI volume of a pod, as kubelet passes it.
pub struct VolumeRequest<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    /// The pod's uid: the driver's write errors name the mount's path, which holds it.
    pub pod_uid: &'a str,
    pub service_account: &'a str,
    pub volume: &'a str,
    pub read_only: Option<bool>,
    pub attributes: &'a BTreeMap<String, String>,
    pub node_publish_secret: Option<NodePublishSecret>,
}

/// A volume's `nodePublishSecretRef` as kubelet finds it. Only the key names are carried: the
/// provider looks for `clientid`/`clientsecret`, and the lab never needs their values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePublishSecret {
    pub name: String,
    /// Keys with a non-empty value; None when no such Secret exists.
    pub keys: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Mounted {
    /// File name (alias or name) → content. Values never leave the lab.
    pub files: Files,
    /// SPCPS `status.objects`: (`<type>/<objectName>`, version), sorted by id.
    pub objects: Vec<(String, String)>,
}

/// The files of one mount, by name, in name order. Most mounts hold one or two: a sorted list,
/// where a map's first node alone is half a kilobyte (4 MB of a 10,000-pod world).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Files(Vec<(String, Vec<u8>)>);

impl Files {
    /// Writes `name`, replacing what it held.
    pub fn insert(&mut self, name: String, content: Vec<u8>) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&name)) {
            Ok(i) => self.0[i].1 = content,
            Err(i) => self.0.insert(i, (name, content)),
        }
    }
    pub fn get(&self, name: &str) -> Option<&Vec<u8>> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(name))
            .ok()
            .map(|i| &self.0[i].1)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// A file whose name is also a directory other files are in (`multi` beside `multi/0`),
    /// which no file system holds. A binary search per file: a hostile SPC may list many.
    pub fn file_named_as_directory(&self) -> Option<&str> {
        self.0.iter().map(|(f, _)| f.as_str()).find(|f| {
            let dir = format!("{f}/");
            let at = self.0.partition_point(|(k, _)| k.as_str() < dir.as_str());
            self.0.get(at).is_some_and(|(k, _)| k.starts_with(&dir))
        })
    }
}

impl<const N: usize> From<[(String, Vec<u8>); N]> for Files {
    fn from(files: [(String, Vec<u8>); N]) -> Files {
        let mut out = Files::default();
        for (name, content) in files {
            out.insert(name, content);
        }
        out
    }
}

/// A mount failure: the full message as kubelet records it in the FailedMount event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountError(pub String);

pub fn publish(
    az: &mut AzureWorld,
    spc: Option<&SecretProviderClass>,
    req: &VolumeRequest,
    now: Timestamp,
) -> Result<Mounted, MountError> {
    let driver = &az.cluster.csi_driver;
    if !driver.installed {
        return Err(MountError(msg::driver_not_registered(req.volume)));
    }
    // kubelet fetches the nodePublishSecretRef Secret before it calls the driver.
    if let Some(NodePublishSecret { name, keys: None }) = &req.node_publish_secret {
        return Err(MountError(msg::node_publish_secret_not_found(
            req.volume,
            req.namespace,
            name,
        )));
    }
    if req.read_only != Some(true) {
        return Err(MountError(msg::failed_mount_driver(
            req.volume,
            "InvalidArgument",
            "Readonly is not true in request",
        )));
    }
    let spc_name = req
        .attributes
        .get("secretProviderClass")
        .map(String::as_str)
        .unwrap_or("");
    let Some(spc) = spc.filter(|_| !spc_name.is_empty()) else {
        return Err(MountError(msg::failed_mount_driver(
            req.volume,
            "Unknown",
            &msg::spc_not_found(req.namespace, spc_name),
        )));
    };
    // The driver looks the SPC's provider up verbatim among the providers registered on the
    // node; the lab's nodes run the Azure provider alone (FACTS §3, §11).
    let provider = spc.spec.provider.as_deref().unwrap_or("");
    if provider != crate::spc::AZURE_PROVIDER {
        return Err(MountError(msg::failed_mount_driver(
            req.volume,
            "Unknown",
            &crate::spc::provider_lookup_error(provider),
        )));
    }
    let provider_err =
        |e: String| MountError(msg::failed_mount(req.volume, req.namespace, req.pod, &e));
    // The driver merges the pod's volumeAttributes over the SPC parameters. The attribute
    // naming the SPC is not a provider parameter: left out, a pod that overrides nothing
    // shares the parse of the SPC's own parameters (which the snapshot's export reuses).
    let mut params = spc.spec.parameters.clone().unwrap_or_default();
    params.extend(
        req.attributes
            .iter()
            .filter(|(k, _)| *k != "secretProviderClass")
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    // Parsing the objects YAML dominates large worlds; identical parameters parse alike.
    let parsed = match az.parse_cache.get(&params) {
        Some(p) => Arc::clone(p),
        None => {
            let p = Arc::new(crate::spc::parse(&params));
            az.parse_cache.insert(params, Arc::clone(&p));
            p
        }
    };
    // Flags, modes, vault, tenant, cloud and credentials first, as the provider checks them
    // before it reads the objects (FACTS §5).
    let auth = provider::select(
        &parsed,
        &driver.token_audiences,
        req.node_publish_secret.as_ref(),
        req.namespace,
    )
    .map_err(provider_err)?;
    // `select` refuses parameters without either.
    let vault_name = parsed.keyvault_name.clone().unwrap_or_default();
    let tenant = parsed.tenant_id.clone().unwrap_or_default();
    // Parsed and validated (format, encoding, file name) before the fetch loop; an unknown
    // objectType only when the loop fetches that item, after the items before it (FACTS §5:
    // the provider's `validate` does not check the type, its fetch does).
    if let Some(p) =
        (parsed.problems.iter()).find(|p| !p.message.starts_with(crate::spc::UNKNOWN_OBJECT_TYPE))
    {
        // The pod volume's attributes over the SPC's parameters, as the driver merges them.
        let objects = (req.attributes.get("objects"))
            .or_else(|| spc.spec.parameters.as_ref()?.get("objects"));
        return Err(provider_err(provider_words(p, objects.map(String::as_str))));
    }
    let subject = format!(
        "system:serviceaccount:{}:{}",
        req.namespace, req.service_account
    );
    let mut token: Option<Token> = None;
    let mut out = Mounted::default();
    for o in &parsed.objects {
        let Some(t) = o.object_type else {
            return Err(provider_err(msg::per_object(
                &o.object_type_raw,
                &o.object_name,
                o.object_version.as_deref().unwrap_or_default(),
                "Invalid vaultObjectTypes. Should be secret, key, or cert",
            )));
        };
        // The provider builds the vault URL before it asks for a token or calls Key Vault: an
        // invalid name fails there, never as a DNS lookup (FACTS §5, getVaultURL).
        if let Some(e) = crate::spc::invalid_vault_name(&vault_name) {
            return Err(provider_err(format!("failed to get vault: {e}")));
        }
        let version_shown = o.object_version.clone().unwrap_or_default();
        let wrap = |cause: String| {
            provider_err(msg::per_object(
                t.as_str(),
                &o.object_name,
                &version_shown,
                &cause,
            ))
        };
        // The vault URL is `https://<name>.<suffix of cloudName's cloud>/` (FACTS §5). The
        // Key Vault client's first request goes to it before any token (the challenge that
        // tells it the tenant and scope), so a vault asked for in another cloud than the one
        // it lives in fails there, on a host that does not resolve.
        if let Some(host) = foreign_vault_host(&parsed, &vault_name, az.cluster) {
            return Err(wrap(msg::no_such_host(
                &host,
                t.collection(),
                &o.object_name,
            )));
        }
        // The token is acquired lazily, so its failure shows inside the per-object wrapper.
        let tok = match &token {
            Some(t) => t.clone(),
            None => {
                let t = token_for(az, &auth, &tenant, &subject).map_err(&wrap)?;
                token = Some(t.clone());
                t
            }
        };
        let Some(vault) = az.vaults.get_mut(&vault_name) else {
            let host = format!("{vault_name}.{}", lab_cloud(az.cluster).vault_suffix());
            return Err(wrap(msg::no_such_host(
                &host,
                t.collection(),
                &o.object_name,
            )));
        };
        let history = o.object_version_history.unwrap_or(0).max(1) as usize;
        // History mode lists the versions and skips disabled ones (FACTS §5): the newest
        // enabled version is what it reads first, so a disabled latest fails nothing there.
        let newest_enabled = (history > 1 && o.object_version.is_none())
            .then(|| vault.objects.get(&(t, o.object_name.clone())))
            .flatten()
            .and_then(|obj| obj.versions.iter().find(|v| v.enabled))
            .map(|v| v.id.clone());
        let host = format!("{vault_name}.{}", lab_cloud(az.cluster).vault_suffix());
        let request = Request {
            host: &host,
            object_type: t,
            name: &o.object_name,
            version: o.object_version.as_deref().or(newest_enabled.as_deref()),
        };
        let grants = az
            .ra_index
            .get(&tok.principal_id)
            .into_iter()
            .flatten()
            .filter_map(|&i| az.role_assignments.get(i));
        // Known before the read, which holds the vault until its version is copied.
        let written = pfx_as_written(o, vault.objects.get(&(t, o.object_name.clone())));
        let v = azure::get(
            vault,
            &tok,
            grants,
            &az.cluster.subscription_id,
            &az.cluster.location,
            &request,
            now,
        )
        .map_err(&wrap)?;
        let (id, content) = (v.id.clone(), written(&v.content));
        let file = o.file_name().to_string();
        if history > 1 {
            let grants = (az.ra_index.get(&tok.principal_id).into_iter().flatten())
                .filter_map(|&i| az.role_assignments.get(i));
            azure::list_versions(
                vault,
                &tok,
                grants,
                &az.cluster.subscription_id,
                &az.cluster.location,
                &request,
            )
            .map_err(&wrap)?;
            // `<file>/<i>`, 0 = newest, disabled versions skipped.
            let all = vault
                .objects
                .get(&(t, o.object_name.clone()))
                .map(|obj| {
                    obj.versions
                        .iter()
                        .filter(|v| v.enabled)
                        .take(history)
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            for (i, v) in all.iter().enumerate() {
                out.files.insert(format!("{file}/{i}"), written(&v.content));
                out.objects.push((
                    format!("{}/{}/{i}", t.as_str(), o.object_name),
                    v.id.clone(),
                ));
            }
        } else {
            out.files.insert(file, content);
            out.objects
                .push((format!("{}/{}", t.as_str(), o.object_name), id));
        }
    }
    // The driver writes every file only once the provider has answered: a file where
    // another object's versions need a directory of the same name fails the write, and the
    // mount with it (audit CCC7).
    if let Some(file) = out.files.file_named_as_directory() {
        let target = super::sync::target_path(req.pod_uid, req.volume);
        return Err(MountError(msg::failed_write(
            req.volume,
            req.namespace,
            req.pod,
            &target,
            file,
        )));
    }
    out.objects.sort();
    Ok(out)
}

/// The lab's Azure is one cloud: the one its cluster's OIDC issuer names, the public cloud
/// when the issuer names none ([`AzureCloud::of_issuer`]). Its vaults and identities live
/// there. The vault host the provider asks when the SPC's `cloudName` picks another cloud;
/// an empty `cloudName` is the provider's `--cloud-name`, taken to be the cluster's.
fn foreign_vault_host(p: &AzureSpc, vault: &str, cluster: &ClusterSpec) -> Option<String> {
    let asked = AzureCloud::of_cloud_name(p.cloud_name.as_deref()?)?;
    (asked != lab_cloud(cluster)).then(|| format!("{vault}.{}", asked.vault_suffix()))
}

/// The cloud the lab's Azure is (see [`foreign_vault_host`]).
pub fn lab_cloud(cluster: &ClusterSpec) -> AzureCloud {
    AzureCloud::of_issuer(&cluster.oidc_issuer_url).unwrap_or(AzureCloud::Public)
}

/// The token of the identity `auth` names, acquired lazily (FACTS §5), so a failure shows
/// inside the per-object wrapper.
fn token_for(az: &AzureWorld, auth: &Auth, tenant: &str, subject: &str) -> Result<Token, String> {
    match auth {
        Auth::Workload { client_id } | Auth::Binding { client_id } => {
            let candidates = az
                .identity_index
                .get(&client_id.to_ascii_lowercase())
                .into_iter()
                .flatten()
                .filter_map(|&i| az.identities.get(i));
            azure::exchange(
                candidates,
                client_id,
                tenant,
                &az.cluster.oidc_issuer_url,
                subject,
                matches!(auth, Auth::Binding { .. }),
            )
        }
        // The node's metadata endpoint answers with the identity itself, in its own tenant:
        // no federated credential and no SPC tenant take part.
        Auth::VmManaged {
            user_assigned: Some(id),
        } => az
            .identity_index
            .get(&id.to_ascii_lowercase())
            .and_then(|ix| ix.first())
            .and_then(|&i| az.identities.get(i))
            .map(|i| Token {
                client_id: i.client_id.clone(),
                principal_id: i.principal_id.clone(),
                tenant: i.tenant_id.clone(),
            })
            .ok_or_else(|| provider::unsimulated_token(auth)),
        Auth::VmManaged {
            user_assigned: None,
        }
        | Auth::PodIdentity => Err(provider::unsimulated_token(auth)),
    }
}

/// A parse problem as the provider reports it (v1.4 to v1.8.2 parseObjects): `objects` that is
/// not a YAML list, or one item that does not parse, wrap the YAML error in their own words,
/// and the error is yaml.v3's (`yaml: line N: …`, [`crate::spc::go_yaml_error`]): of the
/// `objects` text trimmed (FACTS §5: every parameter is `strings.TrimSpace`d), or of the
/// item's string as the array holds it.
fn provider_words(p: &crate::spc::SpcProblem, objects: Option<&str>) -> String {
    let Some((_, yaml)) = p.message.split_once("is not valid YAML: ") else {
        return p.message.clone();
    };
    let item = (p.field.strip_prefix("objects.array["))
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok());
    let objects = objects.map(str::trim);
    match (p.field.as_str(), item) {
        ("objects", _) => {
            let go = objects.and_then(crate::spc::go_yaml_error);
            format!(
                "failed to yaml unmarshal objects, error: {}",
                go.as_deref().unwrap_or(yaml)
            )
        }
        (_, Some(i)) => {
            let item_text = objects
                .and_then(|o| serde_yaml::from_str::<serde_yaml::Value>(o).ok())
                .and_then(|v| v.get("array")?.get(i)?.as_str().map(String::from));
            let go = item_text.as_deref().and_then(crate::spc::go_yaml_error);
            format!(
                "unmarshal failed for keyVaultObjects at index {i}, error: {}",
                go.as_deref().unwrap_or(yaml)
            )
        }
        _ => p.message.clone(),
    }
}

/// What the provider writes of a version's value. A certificate's secret held as PKCS#12 and
/// asked for in `objectFormat: pfx` is returned as Key Vault holds it, base64 text, and only
/// `objectEncoding: base64` decodes it to the binary PFX (the provider's getSecret, FACTS §5;
/// audit CCC3). The lab's stand-in for the PFX is the certificate's PEM, so the text is the
/// PEM's base64: no PEM block in it, and the driver's tls build fails on it as on the real one.
fn pfx_as_written(
    o: &crate::spc::SpcObject,
    obj: Option<&super::azure::LabObject>,
) -> impl Fn(&[u8]) -> Vec<u8> + use<> {
    let pkcs12 = obj.is_some_and(|obj| {
        obj.backs_certificate
            && (obj.content_type.as_deref())
                .is_some_and(|c| c.eq_ignore_ascii_case("application/x-pkcs12"))
    });
    let as_text = pkcs12 && o.writes_pfx_text();
    move |value: &[u8]| {
        if as_text {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .encode(value)
                .into_bytes()
        } else {
            value.to_vec()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mount's files read back by name and in name order, a rewrite replacing the content.
    #[test]
    fn files_are_found_by_name_in_name_order() {
        let mut f = Files::from([("b".to_string(), b"1".to_vec())]);
        f.insert("a/1".into(), b"2".to_vec());
        f.insert("c".into(), b"3".to_vec());
        f.insert("b".into(), b"4".to_vec());
        let names: Vec<&str> = f.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["a/1", "b", "c"]);
        assert_eq!(f.get("b").map(Vec::as_slice), Some(&b"4"[..]));
        assert_eq!(f.get("d"), None);
    }
}
