//! The original-mode acknowledgment (ACK) a receiver returns for an inbound message, as the
//! CI-SIS teleradiology guide describes it (`acquittement.md`, profile `spec/telerad/ack.*`).
//!
//! # What the ACK says
//!
//! * **MSA-1 = AA** when no finding has severity Error and the decision is
//!   [`Decision::Accept`].
//! * **MSA-1 = AE** when at least one finding has severity Error, the unsupported message
//!   type / event / processing id / version (table 0357 codes 200–203) included. Base HL7
//!   original mode answers those four with AR, but the guide's own example answers an
//!   unknown version with `AE` and `ERR||MSH^1^12|203^…|E`, and the guide defines AR as a
//!   circumstantial refusal the sender may retry, which a wrong version is not: the guide
//!   wins here. An inbound that could not be parsed is always AE.
//! * **MSA-1 = AR** when the decision is [`Decision::Reject`] and there is no Error
//!   finding. Errors win over a rejection: resending the same faulty message later would
//!   not help, and AR would invite exactly that. The rejection's ERR is still written
//!   after the findings' ones, so nothing the caller said is lost.
//!
//! # ERR segments
//!
//! One ERR per Error finding, in the order given, then one for a rejection:
//!
//! * ERR-2 (ERL): `segment^sequence^field^repetition^component^subcomponent`, only the
//!   parts the finding's [`Erl`] knows (a missing MSH sequence is written 1, since MSH
//!   occurs once). A finding without a segment gets no ERR-2.
//! * ERR-3: `<code>^<table 0357 text>^HL70357`. The coding system is the HL7 name of the
//!   table; the guide's example writes the symbolic name `messageErrorCondition` instead
//!   (erratum E3 of the ACK profile does not enforce either).
//! * ERR-4: the severity code of table 0516 (`E`).
//! * ERR-8 (User Message): the finding's message. A rejection's reason goes to ERR-8 as
//!   well, with ERR-3 `207^Application internal error^HL70357` and ERR-4 `E`: base
//!   v2.5.1 defines ERR-8 as the text for the user and ERR-7 as diagnostics for support
//!   staff; keeping every human-readable text in one field means a sender that shows
//!   ERR-8 shows all of it.
//!
//! Warning and Info findings are **not** written: the guide uses ERR only when MSA-1 is AE
//! or AR, and an ERR on an AA is read as a failure by many senders. They stay in the
//! caller's findings for its logs.
//!
//! # Header
//!
//! MSH-3/4 are the inbound MSH-5/6 and MSH-5/6 the inbound MSH-3/4, every repetition,
//! component and subcomponent copied. MSH-3 or MSH-4 falls back to
//! [`AckOptions::receiver`] when the inbound value is empty (or there is no readable
//! inbound header), and to [`UNKNOWN`] when that is empty too; an empty inbound MSH-3/4
//! gives MSH-5/6 [`UNKNOWN`], never a guessed addressee (the ACK table makes all four R:
//! erratum E5 of the ACK profile). MSH-7 and MSH-10 come from the injected
//! [`AckOptions::clock`] and [`AckOptions::next_id`]. MSH-9 is `ACK^<event>^ACK` where the
//! event is the inbound MSH-9.2 when it is one of the guide's (O01, R01, O23), else the
//! event of the guide's flow for the inbound MSH-9.1 (ORM → O01, ORU → R01, OMI → O23),
//! else O01 (erratum E7; an unknown type or event is already reported by the caller's
//! findings). MSH-11 is copied when its first component is P, T or D, and is `P` otherwise
//! (erratum E8), MSH-12 is `2.5.1`, MSH-17 is always `FRA` (the ACK table makes it R with
//! FRA). MSA-2 is the inbound MSH-10; when it is empty, MSA-2 is [`UNKNOWN`] (erratum E6)
//! and an ERR 101 at `MSH^1^10` is added (unless a finding already reports it), which makes
//! the ACK an AE. Every ACK the builder writes passes the ACK profile
//! (`tests/tests/ack_profile.rs`).
//!
//! # Character set
//!
//! The ACK profile allows only `UNICODE UTF-8` and `8859/15` in MSH-18. The ACK uses the
//! inbound's set when it is one of these two; otherwise (inbound `8859/1`, ASCII or empty
//! MSH-18, an unknown label read leniently, no readable header) it falls back to
//! `UNICODE UTF-8`, which represents everything, and reports it in
//! [`AckInfo::charset_fallback`]. Text is never substituted silently: in ERR-8, a
//! character the ACK's set cannot represent is written as the visible notation
//! `<U+XXXX>` and counted in [`AckInfo::notated_characters`]. HL7's `\Xhh\` escape is not
//! used because it denotes bytes *in the message's character set*, and 8859/15 has no
//! byte for such a character. Identifiers (the configured receiver identity, the clock,
//! the new control id) are never rewritten: one that cannot be represented is an
//! [`AckError`], because an altered identifier routes the ACK wrongly.
//!
//! # Unparsable inbound
//!
//! With `inbound: None`, the first line of `raw` (up to the first CR or LF) is parsed
//! leniently on its own: when it is a readable MSH, the header is built from it as for a
//! parsed message (so the sender can correlate MSA-2 with its MSH-10 even when a later
//! segment broke the parse). When even the lenient parse refuses the line but it starts with
//! `MSH`, it is split at its field separator and every value that is plain printable ASCII
//! is read (first component). Whatever stays unknown gets the fallbacks above: MSH-3/4 the
//! receiver identity, MSH-5/6 and MSA-2 [`UNKNOWN`], MSH-9 `ACK^O01^ACK`, MSH-11 `P`.
//! MSA-1 is AE in every case. The caller passes the parse
//! error as an Error finding; when it passes none, an ERR 100 at `MSH^1` saying the message
//! could not be parsed is written so that the AE is never without its ERR.
//!
//! # Enhanced mode
//!
//! The guide uses original mode. MSH-15/16 (accept / application acknowledgment type) are
//! not honoured: the ACK is always built, and the caller always sends it.
//!
//! Segments are separated and ended by CR, with the delimiters `|^~\&`.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::charset::Charset;
use crate::er7::{Delimiters, Field, Message, ParseOptions, Segment};
use crate::error::EncodeError;
use crate::build::{At, Writer};
use crate::validate::finding::code;
use crate::validate::{Erl, Finding, Severity};

