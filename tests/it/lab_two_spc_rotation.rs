//! A pod that mounts two SecretProviderClasses on two vaults, and one of them failing at
//! rotation (audit X1). The ≤v1.5 rotation events are recorded on the Pod and
//! `MountRotationFailed` reads `provider mount err: …` with no volume or SPC tag (FACTS §3);
//! the provider error inside names the object (`objectName:<n>`) and the vault's host
//! (`GET https://<vault>.vault.azure.net/secrets/<name>/…`, FACTS §5). The failure is the
//! chain's whose vault and objects it names; the other chain, whose own rotation keeps
//! completing (`SecretRotationComplete` for its Secret, FACTS §3, §11 Evidence ages), reads
//! healthy and never gets a fix aimed at the vault that fails.

use std::path::Path;
use std::time::Duration;

use kvchain::chain::{self, Chain, Severity};
use kvchain::source::lab::world::World;
use kvchain::source::lab::{export, scenario};

use crate::lab_nodes::{CLUSTER, HEALTHY, SHOP};

/// The side vault, its grant and its SPC (no `secretObjects`): the same identity reads
/// `side-token` from `kv-side-lab`.
const SIDE: &str = "apiVersion: lab.kvchain.dev/v1
kind: KeyVault
metadata:
  name: kv-side-lab
spec:
  tenantID: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
  secrets:
    - name: side-token
      value: side-value-1
---
apiVersion: lab.kvchain.dev/v1
kind: RoleAssignment
metadata:
  name: ra-checkout-side
spec:
  principalID: c30a102a-6825-5741-a906-d8eb137bbaea
  role: Key Vault Secrets User
  scope:
    vault: kv-side-lab
---
apiVersion: secrets-store.csi.x-k8s.io/v1
kind: SecretProviderClass
metadata:
  name: checkout-side
  namespace: shop
spec:
  provider: azure
  parameters:
    clientID: e2ef6ca4-8b82-5fca-9991-b28fc1e02a92
    keyvaultName: kv-side-lab
    tenantId: 5c7e1f2a-3b4d-4e6f-8a9b-0c1d2e3f4a5b
    objects: |
      array:
        - |
          objectName: side-token
          objectType: secret
";

/// The healthy checkout, whose pods also mount `checkout-side` (from `side`) as volume `side`,
/// plus `timeline`, run for `d`: the chains of checkout's two pods, (checkout-kv, checkout-side).
fn run(side: &str, timeline: &str, d: Duration) -> (Vec<Chain>, Vec<Chain>) {
    let healthy = HEALTHY
        .replace(
            "              mountPath: /mnt/secrets-store\n              readOnly: true\n",
            "              mountPath: /mnt/secrets-store\n              readOnly: true\n            - name: side\n              mountPath: /mnt/side\n              readOnly: true\n",
        )
        .replace(
            "      volumes:\n",
            "      volumes:\n        - name: side\n          csi:\n            driver: secrets-store.csi.k8s.io\n            readOnly: true\n            volumeAttributes:\n              secretProviderClass: checkout-side\n",
        );
    assert_ne!(healthy, HEALTHY);
    let docs = [CLUSTER, SHOP, &healthy, side, timeline].join("\n---\n");
    let sc = scenario::parse("two-spc", Path::new("two-spc.yaml"), &docs).expect("scenario loads");
    let mut w = World::new(sc);
    w.advance(d);
    let chains = chain::diagnose(&export::snapshot(&w));
    let of = |spc: &str| -> Vec<Chain> {
        let mut v: Vec<Chain> = (chains.iter())
            .filter(|c| c.spc.as_str() == spc)
            .cloned()
            .collect();
        v.sort_by(|a, b| a.pod.cmp(&b.pod));
        v
    };
    let (main, side) = (of("checkout-kv"), of("checkout-side"));
    assert_eq!(main.len(), 2, "{main:#?}");
    assert_eq!(side.len(), 2, "{side:#?}");
    (main, side)
}

fn problems(c: &Chain) -> Vec<String> {
    c.findings()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| format!("{} {} | {}", f.code, f.message, f.fix))
        .collect()
}

/// The side chain's failure stays the side chain's: the healthy chain has no warning or error,
/// names no `kv-side-lab` anywhere, and its evidence cites no event of the other vault.
fn assert_only_side_fails(main: &[Chain], side: &[Chain], what: &str) {
    assert!(
        side.iter().any(|c| !problems(c).is_empty()),
        "{what}: the side chain fails: {side:#?}"
    );
    for c in main {
        assert!(
            problems(c).is_empty(),
            "{what}: {}: {:#?}",
            c.pod,
            problems(c)
        );
    }
    for f in main.iter().flat_map(|c| c.findings()) {
        let all = format!("{} {} {:?}", f.message, f.fix, f.evidence);
        assert!(
            !all.contains("kv-side-lab") && !all.contains("side-token"),
            "{what}: {all}"
        );
    }
}

const QUIET: &str =
    "apiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata: {name: t}\nspec:\n  events: []\n";

/// FACTS §5: the 429 names `kv-side-lab` and `side-token`; checkout-kv's vault has no limit.
#[test]
fn a_throttled_second_vault_leaves_the_first_chain_healthy() {
    let (main, side) = run(SIDE, QUIET, Duration::from_secs(5 * 60));
    assert!(main.iter().chain(&side).all(|c| problems(c).is_empty()));
    // requestLimit: 1 on the side vault: one of the two pods' reads of it gets 429 every poll.
    let throttled = SIDE.replace(
        "  name: kv-side-lab\nspec:\n",
        "  name: kv-side-lab\nspec:\n  requestLimit: 1\n",
    );
    assert_ne!(throttled, SIDE);
    let (main, side) = run(&throttled, QUIET, Duration::from_secs(5 * 60));
    assert_only_side_fails(&main, &side, "throttled");
}

/// A firewall on the side vault from 1m: its 403s name `kv-side-lab` (FACTS §5); the chain on
/// the open vault keeps completing rotations and reads healthy at every later time.
#[test]
fn a_firewalled_second_vault_is_not_the_first_chains_failure() {
    let firewall = "apiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata: {name: t}\nspec:\n  events:\n    - at: 1m\n      applyFault: {id: vault-firewall}\n";
    for minutes in [5, 12] {
        let (main, side) = run(SIDE, firewall, Duration::from_secs(minutes * 60));
        assert_only_side_fails(&main, &side, &format!("firewall at {minutes}m"));
    }
}

/// A rotation failure that names neither vault nor object (the side SPC's `objects` no longer
/// parses): it cannot be tied to one SPC by its text, and the chain whose own Secret rotated
/// at the same poll or later (FACTS §3 `SecretRotationComplete`, §11 Evidence ages) does not
/// take it as its failure.
#[test]
fn an_unnamed_rotation_failure_is_not_the_chain_whose_own_rotation_completes() {
    let broken = "apiVersion: lab.kvchain.dev/v1\nkind: Timeline\nmetadata: {name: t}\nspec:\n  events:\n    - at: 1m\n      applyFault: {id: break-objects-yaml}\n";
    let (main, side) = run(SIDE, broken, Duration::from_secs(12 * 60));
    assert_only_side_fails(&main, &side, "objects broken");
}
