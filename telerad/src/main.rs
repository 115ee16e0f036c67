use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = telerad::cli::Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match telerad::cli::run(cli, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            let (telerad::cli::Failure::Rejected(m) | telerad::cli::Failure::Usage(m)) = &f;
            if !m.is_empty() {
                eprintln!("telerad: {m}");
            }
            f.exit_code()
        }
    }
}