/// An application and facility (the HD values of MSH-3/MSH-4), as namespace ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub application: String,
    pub facility: String,
}

/// What the ACK needs from the receiving system. The clock and the id generator are
/// injected so that an ACK can be reproduced exactly (tests, replays).
pub struct AckOptions<'a> {
    /// This system's MSH-3/MSH-4, used when the inbound MSH-5/MSH-6 are empty or unreadable.
    pub receiver: Identity,
    /// MSH-7 of the ACK, a DTM such as `20260106134419`.
    pub clock: &'a dyn Fn() -> String,
    /// MSH-10 of the ACK, its own new message control id.
    pub next_id: &'a dyn Fn() -> String,
}

/// What the application decided about a message that has no Error finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The message is integrated: the receiver takes responsibility for it.
    Accept,
    /// Refused for a circumstantial reason (cannot store now…): the sender may resend it.
    Reject { reason: String },
}

/// MSA-1, HL7 table 0008 (original mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AckCode {
    /// Application accept.
    Accept,
    /// Application error.
    Error,
    /// Application reject.
    Reject,
}

impl AckCode {
    /// The code written to MSA-1.
    pub const fn code(self) -> &'static str {
        match self {
            AckCode::Accept => "AA",
            AckCode::Error => "AE",
            AckCode::Reject => "AR",
        }
    }
}

/// Where the ACK's header came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderSource {
    /// The parsed inbound message.
    Inbound,
    /// The inbound could not be parsed, but its first line was a readable MSH.
    RawHeader,
    /// Nothing readable: the receiver identity only.
    None,
}

/// What the builder decided, for the caller's logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AckInfo {
    /// MSA-1.
    pub code: AckCode,
    /// The character set the ACK is written in (its MSH-18).
    pub charset: Charset,
    /// True when the inbound's character set is not allowed in an ACK (8859/1, ASCII or
    /// empty MSH-18, unknown) or was not readable, and UTF-8 was used instead.
    pub charset_fallback: bool,
    /// Where MSH-5/6/9/10/11/17/18 were read from.
    pub header: HeaderSource,
    /// True when MSH-3 or MSH-4 was taken from [`AckOptions::receiver`].
    pub receiver_fallback: bool,
    /// MSH-10 of the ACK.
    pub control_id: String,
    /// The acknowledged message's MSH-10, empty when unknown (MSA-2 then carries
    /// [`UNKNOWN`]).
    pub acknowledged_id: String,
    /// Number of ERR segments written.
    pub errors: usize,
    /// Characters of ERR texts written as `<U+XXXX>` because the ACK's character set cannot
    /// represent them.
    pub notated_characters: usize,
}

