//! Shell completions through clap_complete's environment protocol: the script a shell sources
//! calls `kvchain` back with `COMPLETE=<shell>`, so values known only at run time complete
//! too — `--context` from the kubeconfig (KUBECONFIG, else ~/.kube/config), scenario names for
//! `demo` and `--lab`.

use clap::CommandFactory;
use clap_complete::engine::CompletionCandidate;
use clap_complete::env::Shells;

use super::{Cli, CompletionShell};

/// The environment variable the registration scripts set when they call back.
pub const VAR: &str = "COMPLETE";

/// Answer a completion request if this process is one (call first thing in `main`).
pub fn answer_if_asked() {
    clap_complete::CompleteEnv::with_factory(Cli::command)
        .var(VAR)
        .complete();
}

/// The registration script for `shell`.
pub fn script(shell: CompletionShell) -> anyhow::Result<String> {
    let name = match shell {
        CompletionShell::Bash => "bash",
        CompletionShell::Zsh => "zsh",
        CompletionShell::Fish => "fish",
        CompletionShell::Powershell => "powershell",
    };
    let shells = Shells::builtins();
    let completer = shells
        .completer(name)
        .ok_or_else(|| anyhow::anyhow!("no completer for {name}"))?;
    let mut buf = Vec::new();
    completer.write_registration(VAR, "kvchain", "kvchain", "kvchain", &mut buf)?;
    Ok(String::from_utf8(buf)?)
}

/// Built-in scenario names (and the `generated:N` form).
pub fn scenarios() -> Vec<CompletionCandidate> {
    let mut v: Vec<CompletionCandidate> = crate::source::lab::builtin_scenarios()
        .into_iter()
        .map(|(name, title)| CompletionCandidate::new(name).help(Some(title.into())))
        .collect();
    v.push(
        CompletionCandidate::new("generated:100").help(Some("a generated world of N pods".into())),
    );
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shell_gets_a_script_that_calls_kvchain_back() {
        for shell in [
            CompletionShell::Bash,
            CompletionShell::Zsh,
            CompletionShell::Fish,
            CompletionShell::Powershell,
        ] {
            let s = script(shell).unwrap();
            assert!(s.contains("kvchain"), "{shell:?}: {s}");
            assert!(
                s.contains(VAR),
                "{shell:?} does not call back with {VAR}: {s}"
            );
        }
    }

    fn complete(args: &[&str]) -> Vec<String> {
        let mut cmd = Cli::command();
        let args: Vec<std::ffi::OsString> = args.iter().map(Into::into).collect();
        let index = args.len() - 1;
        clap_complete::engine::complete(&mut cmd, args, index, None)
            .unwrap()
            .into_iter()
            .map(|c| c.get_value().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn scenario_names_complete_for_demo_and_lab() {
        let demo = complete(&["kvchain", "demo", "def"]);
        assert!(demo.contains(&"default".to_string()), "{demo:?}");
        let lab = complete(&["kvchain", "check", "--lab", ""]);
        assert!(lab.contains(&"default".to_string()), "{lab:?}");
    }

    #[test]
    fn each_command_completes_its_own_flags() {
        let demo = complete(&["kvchain", "demo", "--"]);
        assert!(demo.contains(&"--lesson".to_string()), "{demo:?}");
        assert!(!demo.contains(&"--fail-on".to_string()), "{demo:?}");
        assert!(!demo.contains(&"--context".to_string()), "{demo:?}");
        let check = complete(&["kvchain", "check", "--"]);
        assert!(check.contains(&"--fail-on".to_string()), "{check:?}");
        assert!(check.contains(&"--context".to_string()), "{check:?}");
        assert!(!check.contains(&"--speed".to_string()), "{check:?}");
    }
}
