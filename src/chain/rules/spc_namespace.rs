//! Pod link, from manifests: a SecretProviderClass written without `metadata.namespace` is
//! taken to be applied with `-n` into the namespace of the pods that name it (README `check
//! -f`). The driver reads the SPC from the pod's namespace only (FACTS §3, §11), and a plain
//! `kubectl apply -f` puts the document in the context's namespace: the assumption is said
//! (KVC101 as an info: the fix is where the document lands). One document applied once lands
//! in one namespace, so when pods of several namespaces name it, all but one find nothing
//! unless it is applied again: a warning there. Which namespace is kept is not in the files;
//! kvchain keeps the first in alphabetical order and says so.

use crate::chain::catalog::Code;
use crate::chain::context::Ctx;
use crate::chain::model::{Link, Severity};

pub(crate) fn check(cx: &Ctx, link: &mut Link) {
    let Some(spc) = cx.spc else {
        return;
    };
    let Some(nl) = &spc.namespace_less else {
        return;
    };
    let ns = cx.ns();
    let Some(first) = nl.namespaces.first() else {
        return;
    };
    if !nl.namespaces.iter().any(|n| n == ns) {
        return;
    }
    let name = &spc.name;
    let file = spc.file.as_deref().unwrap_or("the file defining it");
    let evidence = vec![
        format!("{file}: SecretProviderClass {name} has no metadata.namespace"),
        format!("pods naming it in namespaces: {}", nl.namespaces.join(", ")),
    ];
    let confirm = format!("kubectl get secretproviderclass {name} -n {ns}");
    let (severity, message, fix) = if first == ns {
        let shared = match nl.namespaces.len() {
            1 => String::new(),
            _ => format!(
                "; pods in namespaces {} name it too, and one apply puts it in one namespace: kvchain takes it to be this one (the first in alphabetical order) and warns for the others",
                nl.namespaces[1..].join(", ")
            ),
        };
        (
            Severity::Info,
            format!(
                "SecretProviderClass {name} has no metadata.namespace: it must be applied with -n {ns} (as kvchain assumes); applied without -n it lands in the context's namespace, and the driver, which reads it from the pod's namespace only, finds none in {ns}{shared}"
            ),
            format!(
                "# in {file}: add metadata.namespace: {ns} to SecretProviderClass {name}, so any apply puts it where the pods read it"
            ),
        )
    } else {
        (
            Severity::Warning,
            format!(
                "SecretProviderClass {name} has no metadata.namespace and pods in namespaces {} name it: one kubectl apply puts the document in one namespace only, taken here to be {first} (the first in alphabetical order), so unless it is applied again into {ns} the driver finds none here (\"failed to get secretproviderclass {ns}/{name} … not found\")",
                nl.namespaces.join(", ")
            ),
            format!(
                "# in {file}: keep SecretProviderClass {name} once per namespace - add metadata.namespace: {first} to it and a copy of the document with metadata.namespace: {ns}"
            ),
        )
    };
    let mut f = cx.finding(
        Code::KVC101,
        cx.spc_resource(),
        message,
        evidence,
        confirm,
        fix,
    );
    f.severity = severity;
    link.findings.push(f);
}