/// An ACK and what was decided while building it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// The ER7 bytes, every segment ended by CR.
    pub bytes: Vec<u8>,
    pub info: AckInfo,
}

/// An ACK that cannot be written at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// A value that must not be altered (the receiver identity, MSH-7, MSH-10) cannot be
    /// encoded in the ACK's character set.
    #[error("cannot encode the acknowledgment: {0}")]
    Encode(#[from] EncodeError),
}

/// Builds the ACK for `inbound` (see the module docs for every rule). `raw` is read only
/// when `inbound` is `None`, to recover the header best-effort.
pub fn build(
    inbound: Option<&Message<'_>>,
    raw: &[u8],
    findings: &[Finding],
    decision: Decision,
    opts: &AckOptions<'_>,
) -> Result<Vec<u8>, AckError> {
    build_with_info(inbound, raw, findings, decision, opts).map(|ack| ack.bytes)
}

/// [`build`], also returning what was decided (charset fallback, MSA-1 …).
pub fn build_with_info(
    inbound: Option<&Message<'_>>,
    raw: &[u8],
    findings: &[Finding],
    decision: Decision,
    opts: &AckOptions<'_>,
) -> Result<Ack, AckError> {
    let (header, source) = match inbound {
        Some(msg) => (Header::read(msg), HeaderSource::Inbound),
        None => match raw_header(raw) {
            Some(h) => (Some(h), HeaderSource::RawHeader),
            None => (None, HeaderSource::None),
        },
    };
    // A message read from the raw header (or not at all) was still not parsed.
    let unparsed = inbound.is_none();
    let header = header.unwrap_or_default();

    let (charset, charset_fallback) = match header.charset {
        Some(cs @ (Charset::Utf8 | Charset::Latin9)) => (cs, false),
        _ => (Charset::Utf8, true),
    };

    let mut errs: Vec<ErrSpec<'_>> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| ErrSpec { location: Some(Cow::Borrowed(&f.location)), code: f.code, severity: f.severity, text: Cow::Borrowed(&f.message) })
        .collect();
    if unparsed && errs.is_empty() {
        errs.push(ErrSpec {
            location: Some(Cow::Owned(Erl { segment: Some("MSH".into()), sequence: Some(1), ..Erl::default() })),
            code: code::SEGMENT_SEQUENCE,
            severity: Severity::Error,
            text: Cow::Borrowed("the message could not be parsed"),
        });
    }
    if !unparsed && header.control_id.is_empty() && !findings.iter().any(reports_missing_msh10) {
        errs.push(ErrSpec {
            location: Some(Cow::Owned(Erl { segment: Some("MSH".into()), sequence: Some(1), field: Some(10), ..Erl::default() })),
            code: code::REQUIRED_FIELD_MISSING,
            severity: Severity::Error,
            text: Cow::Borrowed("MSH-10 (message control id) is empty: MSA-2 cannot recall it"),
        });
    }
    let has_error = !errs.is_empty();
    if let Decision::Reject { reason } = &decision {
        errs.push(ErrSpec { location: None, code: code::APPLICATION_INTERNAL, severity: Severity::Error, text: Cow::Borrowed(reason) });
    }
    let ack_code = if has_error || unparsed {
        AckCode::Error
    } else if matches!(decision, Decision::Reject { .. }) {
        AckCode::Reject
    } else {
        AckCode::Accept
    };

    let control_id = (opts.next_id)();
    let mut receiver_fallback = false;
    let msh3 = addressee(header.receiving_app, &opts.receiver.application, &mut receiver_fallback);
    let msh4 = addressee(header.receiving_facility, &opts.receiver.facility, &mut receiver_fallback);
    let msh11 = if matches!(header.processing_id.first_text().trim(), "P" | "T" | "D") { header.processing_id } else { Copied::Plain("P") };

    // Written straight to ER7, in position order, as the generated builders write: no owned
    // model to fill, normalize and encode (that took two thirds of an ACK's time, most of it
    // in allocations). Trailing empty elements are never written, as the owned model's
    // normalization dropped them.
    let mut w = Writer::with_charset(charset, 256 + 160 * errs.len());
    w.segment("MSH");
    msh3.write(&mut w, 3);
    msh4.write(&mut w, 4);
    header.sending_app.or_unknown().write(&mut w, 5);
    header.sending_facility.or_unknown().write(&mut w, 6);
    w.text(At::field(7, 1), &(opts.clock)());
    let event = ack_event(&header.trigger, &header.message_code);
    for (n, text) in (1..).zip(["ACK", event, "ACK"]) {
        w.text(component(9, n), text);
    }
    w.text(At::field(10, 1), &control_id);
    msh11.write(&mut w, 11);
    w.text(At::field(12, 1), "2.5.1");
    w.text(At::field(17, 1), "FRA");
    w.text(At::field(18, 1), charset.label());

    w.segment("MSA");
    w.text(At::field(1, 1), ack_code.code());
    w.text(At::field(2, 1), if header.control_id.is_empty() { UNKNOWN } else { &header.control_id });

    let mut notated = 0;
    let mut digits = Digits::default();
    for err in &errs {
        w.segment("ERR");
        if let Some(erl) = &err.location {
            write_erl(&mut w, erl, &mut digits);
        }
        w.text(component(3, 1), digits.of(u32::from(err.code)));
        w.text(component(3, 2), code::text(err.code));
        w.text(component(3, 3), "HL70357");
        w.text(At::field(4, 1), err.severity.code());
        let (text, n) = notate(&err.text, charset);
        notated += n;
        w.text(At::field(8, 1), &text);
    }
    let bytes = w.finish_encoded()?;

    Ok(Ack {
        bytes,
        info: AckInfo {
            code: ack_code,
            charset,
            charset_fallback,
            header: source,
            receiver_fallback,
            control_id,
            acknowledged_id: header.control_id.into_owned(),
            errors: errs.len(),
            notated_characters: notated,
        },
    })
}

