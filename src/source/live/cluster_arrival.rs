//! The four cluster facts arrive one by one. Each is stored as it answers, so one hung
//! request (a CSIDriver get with no `--request-timeout`) leaves the others known; and the
//! requests still waiting are noted, so that the startup deadline names the one it gave up
//! on, as a kind's gap names its list (audit FFF6: "cluster facts not listed within 1m" was
//! said of all four, the OIDC issuer, webhook and nodes having answered).

use std::future::Future;
use std::sync::Mutex;

use crate::snapshot::{ClusterFacts, CsiDriverFacts, NodeObs, Observed};

/// One of the cluster facts read together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FactId {
    OidcIssuer,
    Webhook,
    CsiDriver,
    Nodes,
}

impl FactId {
    pub const ALL: [FactId; 4] = [
        FactId::OidcIssuer,
        FactId::Webhook,
        FactId::CsiDriver,
        FactId::Nodes,
    ];
}

/// A fact as read.
pub enum Fact {
    OidcIssuer(Observed<String>),
    Webhook(Observed<bool>),
    /// Boxed: the driver's facts are ten times the others' size.
    CsiDriver(Box<Observed<CsiDriverFacts>>),
    Nodes(Observed<Vec<NodeObs>>),
}

impl Fact {
    /// Writes the fact into `facts` (the tenant with the issuer it comes from).
    pub fn apply(self, facts: &mut ClusterFacts) -> FactId {
        match self {
            Fact::OidcIssuer(issuer) => {
                facts.tenant_id = tenant_of(&issuer);
                facts.oidc_issuer = issuer;
                FactId::OidcIssuer
            }
            Fact::Webhook(w) => {
                facts.workload_identity_webhook = w;
                FactId::Webhook
            }
            Fact::CsiDriver(c) => {
                facts.csi_driver = *c;
                FactId::CsiDriver
            }
            Fact::Nodes(n) => {
                facts.nodes = n;
                FactId::Nodes
            }
        }
    }

    /// The fact unknown for `reason`.
    pub fn unknown(id: FactId, reason: String) -> Fact {
        match id {
            FactId::OidcIssuer => Fact::OidcIssuer(Observed::unknown(reason)),
            FactId::Webhook => Fact::Webhook(Observed::unknown(reason)),
            FactId::CsiDriver => Fact::CsiDriver(Box::new(Observed::unknown(reason))),
            FactId::Nodes => Fact::Nodes(Observed::unknown(reason)),
        }
    }
}

/// The tenant an AKS issuer names.
fn tenant_of(issuer: &Observed<String>) -> Observed<String> {
    match issuer {
        Observed::Known(url) => match super::cluster::tenant_from_issuer(url) {
            Some(t) => Observed::Known(t),
            None => {
                Observed::unknown("the OIDC issuer URL does not name a tenant (not an AKS issuer)")
            }
        },
        Observed::Unknown(r) => Observed::unknown(format!("OIDC issuer unknown: {r}")),
    }
}

/// The cluster-fact requests waiting for an answer, with the fact each is for.
#[derive(Debug, Default)]
pub struct Pending(Mutex<Vec<(FactId, &'static str)>>);

impl Pending {
    /// Runs `request` (`what`: "get csidrivers") for `fact`, noted as waiting until it
    /// answers or is dropped.
    pub async fn ask<T>(
        &self,
        fact: FactId,
        what: &'static str,
        request: impl Future<Output = T>,
    ) -> T {
        self.lock().push((fact, what));
        let _done = Done(self, fact, what);
        request.await
    }

    /// Why `fact` is not known at the deadline (`why`: "not listed within 1m"): the requests
    /// it still waits for.
    pub fn reason(&self, fact: FactId, why: &str) -> String {
        let mut waiting: Vec<&str> = (self.lock().iter())
            .filter(|(f, _)| *f == fact)
            .map(|(_, w)| *w)
            .collect();
        waiting.dedup();
        if waiting.is_empty() {
            return format!("{why}: no answer yet");
        }
        format!("{why}: {}: no answer yet", waiting.join(", "))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(FactId, &'static str)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Takes a request off the waiting list when it answers, or when its future is dropped.
struct Done<'a>(&'a Pending, FactId, &'static str);

impl Drop for Done<'_> {
    fn drop(&mut self) {
        let mut waiting = self.0.lock();
        if let Some(i) = waiting
            .iter()
            .position(|(f, w)| *f == self.1 && *w == self.2)
        {
            waiting.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_waits_until_it_answers_and_the_reason_names_it() {
        let pending = Pending::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let asked = pending.ask(FactId::CsiDriver, "get csidrivers", rx);
        tokio::pin!(asked);
        assert!(futures::poll!(&mut asked).is_pending());
        assert_eq!(
            pending.reason(FactId::CsiDriver, "not listed within 1m"),
            "not listed within 1m: get csidrivers: no answer yet"
        );
        assert_eq!(
            pending.reason(FactId::Nodes, "not listed within 1m"),
            "not listed within 1m: no answer yet"
        );
        tx.send(()).unwrap();
        asked.await.unwrap();
        assert_eq!(
            pending.reason(FactId::CsiDriver, "not listed within 1m"),
            "not listed within 1m: no answer yet"
        );
    }

    #[test]
    fn a_fact_applies_to_its_own_field_alone() {
        let mut facts = ClusterFacts::default();
        let id = Fact::Webhook(Observed::Known(true)).apply(&mut facts);
        assert_eq!(id, FactId::Webhook);
        assert_eq!(facts.workload_identity_webhook, Observed::Known(true));
        assert!(facts.oidc_issuer.known().is_none());
        Fact::OidcIssuer(Observed::Known("https://kubernetes.default.svc".into()))
            .apply(&mut facts);
        assert!(
            facts
                .tenant_id
                .unknown_reason()
                .is_some_and(|r| r.contains("not an AKS issuer"))
        );
    }
}
