//! The `telerad` command. The README's "Command line" section is its reference; exit codes are
//! the same for every subcommand: 0 every message accepted, 1 a message was not accepted (not
//! parsable, no profile, invalid), 2 usage, I/O, network or configuration error.

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use hl7_runtime::{Message, ParseOptions};

use telerad::AnyMessage;
pub use telerad_exchange::failure::{io_failure, Failure};

#[derive(Debug, Parser)]
#[command(name = "telerad", version, about = "HL7 v2.5.1 messages of the CI-SIS teleradiology guide")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The log on standard error: `text` lines or one JSON object per line.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: crate::logging::LogFormat,
    /// The log's level or filter (`error`, `warn`, `info`, `debug`, `trace`, or
    /// `info,telerad::connection=warn`); default `RUST_LOG`, else `info`.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the typed message as JSON.
    Json(Input),
    /// Print the message re-encoded from the typed model (byte-identical when unmodified;
    /// with `--lenient`, every segment ended by CR).
    Fmt(Input),
    /// Validate messages against the guide's profiles: every finding, located in HL7 terms.
    Validate(ValidateArgs),
    /// Print the ACK the guide prescribes for a message (AA, AE with located ERR, or AR).
    Ack(AckArgs),
    /// Write the messages of a file (several messages, or an FHS/BHS batch) one per file, or
    /// to standard output.
    Split(crate::split::SplitArgs),
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
    /// List the messages of a store (received and sent), filtered.
    Messages(crate::commands::MessagesArgs),
    /// Print one stored message with its findings and its ACK.
    Show(crate::commands::ShowArgs),
    /// Send a stored outbound message again (the same bytes) and record the new ACK.
    Resend(crate::commands::ResendArgs),
    /// Delete the messages of the orders that reached a final state (refused, cancelled) more
    /// than DAYS ago, then compact the store; open orders are never touched.
    Purge(crate::commands::PurgeArgs),
    /// Check a configuration file of `serve --config`: every problem, located.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Measure ACKed messages per second against a receiver (see BENCHMARKS.md).
    #[command(hide = true)]
    Load(crate::commands::LoadArgs),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Read FILE as `serve --config` would, and report every problem (exit 2), or `FILE: valid`.
    /// The store is not opened.
    Check {
        file: PathBuf,
    },
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

/// `validate --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    /// A line per message, its findings below it, the summary at the end.
    Text,
    /// One JSON object per message, one per line.
    Json,
    /// JUnit XML: a test case per message, a failure per error finding.
    Junit,
}

/// `--min-severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MinSeverity {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Message files (ER7: one message, several, or an FHS/BHS batch), folders (walked
    /// recursively, hidden entries skipped, files that do not start like HL7 skipped), or `-`
    /// for standard input.
    #[arg(required = true, value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Use this profile instead of choosing it from MSH-9 and ORC-1.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// `json`: one JSON object per message, one per line; `junit`: JUnit XML for CI.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ValidateFormat,
    /// Show (and count) only the findings of this severity or a more severe one; which
    /// messages are valid does not change.
    #[arg(long, value_enum, default_value = "info", value_name = "SEVERITY")]
    pub min_severity: MinSeverity,
    /// Text: one line per message without its findings, then the summary (printed anyway after
    /// more than one message). JSON: a last line `{"summary": …}`.
    #[arg(long)]
    pub summary: bool,
    /// Also write a self-contained HTML report (summary, each message with its findings
    /// highlighted) to this file.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Parse leniently (LF terminators, malformed escapes kept raw, unknown MSH-18 as Latin-1,
    /// a UTF-8 byte-order mark skipped).
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
    /// Accept LF/CRLF segment terminators and empty lines (`fmt` writes CR after every
    /// segment), malformed escapes (kept raw), unknown MSH-18 values (read as Latin-1) and a
    /// UTF-8 byte-order mark (skipped). Off by default: the guide's messages use CR and valid
    /// escapes.
    #[arg(long)]
    pub lenient: bool,
    /// Use this profile instead of choosing it from MSH-9 and ORC-1.
    #[arg(long, value_name = "ID")]
    pub profile: Option<String>,
}

