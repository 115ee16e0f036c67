//! Errors of the ER7 layer.
//!
//! Every parse error carries a [`Location`] in HL7 terms (`PID-5[2].1.2 (byte 214)`)
//! because the people reading these messages are interface analysts who think in
//! segment/field positions, while the byte offset lets a tool jump to the exact spot.
//! Constructors are `#[cold]`: errors are the rare path and must not bloat the hot loop.

use std::fmt;

/// Where something is in a message, in HL7 terms plus the absolute byte offset.
///
/// Positions below the segment are `None` when they do not apply or would only add
/// noise: the parser records a repetition, component or subcomponent number only when
/// the enclosing element actually contains that kind of separator, so `PID-8` is
/// reported as such instead of `PID-8[1].1.1`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Location {
    /// 0-based index of the segment in the message (skipped empty lines do not count).
    pub segment_index: usize,
    /// The segment id, or `None` when it is unknown (e.g. the id itself is invalid).
    pub segment_id: Option<[u8; 3]>,
    /// HL7 field number (1-based; for MSH, MSH-1 is the field separator). Positions are
    /// `u32`: a message is below 4 GiB, so no position can exceed it, and none is ever
    /// reported wrapped or capped.
    pub field: Option<u32>,
    /// 1-based repetition number.
    pub repetition: Option<u32>,
    /// 1-based component number.
    pub component: Option<u32>,
    /// 1-based subcomponent number.
    pub subcomponent: Option<u32>,
    /// Absolute byte offset in the parsed input.
    pub byte: usize,
}

impl Location {
    /// A segment-level location (no field).
    pub(crate) fn segment(segment_index: usize, segment_id: Option<[u8; 3]>, byte: usize) -> Self {
        Location {
            segment_index,
            segment_id,
            field: None,
            repetition: None,
            component: None,
            subcomponent: None,
            byte,
        }
    }

    /// The segment id as text, when known.
    pub fn segment_id_str(&self) -> Option<&str> {
        self.segment_id.as_ref().and_then(|id| std::str::from_utf8(id).ok())
    }
}

impl fmt::Display for Location {
    /// Segment numbers in the "unknown id" form are 1-based, like every other HL7 position,
    /// so "segment 3" is the third segment of the message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.segment_id_str() {
            Some(id) => f.write_str(id)?,
            None => write!(f, "segment {}", self.segment_index + 1)?,
        }
        if let Some(field) = self.field {
            write!(f, "-{field}")?;
            if let Some(rep) = self.repetition {
                write!(f, "[{rep}]")?;
            }
            if let Some(comp) = self.component {
                write!(f, ".{comp}")?;
                if let Some(sub) = self.subcomponent {
                    write!(f, ".{sub}")?;
                }
            }
        }
        write!(f, " (byte {})", self.byte)
    }
}

/// What went wrong while parsing.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input has no bytes at all.
    #[error("empty input")]
    Empty,
    /// The input does not even start like an HL7 segment (binary data, prose, JSON...).
    #[error("not an HL7 v2 message: it must start with \"MSH\" and the field separator")]
    NotHl7,
    /// The input starts with a well-formed segment that is not MSH (a fragment, a batch header).
    #[error("first segment is {found}, an HL7 message must start with MSH")]
    MissingMsh {
        /// The id of the segment found first.
        found: String,
    },
    /// The MSH segment ends before the field separator and encoding characters are complete.
    #[error("MSH segment too short to hold the field separator and the encoding characters")]
    TruncatedHeader,
    /// MSH-1/MSH-2 hold characters that cannot work as delimiters.
    #[error("invalid delimiters in MSH-1/MSH-2: {reason}")]
    InvalidDelimiters {
        /// Why the delimiters were rejected.
        reason: &'static str,
    },
    /// A line feed where only CR may end a segment (strict mode).
    #[error(
        "line feed (LF) found; HL7 segments end with a carriage return (CR). \
         ParseOptions {{ lenient_terminators: true, .. }} accepts LF and CRLF"
    )]
    UnexpectedLineFeed,
    /// Two segment terminators in a row (strict mode).
    #[error(
        "empty segment (two segment terminators in a row); \
         ParseOptions {{ lenient_terminators: true, .. }} skips empty lines"
    )]
    EmptySegment,
    /// A segment id that is not 3 uppercase letters/digits starting with a letter.
    #[error("invalid segment id {id:?}: expected 3 uppercase letters or digits, the first a letter")]
    InvalidSegmentId {
        /// The offending id text (lossily decoded, truncated).
        id: String,
    },
    /// A second MSH: this parser reads exactly one message.
    #[error("second MSH segment: this parser reads one message, split batches first")]
    DuplicateMsh,
    /// A C0 control character other than CR, LF or TAB.
    #[error("control character 0x{byte:02X} is not allowed in HL7 text")]
    ControlCharacter {
        /// The offending byte.
        byte: u8,
    },
    /// MSH-18 names a character set this toolkit does not implement (strict mode).
    #[error(
        "unsupported character set {value:?} in MSH-18 \
         (supported: ASCII, 8859/1, 8859/15, UNICODE UTF-8)"
    )]
    UnsupportedCharset {
        /// The MSH-18 value.
        value: String,
    },
    /// A byte that is not valid in the character set declared by MSH-18 (strict mode), or a
    /// C1 control code (0x80–0x9F) in a message labelled 8859/1 or 8859/15 (located at its
    /// field, the text saying the message is probably Windows-1252).
    #[error("{}", invalid_encoding_text(.charset, .byte))]
    InvalidEncoding {
        /// Label of the declared character set.
        charset: &'static str,
        /// The first offending byte.
        byte: u8,
    },
    /// A malformed escape sequence (strict mode).
    #[error("invalid escape {sequence}")]
    InvalidEscape {
        /// The sequence as written, from the escape character up to its end.
        sequence: String,
        /// Why it is malformed.
        reason: &'static str,
    },
    /// The input is larger than [`Limits::max_message_bytes`](crate::Limits) (or than the
    /// 4 GiB the 32-bit offsets of the segment index can address). Located at the first byte
    /// past the limit, in the segment that crosses it.
    #[error("message of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Input length.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// More segments than [`Limits::max_segments`](crate::Limits). Located at the first
    /// segment past the limit.
    #[error("more than {limit} segments")]
    TooManySegments {
        /// The limit in force.
        limit: usize,
    },
    /// A field with more repetitions than [`Limits::max_repetitions`](crate::Limits). Located
    /// at the first repetition past the limit.
    #[error("more than {limit} repetitions in one field")]
    TooManyRepetitions {
        /// The limit in force.
        limit: usize,
    },
}

