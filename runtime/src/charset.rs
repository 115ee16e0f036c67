//! Character sets declared by MSH-18.
//!
//! Only the sets the teleradiology guide allows are implemented. Latin-1 is done by hand
//! because encoding_rs maps the "ISO-8859-1" label to windows-1252 (as the WHATWG spec
//! demands for the web), which would turn bytes 0x80–0x9F into curly quotes and the euro
//! sign; HL7 8859/1 means the real ISO set where every byte is its own code point.
//! Encoding never substitutes a character: a replaced letter in a patient name is a
//! patient-safety problem, so an unrepresentable character is an error naming it.

use std::borrow::Cow;
use std::fmt;

pub use crate::error::CharsetError;

/// A character set of HL7 v2 MSH-18 supported by this toolkit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub enum Charset {
    /// US-ASCII, the HL7 default when MSH-18 is empty.
    #[default]
    Ascii,
    /// ISO-8859-1 ("8859/1"), byte = code point.
    Latin1,
    /// ISO-8859-15 ("8859/15"), Latin-1 with €, Š, š, Ž, ž, Œ, œ, Ÿ.
    Latin9,
    /// UTF-8 ("UNICODE UTF-8").
    Utf8,
    /// Windows-1252: never read from MSH-18 (HL7 has no label for it). A message labelled
    /// 8859/1 or 8859/15 that holds bytes 0x80–0x9F (C1 control codes in those sets, letters
    /// such as `Œ` = 0x8C in Windows-1252) is read in this set only when
    /// [`ParseOptions::windows_1252_fallback`](crate::ParseOptions) asks for it; otherwise it
    /// does not parse (see [`c1_text`]).
    Windows1252,
}

impl fmt::Display for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Bytes of ISO-8859-15 that differ from ISO-8859-1, with their characters.
const LATIN9_DIFF: [(u8, char); 8] = [
    (0xA4, '€'),
    (0xA6, 'Š'),
    (0xA8, 'š'),
    (0xB4, 'Ž'),
    (0xB8, 'ž'),
    (0xBC, 'Œ'),
    (0xBD, 'œ'),
    (0xBE, 'Ÿ'),
];

impl Charset {
    /// Reads an MSH-18 value (the caller passes the first component of the first
    /// repetition; surrounding blanks are ignored). Labels are matched without regard
    /// to ASCII case because senders are inconsistent about it.
    pub fn from_msh18(value: &[u8]) -> Result<Charset, CharsetError> {
        // The label every message of the guide carries, as written, first: a comparison of
        // its bytes rather than two case-folding walks (this runs on every parse).
        if value == b"UNICODE UTF-8" {
            return Ok(Charset::Utf8);
        }
        let v = value.trim_ascii();
        if v.is_empty() || v.eq_ignore_ascii_case(b"ASCII") {
            Ok(Charset::Ascii)
        } else if v == b"8859/1" {
            Ok(Charset::Latin1)
        } else if v == b"8859/15" {
            Ok(Charset::Latin9)
        } else if v.eq_ignore_ascii_case(b"UNICODE UTF-8") {
            Ok(Charset::Utf8)
        } else {
            Err(unsupported(v))
        }
    }