pub fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Failure> {
    match cli.command {
        Command::Json(input) => {
            let bytes = read_message(&input)?;
            let msg = typed(&bytes, &input)?;
            let text = serde_json::to_string_pretty(&msg).map_err(|e| Failure::Usage(format!("cannot write JSON: {e}")))?;
            writeln!(out, "{text}").map_err(io_failure)
        }
        Command::Fmt(input) => {
            let bytes = read_message(&input)?;
            let msg = typed(&bytes, &input)?;
            let encoded = msg.placed().encode();
            // Lenient input may end its segments with LF or CRLF, or hold empty lines: the
            // output is the message as the guide wants it, CR after every segment.
            let encoded = if input.lenient { telerad_exchange::batch::normalized(&encoded) } else { encoded };
            out.write_all(&encoded).map_err(io_failure)
        }
        Command::Split(args) => crate::split::run(&args, out),
        Command::Validate(args) => validate(&args, out),
        Command::Ack(args) => ack(&args, out),
        Command::Serve(args) => crate::commands::serve(&args, out),
        Command::Send(args) => crate::commands::send(&args, out),
        Command::Respond(args) => crate::commands::respond(&args, out),
        Command::Orders(args) => crate::commands::orders(&args, out),
        Command::Messages(args) => crate::commands::messages(&args, out),
        Command::Show(args) => crate::commands::show(&args, out),
        Command::Resend(args) => crate::commands::resend(&args, out),
        Command::Purge(args) => crate::commands::purge(&args, out),
        Command::Load(args) => crate::commands::load(&args, out),
        Command::Config(ConfigCommand::Check { file }) => {
            let problems = crate::config::check(&file);
            if problems.is_empty() {
                writeln!(out, "{}: valid", file.display()).map_err(io_failure)
            } else {
                Err(Failure::Usage(problems.join("\ntelerad: ")))
            }
        }
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

/// Every message is checked whatever happens to the others; exit 2 (usage, I/O) wins over 1.
fn validate(args: &ValidateArgs, out: &mut dyn Write) -> Result<(), Failure> {
    use telerad_exchange::validation::{self as v, Sink};
    use hl7_runtime::validate::Severity;
    if let Some(p) = &args.profile {
        if telerad::REGISTRY.profile(p).is_none() {
            return Err(Failure::Usage(telerad::check::UnknownProfile(p.clone()).to_string()));
        }
    }
    let original = match &args.original {
        Some(f) => Some(read_path(f)?),
        None => None,
    };
    let (sources, errors) = telerad_exchange::inputs::expand(&args.files);
    for e in &errors {
        eprintln!("telerad: {e}");
    }
    let settings = v::Settings {
        parse: ParseOptions { windows_1252_fallback: args.charset_fallback.is_some(), ..options(args.lenient) },
        lenient: args.lenient,
        profile: args.profile.clone(),
        original,
        min_severity: match args.min_severity {
            MinSeverity::Error => Severity::Error,
            MinSeverity::Warning => Severity::Warning,
            MinSeverity::Info => Severity::Info,
        },
    };
    // Many lines: written in blocks, not a system call per line.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let mut report = match &args.report {
        Some(path) => Some(telerad_exchange::report::Report::create(path, &settings).map_err(Failure::Usage)?),
        None => None,
    };
    let ended = {
        let mut text;
        let mut json;
        let mut junit;
        let main: &mut dyn Sink = match args.format {
            ValidateFormat::Text => {
                text = v::Text { out: &mut out, compact: args.summary, summary: args.summary.then_some(true) };
                &mut text
            }
            ValidateFormat::Json => {
                json = v::Json { out: &mut out, summary: args.summary };
                &mut json
            }
            ValidateFormat::Junit => {
                junit = telerad_exchange::junit::Junit::new(&mut out);
                &mut junit
            }
        };
        let mut sinks: Vec<&mut dyn Sink> = vec![main];
        if let Some(r) = report.as_mut() {
            sinks.push(r);
        }
        v::run(&sources, &settings, &mut sinks)?
    };
    out.flush().map_err(io_failure)?;
    if let (Some(r), Some(path)) = (report, &args.report) {
        r.write(path, &ended.summary).map_err(Failure::Usage)?;
    }
    if !errors.is_empty() || ended.unread {
        Err(Failure::Usage(String::new()))
    } else if ended.rejected {
        Err(Failure::Rejected(String::new()))
    } else {
        Ok(())
    }
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
    telerad_exchange::clock::now().dtm
}

fn read(input: &Input) -> Result<Vec<u8>, Failure> {
    read_path(&input.file)
}

/// The message of `json` and `fmt`: a UTF-8 byte-order mark at its start is named (and
/// skipped with `--lenient`) rather than reported as "not an HL7 message".
fn read_message(input: &Input) -> Result<Vec<u8>, Failure> {
    let mut bytes = read(input)?;
    if bytes.starts_with(telerad_exchange::inputs::BOM) {
        if !input.lenient {
            return Err(Failure::Rejected(format!("{}: {}", input.file.display(), telerad_exchange::inputs::bom_text())));
        }
        bytes.drain(..telerad_exchange::inputs::BOM.len());
    }
    Ok(bytes)
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
    let message = Message::parse_with(bytes, &options).map_err(|e| Failure::Rejected(format!("{name}: {}", telerad_exchange::hints::reword(&e.to_string()))))?;
    match &input.profile {
        Some(id) => AnyMessage::with_profile(message, id).ok_or_else(|| {
            let known: Vec<&str> = telerad::REGISTRY.profiles.iter().map(|p| p.profile).collect();
            Failure::Usage(format!("unknown profile `{id}`; known: {}", known.join(", ")))
        }),
        None => AnyMessage::from_message(message).map_err(|e| Failure::Rejected(format!("{name}: {e}"))),
    }
}
