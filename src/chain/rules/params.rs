//! What the Azure provider does with a SecretProviderClass's `parameters` beyond parsing them
//! (FACTS §5): keys it never reads, and values that are still template placeholders.

/// The parameters the Azure provider reads (FACTS §5). The driver adds its own
/// `csi.storage.k8s.io/…` keys when it merges pod attributes; those are not the user's.
pub(crate) const PARAMETERS: [&str; 12] = [
    "keyvaultName",
    "tenantID",
    "tenantId",
    "objects",
    "clientID",
    "usePodIdentity",
    "useVMManagedIdentity",
    "userAssignedIdentityID",
    "useAzureTokenProxy",
    "cloudName",
    "cloudEnvFileName",
    // Read by the driver, not the provider, but legitimately found among pod attributes.
    "secretProviderClass",
];

/// A key the provider ignores, with what the user most likely meant.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unknown<'a> {
    pub key: &'a str,
    pub hint: Option<String>,
}

impl Unknown<'_> {
    /// The key as a finding's message names it: with what was most likely meant.
    pub fn described(&self) -> String {
        match &self.hint {
            Some(h) => format!("{} ({h})", self.key),
            None => self.key.to_string(),
        }
    }
}

/// Keys of `parameters` the provider never reads, in key order.
pub(crate) fn unknown<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<Unknown<'a>> {
    keys.into_iter()
        .filter(|k| !PARAMETERS.contains(k) && !k.starts_with("csi.storage.k8s.io/"))
        .map(|key| Unknown {
            key,
            hint: hint(key),
        })
        .collect()
}

fn hint(key: &str) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    // Written in tutorials, never implemented: the provider picks workload identity from
    // `clientID` alone, so this key changes nothing.
    if lower == "useworkloadidentity" {
        return Some(
            "not a provider parameter: workload identity is selected by clientID (with no other identity mode); without clientID the provider falls back to service-principal mode".into(),
        );
    }
    // Guides put the driver's rotation settings here: they are flags of the driver, one for
    // the whole cluster (FACTS §4: no per-volume rotation attribute exists).
    if matches!(
        lower.as_str(),
        "rotationpollinterval" | "enablesecretrotation" | "rotation-poll-interval"
    ) {
        return Some(
            "not a provider parameter: rotation and its interval are the Secrets Store CSI driver's --enable-secret-rotation and --rotation-poll-interval flags, one setting for the whole cluster (AKS add-on: az aks update … --enable-secret-rotation --rotation-poll-interval); no SecretProviderClass or volume setting exists".into(),
        );
    }
    // Early provider releases located the vault by subscription and resource group; today's
    // builds the URL from keyvaultName and the cloud alone.
    if lower == "resourcegroup" || lower == "subscriptionid" {
        return Some(
            "not read by current provider releases (the vault is found by keyvaultName alone)"
                .into(),
        );
    }
    // Keys are case-sensitive: `keyVaultName` is as absent as no key at all.
    if let Some(k) = PARAMETERS.iter().find(|p| p.eq_ignore_ascii_case(key)) {
        return Some(format!("did you mean {k}? (keys are case-sensitive)"));
    }
    PARAMETERS
        .iter()
        .map(|p| (strsim::levenshtein(&p.to_ascii_lowercase(), &lower), *p))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, p)| format!("did you mean {p}?"))
}

/// A value that is still a template placeholder: `$VAR`, `${VAR}`, `$(VAR)`, `<your-vault>`,
/// `{{ .Values.x }}`, `#{VAR}#`, `__VAR__`. None of these characters can occur in a vault,
/// object, tenant or client id, nor in a Kubernetes name, so a real value never matches.
pub fn is_placeholder(value: &str) -> bool {
    // Every form below needs one of these characters, which real values lack: one scan
    // settles the usual case (this runs several times per chain). `memchr` scans vectors of
    // bytes; a byte-wise `any` took ~13 instructions per byte, ~370 per chain on client ids
    // and annotations.
    let b = value.as_bytes();
    // `__x__` is told by its start alone: client ids, names and env keys hold underscores.
    let marked =
        memchr::memchr3(b'$', b'<', b'{', b).is_some() || value.trim_start().starts_with("__");
    if !marked {
        return false;
    }
    let v = value.trim();
    let dollar_var = v
        .match_indices('$')
        .any(|(i, _)| matches!(v[i + 1..].chars().next(), Some(c) if c == '{' || c == '(' || c == '_' || c.is_ascii_alphabetic()));
    let angle = matches!((v.find('<'), v.rfind('>')), (Some(a), Some(b)) if a < b);
    dollar_var
        || angle
        || v.contains("{{")
        || (v.contains("#{") && v.contains('}'))
        || (v.len() > 4 && v.starts_with("__") && v.ends_with("__"))
}

