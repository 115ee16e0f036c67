//! Reading message files: one file may hold several messages, and an HL7 batch file
//! (FHS/BHS … BTS/FTS) is split into its messages. `telerad send` sends them, `telerad validate`
//! checks each where it is in the file, `telerad split` writes them one per file.
//!
//! Rules: segments may end with CR, LF or CRLF in the file (editors change them). A message
//! starts at each `MSH` and ends with its last non-empty line, terminator included; the empty
//! lines after it separate it from the next one. The batch header and trailer segments (`FHS`,
//! `BHS`, `BTS`, `FTS`) belong to no message. Any other segment before the first `MSH`, or
//! between a batch trailer and the next `MSH`, is an error (it belongs to no message).
//!
//! [`locate`] keeps each message's bytes as the file has them, so that validation still sees
//! (and names) LF line ends or empty segments inside a message; [`split`] gives each message
//! with CR after every segment and empty lines dropped, as sending needs.

use std::ops::Range;

/// Why a file cannot be split into messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("line {line}: segment `{id}` belongs to no message (a message starts at MSH; batch segments FHS, BHS, BTS, FTS end it)")]
    Orphan { line: usize, id: String },
    #[error("no MSH segment: the file holds no message")]
    Empty,
}

/// Where one message is in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// Its bytes in the file, from `MSH` to the terminator of its last non-empty line.
    pub bytes: Range<usize>,
    /// The 1-based line of its `MSH` (CR, LF and CRLF each end one line).
    pub line: usize,
}

/// The lines of `content`: (1-based number, the line's bytes without terminator, the range of
/// the line with its terminator).
fn lines(content: &[u8]) -> impl Iterator<Item = (usize, Range<usize>, usize)> + '_ {
    let mut at = 0;
    let mut number = 0;
    std::iter::from_fn(move || {
        if at >= content.len() {
            return None;
        }
        let start = at;
        let rest = content.get(start..).unwrap_or_default();
        let (text_end, next) = match memchr::memchr2(b'\r', b'\n', rest) {
            Some(i) => {
                let end = start + i;
                // CRLF is one terminator, so that line numbers match an editor's.
                let crlf = rest.get(i..i + 2) == Some(b"\r\n".as_slice());
                (end, end + if crlf { 2 } else { 1 })
            }
            None => (content.len(), content.len()),
        };
        at = next;
        number += 1;
        Some((number, start..text_end, next))
    })
}

/// The messages of a file's content, each where it is in `content`.
pub fn locate(content: &[u8]) -> Result<Vec<Located>, SplitError> {
    let mut found: Vec<Located> = Vec::new();
    // Whether a line belongs to the last message found: not before the first MSH, nor after a
    // batch header or trailer.
    let mut open = false;
    for (number, text, next) in lines(content) {
        let line = content.get(text.clone()).unwrap_or_default();
        if line.is_empty() {
            continue;
        }
        match line.get(..3).unwrap_or(line) {
            b"MSH" => {
                found.push(Located { bytes: text.start..next, line: number });
                open = true;
            }
            b"FHS" | b"BHS" | b"BTS" | b"FTS" => open = false,
            id => match found.last_mut() {
                Some(m) if open => m.bytes.end = next,
                _ => return Err(SplitError::Orphan { line: number, id: String::from_utf8_lossy(id).into_owned() }),
            },
        }
    }
    if found.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(found)
}

/// A located message with CR after every segment and its empty lines dropped.
pub fn normalized(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 1);
    for (_, text, _) in lines(message) {
        let line = message.get(text).unwrap_or_default();
        if !line.is_empty() {
            out.extend_from_slice(line);
            out.push(b'\r');
        }
    }
    out
}

/// The messages of a file's content, each with CR-terminated segments.
pub fn split(content: &[u8]) -> Result<Vec<Vec<u8>>, SplitError> {
    Ok(locate(content)?.into_iter().map(|m| normalized(content.get(m.bytes).unwrap_or_default())).collect())
}

/// MSH-10 of a message, read from its first line (what `telerad send` prints).
pub fn control_id(message: &[u8]) -> String {
    let end = message.iter().position(|&b| b == b'\r').unwrap_or(message.len());
    let line = message.get(..end).unwrap_or_default();
    match hl7_runtime::Message::parse_with(line, &hl7_runtime::ParseOptions::lenient()) {
        Ok(m) => m.segment(0).map(|s| s.field(10).first().text().trim().to_owned()).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_and_concatenations() {
        let batch = b"FHS|^~\\&|RIS\rBHS|^~\\&|RIS\rMSH|^~\\&|A|B|C|D|1||ORM^O01|1|P|2.5.1\rPID|||1\rMSH|^~\\&|A|B|C|D|1||ORM^O01|2|P|2.5.1\r\nPID|||2\n\nBTS|2\rFTS|1\r";
        let m = split(batch).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], b"MSH|^~\\&|A|B|C|D|1||ORM^O01|1|P|2.5.1\rPID|||1\r");
        assert_eq!(m[1], b"MSH|^~\\&|A|B|C|D|1||ORM^O01|2|P|2.5.1\rPID|||2\r");
        assert_eq!(control_id(&m[1]), "2");
        // A message without its final CR gets one.
        assert_eq!(split(b"MSH|^~\\&|A\rPID|1").unwrap(), vec![b"MSH|^~\\&|A\rPID|1\r".to_vec()]);
        assert_eq!(split(b"PID|1\rMSH|^~\\&|A\r"), Err(SplitError::Orphan { line: 1, id: "PID".into() }));
        assert_eq!(split(b"\r\n"), Err(SplitError::Empty));
        // CRLF counts as one line end.
        assert_eq!(split(b"\r\n\r\nOBX|1\r\nMSH|^~\\&|A\r"), Err(SplitError::Orphan { line: 3, id: "OBX".into() }));
        // After a batch trailer, a segment belongs to no message.
        assert_eq!(split(b"MSH|^~\\&|A\rBTS|1\rPID|1\r"), Err(SplitError::Orphan { line: 3, id: "PID".into() }));
    }

    #[test]
    fn located_messages_keep_their_bytes() {
        let file = b"FHS|^~\\&\r\nMSH|^~\\&|A\nPID|1\n\n\r\nMSH|^~\\&|B\r\rPID|2\rBTS|2\r";
        let m = locate(file).unwrap();
        assert_eq!(m.len(), 2);
        // LF line ends stay (strict validation names them); the empty lines after a message
        // are not part of it, an empty line inside one is.
        assert_eq!(&file[m[0].bytes.clone()], b"MSH|^~\\&|A\nPID|1\n");
        assert_eq!(m[0].line, 2);
        assert_eq!(&file[m[1].bytes.clone()], b"MSH|^~\\&|B\r\rPID|2\r");
        assert_eq!(m[1].line, 6);
        assert_eq!(normalized(&file[m[1].bytes.clone()]), b"MSH|^~\\&|B\rPID|2\r");
        // One message without a final terminator: the whole file.
        let one = b"MSH|^~\\&|A\rPID|1";
        assert_eq!(locate(one).unwrap(), vec![Located { bytes: 0..one.len(), line: 1 }]);
    }
}
