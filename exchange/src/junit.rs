//! `telerad validate --format junit`: the JUnit XML that CI servers (GitLab, Jenkins, GitHub
//! test reporters) show as a test report, so that a pipeline validating an interface's sample
//! messages lists each message that fails and why.
//!
//! One `testsuite` per file, one `testcase` per message (classname: its profile), one
//! `failure` per error finding (type: the table 0357 code and the rule; text: location, code,
//! message, rule and the guide's source); the findings below error that are shown go to the
//! test case's `system-out`. A file that cannot be read is a test case with an `error`, a file
//! skipped in a folder a `skipped` one. The document is kept in memory until the end because
//! the root element carries the totals.

use std::fmt::Write as _;
use std::io::Write;

use hl7_runtime::validate::Severity;

use crate::summary::Summary;
use crate::validation::{Checked, Sink};

/// Text made safe for XML 1.0 content and attribute values: markup characters escaped, line
/// ends kept in attributes as character references, and the control characters XML cannot
/// hold at all written as `\xNN` (a message's bytes may contain them).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The JUnit output.
pub struct Junit<'w> {
    pub out: &'w mut dyn Write,
    body: String,
    /// The test cases of the file being read: its name, cases, tests, failures, errors, skipped.
    suite: Option<Suite>,
    totals: Counts,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

struct Suite {
    name: String,
    cases: String,
    counts: Counts,
}

impl<'w> Junit<'w> {
    pub fn new(out: &'w mut dyn Write) -> Junit<'w> {
        Junit { out, body: String::new(), suite: None, totals: Counts::default() }
    }

    fn suite(&mut self, file: &str) -> &mut Suite {
        if self.suite.as_ref().is_some_and(|s| s.name != file) {
            self.close();
        }
        self.suite.get_or_insert_with(|| Suite { name: file.to_owned(), cases: String::new(), counts: Counts::default() })
    }

    fn close(&mut self) {
        if let Some(s) = self.suite.take() {
            let c = s.counts;
            let _ = writeln!(
                self.body,
                "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n{}  </testsuite>",
                escape(&s.name),
                c.tests,
                c.failures,
                c.errors,
                c.skipped,
                s.cases
            );
            let t = &mut self.totals;
            t.tests += c.tests;
            t.failures += c.failures;
            t.errors += c.errors;
            t.skipped += c.skipped;
        }
    }
}

impl Sink for Junit<'_> {
    fn message(&mut self, m: &Checked<'_>) -> std::io::Result<()> {
        let mut name = m.name();
        if !m.control_id.is_empty() {
            let _ = write!(name, " MSH-10 {}", m.control_id);
        }
        let mut case = format!("    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\">\n", escape(m.profile.unwrap_or("no profile")), escape(&name), escape(m.file), m.line);
        let mut out = String::new();
        let mut failures = 0;
        for f in &m.shown {
            let detail = format!("{} {} {}: {} (rule {}, {})", f.severity.word(), f.code, f.location, f.message, f.rule, f.source);
            if f.severity == Severity::Error {
                failures += 1;
                let _ = writeln!(case, "      <failure message=\"{}: {}\" type=\"{} {}\">{}</failure>", escape(&f.location.to_string()), escape(&f.message), f.code, escape(&f.rule), escape(&detail));
            } else {
                out.push_str(&detail);
                out.push('\n');
            }
        }
        if !out.is_empty() {
            let _ = writeln!(case, "      <system-out>{}</system-out>", escape(&out));
        }
        case.push_str("    </testcase>\n");
        let suite = self.suite(m.file);
        suite.cases.push_str(&case);
        suite.counts.tests += 1;
        // One failing test case per invalid message, whatever its number of failures.
        suite.counts.failures += usize::from(failures > 0);
        Ok(())
    }

    fn unread(&mut self, file: &str, why: &str) -> std::io::Result<()> {
        let case = format!("    <testcase classname=\"file\" name=\"{0}\" file=\"{0}\">\n      <error message=\"{1}\" type=\"io\">{1}</error>\n    </testcase>\n", escape(file), escape(why));
        let suite = self.suite(file);
        suite.cases.push_str(&case);
        suite.counts.tests += 1;
        suite.counts.errors += 1;
        Ok(())
    }

    fn skipped(&mut self, file: &str) -> std::io::Result<()> {
        let case = format!("    <testcase classname=\"file\" name=\"{0}\" file=\"{0}\">\n      <skipped message=\"not an HL7 message file\"/>\n    </testcase>\n", escape(file));
        let suite = self.suite(file);
        suite.cases.push_str(&case);
        suite.counts.tests += 1;
        suite.counts.skipped += 1;
        Ok(())
    }

    fn finish(&mut self, _summary: &Summary) -> std::io::Result<()> {
        self.close();
        let t = self.totals;
        writeln!(self.out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(self.out, "<testsuites name=\"telerad validate\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">", t.tests, t.failures, t.errors, t.skipped)?;
        self.out.write_all(self.body.as_bytes())?;
        writeln!(self.out, "</testsuites>")?;
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape("a<b>&\"c'\u{1}\r\n"), "a&lt;b&gt;&amp;&quot;c&apos;\\x01&#13;&#10;");
        assert_eq!(escape("Œuvre é"), "Œuvre é");
    }
}
