//! The stable finding codes: one table, used by rules, reports, the UI and the docs.

use serde::{Deserialize, Serialize};

use super::model::{LinkKind, Severity};

macro_rules! catalog {
    ($( $code:ident => $link:ident, $sev:ident, $title:literal; )*) => {
        /// A stable finding code (`KVC…`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Code { $( $code, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$code, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$code => stringify!($code), )* }
            }
            /// The link this code breaks.
            pub fn link(self) -> LinkKind {
                match self { $( Code::$code => LinkKind::$link, )* }
            }
            /// Default severity (a rule may lower it with reason, e.g. unknown evidence).
            pub fn severity(self) -> Severity {
                match self { $( Code::$code => Severity::$sev, )* }
            }
            /// One line: what the code means.
            pub fn title(self) -> &'static str {
                match self { $( Code::$code => $title, )* }
            }
            pub fn parse(s: &str) -> Option<Code> {
                match s { $( stringify!($code) => Some(Code::$code), )* _ => None }
            }
        }
    };
}

catalog! {
    KVC101 => Pod, Error, "volume references a SecretProviderClass that does not exist in the namespace";
    KVC102 => Pod, Warning, "secrets volume mounted with subPath: rotation never reaches it";
    KVC103 => Pod, Error, "CSI volume wiring wrong (driver name, secretProviderClass attribute, readOnly)";
    KVC104 => Pod, Error, "driver not registered on the node / provider unavailable, or the SPC's spec.provider names no provider (Azure, azur, empty: looked up verbatim)";
    KVC105 => Pod, Error, "CSIDriver requests no service-account token for the audience the identity mode reads";
    KVC106 => Pod, Error, "the workload's pods cannot be created (FailedCreate: admission denied)";
    KVC107 => Pod, Error, "the pod is placed on no node: the scheduler finds none that fits (FailedScheduling), or its nodeName names no node";
    KVC108 => Pod, Error, "another volume of the pod fails to mount: the pod starts no container, so nothing reads the mounted secrets";
    KVC109 => Pod, Error, "a container's env names a Secret no SPC syncs, or a ConfigMap, that does not exist (or a key it lacks): the kubelet refuses to start it";
    KVC201 => ServiceAccount, Warning, "pod lacks label azure.workload.identity/use: \"true\" (mount works, app SDK does not)";
    KVC202 => ServiceAccount, Error, "the pod's service account does not exist";
    KVC203 => ServiceAccount, Warning, "service account lacks azure.workload.identity/client-id";
    KVC204 => ServiceAccount, Warning, "service account client-id differs from the SPC clientID";
    KVC205 => ServiceAccount, Warning, "workload-identity label present but nothing injected into the app (webhook missing, pod not mutated at its admission, or skip-containers names its containers)";
    KVC206 => ServiceAccount, Warning, "the tenant injected for the app (AZURE_TENANT_ID) is not its identity's tenant";
    KVC207 => ServiceAccount, Error, "a static pod has no service account: workload identity cannot authenticate its mount";
    KVC301 => Identity, Error, "no managed identity has the SPC clientID";
    KVC302 => Identity, Error, "auth parameters invalid or incoherent";
    KVC303 => Identity, Info, "uses the add-on / node managed identity: shared, unattributable";
    KVC304 => Identity, Warning, "usePodIdentity: aad-pod-identity is deprecated (works only where it is still installed)";
    KVC305 => Identity, Warning, "SPC parameter (or pod volumeAttribute) the Azure provider does not read (ignored)";
    KVC306 => Identity, Warning, "unrendered template value in the SPC or its pods' SA identity annotations ($VAR, ${VAR}, <placeholder>)";
    KVC307 => Identity, Warning, "SPC names no identity: service-principal mode needs nodePublishSecretRef on every pod that mounts it";
    KVC401 => Federation, Error, "no federated credential subject equals system:serviceaccount:<ns>:<sa>";
    KVC402 => Federation, Error, "federated credential issuer differs from the cluster OIDC issuer";
    KVC403 => Federation, Error, "federated credential audience is not api://AzureADTokenExchange";
    KVC404 => Federation, Error, "SPC tenantId is not the tenant the identity lives in";
    KVC405 => Federation, Error, "no federated credential matches the presented issuer + subject + audience (AADSTS70021), and no credential read shows which field differs";
    KVC406 => Federation, Error, "vault in another tenant than the identity: a managed identity cannot cross tenants";
    KVC501 => Access, Error, "no role assignment or access policy grants the data action the object type needs";
    KVC502 => Access, Error, "a grant exists but fits another object type (a role, or an access policy without get on it)";
    KVC503 => Access, Error, "grants are in the permission model the vault does not enforce";
    KVC504 => Access, Warning, "over-privileged read identity (Administrator / Officer)";
    KVC505 => Access, Error, "vault firewall / network rules block the request, or its private endpoint's name does not resolve";
    KVC506 => Access, Error, "keyvaultName names no Key Vault: its host name does not resolve";
    KVC601 => VaultObject, Error, "object not found in the vault";
    KVC602 => VaultObject, Error, "object (latest or pinned version) disabled";
    KVC603 => VaultObject, Info, "objectVersion pinned: rotation never picks up new versions";
    KVC604 => VaultObject, Warning, "object expired or expiring within 7 days, or a secret version served before its nbf";
    KVC701 => Mount, Error, "FailedMount with a message no rule explains";
    KVC702 => Mount, Warning, "secret rotation disabled in the driver";
    KVC703 => Mount, Warning, "mounted version differs from the vault's latest for longer than the poll interval, or the mount predates an edit of the SPC's objects";
    KVC704 => Mount, Warning, "Key Vault throttling (429)";
    KVC705 => Mount, Error, "objects YAML malformed or an item invalid";
    KVC706 => Mount, Error, "two objects map to the same mounted filename";
    KVC707 => Mount, Error, "the CSI volume is mounted by no container: the kubelet never mounts it, so no files and no synced Secret";
    KVC708 => Mount, Error, "the SPC's objects add up to more than the driver takes in one gRPC answer from the provider (4 MiB by default)";
    KVC709 => Mount, Error, "the SecretProviderClassPodStatus CRD is not installed: the driver fails every new mount at its status write, and syncs no Secret";
    KVC710 => Mount, Error, "a StatefulSet's claim template of the same name replaces its CSI volume in every pod: no pod mounts the SPC";
    KVC801 => Sync, Error, "secretObjects objectName matches no mounted file: the synced Secret is never created";
    KVC802 => Sync, Warning, "synced Secret absent because no running pod mounts the SPC";
    KVC803 => Sync, Warning, "synced Secret used by something that does not mount the SPC: garbage-collected with its owners";
    KVC804 => Sync, Error, "kubernetes.io/tls Secret without a private key or with wrong keys";
    KVC805 => Sync, Error, "synced Secret stale: content differs from what is mounted, keys secretObjects now make are missing, keys none makes are left over, or its type is not the one secretObjects now make; or it was not made by the driver (no managed label), which before v1.6 never writes it";
    KVC806 => Sync, Error, "driver failed to create/update the synced Secret";
    KVC807 => Sync, Error, "two SecretProviderClasses, or two secretObjects entries of one, sync the same Secret: its content follows whichever wrote last";
    KVC901 => Consumers, Error, "env var or subPath file taken before its source changed (the synced Secret, or a file of the CSI volume itself): it holds the old value";
    KVC902 => Consumers, Warning, "env consumption of a synced Secret with no restart mechanism";
    KVC903 => Consumers, Warning, "a workload consumes the synced Secret but none of its pods mount the SPC";
    KVC904 => Consumers, Error, "a consumer names a synced Secret that is absent because no pod mounts the SPC";
    KVC905 => Consumers, Error, "a consumer asks for a key the synced Secret does not have: the container cannot start";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The chain strip's words for finding `f`: its code's ([`short`]), but where one code tells
/// two stories, the one this finding tells: a subPath file copy is not an env var, a
/// synced Secret missing with no failure seen (KVC806 as a warning) is no failed sync, an
/// SPC's provider name no provider has is no missing driver, nor is a provider not running, a Secret the driver did not make
/// is not stale, and a volume's attribute is not the SPC's parameter.
pub fn label(f: &super::model::Finding) -> &'static str {
    match f.code {
        Code::KVC901 if f.message.contains(" with subPath ") => "stale file",
        Code::KVC806 if f.severity < Severity::Error => "Secret missing",
        // A version whose nbf is ahead is served early, not expiring (vault_object::not_before).
        Code::KVC604 if f.message.contains(" is not valid before ") => "not valid yet",
        // The SPC's spec.provider names no provider (`rules::provider`): the driver is there.
        Code::KVC104 if f.resource.starts_with("SecretProviderClass/") => "provider name",
        // The driver is there and its provider is not (not running, or gone or not ready on
        // the node): the mount error is the provider's, not the driver's (rules::node, pod).
        Code::KVC104
            if f.message.contains("provider not found")
                && !f
                    .message
                    .contains("not found in the list of registered CSI drivers") =>
        {
            "no provider"
        }
        // A Secret someone else made is not stale: the driver never wrote it (sync::unmanaged).
        Code::KVC805 if f.message.contains(" was not made by the driver") => "not driver's",
        // A volume's attribute, not the SPC's parameter (rules::volume_params).
        Code::KVC305 if !f.resource.starts_with("SecretProviderClass/") => "unread attribute",
        code => short(code),
    }
}

