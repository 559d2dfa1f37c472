//! The TUI. Placeholder until the TUI lands.

use crate::cli::Cli;
use crate::source::Source;

pub async fn run(_source: Box<dyn Source>, _cli: &Cli) -> anyhow::Result<()> {
    anyhow::bail!("the TUI is not built yet")
}
