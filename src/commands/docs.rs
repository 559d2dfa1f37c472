//! `kvchain explain`, `kvchain codes`, `kvchain completions`, `kvchain man`: documentation
//! where the user is. The text comes from [`crate::codedoc`] and the clap definition.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::chain::Code;
use crate::cli::{Cli, CodesFormat, CompletionShell};
use crate::codedoc;

pub fn explain(code: &str) -> anyhow::Result<ExitCode> {
    let Some(c) = Code::parse(&code.trim().to_ascii_uppercase()) else {
        let near: Vec<&str> = Code::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|c| strsim::levenshtein(c, &code.to_ascii_uppercase()) <= 1)
            .collect();
        let hint = if near.is_empty() {
            String::new()
        } else {
            format!(" (did you mean {}?)", near.join(", "))
        };
        anyhow::bail!("unknown code {code:?}{hint}; `kvchain codes` lists them");
    };
    super::stdout::print(codedoc::text(c))?;
    Ok(ExitCode::SUCCESS)
}

pub fn codes(format: CodesFormat, readme_table: bool) -> anyhow::Result<ExitCode> {
    if readme_table {
        super::stdout::print(codedoc::readme_table())?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = match format {
        CodesFormat::Text => Code::ALL
            .iter()
            .map(|c| {
                format!(
                    "{c}  {:<14} {:<7}  {}\n",
                    c.link().as_str(),
                    c.severity().as_str(),
                    c.title()
                )
            })
            .collect::<String>(),
        CodesFormat::Json => serde_json::to_string_pretty(&codedoc::listed())? + "\n",
    };
    super::stdout::print(text)?;
    Ok(ExitCode::SUCCESS)
}

pub fn completions(shell: CompletionShell) -> anyhow::Result<ExitCode> {
    super::stdout::print(crate::cli::complete::script(shell)?)?;
    Ok(ExitCode::SUCCESS)
}

pub fn man() -> anyhow::Result<ExitCode> {
    super::stdout::print(man_page()?)?;
    Ok(ExitCode::SUCCESS)
}

/// The roff man page of `kvchain`, from the clap definition.
pub fn man_page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    // The derived synopsis would put the TUI's flags before a command, which the command line
    // refuses: each command owns its flags.
    let cmd = Cli::command().override_usage(
        "kvchain [OPTIONS]\nkvchain COMMAND [ARGS] (a command's flags: kvchain COMMAND --help)",
    );
    clap_mangen::Man::new(cmd).render(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_man_page_is_roff_listing_the_commands() {
        let page = String::from_utf8(super::man_page().unwrap()).unwrap();
        assert!(page.contains(".TH kvchain 1"), "{page}");
        for sub in ["check", "explain", "completions", "snapshot"] {
            assert!(page.contains(sub), "{sub} missing");
        }
        // The synopsis shows the two forms: the TUI's flags, or a command with its own.
        let synopsis = page
            .split(".SH SYNOPSIS")
            .nth(1)
            .and_then(|s| s.split(".SH").next())
            .unwrap();
        assert!(synopsis.contains("kvchain\\fR [OPTIONS]"), "{synopsis}");
        assert!(synopsis.contains("COMMAND [ARGS]"), "{synopsis}");
        assert!(!synopsis.contains("subcommands"), "{synopsis}");
    }

    #[test]
    fn explain_refuses_an_unknown_code_and_suggests_near_ones() {
        let e = super::explain("KVC41").unwrap_err().to_string();
        assert!(e.contains("KVC401") && !e.contains("KVC101"), "{e}");
        assert!(super::explain("kvc401").is_ok());
    }
}
