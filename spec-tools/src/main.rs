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
    /// Read the guide's pages (IG/input/pagecontent) into the table-derived spec files.
    Extract {
        /// Root of a copy of the guide's repository (holds input/pagecontent/).
        #[arg(long)]
        ig: PathBuf,
        /// The folder that receives telerad/*.tables.json (e.g. a copy of spec/).
        #[arg(long)]
        out: PathBuf,
        /// Exit 1 when a cell could not be interpreted (it is always reported).
        #[arg(long)]
        strict: bool,
    },
    /// Every failable statement of the profiles with the case that breaks it (or why none),
    /// run through the validator; ends with `proven M/N`. Exit 1 when a case fails.
    Coverage {
        #[arg(long, default_value = "spec")]
        spec: PathBuf,
        /// Valid messages the cases are made from (one or more per profile).
        #[arg(long, default_value = "tests/fixtures")]
        fixtures: PathBuf,
        /// Print only the statements that are not proven, then the total.
        #[arg(long)]
        unproven: bool,
    },
    /// What changed between two spec folders, in HL7 terms and for the generated API.
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Exit 3 when a change breaks the generated API.
        #[arg(long)]
        fail_on_breaking: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate { spec, out, runtime_path } => {
            match hl7_spec_tools::codegen_config(&spec).runtime_path(runtime_path).out_dir(&out).build() {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("hl7-codegen: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Extract { ig, out, strict } => hl7_spec_tools::extract::run(&ig, &out, strict),
        Command::Coverage { spec, fixtures, unproven } => match hl7_spec_tools::coverage::run(&spec, &fixtures) {
            Ok(report) => {
                print!("{}", report.render(unproven));
                if report.failed().next().is_some() {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => {
                eprintln!("hl7-codegen coverage: {e}");
                ExitCode::from(2)
            }
        },
        Command::Diff { old, new, json, fail_on_breaking } => hl7_spec_tools::diff::run(&old, &new, json, fail_on_breaking),
    }
}