/// MSH-3 or MSH-4 of the ACK: the inbound's MSH-5 or MSH-6, else this receiver's own value
/// (`fallback` then set), else [`UNKNOWN`].
fn addressee<'x>(inbound: Copied<'x>, own: &'x str, fallback: &mut bool) -> Copied<'x> {
    if inbound.is_empty() {
        *fallback = true;
        Copied::Plain(own).or_unknown()
    } else {
        inbound
    }
}

/// Component `n` of the first repetition of field `field`.
fn component(field: u32, n: u32) -> At {
    let at = At::field(field, 1);
    at.child(n).unwrap_or(at)
}

/// What the ACK writes where a value it requires cannot be known: MSH-3/4 when neither the
/// inbound MSH-5/6 nor the configured receiver identity gives one, MSH-5/6 when the inbound's
/// MSH-3/4 are empty or unreadable, MSA-2 when its MSH-10 is (ACK profile errata E5, E6).
pub const UNKNOWN: &str = "UNKNOWN";

/// MSH-9.2 of the ACK: the inbound's event when it is one of the guide's (O01, R01, O23);
/// otherwise the event of the guide's flow for the inbound's message type (ORM → O01, ORU →
/// R01, OMI → O23), and O01 when that is not one of the guide's either (ACK profile erratum E7).
fn ack_event<'t>(trigger: &'t str, message_code: &str) -> &'t str {
    match (trigger.trim(), message_code.trim()) {
        (t @ ("O01" | "R01" | "O23"), _) => t,
        (_, "ORU") => "R01",
        (_, "OMI") => "O23",
        _ => "O01",
    }
}

/// One ERR to write: a finding's location and text, or the builder's own.
struct ErrSpec<'f> {
    location: Option<Cow<'f, Erl>>,
    code: u16,
    severity: Severity,
    text: Cow<'f, str>,
}

fn reports_missing_msh10(f: &Finding) -> bool {
    f.severity == Severity::Error
        && f.code == code::REQUIRED_FIELD_MISSING
        && f.location.segment.as_deref() == Some("MSH")
        && f.location.field == Some(10)
}

