//! `telerad validate` over many files: read, cut into messages, check on every core, and hand
//! each result, in input order, to the outputs (text, JSON, JUnit, the HTML report) and the
//! summary.
//!
//! Work goes in chunks of files and of messages so that a folder of 100,000 messages is never
//! all in memory, and each chunk's results are collected in input order (rayon's indexed
//! `collect`), so that the output is the same whatever the number of cores
//! (`RAYON_NUM_THREADS=1` gives the same bytes). A progress bar is drawn on standard error only
//! when it is a terminal: redirected output (files, pipes, CI logs) gets none.

use std::io::{IsTerminal, Write};

use hl7_runtime::validate::{Finding, Severity};
use hl7_runtime::ParseOptions;
use rayon::prelude::*;

use crate::inputs::{Contents, Piece, Source};
use crate::summary::{Summary, Tally};

/// Files read at once; their messages are then checked in chunks of [`MESSAGES_AT_ONCE`].
const FILES_AT_ONCE: usize = 256;
const MESSAGES_AT_ONCE: usize = 2048;

/// How every message is checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub parse: ParseOptions,
    pub lenient: bool,
    pub profile: Option<String>,
    /// For ACK files: the message they acknowledge.
    pub original: Option<Vec<u8>>,
    /// Findings less severe than this are not shown (nor counted); validity is not changed.
    pub min_severity: Severity,
}

/// One message checked.
#[derive(Debug)]
pub struct Checked<'a> {
    /// The file's name as reported (`-` for standard input).
    pub file: &'a str,
    /// 1-based position in the file, and the number of messages the file holds.
    pub number: usize,
    pub of: usize,
    /// 1-based line of its MSH in the file.
    pub line: usize,
    /// Its bytes as the file has them.
    pub bytes: &'a [u8],
    /// MSH-10, empty when it cannot be read.
    pub control_id: String,
    pub profile: Option<&'static str>,
    /// No error finding (whatever `--min-severity` shows).
    pub valid: bool,
    /// Error findings, shown or not.
    pub errors: usize,
    /// The findings at or above `--min-severity`, in the validator's order, texts in the
    /// command's terms.
    pub shown: Vec<Finding>,
}

impl Checked<'_> {
    /// `file` for a file of one message, `file#n` for the n-th of several.
    pub fn name(&self) -> String {
        if self.of > 1 {
            format!("{}#{}", self.file, self.number)
        } else {
            self.file.to_owned()
        }
    }
}

