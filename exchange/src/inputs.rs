//! What `telerad validate` reads: the paths of the command line expanded into files, and each
//! file cut into the messages it holds.
//!
//! Integrators validate captured traffic: folders of files (one message each, several, or HL7
//! batches), often beside other files (notes, exports). So a folder is walked recursively in
//! a stable order (names sorted at each level, so that two runs, and a run on one core, print
//! the same thing), hidden files and folders are skipped (editors' and version control's), and
//! a file found in a folder is taken only when it starts like HL7 (`MSH`, `FHS` or `BHS`,
//! after an optional byte-order mark); the others are named on standard error as skipped. A
//! file named on the command line is always read: if it is not HL7, validation says why.

use std::io::Read;
use std::path::{Path, PathBuf};

use hl7_runtime::validate::{Erl, Finding, Severity};

use crate::batch::{self, SplitError};

/// The UTF-8 byte-order mark some Windows editors write at the start of a text file.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One input file (or standard input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// `None`: standard input.
    pub path: Option<PathBuf>,
    /// Found by walking a folder (rather than named on the command line).
    pub walked: bool,
}

impl Source {
    /// The name messages are reported under: the path as given, `-` for standard input.
    pub fn name(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "-".to_owned(),
        }
    }

    /// The file's bytes; a failure is the text of a usage error (exit 2).
    pub fn read(&self) -> Result<Vec<u8>, String> {
        let mut bytes = Vec::new();
        let result = match &self.path {
            None => std::io::stdin().read_to_end(&mut bytes).map(|_| ()),
            Some(p) => std::fs::File::open(p).and_then(|mut f| f.read_to_end(&mut bytes)).map(|_| ()),
        };
        result.map_err(|e| format!("cannot read {}: {e}", self.name()))?;
        Ok(bytes)
    }
}

/// The files named by `paths`, in order, folders expanded; and the errors met (a path that
/// does not exist, a folder that cannot be read), each a usage error's text.
pub fn expand(paths: &[PathBuf]) -> (Vec<Source>, Vec<String>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            sources.push(Source { path: None, walked: false });
            continue;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => walk(path, &mut sources, &mut errors),
            Ok(_) => sources.push(Source { path: Some(path.clone()), walked: false }),
            Err(e) => errors.push(format!("cannot read {}: {e}", path.display())),
        }
    }
    (sources, errors)
}

fn hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

fn walk(root: &Path, sources: &mut Vec<Source>, errors: &mut Vec<String>) {
    // Links are followed (captures are often linked into a folder); walkdir reports a loop as
    // an error instead of walking it forever.
    let walker = walkdir::WalkDir::new(root).follow_links(true).sort_by_file_name().into_iter();
    for entry in walker.filter_entry(|e| e.depth() == 0 || !hidden(e.file_name())) {
        match entry {
            Ok(e) if e.file_type().is_file() => sources.push(Source { path: Some(e.into_path()), walked: true }),
            Ok(_) => {}
            Err(e) => {
                let at = e.path().unwrap_or(root).display().to_string();
                errors.push(format!("cannot read {at}: {}", e.io_error().map_or_else(|| e.to_string(), ToString::to_string)));
            }
        }
    }
}

/// Whether a file found in a folder is taken: it starts, after an optional byte-order mark
/// and white space, with a segment that starts a message or a batch.
pub fn looks_like_hl7(content: &[u8]) -> bool {
    let content = content.strip_prefix(BOM).unwrap_or(content);
    let start = content.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(content.len());
    matches!(content.get(start..start + 3), Some(b"MSH" | b"FHS" | b"BHS"))
}

/// One message to check: where it is in its file, and what the file's framing says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Its bytes in the file's content.
    pub bytes: std::ops::Range<usize>,
    /// 1-based position among the file's messages.
    pub number: usize,
    /// 1-based line of its first segment.
    pub line: usize,
    /// Findings about the file rather than the message (a byte-order mark, a segment that
    /// belongs to no message), reported with it.
    pub framing: Vec<Finding>,
}

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contents {
    Messages(Vec<Piece>),
    /// A batch without any message (`FHS`/`BHS` and trailers only): nothing to check.
    NoMessage,
}

/// A finding about the file's framing: an error that makes its message not valid.
fn framing(message: String) -> Finding {
    Finding {
        severity: Severity::Error,
        code: hl7_runtime::validate::finding::code::SEGMENT_SEQUENCE,
        location: Erl::default(),
        rule: "file".into(),
        source: "hl7v2.5.1".into(),
        message,
    }
}

/// The text for a file that starts with a byte-order mark, in the command's terms.
pub fn bom_text() -> &'static str {
    "the file starts with a UTF-8 byte-order mark (bytes EF BB BF), which is not part of an HL7 message: save the file without it, or give --lenient to skip it"
}