/// What the ACK takes from the inbound header: views of its fields, read only when written.
#[derive(Default)]
struct Header<'a> {
    sending_app: Copied<'a>,
    sending_facility: Copied<'a>,
    receiving_app: Copied<'a>,
    receiving_facility: Copied<'a>,
    message_code: Cow<'a, str>,
    trigger: Cow<'a, str>,
    control_id: Cow<'a, str>,
    processing_id: Copied<'a>,
    /// `None` when there is no header to read it from.
    charset: Option<Charset>,
}

impl<'a> Header<'a> {
    fn read(msg: &Message<'a>) -> Option<Header<'a>> {
        let msh = msg.segment(0).filter(|s| s.id() == "MSH")?;
        Some(Header::from_segment(&msh, msg.charset()))
    }

    fn from_segment(msh: &Segment<'a>, charset: Charset) -> Header<'a> {
        let d = msh.delimiters();
        Header {
            sending_app: Copied::Parsed(msh.field(3), d),
            sending_facility: Copied::Parsed(msh.field(4), d),
            receiving_app: Copied::Parsed(msh.field(5), d),
            receiving_facility: Copied::Parsed(msh.field(6), d),
            message_code: msh.field(9).component(1).text(),
            trigger: msh.field(9).component(2).text(),
            control_id: msh.field(10).first().text(),
            processing_id: Copied::Parsed(msh.field(11), d),
            charset: Some(charset),
        }
    }
}

/// A header field the ACK copies: as parsed, every repetition, component and subcomponent
/// decoded and written again; or one text (the plain value a broken header still showed, the
/// receiver identity, a fallback), written whole.
#[derive(Clone, Copy, Default)]
enum Copied<'a> {
    #[default]
    Empty,
    /// The field, and its message's delimiters.
    Parsed(Field<'a>, Delimiters),
    Plain(&'a str),
}

impl<'a> Copied<'a> {
    /// Whether it holds no text: every part of it decodes to nothing.
    fn is_empty(&self) -> bool {
        match self {
            Copied::Empty => true,
            Copied::Plain(text) => text.is_empty(),
            Copied::Parsed(f, d) => {
                // Separators alone are empty and, without an escape, any other byte is text:
                // most fields are told without decoding them.
                let raw = f.raw();
                if raw.iter().all(|&b| b == d.component || b == d.repetition || Some(b) == d.subcomponent) {
                    return true;
                }
                if d.escape.is_none_or(|e| !raw.contains(&e)) {
                    return false;
                }
                f.repetitions().all(|r| r.components().all(|c| c.subcomponents().all(|s| s.text().is_empty())))
            }
        }
    }

    /// [`UNKNOWN`] in place of an empty value (ACK profile erratum E5).
    fn or_unknown(self) -> Copied<'a> {
        if self.is_empty() {
            Copied::Plain(UNKNOWN)
        } else {
            self
        }
    }

    /// The first subcomponent of the first component of the first repetition.
    fn first_text(&self) -> Cow<'a, str> {
        match self {
            Copied::Empty => Cow::Borrowed(""),
            Copied::Plain(text) => Cow::Borrowed(text),
            Copied::Parsed(f, _) => f
                .repetitions()
                .next()
                .and_then(|r| r.components().next())
                .and_then(|c| c.subcomponents().next())
                .map_or(Cow::Borrowed(""), |s| s.text()),
        }
    }

    /// Writes it as field `field`: each part at its place (the writer leaves out the empty
    /// ones and the separators only they would need).
    fn write(&self, w: &mut Writer, field: u32) {
        match self {
            Copied::Empty => {}
            Copied::Plain(text) => w.text(At::field(field, 1), text),
            Copied::Parsed(f, _) => {
                for (r, rep) in (1..).zip(f.repetitions()) {
                    let at = At::field(field, r);
                    for (c, comp) in (1..).zip(rep.components()) {
                        let Some(at) = at.child(c) else { continue };
                        for (s, sub) in (1..).zip(comp.subcomponents()) {
                            if let Some(at) = at.child(s) {
                                w.text(at, &sub.text());
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The header of a message that did not parse: its first line alone, leniently, so that a
/// fault in a later segment does not hide MSH-10.
fn raw_header(raw: &[u8]) -> Option<Header<'_>> {
    let end = raw.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(raw.len());
    let line = raw.get(..end)?;
    match Message::parse_with(line, &ParseOptions::lenient()) {
        Ok(msg) => Header::read(&msg),
        Err(_) => split_header(line),
    }
}

/// The header values a line starting `MSH` still shows when even a lenient parse refuses it:
/// the line split at its field separator (byte 3), each value's first component kept when it
/// is plain printable ASCII without the escape character. What cannot be read stays empty
/// (and gets the ACK's fallback).
fn split_header(line: &[u8]) -> Option<Header<'_>> {
    let rest = line.strip_prefix(b"MSH")?;
    let (&sep, _) = rest.split_first()?;
    if sep.is_ascii_alphanumeric() || !sep.is_ascii_graphic() {
        return None;
    }
    let fields: Vec<&[u8]> = line.split(|&b| b == sep).collect();
    let encoding = fields.get(1).copied().unwrap_or(b"");
    let component = encoding.first().copied().unwrap_or(b'^');
    let repetition = encoding.get(1).copied().unwrap_or(b'~');
    let escape = encoding.get(2).copied().unwrap_or(b'\\');
    // MSH-n is at index n - 1: "MSH" is index 0 and MSH-1 is the separator itself.
    let part = |n: usize, c: usize| -> &[u8] {
        let Some(value) = fields.get(n - 1) else { return b"" };
        let first_rep = value.split(|&b| b == repetition).next().unwrap_or(b"");
        let comp = first_rep.split(|&b| b == component).nth(c - 1).unwrap_or(b"");
        let plain = comp.iter().all(|&b| (0x20..0x7f).contains(&b) && b != escape);
        if plain {
            comp
        } else {
            b""
        }
    };
    // Printable ASCII, so always UTF-8.
    let text = |n: usize, c: usize| std::str::from_utf8(part(n, c)).unwrap_or("");
    Some(Header {
        sending_app: Copied::Plain(text(3, 1)),
        sending_facility: Copied::Plain(text(4, 1)),
        receiving_app: Copied::Plain(text(5, 1)),
        receiving_facility: Copied::Plain(text(6, 1)),
        message_code: Cow::Borrowed(text(9, 1)),
        trigger: Cow::Borrowed(text(9, 2)),
        control_id: Cow::Borrowed(text(10, 1)),
        processing_id: Copied::Plain(text(11, 1)),
        charset: None,
    })
}

/// ERR-2 (ERL): the parts the location knows, as components.
fn write_erl(w: &mut Writer, erl: &Erl, digits: &mut Digits) {
    let Some(segment) = &erl.segment else {
        return;
    };
    // MSH occurs once, so its sequence is known even when the finding left it out.
    let sequence = erl.sequence.or((segment == "MSH").then_some(1));
    w.text(component(2, 1), segment);
    let numbers = [sequence, erl.field, erl.repetition, erl.component, erl.subcomponent];
    for (n, number) in (2..).zip(numbers) {
        if let Some(number) = number {
            w.text(component(2, n), digits.of(number));
        }
    }
}

/// A number's decimal digits, written in place (`to_string` allocated one per ERR-2 part).
#[derive(Default)]
struct Digits([u8; 10]);

impl Digits {
    fn of(&mut self, mut n: u32) -> &str {
        let mut at = self.0.len();
        loop {
            at -= 1;
            if let Some(d) = self.0.get_mut(at) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || at == 0 {
                break;
            }
        }
        std::str::from_utf8(self.0.get(at..).unwrap_or(&[])).unwrap_or("")
    }
}

/// The text with every character `charset` cannot represent written as `<U+XXXX>`, and how
/// many were.
fn notate(text: &str, charset: Charset) -> (Cow<'_, str>, usize) {
    // Every set an ACK is written in holds ASCII (each character asked alone cost more than
    // the rest of the ACK on long texts).
    if text.is_ascii() {
        return (Cow::Borrowed(text), 0);
    }
    let mut scratch = Vec::with_capacity(4);
    let fits = |ch: char, scratch: &mut Vec<u8>| {
        scratch.clear();
        charset.encode_char(ch, scratch)
    };
    if text.chars().all(|ch| fits(ch, &mut scratch)) {
        return (Cow::Borrowed(text), 0);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut count = 0;
    for ch in text.chars() {
        if fits(ch, &mut scratch) {
            out.push(ch);
        } else {
            count += 1;
            // Writing to a String cannot fail.
            let _ = write!(out, "<U+{:04X}>", u32::from(ch));
        }
    }
    (Cow::Owned(out), count)
}
