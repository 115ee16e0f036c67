//! The `telerad` command. The README's "Command line" section is its reference; exit codes are
//! the same for every subcommand: 0 every message accepted, 1 a message was not accepted (not
//! parsable, no profile, invalid), 2 usage, I/O, network or configuration error.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use hl7_runtime::{Message, ParseOptions};

use telerad::AnyMessage;

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
    /// Validate messages against the guide's profiles: every finding, located in HL7 terms.
    Validate(ValidateArgs),
    /// Print the ACK the guide prescribes for a message (AA, AE with located ERR, or AR).
    Ack(AckArgs),
    /// List the profiles `--profile` accepts.
    Profiles,
    /// Receive messages over MLLP as the platform or the RIS: validate, apply the order
    /// workflow, store, then acknowledge.
    Serve(crate::commands::ServeArgs),
    /// Send message files over MLLP and print `MSH-10<TAB>MSA-1` for each.
    Send(crate::commands::SendArgs),
    /// Answer a stored request with a flow-3 OK or OC.
    Respond(crate::commands::RespondArgs),
    /// Show the orders of a store, their state and history.
    Orders(crate::commands::OrdersArgs),
    /// Measure ACKed messages per second against a receiver (see BENCHMARKS.md).
    #[command(hide = true)]
    Load(crate::commands::LoadArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// `--charset-fallback`: the set a mislabelled message may be read in, when asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CharsetFallback {
    /// A message labelled 8859/1 or 8859/15 holding bytes 0x80–0x9F (C1 control codes in ISO
    /// 8859, letters such as `Œ` in Windows-1252) is read as Windows-1252, with a warning.
    #[value(name = "windows-1252")]
    Windows1252,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Message files (ER7); `-` reads standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Use this profile instead of choosing it from MSH-9 and ORC-1.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// `json`: one JSON object per file, one per line.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Parse leniently (LF terminators, malformed escapes kept raw, unknown MSH-18 as Latin-1).
    #[arg(long)]
    pub lenient: bool,
    /// Read a message labelled 8859/1 or 8859/15 that holds bytes 0x80–0x9F as this set, with
    /// a warning at MSH-18 (without it such a message is an error, in lenient mode too).
    #[arg(long, value_enum, value_name = "CHARSET")]
    pub charset_fallback: Option<CharsetFallback>,
    /// For ACK files: the message they acknowledge, so that the rules comparing the two
    /// (MSH-3..6 swapped, MSA-2 = MSH-10 …) are evaluated.
    #[arg(long, value_name = "FILE")]
    pub original: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AckArgs {
    #[command(flatten)]
    pub input: Input,
    /// This system's MSH-3 when the inbound MSH-5 is empty (or the message is unreadable).
    #[arg(long, default_value = "TELERAD")]
    pub application: String,
    /// This system's MSH-4 when the inbound MSH-6 is empty.
    #[arg(long, default_value = "TELERAD")]
    pub facility: String,
    /// MSH-7 of the ACK (default: now, local time with its UTC offset, YYYYMMDDHHMMSS+ZZZZ).
    #[arg(long, value_name = "DTM")]
    pub now: Option<String>,
    /// MSH-10 of the ACK (default: `ACK` followed by MSH-7 without its offset).
    #[arg(long, value_name = "ID")]
    pub control_id: Option<String>,
    /// Answer AR with this reason (the receiver cannot take the message now; it may be resent).
    #[arg(long, value_name = "TEXT")]
    pub reject: Option<String>,
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
        Command::Validate(args) => validate(&args, out),
        Command::Ack(args) => ack(&args, out),
        Command::Serve(args) => crate::commands::serve(&args, out),
        Command::Send(args) => crate::commands::send(&args, out),
        Command::Respond(args) => crate::commands::respond(&args, out),
        Command::Orders(args) => crate::commands::orders(&args, out),
        Command::Load(args) => crate::commands::load(&args, out),
        Command::Profiles => {
            for p in telerad::REGISTRY.profiles {
                let event = p.event.unwrap_or("*");
                writeln!(out, "{}\t{}^{}^{}\t{}", p.profile, p.code, event, p.structure, p.title).map_err(io_failure)?;
            }
            Ok(())
        }
    }
}

fn options(lenient: bool) -> ParseOptions {
    if lenient {
        ParseOptions::lenient()
    } else {
        ParseOptions::default()
    }
}