/// Cuts `content` into its messages. A byte-order mark is skipped (and, unless `lenient`,
/// reported as an error of the first message). Content that does not start like HL7 is one
/// message, so that the parser says what is wrong with it.
pub fn pieces(content: &[u8], lenient: bool) -> Contents {
    let skip = if content.starts_with(BOM) { BOM.len() } else { 0 };
    let body = content.get(skip..).unwrap_or_default();
    let mut first_framing = Vec::new();
    if skip > 0 && !lenient {
        first_framing.push(framing(bom_text().to_owned()));
    }
    let whole = |framing: Vec<Finding>| Contents::Messages(vec![Piece { bytes: skip..content.len(), number: 1, line: 1, framing }]);
    match batch::locate(body) {
        Ok(found) => Contents::Messages(
            found
                .into_iter()
                .enumerate()
                .map(|(i, m)| Piece {
                    bytes: m.bytes.start + skip..m.bytes.end + skip,
                    number: i + 1,
                    line: m.line,
                    framing: if i == 0 { std::mem::take(&mut first_framing) } else { Vec::new() },
                })
                .collect(),
        ),
        Err(SplitError::Empty) if looks_like_hl7(body) => Contents::NoMessage,
        Err(SplitError::Orphan { .. }) | Err(SplitError::Empty) if !looks_like_hl7(body) => whole(first_framing),
        // The file starts like HL7 but a segment after a batch trailer belongs to no message.
        Err(e) => {
            first_framing.push(framing(e.to_string()));
            whole(first_framing)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_of_a_file() {
        let Contents::Messages(p) = pieces(b"MSH|^~\\&|A\rPID|1\r\rMSH|^~\\&|B\r", false) else { panic!() };
        assert_eq!(p.len(), 2);
        assert_eq!((p[1].number, p[1].line), (2, 4));
        assert!(p.iter().all(|p| p.framing.is_empty()));
        // A byte-order mark: skipped, and an error of the first message unless lenient.
        let bom = b"\xEF\xBB\xBFMSH|^~\\&|A\rMSH|^~\\&|B\r";
        let Contents::Messages(p) = pieces(bom, false) else { panic!() };
        assert_eq!(p[0].bytes, 3..14);
        assert!(p[0].framing[0].message.contains("byte-order mark"), "{:?}", p[0].framing);
        assert!(p[1].framing.is_empty());
        let Contents::Messages(p) = pieces(bom, true) else { panic!() };
        assert!(p[0].framing.is_empty());
        // Not HL7: one message, the parser says why.
        assert_eq!(pieces(b"hello\r", false), Contents::Messages(vec![Piece { bytes: 0..6, number: 1, line: 1, framing: vec![] }]));
        assert_eq!(pieces(b"FHS|^~\\&\rFTS|0\r", false), Contents::NoMessage);
        let Contents::Messages(p) = pieces(b"MSH|^~\\&|A\rBTS|1\rPID|1\r", false) else { panic!() };
        assert_eq!(p.len(), 1);
        assert!(p[0].framing[0].message.contains("line 3: segment `PID`"), "{:?}", p[0].framing);
    }

    #[test]
    fn what_a_walk_takes() {
        assert!(looks_like_hl7(b"\xEF\xBB\xBF\r\nMSH|"));
        assert!(looks_like_hl7(b"FHS|^~\\&"));
        assert!(!looks_like_hl7(b"# notes"));
        assert!(!looks_like_hl7(b""));
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("b/.git")).unwrap();
        std::fs::create_dir_all(d.join("a")).unwrap();
        for f in ["b/2.hl7", "b/10.hl7", "a/z.hl7", ".hidden.hl7", "b/.git/x.hl7", "c.hl7"] {
            std::fs::write(d.join(f), "MSH").unwrap();
        }
        let (found, errors) = expand(&[d.to_path_buf(), d.join("missing")]);
        let names: Vec<String> = found.iter().map(|s| s.path.as_ref().unwrap().strip_prefix(d).unwrap().display().to_string()).collect();
        // Sorted by name at each level (bytes, so `10` before `2`); hidden entries skipped.
        assert_eq!(names, ["a/z.hl7", "b/10.hl7", "b/2.hl7", "c.hl7"]);
        assert!(found.iter().all(|s| s.walked));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("cannot read ") && errors[0].contains("missing"), "{errors:?}");
        // A hidden file named on the command line is read.
        let (found, _) = expand(&[d.join(".hidden.hl7")]);
        assert_eq!(found.len(), 1);
        assert!(!found[0].walked);
    }
}
