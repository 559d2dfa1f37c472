use std::process::ExitCode;

fn main() -> ExitCode {
    // A shell asking for completions (COMPLETE=bash kvchain …) is answered and exits here.
    kvchain::cli::complete::answer_if_asked();
    let cli = kvchain::cli::parse_args();
    // `serve` draws no terminal: its log is its stderr (`kubectl logs`).
    let logged = if matches!(cli.command, Some(kvchain::cli::Command::Serve(_))) {
        kvchain::logging::init_serve_from_env()
    } else {
        kvchain::logging::init_from_env().map(drop)
    };
    if let Err(why) = logged {
        kvchain::say!("kvchain: not logging: {why}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            kvchain::say!("kvchain: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(kvchain::commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            kvchain::say!("kvchain: {e:#}");
            ExitCode::from(2)
        }
    }
}
