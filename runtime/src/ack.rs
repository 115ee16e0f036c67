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
use crate::owned::{FieldBuf, MessageBuf, SegmentBuf};
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

    let mut errs: Vec<ErrSpec> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| ErrSpec { location: Some(f.location.clone()), code: f.code, severity: f.severity, text: f.message.clone() })
        .collect();
    if unparsed && errs.is_empty() {
        errs.push(ErrSpec {
            location: Some(Erl { segment: Some("MSH".into()), sequence: Some(1), ..Erl::default() }),
            code: code::SEGMENT_SEQUENCE,
            severity: Severity::Error,
            text: "the message could not be parsed".into(),
        });
    }
    if !unparsed && header.control_id.is_empty() && !findings.iter().any(reports_missing_msh10) {
        errs.push(ErrSpec {
            location: Some(Erl { segment: Some("MSH".into()), sequence: Some(1), field: Some(10), ..Erl::default() }),
            code: code::REQUIRED_FIELD_MISSING,
            severity: Severity::Error,
            text: "MSH-10 (message control id) is empty: MSA-2 cannot recall it".into(),
        });
    }
    let has_error = !errs.is_empty();
    if let Decision::Reject { reason } = &decision {
        errs.push(ErrSpec { location: None, code: code::APPLICATION_INTERNAL, severity: Severity::Error, text: reason.clone() });
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
    let mut or_receiver = |field: FieldBuf, fallback: &str| {
        if field.is_empty() {
            receiver_fallback = true;
            FieldBuf::text(fallback)
        } else {
            field
        }
    };
    let msh3 = or_known(or_receiver(header.receiving_app.clone(), &opts.receiver.application));
    let msh4 = or_known(or_receiver(header.receiving_facility.clone(), &opts.receiver.facility));

    let mut msg = MessageBuf::new(Delimiters::STANDARD, charset);
    let msh = msg.add_segment("MSH");
    *msh.field_mut(3) = msh3;
    *msh.field_mut(4) = msh4;
    *msh.field_mut(5) = or_known(header.sending_app);
    *msh.field_mut(6) = or_known(header.sending_facility);
    msh.set_field(7, &(opts.clock)());
    msh.set_component(9, 1, 1, "ACK").set_component(9, 1, 2, ack_event(&header.trigger, &header.message_code)).set_component(9, 1, 3, "ACK");
    msh.set_field(10, &control_id);
    *msh.field_mut(11) = if matches!(first_text(&header.processing_id).trim(), "P" | "T" | "D") { header.processing_id } else { FieldBuf::text("P") };
    msh.set_field(12, "2.5.1");
    msh.set_field(17, "FRA");
    msh.set_field(18, charset.label());

    let msa2 = if header.control_id.is_empty() { UNKNOWN } else { header.control_id.as_str() };
    msg.add_segment("MSA").set_field(1, ack_code.code()).set_field(2, msa2);

    let mut notated = 0;
    for err in &errs {
        let seg = msg.add_segment("ERR");
        if let Some(erl) = &err.location {
            write_erl(seg, erl);
        }
        seg.set_component(3, 1, 1, &err.code.to_string())
            .set_component(3, 1, 2, code::text(err.code))
            .set_component(3, 1, 3, "HL70357");
        seg.set_field(4, err.severity.code());
        let (text, n) = notate(&err.text, charset);
        notated += n;
        seg.set_field(8, &text);
    }
    msg.normalize();
    let bytes = msg.encode()?;

    Ok(Ack {
        bytes,
        info: AckInfo {
            code: ack_code,
            charset,
            charset_fallback,
            header: source,
            receiver_fallback,
            control_id,
            acknowledged_id: header.control_id,
            errors: errs.len(),
            notated_characters: notated,
        },
    })
}

/// What the ACK writes where a value it requires cannot be known: MSH-3/4 when neither the
/// inbound MSH-5/6 nor the configured receiver identity gives one, MSH-5/6 when the inbound's
/// MSH-3/4 are empty or unreadable, MSA-2 when its MSH-10 is (ACK profile errata E5, E6).
pub const UNKNOWN: &str = "UNKNOWN";

fn or_known(field: FieldBuf) -> FieldBuf {
    if field.is_empty() {
        FieldBuf::text(UNKNOWN)
    } else {
        field
    }
}

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

