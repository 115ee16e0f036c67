//! Error texts in the command's terms.
//!
//! The parser's errors are written for the library's users: the fix they name for LF line ends
//! is a field of `ParseOptions`. A person at the command line needs the option that does it
//! (`--lenient`), and needs to be told when a file starts with a UTF-8 byte-order mark rather
//! than that it "must start with MSH". The library's texts are kept as they are (its own tests
//! and users read them); the command rewrites them on the way out.

use std::borrow::Cow;

/// The library's hints and the command's words for them.
const REWORDED: &[(&str, &str)] = &[
    ("ParseOptions { lenient_terminators: true, .. } accepts LF and CRLF", "Give --lenient to accept LF and CRLF line ends"),
    ("ParseOptions { lenient_terminators: true, .. } skips empty lines", "give --lenient to skip empty lines"),
];

/// `text` (an error or a finding's message) with the library's hints in the command's words.
pub fn reword(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    for (from, to) in REWORDED {
        if out.contains(from) {
            out = Cow::Owned(out.replace(from, to));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The texts rewritten are the parser's own: if it changes them, this fails rather than the
    /// command silently printing a Rust struct again.
    #[test]
    fn the_parsers_hints_are_reworded() {
        let options = hl7_runtime::ParseOptions::default();
        let lf = hl7_runtime::Message::parse_with(b"MSH|^~\\&|A\nPID|1\n", &options).unwrap_err().to_string();
        let empty = hl7_runtime::Message::parse_with(b"MSH|^~\\&|A\r\rPID|1\r", &options).unwrap_err().to_string();
        for (text, expected) in [(lf, "Give --lenient to accept LF and CRLF line ends"), (empty, "give --lenient to skip empty lines")] {
            let reworded = reword(&text);
            assert!(reworded.contains(expected), "{reworded}");
            assert!(!reworded.contains("ParseOptions"), "{reworded}");
        }
        assert!(matches!(reword("nothing to change"), Cow::Borrowed(_)));
    }
}
