//! `check -o sarif`: SARIF 2.1.0 (serde-sarif types) for code-scanning UIs.
//!
//! One rule per catalog code (help from `docs/codes.yaml`), one result per finding. From
//! manifests a result points at the file and the line of the object to change (the finding's
//! resource, else the chain's workload or pod); every result also carries a logical location
//! `namespace/Kind/name`. Suppressed findings are results with a `suppressions` entry
//! (`inSource` for an annotation, `external` for a config rule), as the spec intends. What
//! could not be read is in `invocations[0]` ([`super::invocation`]).
//!
//! A finding that only follows from an earlier link's cause ("blocked by Sync") is counted
//! apart by `check` and decides no exit status (README "Finding codes"): its result is level
//! `note` — SARIF 2.1.0 §3.27.10, the least severe failure, which code scanning neither counts
//! as an error nor fails a pull-request check on — with `properties.blockedBy` naming the link
//! and `properties.severity` keeping its own severity; one cause is one `error` (audit FF2).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;
use serde_sarif::sarif::{
    ArtifactLocation, Location, LogicalLocation, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Suppression, Tool, ToolComponent,
};
use sha2::{Digest, Sha256};

use super::{Context, findings_with_chain};
use crate::chain::{Chain, Code, Finding, Severity};
use crate::codedoc;
use crate::shown::{shown, shown_string};
use crate::snapshot::Snapshot;
use crate::source::manifest_scan::Origin;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const README: &str = "https://github.com/kvchain/kvchain#finding-codes";

pub fn render(snapshot: &Snapshot, chains: &[Chain], cx: &Context) -> String {
    let rules: Vec<ReportingDescriptor> = Code::ALL.iter().map(|&c| rule(c)).collect();
    // The findings of SecretProviderClasses no chain mounts too: they fail the run.
    let results: Vec<SarifResult> = findings_with_chain(chains, cx.spcs)
        .into_iter()
        .map(|(f, c)| result(&f, c, cx))
        .collect();
    let driver = ToolComponent::builder()
        .name("kvchain")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://github.com/kvchain/kvchain")
        .rules(rules)
        .notifications(super::invocation::descriptors())
        .build();
    let gaps = snapshot.gaps();
    let undetermined = chains
        .iter()
        .filter(|c| crate::chain::waits_unexplained(c))
        .count();
    let mut properties = BTreeMap::from([
        ("source".to_string(), json!(snapshot.source.kind.as_str())),
        ("label".to_string(), json!(shown(&snapshot.source.label))),
        ("chains".to_string(), json!(chains.len())),
        // True whenever `check` exits 3 for what it could not read: chains may be missing, one
        // has no verdict (`undetermined` counts those), or one is not verified.
        (
            "incomplete".to_string(),
            json!(crate::report::undetermined(snapshot, chains)),
        ),
        ("undetermined".to_string(), json!(undetermined)),
        ("gaps".to_string(), json!(gaps.len())),
    ]);
    // What `--min-severity` hid is counted, as JSON's `summary.hidden`: hidden warnings that
    // fail the run would otherwise leave an empty `results` under exit 1 (audit MMM-out).
    let hidden = &snapshot.source.hidden;
    if hidden.total() > 0 {
        properties.insert("hidden".to_string(), json!(hidden.total()));
        properties.insert("hiddenFailing".to_string(), json!(hidden.failing));
    }
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        // A clean run still says so: an empty array, not a missing one.
        .results(results)
        // What could not be read: without it an empty `results` reads as healthy.
        .invocations(vec![super::invocation::invocation(snapshot, &gaps, chains)])
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build();
    let log = Sarif::builder()
        .schema(SCHEMA)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut out = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| format!("{{\"error\": {:?}}}", e.to_string()));
    out.push('\n');
    out
}

/// A result's level: a blocked finding's is `note`, whatever its severity.
fn level(f: &Finding) -> ResultLevel {
    if f.follows.is_some() {
        return ResultLevel::Note;
    }
    match f.severity {
        Severity::Error => ResultLevel::Error,
        Severity::Warning => ResultLevel::Warning,
        Severity::Info => ResultLevel::Note,
    }
}

fn rule(c: Code) -> ReportingDescriptor {
    let doc = codedoc::get(c);
    let full = if doc.means.is_empty() {
        c.title().to_string()
    } else {
        doc.means.clone()
    };
    ReportingDescriptor::builder()
        .id(c.as_str())
        .name(c.title())
        .short_description(MultiformatMessageString::builder().text(c.title()).build())
        .full_description(MultiformatMessageString::builder().text(full).build())
        .help(
            MultiformatMessageString::builder()
                .text(codedoc::text(c))
                .markdown(codedoc::markdown(c))
                .build(),
        )
        .help_uri(README)
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(match c.severity() {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "note",
                }))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(vec![c.link().as_str().to_string(), "kubernetes".into()])
                .build(),
        )
        .build()
}