/// What an output receives, in input order.
pub trait Sink {
    fn message(&mut self, m: &Checked<'_>) -> std::io::Result<()>;
    /// A file that could not be read (`why` is the usage error's text).
    fn unread(&mut self, _file: &str, _why: &str) -> std::io::Result<()> {
        Ok(())
    }
    /// A file found in a folder that is not HL7.
    fn skipped(&mut self, _file: &str) -> std::io::Result<()> {
        Ok(())
    }
    fn finish(&mut self, summary: &Summary) -> std::io::Result<()>;
}

/// How the run ended.
#[derive(Debug, Default)]
pub struct Ended {
    /// A message was not valid (exit 1).
    pub rejected: bool,
    /// A file could not be read (exit 2, wins over 1).
    pub unread: bool,
    pub summary: Summary,
}

enum Item {
    Unread(usize, String),
    Skipped(usize),
    NoMessage(usize),
    Message(usize, Piece, usize),
}

enum Done {
    Unread(usize, String),
    Skipped(usize),
    NoMessage(usize),
    Message(usize, Result<Box<Outcome>, String>),
}

/// What checking one message gives, before it is tied to its file's name and bytes.
struct Outcome {
    piece: Piece,
    of: usize,
    control_id: String,
    profile: Option<&'static str>,
    valid: bool,
    errors: usize,
    shown: Vec<Finding>,
}

fn check_one(bytes: &[u8], piece: Piece, of: usize, settings: &Settings) -> Result<Box<Outcome>, String> {
    let message = bytes.get(piece.bytes.clone()).unwrap_or_default();
    let checked = telerad::check_with(message, &settings.parse, settings.profile.as_deref(), settings.original.as_deref()).map_err(|e| e.to_string())?;
    let profile = checked.message.as_ref().map(|m| m.profile().profile);
    let all = piece.framing.iter().cloned().chain(checked.findings);
    let mut errors = 0;
    let mut shown = Vec::new();
    for mut f in all {
        errors += usize::from(f.severity == Severity::Error);
        if f.severity <= settings.min_severity {
            if let std::borrow::Cow::Owned(text) = crate::hints::reword(&f.message) {
                f.message = text;
            }
            shown.push(f);
        }
    }
    let control_id = crate::batch::control_id(message);
    Ok(Box::new(Outcome { piece, of, control_id, profile, valid: errors == 0, errors, shown }))
}

/// Checks every message of `sources` and hands the results to `sinks`, in order.
pub fn run(sources: &[Source], settings: &Settings, sinks: &mut [&mut dyn Sink]) -> Result<Ended, crate::failure::Failure> {
    let io = crate::failure::io_failure;
    let bar = progress(sources.len());
    let names: Vec<String> = sources.iter().map(Source::name).collect();
    let mut tally = Tally::new(settings.min_severity.word());
    let mut ended = Ended::default();
    let mut messages = 0usize;
    for (g, group) in sources.chunks(FILES_AT_ONCE).enumerate() {
        let base = g * FILES_AT_ONCE;
        let contents: Vec<Result<Vec<u8>, String>> = group.par_iter().map(Source::read).collect();
        let mut items = Vec::new();
        for (i, (source, content)) in group.iter().zip(&contents).enumerate() {
            let file = base + i;
            match content {
                Err(why) => items.push(Item::Unread(file, why.clone())),
                Ok(bytes) if source.walked && !crate::inputs::looks_like_hl7(bytes) => items.push(Item::Skipped(file)),
                Ok(bytes) => match crate::inputs::pieces(bytes, settings.lenient) {
                    Contents::NoMessage => items.push(Item::NoMessage(file)),
                    Contents::Messages(pieces) => {
                        let of = pieces.len();
                        items.extend(pieces.into_iter().map(|p| Item::Message(file, p, of)));
                    }
                },
            }
        }
        let mut items = items.into_iter().peekable();
        while items.peek().is_some() {
            let chunk: Vec<Item> = items.by_ref().take(MESSAGES_AT_ONCE).collect();
            let done: Vec<Done> = chunk
                .into_par_iter()
                .map(|item| match item {
                    Item::Unread(f, why) => Done::Unread(f, why),
                    Item::Skipped(f) => Done::Skipped(f),
                    Item::NoMessage(f) => Done::NoMessage(f),
                    Item::Message(f, piece, of) => {
                        let bytes = contents.get(f - base).and_then(|c| c.as_ref().ok()).map(Vec::as_slice).unwrap_or_default();
                        Done::Message(f, check_one(bytes, piece, of, settings))
                    }
                })
                .collect();
            for d in done {
                let name = |f: usize| names.get(f).map(String::as_str).unwrap_or("-");
                match d {
                    Done::Unread(f, why) => {
                        bar.suspend(|| eprintln!("telerad: {why}"));
                        ended.unread = true;
                        tally.unread();
                        for s in sinks.iter_mut() {
                            s.unread(name(f), &why).map_err(io)?;
                        }
                        bar.inc(1);
                    }
                    Done::Skipped(f) => {
                        bar.suspend(|| eprintln!("telerad: {}: skipped: not an HL7 message file (it does not start with MSH, FHS or BHS)", name(f)));
                        tally.skipped();
                        for s in sinks.iter_mut() {
                            s.skipped(name(f)).map_err(io)?;
                        }
                        bar.inc(1);
                    }
                    Done::NoMessage(f) => {
                        bar.suspend(|| eprintln!("telerad: {}: a batch without any message", name(f)));
                        tally.file(name(f));
                        bar.inc(1);
                    }
                    Done::Message(f, result) => {
                        let r = result.map_err(crate::failure::Failure::Usage)?;
                        if r.piece.number == 1 {
                            tally.file(name(f));
                        }
                        let bytes = contents.get(f - base).and_then(|c| c.as_ref().ok()).map(Vec::as_slice).unwrap_or_default();
                        let checked = Checked {
                            file: name(f),
                            number: r.piece.number,
                            of: r.of,
                            line: r.piece.line,
                            bytes: bytes.get(r.piece.bytes.clone()).unwrap_or_default(),
                            control_id: r.control_id,
                            profile: r.profile,
                            valid: r.valid,
                            errors: r.errors,
                            shown: r.shown,
                        };
                        ended.rejected |= !checked.valid;
                        tally.message(checked.profile, checked.valid, checked.shown.iter());
                        for s in sinks.iter_mut() {
                            s.message(&checked).map_err(io)?;
                        }
                        messages += 1;
                        if checked.number == checked.of {
                            bar.inc(1);
                        }
                    }
                }
            }
            // After each chunk, so that a large batch file shows its progress too.
            bar.set_message(format!("{messages} message(s)"));
        }
    }
    bar.finish_and_clear();
    ended.summary = tally.finish();
    for s in sinks.iter_mut() {
        s.finish(&ended.summary).map_err(io)?;
    }
    Ok(ended)
}

/// A bar counting files, on standard error when it is a terminal; hidden otherwise.
fn progress(files: usize) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(files as u64);
    let style = indicatif::ProgressStyle::with_template("validating {bar:30} {pos}/{len} file(s), {msg} {elapsed}").unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// The text output: a line per message (`file#n (line L): valid [profile]`), its findings
/// unless `compact`, the summary when asked or when more than one message was read.
pub struct Text<'w> {
    pub out: &'w mut dyn Write,
    pub compact: bool,
    pub summary: Option<bool>,
}

