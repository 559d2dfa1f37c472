//! FACTS §3: a mount whose objects exceed 4 MiB fails with `grpc: received message larger
//! than max`. The driver's doc (troubleshooting.md) says the files pulled in by the
//! SecretProviderClass are larger than the driver accepts and that `--max-call-recv-msg-size`
//! on its `secrets-store` container raises the limit (the Helm chart's `maxCallRecvMsgSize`).
//! The provider succeeded, so the cause is the SPC's size on the Mount link, not a message
//! "no rule explains" sending the user to the provider's logs.

use kvchain::chain::testkit::{self as tk};
use kvchain::chain::{Code, LinkKind, Status};

use super::cause_kit::*;

const TOO_LARGE: &str = "rpc error: code = ResourceExhausted desc = grpc: received message larger than max (5242990 vs. 4194304)";

#[test]
fn an_answer_over_the_drivers_limit_is_the_spcs_size() {
    let c = one(&failing_with(tk::healthy(), TOO_LARGE));
    assert_eq!(
        codes(&c),
        [Code::KVC708],
        "{:#?}",
        c.findings().collect::<Vec<_>>()
    );
    let f = find(&c, Code::KVC708);
    assert!(has_event(f), "{f:#?}");
    // The sizes the message gives are said.
    assert!(
        f.message.contains("5242990") && f.message.contains("4194304"),
        "{}",
        f.message
    );
    // Not the provider's logs: the driver refused the answer.
    assert!(
        !f.confirm.contains("provider-azure") && !f.fix.contains("kubectl logs"),
        "{}; {}",
        f.confirm,
        f.fix
    );
    assert!(
        f.confirm.contains("max-call-recv-msg-size"),
        "{}",
        f.confirm
    );
    // Both ways out the driver's doc allows: fewer objects, or a larger limit (Helm).
    assert!(f.fix.contains("parameters.objects"), "{}", f.fix);
    assert!(f.fix.contains("maxCallRecvMsgSize="), "{}", f.fix);
    assert_eq!(c.link(LinkKind::Mount).status, Status::Broken);
    assert!(with(&c, Code::KVC701).is_empty());
}
