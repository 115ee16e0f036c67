//! The `telerad` command. Its subcommands' modules (clap's types among them) are this
//! binary's own, not the library's API; `load` is also compiled into `tests/faults.rs`.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod commands;
mod load;
mod logging;
mod split;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let verbose = matches!(&cli.command, cli::Command::Serve(a) if a.verbose);
    if let Err(f) = logging::init(cli.log_format, cli.log_level.as_deref(), if verbose { "debug" } else { "info" }) {
        let (cli::Failure::Rejected(m) | cli::Failure::Usage(m)) = &f;
        eprintln!("telerad: {m}");
        return f.exit_code();
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli::run(cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let (cli::Failure::Rejected(m) | cli::Failure::Usage(m)) = &f;
            if !m.is_empty() {
                eprintln!("telerad: {m}");
            }
            f.exit_code()
        }
    }
}
