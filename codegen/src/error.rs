//! Spec problems, reported all at once with file and JSON pointer.

use std::fmt;

/// One problem in one spec file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SpecError {
    /// The file, as `<folder>/<file>` (for example `telerad/flux1_orm_o01_nw.tables.json`).
    pub file: String,
    /// RFC 6901 pointer into that file (`/segments/PID/fields/2/usage`), empty for the root.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}: {}", self.file, self.pointer, self.message)
    }
}

/// Every problem found in a spec folder, sorted by file and pointer so reports are stable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl SpecErrors {
    pub(crate) fn push(&mut self, file: &str, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push(SpecError { file: file.to_owned(), pointer: pointer.into(), message: message.into() });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &SpecError> {
        self.0.iter()
    }
    pub(crate) fn into_result<T>(mut self, value: T) -> Result<T, SpecErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            self.0.sort();
            self.0.dedup();
            Err(self)
        }
    }
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} problem(s) in the spec:", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

/// Escapes one JSON pointer token (RFC 6901).
pub(crate) fn token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
