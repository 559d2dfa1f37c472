//! What rewrites a synced Secret that already exists, said true of every driver version:
//! kvchain reads none. Before v1.6 the SPC pod status controller only creates a missing Secret
//! and the rotation reconciler alone patches one (FACTS §2, §11, [D5]); v1.6.0's controller
//! calls `createOrUpdateK8sSecret` at every reconcile — a new mount's status, and every 5
//! minutes — and updates the Secret when the create answers AlreadyExists ([D]
//! `controllers/secretproviderclasspodstatus_controller.go`). Audit VVV-honest.

/// A restart does not rewrite the Secret on a driver before v1.6.
pub const BEFORE_V16: &str =
    "a driver before v1.6 never rewrites an existing synced Secret at a restart";

/// What a v1.6 driver does instead (a clause to follow [`BEFORE_V16`]'s sentence).
pub const V16_REWRITES: &str = "a v1.6 driver rewrites it from the new pod's mount at its controller's next reconcile, which may come after the container read it";

/// The same, said of a mount (the driver's own words: create, else update).
pub const AT_MOUNT: &str = "a driver before v1.6 never rewrites an existing one at mount; v1.6 updates it from the mount at its next reconcile, within 5 minutes";