/// One ERR to write.
struct ErrSpec {
    location: Option<Erl>,
    code: u16,
    severity: Severity,
    text: String,
}

fn reports_missing_msh10(f: &Finding) -> bool {
    f.severity == Severity::Error
        && f.code == code::REQUIRED_FIELD_MISSING
        && f.location.segment.as_deref() == Some("MSH")
        && f.location.field == Some(10)
}

/// What the ACK takes from the inbound header, decoded.
#[derive(Default)]
struct Header {
    sending_app: FieldBuf,
    sending_facility: FieldBuf,
    receiving_app: FieldBuf,
    receiving_facility: FieldBuf,
    message_code: String,
    trigger: String,
    control_id: String,
    processing_id: FieldBuf,
    /// `None` when there is no header to read it from.
    charset: Option<Charset>,
}

impl Header {
    fn read(msg: &Message<'_>) -> Option<Header> {
        let msh = msg.segment(0).filter(|s| s.id() == "MSH")?;
        Some(Header::from_segment(&msh, msg.charset()))
    }

    fn from_segment(msh: &Segment<'_>, charset: Charset) -> Header {
        Header {
            sending_app: field_buf(msh.field(3)),
            sending_facility: field_buf(msh.field(4)),
            receiving_app: field_buf(msh.field(5)),
            receiving_facility: field_buf(msh.field(6)),
            message_code: msh.field(9).component(1).text().into_owned(),
            trigger: msh.field(9).component(2).text().into_owned(),
            control_id: msh.field(10).first().text().into_owned(),
            processing_id: field_buf(msh.field(11)),
            charset: Some(charset),
        }
    }
}

/// The header of a message that did not parse: its first line alone, leniently, so that a
/// fault in a later segment does not hide MSH-10.
fn raw_header(raw: &[u8]) -> Option<Header> {
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
fn split_header(line: &[u8]) -> Option<Header> {
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
    let part = |n: usize, c: usize| -> String {
        let Some(value) = fields.get(n - 1) else { return String::new() };
        let first_rep = value.split(|&b| b == repetition).next().unwrap_or(b"");
        let comp = first_rep.split(|&b| b == component).nth(c - 1).unwrap_or(b"");
        let plain = comp.iter().all(|&b| (0x20..0x7f).contains(&b) && b != escape);
        if plain {
            String::from_utf8_lossy(comp).into_owned()
        } else {
            String::new()
        }
    };
    Some(Header {
        sending_app: text_buf(&part(3, 1)),
        sending_facility: text_buf(&part(4, 1)),
        receiving_app: text_buf(&part(5, 1)),
        receiving_facility: text_buf(&part(6, 1)),
        message_code: part(9, 1),
        trigger: part(9, 2),
        control_id: part(10, 1),
        processing_id: text_buf(&part(11, 1)),
        charset: None,
    })
}

/// The first subcomponent of the first component of the first repetition.
fn first_text(f: &FieldBuf) -> &str {
    f.reps.first().and_then(|r| r.comps.first()).and_then(|c| c.subs.first()).map_or("", String::as_str)
}

fn text_buf(text: &str) -> FieldBuf {
    if text.is_empty() {
        FieldBuf::default()
    } else {
        FieldBuf::text(text)
    }
}

/// A whole field as decoded text, every level kept, in the owned model's canonical form.
fn field_buf(f: Field<'_>) -> FieldBuf {
    let mut buf = crate::owned::field_buf(f);
    buf.normalize();
    buf
}

fn write_erl(seg: &mut SegmentBuf, erl: &Erl) {
    let Some(segment) = &erl.segment else {
        return;
    };
    // MSH occurs once, so its sequence is known even when the finding left it out.
    let sequence = erl.sequence.or((segment == "MSH").then_some(1));
    let parts = [
        Some(segment.clone()),
        sequence.map(|n| n.to_string()),
        erl.field.map(|n| n.to_string()),
        erl.repetition.map(|n| n.to_string()),
        erl.component.map(|n| n.to_string()),
        erl.subcomponent.map(|n| n.to_string()),
    ];
    for (i, part) in parts.iter().enumerate() {
        if let Some(p) = part {
            seg.set_component(2, 1, i + 1, p);
        }
    }
}

/// The text with every character `charset` cannot represent written as `<U+XXXX>`, and how
/// many were.
fn notate(text: &str, charset: Charset) -> (Cow<'_, str>, usize) {
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
