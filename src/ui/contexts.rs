//! `:ctx` — list the kubeconfig's contexts or switch to one, like k9s. The UI only asks; the
//! live source does the switching ([`crate::source::live::switch`]) and its next snapshot
//! carries the new context's name to the status bar. Filter and theme are the UI's and stay.

use super::app::{Effect, Level};
use crate::snapshot::SourceKind;
use crate::source::SourceCommand;

/// What `:ctx [NAME]` does on a source of `kind`: the effect to send, or why there is none.
pub fn command(kind: SourceKind, arg: Option<&str>) -> Result<(Effect, String, Level), String> {
    if kind != SourceKind::Live {
        return Err(format!(
            "no kube contexts: this is the {}",
            match kind {
                SourceKind::Lab => "lab",
                _ => "manifests view",
            }
        ));
    }
    let say = match arg {
        Some(name) => (format!("switching to context {name}…"), Level::Info),
        None => (
            "reading the kubeconfig's contexts…".to_string(),
            Level::Info,
        ),
    };
    Ok((
        Effect::Command(SourceCommand::Context(arg.map(String::from))),
        say.0,
        say.1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctx_asks_the_live_source_and_nothing_else_has_contexts() {
        match command(SourceKind::Live, Some("aks-b")) {
            Ok((Effect::Command(SourceCommand::Context(Some(n))), msg, _)) => {
                assert_eq!(n, "aks-b");
                assert!(msg.contains("aks-b"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            command(SourceKind::Live, None),
            Ok((Effect::Command(SourceCommand::Context(None)), _, _))
        ));
        assert!(
            command(SourceKind::Lab, Some("x"))
                .unwrap_err()
                .contains("lab")
        );
    }
}
