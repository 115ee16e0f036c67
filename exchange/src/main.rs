#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = telerad_exchange::cli::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match telerad_exchange::cli::run(cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let (telerad_exchange::cli::Failure::Rejected(m) | telerad_exchange::cli::Failure::Usage(m)) = &f;
            if !m.is_empty() {
                eprintln!("telerad: {m}");
            }
            f.exit_code()
        }
    }
}