impl Sink for Text<'_> {
    fn message(&mut self, m: &Checked<'_>) -> std::io::Result<()> {
        let verdict = if m.valid { "valid".to_owned() } else { format!("invalid ({} error(s))", m.errors) };
        let line = if m.of > 1 { format!(" (line {})", m.line) } else { String::new() };
        writeln!(self.out, "{}{line}: {verdict} [{}]", m.name(), m.profile.unwrap_or("no profile"))?;
        if !self.compact {
            for f in &m.shown {
                writeln!(self.out, "  {}", finding_line(f))?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        if self.summary.unwrap_or(summary.messages > 1) {
            summary.write_text(self.out)?;
        }
        self.out.flush()
    }
}

/// The JSON output: one object per message, one per line; with `--summary`, a last line
/// `{"summary": …}`.
pub struct Json<'w> {
    pub out: &'w mut dyn Write,
    pub summary: bool,
}

/// A finding as the text output writes it, indentation aside: `error 101 PID^1^3: … (rule
/// usage, st_flux1.md#t2.r4)` (also `telerad show`).
pub fn finding_line(f: &Finding) -> String {
    format!("{} {} {}: {} (rule {}, {})", f.severity.word(), f.code, f.location, f.message, f.rule, f.source)
}

pub fn finding_json(f: &Finding) -> serde_json::Value {
    serde_json::json!({
        "severity": f.severity.word(),
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
        "source": f.source,
        "message": f.message,
    })
}

impl Sink for Json<'_> {
    fn message(&mut self, m: &Checked<'_>) -> std::io::Result<()> {
        let line = serde_json::json!({
            "file": m.file,
            "message": m.number,
            "line": m.line,
            "control_id": if m.control_id.is_empty() { None } else { Some(&m.control_id) },
            "profile": m.profile,
            "valid": m.valid,
            "findings": m.shown.iter().map(finding_json).collect::<Vec<_>>(),
        });
        writeln!(self.out, "{line}")
    }

    fn finish(&mut self, summary: &Summary) -> std::io::Result<()> {
        if self.summary {
            writeln!(self.out, "{}", serde_json::json!({ "summary": summary }))?;
        }
        self.out.flush()
    }
}