/// One result; `chain` is `None` for a finding of a SecretProviderClass no chain mounts (no
/// `chain` property then, `mountedByNoPod` instead).
fn result(f: &Finding, chain: Option<&Chain>, cx: &Context) -> SarifResult {
    let text = format!("{} Fix: {}", f.message, f.fix);
    let mut props = BTreeMap::from([
        ("namespace".to_string(), json!(shown(&f.namespace))),
        ("resource".to_string(), json!(f.resource)),
        ("link".to_string(), json!(f.link.as_str())),
        ("confirm".to_string(), json!(f.confirm)),
        ("fix".to_string(), json!(f.fix)),
    ]);
    match chain {
        Some(c) => props.insert("chain".into(), json!(shown(&c.id))),
        None => props.insert("mountedByNoPod".into(), json!(true)),
    };
    if !f.evidence.is_empty() {
        props.insert("evidence".into(), json!(f.evidence));
    }
    if let Some(cause) = f.follows {
        props.insert("blockedBy".into(), json!(cause.as_str()));
        props.insert("severity".into(), json!(f.severity.as_str()));
    }
    let mut b = SarifResult::builder()
        .rule_id(f.code.as_str())
        .rule_index(Code::ALL.iter().position(|c| *c == f.code).unwrap_or(0) as i64)
        .level(level(f))
        .message(Message::builder().text(text).build())
        .locations(vec![location(f, chain, cx)])
        .partial_fingerprints(BTreeMap::from([(
            "kvchainFinding/v1".to_string(),
            fingerprint(f),
        )]))
        .properties(PropertyBag::builder().additional_properties(props).build())
        .build();
    if let Some(s) = &f.suppressed {
        let kind = if s.by.starts_with("annotation") {
            "inSource"
        } else {
            "external"
        };
        let justification = match &s.reason {
            Some(r) => format!("{} ({})", shown(&s.by), shown(r)),
            None => shown_string(s.by.clone()),
        };
        b.suppressions = Some(vec![
            Suppression::builder()
                .kind(json!(kind))
                .status(json!("accepted"))
                .justification(justification)
                .build(),
        ]);
    }
    b
}

/// Stable across runs (no message: messages carry observed values that may change).
fn fingerprint(f: &Finding) -> String {
    let mut h = Sha256::new();
    for part in [f.code.as_str(), &f.namespace, &f.resource] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

fn location(f: &Finding, chain: Option<&Chain>, cx: &Context) -> Location {
    let logical = LogicalLocation::builder()
        .fully_qualified_name(format!("{}/{}", shown(&f.namespace), f.resource))
        .name(f.resource.to_string())
        .kind("resource")
        .build();
    let mut loc = Location::builder().logical_locations(vec![logical]).build();
    if let Some(o) = cx.scan.and_then(|s| origin(s, f, chain)) {
        loc.physical_location = Some(
            PhysicalLocation::builder()
                .artifact_location(artifact(&o.file, cx.base))
                .region(Region::builder().start_line(o.line as i64).build())
                .build(),
        );
    }
    loc
}

/// Where a manifest was read from. Standard input has no file: `uri` must be a valid URI
/// reference (SARIF 2.1.0 §3.4.3 and the schema's `uri-reference`; `<stdin>` is none, audit
/// Y6), and GitHub code scanning refuses a result whose location has no `uri` (audit AA5), so
/// it is the relative reference `stdin`, described as standard input, the line still given.
fn artifact(file: &Path, base: Option<&Path>) -> ArtifactLocation {
    if file == Path::new(crate::source::manifests::files::STDIN) {
        return ArtifactLocation::builder()
            .uri(STDIN_URI)
            .description(
                Message::builder()
                    .text("standard input (check -f -)")
                    .build(),
            )
            .build();
    }
    ArtifactLocation::builder().uri(uri(file, base)).build()
}

/// The `uri` of standard input: a relative reference no repository file is likely to have.
const STDIN_URI: &str = "stdin";

/// The object to change if the manifests define it, else the chain's workload, else its pod.
fn origin<'a>(
    scan: &'a crate::source::manifest_scan::Scan,
    f: &Finding,
    chain: Option<&Chain>,
) -> Option<&'a Origin> {
    let found = scan.origin_of(&f.namespace, &f.resource);
    let chain = match chain {
        Some(c) => c,
        None => return found,
    };
    found
        .or_else(|| {
            chain
                .workload
                .as_ref()
                .and_then(|w| scan.origin(&chain.namespace, &w.kind, &w.name))
        })
        .or_else(|| scan.origin(&chain.namespace, "Pod", &chain.pod))
        .or_else(|| scan.origin(&chain.namespace, "SecretProviderClass", &chain.spc))
}

/// A relative, forward-slash URI when the file is under `base` (how code scanning matches
/// files to the repository), else the path as given; percent-encoded (RFC 3986: a space,
/// `#`, `%`, `?` or a non-ASCII letter in a name is no URI character), `:` too so a first
/// segment never reads as a scheme.
fn uri(file: &Path, base: Option<&Path>) -> String {
    let rel = base.and_then(|b| file.strip_prefix(b).ok()).unwrap_or(file);
    let s = rel.to_string_lossy().replace('\\', "/");
    let s = s.strip_prefix("./").unwrap_or(&s);
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => out.push(b as char),
            b'-' | b'.' | b'_' | b'~' | b'/' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' => {
                out.push(b as char)
            }
            b'*' | b'+' | b',' | b';' | b'=' | b'@' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
