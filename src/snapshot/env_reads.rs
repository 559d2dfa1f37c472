//! Which variables a container takes from Secrets when it starts: one notion for every place
//! that judges env (the in-container verify, live and lab; the rotation and restart
//! timelines), so an `envFrom` reader is never left out of one of them (audit VV1).

use super::{ContainerObs, EnvSourceObs};

/// One variable a container takes from a Secret at its start (FACTS §4: a start-time
/// snapshot, never refreshed while the container runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretEnvRead<'a> {
    /// The variable's name in the process.
    pub var: &'a str,
    pub secret: &'a str,
    pub key: &'a str,
    /// Through `envFrom[].secretRef` (every key of the Secret), not `secretKeyRef`.
    pub env_from: bool,
}

/// What [`ContainerObs::secret_env_reads`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretEnv<'a> {
    pub reads: Vec<SecretEnvRead<'a>>,
    /// `envFrom` Secrets whose keys are not known: which variables they set cannot be told.
    pub unknown_from: Vec<&'a str>,
}

impl ContainerObs {
    /// The variables this container takes from Secrets at start: each
    /// `env[].valueFrom.secretKeyRef`, and for each `envFrom[].secretRef` one per key the
    /// Secret holds (`keys_of`; None: not known). The kubelet's precedence holds: a later
    /// `envFrom` source overrides an earlier one of the same variable, and an explicit `env`
    /// entry (of any source) overrides `envFrom`. `envFrom`'s `prefix` is not observed: its
    /// variables are named by key. In variable order.
    pub fn secret_env_reads<'a>(
        &'a self,
        keys_of: impl Fn(&str) -> Option<Vec<&'a str>>,
    ) -> SecretEnv<'a> {
        let mut out = SecretEnv::default();
        let mut vars: std::collections::BTreeMap<&'a str, SecretEnvRead<'a>> =
            std::collections::BTreeMap::new();
        for secret in &self.env_from_secrets {
            let Some(keys) = keys_of(secret) else {
                out.unknown_from.push(secret.as_str());
                continue;
            };
            for key in keys {
                let read = SecretEnvRead {
                    var: key,
                    secret: secret.as_str(),
                    key,
                    env_from: true,
                };
                vars.insert(key, read);
            }
        }
        for e in &self.env {
            vars.remove(e.name.as_str());
            if let EnvSourceObs::SecretKey { secret, key, .. } = &e.source {
                let read = SecretEnvRead {
                    var: e.name.as_str(),
                    secret: secret.as_str(),
                    key: key.as_str(),
                    env_from: false,
                };
                vars.insert(e.name.as_str(), read);
            }
        }
        out.reads = vars.into_values().collect();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::EnvObs;

    fn secret_key(var: &str, secret: &str, key: &str) -> EnvObs {
        EnvObs {
            name: var.into(),
            source: EnvSourceObs::SecretKey {
                secret: secret.into(),
                key: key.into(),
                optional: false,
            },
        }
    }

    /// envFrom gives one variable per key; an explicit env entry wins whatever its source
    /// (a literal here), and a later envFrom wins over an earlier one.
    #[test]
    fn env_from_reads_each_key_and_explicit_env_wins() {
        let c = ContainerObs {
            name: "app".into(),
            init: false,
            sidecar: None,
            mounts: vec![],
            env: vec![
                EnvObs {
                    name: "user".into(),
                    source: EnvSourceObs::Literal { value: None },
                },
                secret_key("TOKEN", "other", "token"),
            ],
            env_from_secrets: vec!["a".into(), "b".into(), "gone".into()],
            env_from_optional: vec![],
            state: Default::default(),
        };
        let keys = |s: &str| match s {
            "a" => Some(vec!["password", "user", "shared"]),
            "b" => Some(vec!["shared"]),
            _ => None,
        };
        let got = c.secret_env_reads(keys);
        let reads: Vec<(&str, &str, &str, bool)> = (got.reads.iter())
            .map(|r| (r.var, r.secret, r.key, r.env_from))
            .collect();
        assert_eq!(
            reads,
            [
                ("TOKEN", "other", "token", false),
                ("password", "a", "password", true),
                ("shared", "b", "shared", true),
            ]
        );
        assert_eq!(got.unknown_from, ["gone"]);
    }
}
