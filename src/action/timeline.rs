//! Watching a rotation or a restart propagate, hop by hop.
//!
//! Pure: a watch is fed successive [`Snapshot`]s and reports a [`Timeline`] of steps with
//! times relative to the action. It sees only observations, so it works the same on the lab
//! and on live clusters (where file contents are unknown until verified in the container).
//! Between snapshots it is fed the source's clock ([`RotationWatch::tick`]): a quiet lab or
//! cluster sends no new snapshot, yet the deadline still passes and the verdict is due.
//!
//! `steps` holds what both watches share (step states, the timeline, the per-hop verdict);
//! `rotation` and `restart` are the two watches, each using only `steps`.

mod failures;
mod pods;
mod restart;
mod rotation;
mod steps;
#[cfg(test)]
mod testkit;

pub use restart::RestartWatch;
pub use rotation::RotationWatch;
pub(crate) use rotation::vault_object;
pub use steps::{Step, StepState, Timeline, short_duration};