    /// The MSH-18 label, as it must be written in a message.
    pub const fn label(&self) -> &'static str {
        match self {
            Charset::Ascii => "ASCII",
            Charset::Latin1 => "8859/1",
            Charset::Latin9 => "8859/15",
            Charset::Utf8 => "UNICODE UTF-8",
            // Not an MSH-18 label: what a message read through the fallback is shown as.
            Charset::Windows1252 => "windows-1252",
        }
    }

    /// Decodes bytes of this set; borrows when no conversion is needed (UTF-8, pure ASCII).
    pub fn decode<'b>(&self, bytes: &'b [u8]) -> Result<Cow<'b, str>, CharsetError> {
        if let Some(offset) = self.first_invalid(bytes) {
            return Err(invalid_byte(bytes, offset, *self));
        }
        Ok(self.decode_lossy(bytes))
    }

    /// Encodes text to this set; borrows when the bytes are unchanged (UTF-8, pure ASCII).
    pub fn encode<'s>(&self, text: &'s str) -> Result<Cow<'s, [u8]>, CharsetError> {
        if *self == Charset::Utf8 || text.is_ascii() {
            return Ok(Cow::Borrowed(text.as_bytes()));
        }
        match self {
            Charset::Latin9 => encode_latin9(text).map(Cow::Owned),
            _ => {
                let mut out = Vec::with_capacity(text.len());
                for (index, ch) in text.chars().enumerate() {
                    if !self.encode_char(ch, &mut out) {
                        return Err(unrepresentable(ch, index, *self));
                    }
                }
                Ok(Cow::Owned(out))
            }
        }
    }

    /// Offset of the first byte that is invalid in this set.
    pub(crate) fn first_invalid(&self, bytes: &[u8]) -> Option<usize> {
        match self {
            Charset::Ascii => {
                if bytes.is_ascii() {
                    None
                } else {
                    bytes.iter().position(|b| !b.is_ascii())
                }
            }
            Charset::Utf8 => std::str::from_utf8(bytes).err().map(|e| e.valid_up_to()),
            Charset::Latin1 | Charset::Latin9 | Charset::Windows1252 => None,
        }
    }

    /// Decodes without failing, for text already validated by the parser or accepted in
    /// lenient mode: invalid UTF-8 becomes U+FFFD and non-ASCII bytes in an ASCII message
    /// are read as Latin-1 (the most common mislabeling).
    pub(crate) fn decode_lossy<'b>(&self, bytes: &'b [u8]) -> Cow<'b, str> {
        match self {
            // A strict parse validated the message's UTF-8, so the checked conversion (whose
            // ASCII path goes a word at a time) succeeds; the lossy one is for lenient input.
            Charset::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(bytes),
            },
            _ if bytes.is_ascii() => match std::str::from_utf8(bytes) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(latin1_to_string(bytes)),
            },
            Charset::Latin9 => encoding_rs::ISO_8859_15.decode_without_bom_handling(bytes).0,
            Charset::Windows1252 => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0,
            Charset::Ascii | Charset::Latin1 => Cow::Owned(latin1_to_string(bytes)),
        }
    }

    /// Owned variant of [`Charset::decode_lossy`] that reuses the buffer for UTF-8.
    pub(crate) fn decode_lossy_owned(&self, bytes: Vec<u8>) -> String {
        match self {
            Charset::Utf8 => match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            },
            _ => self.decode_lossy(&bytes).into_owned(),
        }
    }

    /// Appends the bytes of one character; false when the set cannot represent it.
    pub(crate) fn encode_char(&self, ch: char, out: &mut Vec<u8>) -> bool {
        let code = u32::from(ch);
        if code < 0x80 {
            out.push(code as u8);
            return true;
        }
        match self {
            Charset::Ascii => false,
            Charset::Utf8 => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                true
            }
            Charset::Latin1 => match u8::try_from(code) {
                Ok(b) => {
                    out.push(b);
                    true
                }
                Err(_) => false,
            },
            Charset::Windows1252 => match u8::try_from(code) {
                Ok(b) if b >= 0xA0 => {
                    out.push(b);
                    true
                }
                _ => match (0x80u8..=0x9F).find(|&b| windows_1252_char(b) == Some(ch)) {
                    Some(b) => {
                        out.push(b);
                        true
                    }
                    None => false,
                },
            },
            Charset::Latin9 => {
                if let Some((b, _)) = LATIN9_DIFF.iter().find(|(_, c)| *c == ch) {
                    out.push(*b);
                    return true;
                }
                match u8::try_from(code) {
                    Ok(b) if !LATIN9_DIFF.iter().any(|(d, _)| *d == b) => {
                        out.push(b);
                        true
                    }
                    _ => false,
                }
            }
        }
    }
}

/// Whether a byte is a C1 control code (0x80–0x9F): not text in ISO 8859, and the mark of a
/// Windows-1252 file labelled 8859/1 or 8859/15.
pub const fn is_c1(byte: u8) -> bool {
    matches!(byte, 0x80..=0x9F)
}

