//! The integration tests, one binary: linking each file on its own took ~110 MB of disk
//! and a link per file (47 of them). Tests that need a process of their own stay beside
//! this directory: `allocator` (reads process-wide allocator options), `live_scale`
//! (measures its own resident memory) and `serve_prometheus` (run by name in CI).

#[path = "../azure_support/mod.rs"]
mod azure_support;
#[path = "../exec_support/mod.rs"]
mod exec_support;
#[path = "../live_support/mod.rs"]
mod live_support;

mod actions_kube;
mod actions_lab;
mod azure_credentials;
mod azure_observe;
mod cause_kit;
mod check_azure_item_gaps;
mod check_ci;
mod check_classes;
mod check_fleet;
mod check_manifests;
mod check_pictures;
mod deploy_manifests;
mod engine_feed;
mod engine_props;
mod hostile_input;
mod lab_audit;
mod lab_consumers;
mod lab_credentials;
mod lab_daemonset;
mod lab_diagnosis;
mod lab_nodes;
mod lab_pending;
mod lab_pinned;
mod lab_placeholders;
mod lab_recovery;
mod lab_repairs;
mod lab_rollout;
mod lab_scenarios;
mod lab_sync_causes;
mod lab_world;
mod lesson_texts;
mod lessons;
mod live_actions;
mod live_connect;
mod live_contexts;
mod live_degrade;
mod live_gaps;
mod live_history;
mod live_nodes;
mod live_snapshot;
mod live_watch;
mod manifests_apply;
mod manifests_consumers;
mod manifests_objects;
mod parser_props;
mod report_text;
mod rules_cause;
mod rules_consumers;
mod rules_earlier_pod;
mod rules_events;
mod rules_fixes;
mod rules_identity;
mod rules_identity_fixes;
mod rules_network;
mod rules_pending;
mod rules_placement;
mod rules_repaired;
mod rules_rotation_repair;
mod rules_runtime;
mod rules_runtime_objects;
mod rules_spc_edited;
mod rules_spc_namespace;
mod rules_stale_secret;
mod rules_sync_readers;
mod rules_tenants;
mod rules_unstarted;
mod rules_wording;
mod scaled_to_zero;
mod serve_exporter;
mod snapshot_file;
mod spc_props;
mod ui_app;
mod ui_config;
mod ui_contexts;
mod ui_glance;
mod ui_lab_menu;
mod ui_no_data;
mod ui_pty;
mod ui_render;
mod ui_selection;
mod ui_timelines;
