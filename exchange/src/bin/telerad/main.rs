//! The `telerad` command. Its subcommands' modules (clap's types among them) are this
//! binary's own, not the library's API; `load` is also compiled into `tests/faults.rs`.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

mod cli;
mod commands;
mod config;
mod load;
mod logging;
mod split;

fn main() -> ExitCode {
    let matches = cli::Cli::command().get_matches();
    let mut cli = cli::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // `serve --config FILE`: the file fills what the command line did not give.
    if let (cli::Command::Serve(args), Some(sub)) = (&mut cli.command, matches.subcommand_matches("serve")) {
        if let Some(path) = args.config.clone() {
            match config::load(&path) {
                Ok(c) => args.inline_senders = config::apply(c, args, sub, &mut cli.log_format, &mut cli.log_level),
                Err(m) => {
                    eprintln!("telerad: {m}");
                    return cli::Failure::Usage(m).exit_code();
                }
            }
        }
    }
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
