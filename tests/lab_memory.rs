//! The lab's memory goal as a guard: `check --lab generated:10000` peaks at 150 MB or less
//! (README, scale goals). Its own process, so the peak is the lab's and nothing else's. A
//! ReplicaSet holding a parsed copy of its template's pod spec once put the peak at 157 MB
//! and nobody saw it for a day: this test fails on that.

#![cfg(all(target_os = "linux", not(feature = "system-alloc")))]

/// The goal, in KiB as the kernel counts a peak (150 MB).
const GOAL_KIB: i64 = 150_000_000 / 1024;

/// The process's peak resident memory so far, in KiB.
fn peak_kib() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss
}

#[test]
fn the_generated_ten_thousand_pod_lab_and_its_diagnosis_peak_within_the_goal() {
    let snapshot = kvchain::source::lab::run_check("generated:10000", None).expect("the lab runs");
    let chains = kvchain::chain::diagnose(&snapshot);
    assert_eq!(chains.len(), 10_000, "one chain per pod");
    let peak = peak_kib();
    assert!(
        peak <= GOAL_KIB,
        "the 10,000-pod lab and its diagnosis peaked at {peak} KiB, over the goal of {GOAL_KIB} KiB (150 MB)"
    );
}