/// Every file is checked whatever happens to the others; exit 2 (usage, I/O) wins over 1.
fn validate(args: &ValidateArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let mut usage: Option<String> = None;
    let mut rejected = false;
    let original = match &args.original {
        Some(f) => Some(read(&Input { file: f.clone(), lenient: args.lenient, profile: None })?),
        None => None,
    };
    for file in &args.files {
        let input = Input { file: file.clone(), lenient: args.lenient, profile: args.profile.clone() };
        let bytes = match read(&input) {
            Ok(b) => b,
            Err(Failure::Usage(m) | Failure::Rejected(m)) => {
                eprintln!("telerad: {m}");
                usage.get_or_insert(String::new());
                continue;
            }
        };
        let parse = ParseOptions { windows_1252_fallback: args.charset_fallback.is_some(), ..options(args.lenient) };
        let checked = match telerad::check_with(&bytes, &parse, args.profile.as_deref(), original.as_deref()) {
            Ok(c) => c,
            Err(e) => return Err(Failure::Usage(e.to_string())),
        };
        rejected |= !checked.is_valid();
        let profile = checked.message.as_ref().map(|m| m.profile().profile);
        match args.format {
            Format::Json => {
                let line = serde_json::json!({
                    "file": file.display().to_string(),
                    "profile": profile,
                    "valid": checked.is_valid(),
                    "findings": checked.findings.iter().map(finding_json).collect::<Vec<_>>(),
                });
                writeln!(out, "{line}").map_err(io_failure)?;
            }
            Format::Text => {
                let errors = checked.findings.iter().filter(|f| f.severity == hl7_runtime::validate::Severity::Error).count();
                let verdict = if checked.is_valid() { "valid".to_owned() } else { format!("invalid ({errors} error(s))") };
                writeln!(out, "{}: {} [{}]", file.display(), verdict, profile.unwrap_or("no profile")).map_err(io_failure)?;
                for f in &checked.findings {
                    writeln!(out, "  {} {} {}: {} (rule {}, {})", severity(f.severity), f.code, f.location, f.message, f.rule, f.source).map_err(io_failure)?;
                }
            }
        }
    }
    match (usage, rejected) {
        (Some(m), _) => Err(Failure::Usage(m)),
        (None, true) => Err(Failure::Rejected(String::new())),
        (None, false) => Ok(()),
    }
}

fn severity(s: hl7_runtime::validate::Severity) -> &'static str {
    match s {
        hl7_runtime::validate::Severity::Error => "error",
        hl7_runtime::validate::Severity::Warning => "warning",
        hl7_runtime::validate::Severity::Info => "info",
    }
}

fn finding_json(f: &hl7_runtime::validate::Finding) -> serde_json::Value {
    serde_json::json!({
        "severity": severity(f.severity),
        "code": f.code,
        "location": {
            "segment": f.location.segment,
            "sequence": f.location.sequence,
            "field": f.location.field,
            "repetition": f.location.repetition,
            "component": f.location.component,
            "subcomponent": f.location.subcomponent,
        },
        "rule": f.rule,
        "message": f.message,
    })
}

/// Exit 0 whenever an ACK could be built, AE and AR included.
fn ack(args: &AckArgs, out: &mut dyn Write) -> Result<(), Failure> {
    use hl7_runtime::ack::{build, AckOptions, Decision, Identity};
    let bytes = read(&args.input)?;
    let checked = telerad::check(&bytes, &options(args.input.lenient), args.input.profile.as_deref()).map_err(|e| Failure::Usage(e.to_string()))?;
    let now = args.now.clone().unwrap_or_else(local_now);
    let control_id = args.control_id.clone().unwrap_or_else(|| format!("ACK{}", now.get(..14).unwrap_or(&now)));
    let clock = || now.clone();
    let next_id = || control_id.clone();
    let opts = AckOptions {
        receiver: Identity { application: args.application.clone(), facility: args.facility.clone() },
        clock: &clock,
        next_id: &next_id,
    };
    let decision = match &args.reject {
        Some(reason) => Decision::Reject { reason: reason.clone() },
        None => Decision::Accept,
    };
    let inbound = checked.message.as_ref().map(|m| &m.placed().message);
    // A message that parsed but fits no profile is still answered from its own header.
    let parsed_alone;
    let inbound = match inbound {
        Some(m) => Some(m),
        None => {
            parsed_alone = hl7_runtime::Message::parse_with(&bytes, &options(args.input.lenient)).ok();
            parsed_alone.as_ref()
        }
    };
    let ack = build(inbound, &bytes, &checked.findings, decision, &opts).map_err(|e| Failure::Usage(format!("cannot build the ACK: {e}")))?;
    out.write_all(&ack).map_err(io_failure)
}

/// Now, local time with its UTC offset, as an HL7 DTM to the second.
fn local_now() -> String {
    crate::clock::now().dtm
}

pub(crate) fn io_failure(e: std::io::Error) -> Failure {
    Failure::Usage(format!("cannot write output: {e}"))
}

fn read(input: &Input) -> Result<Vec<u8>, Failure> {
    read_path(&input.file)
}

/// A file's bytes, or standard input's for `-`; a failure is a usage error (exit 2).
pub(crate) fn read_path(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    let result = if path.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map(|_| ())
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map(|_| ())
    };
    result.map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    Ok(bytes)
}

fn typed<'a>(bytes: &'a [u8], input: &Input) -> Result<AnyMessage<'a>, Failure> {
    let options = if input.lenient { ParseOptions::lenient() } else { ParseOptions::default() };
    let name = input.file.display();
    let message = Message::parse_with(bytes, &options).map_err(|e| Failure::Rejected(format!("{name}: {e}")))?;
    match &input.profile {
        Some(id) => AnyMessage::with_profile(message, id).ok_or_else(|| {
            let known: Vec<&str> = telerad::REGISTRY.profiles.iter().map(|p| p.profile).collect();
            Failure::Usage(format!("unknown profile `{id}`; known: {}", known.join(", ")))
        }),
        None => AnyMessage::from_message(message).map_err(|e| Failure::Rejected(format!("{name}: {e}"))),
    }
}