fn invalid_encoding_text(charset: &str, byte: &u8) -> String {
    let byte = *byte;
    if crate::charset::is_c1(byte) && matches!(charset, "8859/1" | "8859/15") {
        return crate::charset::c1_text(byte, charset);
    }
    format!("byte 0x{byte:02X} is not valid in the declared character set {charset}")
}

/// A parse failure with its location.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind}")]
pub struct ParseError {
    kind: ParseErrorKind,
    location: Location,
    /// The segment's occurrence among the segments with its id, when the parser gives it.
    sequence: Option<u32>,
}

impl ParseError {
    #[cold]
    #[inline(never)]
    pub(crate) fn new(kind: ParseErrorKind, location: Location) -> Self {
        ParseError { kind, location, sequence: None }
    }

    pub(crate) fn with_sequence(mut self, sequence: u32) -> Self {
        self.sequence = Some(sequence);
        self
    }

    /// The 1-based occurrence of the error's segment among the segments with the same id
    /// (ERR-2.2), for the errors located this way (the C1 bytes of a mislabelled message);
    /// `None` for the others.
    pub fn segment_sequence(&self) -> Option<u32> {
        self.sequence
    }

    /// What went wrong.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// Where it went wrong.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Both parts, by value.
    pub fn into_parts(self) -> (ParseErrorKind, Location) {
        (self.kind, self.location)
    }
}

/// Character-set conversion failures. Conversion never substitutes: a character that
/// cannot be represented is an error, because a silently altered name or result in a
/// medical message is worse than a rejected one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CharsetError {
    /// MSH-18 value that this toolkit does not implement.
    #[error("unsupported character set {label:?} (supported: ASCII, 8859/1, 8859/15, UNICODE UTF-8)")]
    Unsupported {
        /// The value found.
        label: String,
    },
    /// A character the target set cannot represent.
    #[error("character {ch:?} (U+{:04X}) at char index {index} cannot be represented in {charset}", u32::from(*.ch))]
    Unrepresentable {
        /// The character.
        ch: char,
        /// Its index in the text, counted in chars.
        index: usize,
        /// Label of the target set.
        charset: &'static str,
    },
    /// A byte (sequence) that is invalid in the source set.
    #[error("byte 0x{byte:02X} at offset {offset} is not valid {charset}")]
    InvalidByte {
        /// The first offending byte.
        byte: u8,
        /// Its offset in the input.
        offset: usize,
        /// Label of the source set.
        charset: &'static str,
    },
}

/// Failures while writing ER7.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// Character-set conversion failed.
    #[error(transparent)]
    Charset(#[from] CharsetError),
    /// The text holds a delimiter or control character but no escape character is defined.
    #[error("character {ch:?} at char index {index} needs escaping but the delimiters define no escape character")]
    Unescapable {
        /// The character.
        ch: char,
        /// Its index in the text, counted in chars.
        index: usize,
    },
    /// A segment id that would not parse back.
    #[error("invalid segment id {id:?}: expected 3 uppercase letters or digits, the first a letter")]
    InvalidSegmentId {
        /// The id.
        id: String,
    },
    /// Delimiters that would not parse back.
    #[error("invalid delimiters: {reason}")]
    InvalidDelimiters {
        /// Why.
        reason: &'static str,
    },
    /// Several subcomponents but no subcomponent separator defined.
    #[error("several subcomponents but the delimiters define no subcomponent separator")]
    NoSubcomponentSeparator,
    /// An error at a given position of a built message.
    #[error("{path}: {source}")]
    At {
        /// HL7 position, e.g. `PID-5[1].2.1`.
        path: String,
        /// The underlying error.
        source: Box<EncodeError>,
    },
}

impl EncodeError {
    #[cold]
    pub(crate) fn at(path: String, source: EncodeError) -> Self {
        EncodeError::At { path, source: Box::new(source) }
    }
}

/// A malformed path (`Message::get`, `path::get`): where, and why, in the grammar of
/// [`crate::path::syntax`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The path does not follow the grammar, or uses a part of it the caller does not take
    /// (groups over a flat message).
    #[error("invalid path {path:?} at character {position}: {reason}")]
    Syntax {
        /// The path given.
        path: String,
        /// 0-based byte position of the problem.
        position: usize,
        /// What was expected.
        reason: &'static str,
    },
}
