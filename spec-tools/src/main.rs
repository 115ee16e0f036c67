//! `hl7-codegen`: generate, extract, diff. Exit codes: see the README's "Regenerating from a
//! revised guide".

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "hl7-codegen", version, about = "HL7 v2 profile tooling for the telerad spec")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Dump the generated Rust code of a spec folder, for review.
    Generate {
        #[arg(long, default_value = "spec")]
        spec: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "::hl7_runtime")]
        runtime_path: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate { spec, out, runtime_path } => {
            match hl7_codegen::Config::new(&spec).runtime_path(runtime_path).out_dir(&out).build() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hl7-codegen: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}