/// Whether one field of `secretObjects` entry `so` is still a template placeholder.
pub(crate) fn unrendered_entry(so: &crate::snapshot::SecretObjectSpec) -> bool {
    is_placeholder(&so.secret_name)
        || so
            .data
            .iter()
            .any(|d| is_placeholder(&d.object_name) || is_placeholder(&d.key))
}

/// The kubelet's words for containers of `pod` that cannot start for want of a Secret an
/// unrendered `secretObjects` entry makes (or, its `secretName` a placeholder, may make once
/// rendered). KVC306 skips judging those fields statically (README), but a container seen
/// stuck on them is run-time proof the link fails: unknown is not healthy.
pub(crate) fn stuck_on_unrendered(
    spc: &crate::snapshot::SpcObs,
    pod: &crate::snapshot::PodObs,
) -> Vec<String> {
    let entries: Vec<_> = spc
        .secret_objects
        .iter()
        .filter(|so| unrendered_entry(so))
        .collect();
    if entries.is_empty() {
        return Vec::new();
    }
    let in_ns = format!("in Secret {}/", pod.namespace);
    pod.containers
        .iter()
        .filter_map(|c| match &c.state {
            crate::snapshot::ContainerStateObs::Waiting { reason, message }
                if reason == "CreateContainerConfigError" =>
            {
                // `couldn't find key <k> in Secret <ns>/<name>` or `secret "<name>" not found`.
                let named = match message.split_once(&in_ns) {
                    Some((_, rest)) => rest.split_whitespace().next(),
                    None => message
                        .split_once("secret \"")
                        .and_then(|(_, rest)| rest.split('"').next()),
                }?;
                entries
                    .iter()
                    .any(|so| so.secret_name == named || is_placeholder(&so.secret_name))
                    .then(|| format!("container {} waiting: {reason}: {message}", c.name))
            }
            _ => None,
        })
        .collect()
}

/// The objectName of a FailedToCreateSecret message (`file matching objectName <x> not
/// found`), when it is still a placeholder: the event shows the unrendered value (KVC306),
/// not a second cause.
pub(crate) fn unrendered_sync_object(message: &str) -> bool {
    message
        .split_once("file matching objectName ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .is_some_and(|name| is_placeholder(name.trim_end_matches(':')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised_and_real_values_are_not() {
        for p in [
            "$KEYVAULT_NAME",
            "${KEYVAULT_NAME}",
            "$(TENANT)",
            "<key-vault-name>",
            "<kv name>",
            "{{ .Values.vault }}",
            "#{VaultName}#",
            "__VAULT__",
            "kv-${ENV}",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for real in [
            "kv-prod-01",
            "97b85e8f-2f0c-4726-a9d5-af15f7621ce5",
            "AzurePublicCloud",
            "",
            "a$",
            "x>y<z",
        ] {
            assert!(!is_placeholder(real), "{real}");
        }
    }

    #[test]
    fn unknown_keys_get_the_nearest_known_key_or_an_explanation() {
        let got = unknown([
            "keyvaultName",
            "keyVaultName",
            "tenantid",
            "useWorkloadIdentity",
            "cloudNme",
            "resourceGroup",
            "team",
            "csi.storage.k8s.io/pod.name",
        ]);
        let keys: Vec<&str> = got.iter().map(|u| u.key).collect();
        assert_eq!(
            keys,
            [
                "keyVaultName",
                "tenantid",
                "useWorkloadIdentity",
                "cloudNme",
                "resourceGroup",
                "team"
            ]
        );
        assert_eq!(
            got[0].hint.as_deref(),
            Some("did you mean keyvaultName? (keys are case-sensitive)")
        );
        assert!(got[1].hint.as_deref().unwrap().contains("tenant"));
        assert!(got[2].hint.as_deref().unwrap().contains("clientID"));
        assert_eq!(got[3].hint.as_deref(), Some("did you mean cloudName?"));
        assert!(got[4].hint.as_deref().unwrap().contains("keyvaultName"));
        assert_eq!(got[5].hint, None);
    }

    /// FACTS §4: rotation and its interval are the driver's flags, cluster-wide; no
    /// SecretProviderClass or volume key sets them, so the hint names the flags.
    #[test]
    fn rotation_keys_are_named_as_the_drivers_flags() {
        for key in ["rotationPollInterval", "enableSecretRotation"] {
            let got = unknown([key]);
            let hint = got[0].hint.as_deref().unwrap_or_default();
            assert!(
                hint.contains("--rotation-poll-interval") && hint.contains("whole cluster"),
                "{key}: {hint}"
            );
        }
    }
}
