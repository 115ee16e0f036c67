//! The `telerad` command. The README's "Command line" section is its reference; exit codes are
//! the same for every subcommand: 0 every message accepted, 1 a message was not accepted (not
//! parsable, no profile, invalid), 2 usage, I/O, network or configuration error.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use hl7_runtime::{Message, ParseOptions};

use crate::AnyMessage;

#[derive(Debug, Parser)]
#[command(name = "telerad", version, about = "HL7 v2.5.1 messages of the CI-SIS teleradiology guide")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the typed message as JSON.
    Json(Input),
    /// Print the message re-encoded from the typed model (byte-identical when unmodified).
    Fmt(Input),
}

#[derive(Debug, Args)]
pub struct Input {
    /// The message file (ER7); `-` reads standard input.
    pub file: PathBuf,
    /// Accept LF/CRLF segment terminators, malformed escapes (kept raw) and unknown MSH-18
    /// values (read as Latin-1). Off by default: the guide's messages use CR and valid escapes.
    #[arg(long)]
    pub lenient: bool,
    /// Use this profile instead of choosing it from MSH-9 and ORC-1.
    #[arg(long, value_name = "ID")]
    pub profile: Option<String>,
}

/// Outcome of one command, mapped to the exit code contract.
#[derive(Debug)]
pub enum Failure {
    /// Exit 1: the message was not accepted.
    Rejected(String),
    /// Exit 2: usage, I/O or configuration.
    Usage(String),
}

impl Failure {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Failure::Rejected(_) => ExitCode::from(1),
            Failure::Usage(_) => ExitCode::from(2),
        }
    }
}

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Failure> {
    match cli.command {
        Command::Json(input) => {
            let bytes = read(&input)?;
            let msg = typed(&bytes, &input)?;
            let text = serde_json::to_string_pretty(&msg).map_err(|e| Failure::Usage(format!("cannot write JSON: {e}")))?;
            writeln!(out, "{text}").map_err(io_failure)
        }
        Command::Fmt(input) => {
            let bytes = read(&input)?;
            let msg = typed(&bytes, &input)?;
            out.write_all(&msg.placed().encode()).map_err(io_failure)
        }
    }
}

fn io_failure(e: std::io::Error) -> Failure {
    Failure::Usage(format!("cannot write output: {e}"))
}

fn read(input: &Input) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    let result = if input.file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(&input.file).and_then(|mut f| f.read_to_end(&mut bytes)).map(|_| ())
    };
    result.map_err(|e| Failure::Usage(format!("cannot read {}: {e}", input.file.display())))?;
    Ok(bytes)
}

fn typed<'a>(bytes: &'a [u8], input: &Input) -> Result<AnyMessage<'a>, Failure> {
    let options = if input.lenient { ParseOptions::lenient() } else { ParseOptions::default() };
    let name = input.file.display();
    let message = Message::parse_with(bytes, &options).map_err(|e| Failure::Rejected(format!("{name}: {e}")))?;
    match &input.profile {
        Some(id) => AnyMessage::with_profile(message, id).ok_or_else(|| {
            let known: Vec<&str> = crate::REGISTRY.profiles.iter().map(|p| p.profile).collect();
            Failure::Usage(format!("unknown profile `{id}`; known: {}", known.join(", ")))
        }),
        None => AnyMessage::from_message(message).map_err(|e| Failure::Rejected(format!("{name}: {e}"))),
    }
}