/// One or two words for the chain strip.
pub fn short(code: Code) -> &'static str {
    use Code::*;
    match code {
        KVC101 => "no SPC",
        KVC102 => "subPath",
        KVC103 => "bad wiring",
        KVC104 => "no driver",
        KVC105 => "no token",
        KVC106 => "not created",
        KVC107 => "not schedulable",
        KVC108 => "volume fails",
        KVC109 => "env config missing",
        KVC201 => "no WI label",
        KVC202 => "no SA",
        KVC203 => "no client-id",
        KVC204 => "client-id differs",
        KVC205 => "not injected",
        KVC206 => "wrong tenant",
        KVC207 => "static pod",
        KVC301 => "no identity",
        KVC302 => "bad params",
        KVC303 => "node identity",
        KVC304 => "pod identity",
        KVC305 => "unknown param",
        KVC306 => "template",
        KVC307 => "no identity",
        KVC401 => "subject mismatch",
        KVC402 => "issuer mismatch",
        KVC403 => "bad audience",
        KVC404 => "wrong tenant",
        KVC405 => "no FIC matches",
        KVC406 => "cross-tenant",
        KVC501 => "no grant",
        KVC502 => "wrong grant",
        KVC503 => "wrong model",
        KVC504 => "over-privileged",
        KVC505 => "unreachable",
        KVC506 => "no such vault",
        KVC601 => "not found",
        KVC602 => "disabled",
        KVC603 => "pinned",
        KVC604 => "expiring",
        KVC701 => "FailedMount",
        KVC702 => "no rotation",
        KVC703 => "stale mount",
        KVC704 => "throttled",
        KVC705 => "bad objects",
        KVC706 => "file clash",
        KVC707 => "not mounted",
        KVC708 => "too large",
        KVC709 => "no status CRD",
        KVC710 => "claim replaces",
        KVC801 => "no such file",
        KVC802 => "not synced",
        KVC803 => "GC risk",
        KVC804 => "bad tls",
        KVC805 => "stale Secret",
        KVC806 => "sync failed",
        KVC807 => "two writers",
        KVC901 => "stale env",
        KVC902 => "no reloader",
        KVC903 => "not mounted",
        KVC904 => "Secret absent",
        KVC905 => "no such key",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_link_matches_their_hundred() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(Code::parse(c.as_str()), Some(*c));
            let hundred = c.as_str()[3..4].parse::<usize>().unwrap();
            let expected = match hundred {
                1 => LinkKind::Pod,
                2 => LinkKind::ServiceAccount,
                3 => LinkKind::Identity,
                4 => LinkKind::Federation,
                5 => LinkKind::Access,
                6 => LinkKind::VaultObject,
                7 => LinkKind::Mount,
                8 => LinkKind::Sync,
                _ => LinkKind::Consumers,
            };
            assert_eq!(c.link(), expected, "{c}");
            assert!(!Code::ALL[..i].contains(c));
        }
    }
}
