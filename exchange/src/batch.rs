//! Reading message files for sending: one file may hold several messages, and an HL7 batch
//! file (FHS/BHS … BTS/FTS) is split into its messages.
//!
//! Rules: segments may end with CR, LF or CRLF in the file (editors change them); each
//! message is sent with CR after every segment. A message starts at each `MSH`. The batch
//! header and trailer segments (`FHS`, `BHS`, `BTS`, `FTS`) are not sent. Empty lines are
//! skipped. Any other segment before the first `MSH` is an error (it belongs to no message).

/// Why a file cannot be split into messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("line {line}: segment `{id}` before the first MSH belongs to no message")]
    Orphan { line: usize, id: String },
    #[error("no MSH segment: the file holds no message")]
    Empty,
}

/// The messages of a file's content, each with CR-terminated segments.
pub fn split(content: &[u8]) -> Result<Vec<Vec<u8>>, SplitError> {
    let mut messages: Vec<Vec<u8>> = Vec::new();
    for (i, line) in content.split(|&b| b == b'\r' || b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let id = line.get(..3).unwrap_or(line);
        match id {
            b"MSH" => messages.push(Vec::with_capacity(1024)),
            b"FHS" | b"BHS" | b"BTS" | b"FTS" => continue,
            _ => {}
        }
        match messages.last_mut() {
            Some(m) => {
                m.extend_from_slice(line);
                m.push(b'\r');
            }
            None => return Err(SplitError::Orphan { line: i + 1, id: String::from_utf8_lossy(id).into_owned() }),
        }
    }
    if messages.is_empty() {
        return Err(SplitError::Empty);
    }
    Ok(messages)
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
    }
}