/// The character a byte is in Windows-1252 (`None` for the five bytes it leaves undefined and
/// for ASCII, which needs no table).
pub fn windows_1252_char(byte: u8) -> Option<char> {
    if byte < 0x80 || matches!(byte, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D) {
        return None;
    }
    encoding_rs::WINDOWS_1252.decode_without_bom_handling(&[byte]).0.chars().next()
}

/// The parse error's text for a C1 byte in a message labelled `label` (8859/1 or 8859/15).
/// ASCII apart from the letter, so that an ACK in any set can carry it.
pub fn c1_text(byte: u8, label: &str) -> String {
    let letter = match windows_1252_char(byte) {
        Some(ch) => format!(" (where 0x{byte:02X} is `{ch}`)"),
        None => String::new(),
    };
    format!(
        "byte 0x{byte:02X} is a C1 control code, not text, in the declared character set {label}: the message is probably Windows-1252{letter} \
         labelled {label}; convert it, or read it as Windows-1252 with --charset-fallback windows-1252"
    )
}

/// The warning that goes with a message read through
/// [`ParseOptions::windows_1252_fallback`](crate::ParseOptions): at MSH-18, since the label is
/// what is wrong. `None` for a message read in the set its MSH-18 names.
pub fn windows_1252_notice(message: &crate::Message<'_>) -> Option<crate::validate::Finding> {
    use crate::validate::{Erl, Finding, Severity};
    if message.charset() != Charset::Windows1252 {
        return None;
    }
    Some(Finding {
        severity: Severity::Warning,
        code: crate::validate::finding::code::DATA_TYPE,
        location: Erl { segment: Some("MSH".into()), sequence: Some(1), field: Some(18), ..Erl::default() },
        rule: "charset-fallback".into(),
        source: "hl7_runtime::ParseOptions::windows_1252_fallback".into(),
        message: "MSH-18 names an ISO 8859 set but the message holds bytes 0x80-0x9F: it was read as Windows-1252, as asked (--charset-fallback windows-1252); the sender should label or convert it".into(),
    })
}

fn latin1_to_string(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn encode_latin9(text: &str) -> Result<Vec<u8>, CharsetError> {
    use encoding_rs::EncoderResult;
    let mut encoder = encoding_rs::ISO_8859_15.new_encoder();
    // A single-byte set never writes more bytes than the UTF-8 input has.
    let mut out = vec![0u8; text.len()];
    let (result, read, written) = encoder.encode_from_utf8_without_replacement(text, &mut out, true);
    match result {
        EncoderResult::InputEmpty => {
            out.truncate(written);
            Ok(out)
        }
        EncoderResult::Unmappable(ch) => {
            // `read` counts the unmappable character as consumed.
            let before = read.saturating_sub(ch.len_utf8());
            let index = text.get(..before).map_or(0, |s| s.chars().count());
            Err(unrepresentable(ch, index, Charset::Latin9))
        }
        EncoderResult::OutputFull => {
            // Cannot happen for a single-byte set; fall back to the table rather than panic.
            let mut out = Vec::with_capacity(text.len());
            for (index, ch) in text.chars().enumerate() {
                if !Charset::Latin9.encode_char(ch, &mut out) {
                    return Err(unrepresentable(ch, index, Charset::Latin9));
                }
            }
            Ok(out)
        }
    }
}

#[cold]
fn unsupported(v: &[u8]) -> CharsetError {
    CharsetError::Unsupported { label: String::from_utf8_lossy(v).into_owned() }
}

#[cold]
pub(crate) fn unrepresentable(ch: char, index: usize, charset: Charset) -> CharsetError {
    CharsetError::Unrepresentable { ch, index, charset: charset.label() }
}

#[cold]
fn invalid_byte(bytes: &[u8], offset: usize, charset: Charset) -> CharsetError {
    CharsetError::InvalidByte {
        byte: bytes.get(offset).copied().unwrap_or(0),
        offset,
        charset: charset.label(),
    }
}
