//! The counts at the end of `telerad validate`: what a person reads first after validating a
//! folder of traffic (how many messages, how many invalid, which rules fail most, which files
//! to open), and what the HTML report's first screen shows.
//!
//! Only the findings shown (at or above `--min-severity`) are counted, so that the summary
//! matches the lines above it.

use std::collections::BTreeMap;
use std::io::Write;

use hl7_runtime::validate::{Finding, Severity};
use serde::Serialize;

/// Findings per severity.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BySeverity {
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

impl BySeverity {
    pub fn add(&mut self, s: Severity) {
        match s {
            Severity::Error => self.error += 1,
            Severity::Warning => self.warning += 1,
            Severity::Info => self.info += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.error + self.warning + self.info
    }
}

/// Messages of one profile.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileCount {
    pub messages: usize,
    pub invalid: usize,
}

/// Findings of one rule.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub rule: String,
    /// The guide's page and row of its first finding (a rule has one source, but `usage` and
    /// the like are checked at many rows: theirs is the first met).
    pub source: String,
    pub findings: BySeverity,
}

/// A file holding at least one message that is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileWithErrors {
    pub file: String,
    pub invalid: usize,
    pub messages: usize,
}

/// The counts of one run.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub messages: usize,
    pub valid: usize,
    pub invalid: usize,
    /// Files whose messages were read.
    pub files: usize,
    /// Files found in folders that do not start like HL7.
    pub files_skipped: usize,
    /// Files that could not be read (an exit 2).
    pub files_unread: usize,
    pub findings: BySeverity,
    /// Per profile name; `no profile` for messages no profile fits (or that do not parse).
    pub profiles: BTreeMap<String, ProfileCount>,
    /// Most frequent first, then by rule id.
    pub rules: Vec<RuleCount>,
    pub files_with_errors: Vec<FileWithErrors>,
    /// The `--min-severity` the counts follow.
    pub min_severity: &'static str,
}

/// Builds a [`Summary`] message by message, in output order.
#[derive(Debug, Default)]
pub struct Tally {
    summary: Summary,
    rules: BTreeMap<String, RuleCount>,
    current_file: Option<FileWithErrors>,
}

pub const NO_PROFILE: &str = "no profile";

impl Tally {
    pub fn new(min_severity: &'static str) -> Tally {
        Tally { summary: Summary { min_severity, ..Summary::default() }, ..Tally::default() }
    }

    /// A file read (its messages follow).
    pub fn file(&mut self, name: &str) {
        self.close_file();
        self.summary.files += 1;
        self.current_file = Some(FileWithErrors { file: name.to_owned(), invalid: 0, messages: 0 });
    }

    pub fn skipped(&mut self) {
        self.summary.files_skipped += 1;
    }

    pub fn unread(&mut self) {
        self.summary.files_unread += 1;
    }

    /// A message of the current file, with the findings shown.
    pub fn message<'a>(&mut self, profile: Option<&str>, valid: bool, shown: impl Iterator<Item = &'a Finding>) {
        let s = &mut self.summary;
        s.messages += 1;
        if valid {
            s.valid += 1;
        } else {
            s.invalid += 1;
        }
        let p = s.profiles.entry(profile.unwrap_or(NO_PROFILE).to_owned()).or_default();
        p.messages += 1;
        p.invalid += usize::from(!valid);
        if let Some(f) = &mut self.current_file {
            f.messages += 1;
            f.invalid += usize::from(!valid);
        }
        for f in shown {
            s.findings.add(f.severity);
            let r = self.rules.entry(f.rule.clone()).or_insert_with(|| RuleCount { rule: f.rule.clone(), source: f.source.clone(), findings: BySeverity::default() });
            r.findings.add(f.severity);
        }
    }

    fn close_file(&mut self) {
        if let Some(f) = self.current_file.take() {
            if f.invalid > 0 {
                self.summary.files_with_errors.push(f);
            }
        }
    }

    pub fn finish(mut self) -> Summary {
        self.close_file();
        let mut rules: Vec<RuleCount> = self.rules.into_values().collect();
        rules.sort_by(|a, b| b.findings.total().cmp(&a.findings.total()).then_with(|| a.rule.cmp(&b.rule)));
        self.summary.rules = rules;
        self.summary
    }
}

impl Summary {
    /// The text form, after the per-message lines.
    pub fn write_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let f = &self.findings;
        writeln!(out)?;
        writeln!(out, "summary: {} message(s) in {} file(s): {} valid, {} invalid", self.messages, self.files, self.valid, self.invalid)?;
        if self.files_skipped > 0 {
            writeln!(out, "  {} file(s) skipped (not HL7)", self.files_skipped)?;
        }
        if self.files_unread > 0 {
            writeln!(out, "  {} file(s) could not be read", self.files_unread)?;
        }
        let filter = if self.min_severity == "info" { String::new() } else { format!(" (at or above {})", self.min_severity) };
        writeln!(out, "  findings{filter}: {} error(s), {} warning(s), {} info(s)", f.error, f.warning, f.info)?;
        if !self.profiles.is_empty() {
            writeln!(out, "  per profile:")?;
            let width = self.profiles.keys().map(String::len).max().unwrap_or(0);
            for (name, p) in &self.profiles {
                writeln!(out, "    {name:width$}  {} message(s), {} invalid", p.messages, p.invalid)?;
            }
        }
        if !self.rules.is_empty() {
            writeln!(out, "  per rule (error / warning / info):")?;
            let width = self.rules.iter().map(|r| r.rule.len()).max().unwrap_or(0);
            for r in &self.rules {
                let c = &r.findings;
                writeln!(out, "    {:width$}  {} / {} / {}  ({})", r.rule, c.error, c.warning, c.info, r.source)?;
            }
        }
        if !self.files_with_errors.is_empty() {
            writeln!(out, "  files with errors:")?;
            for f in &self.files_with_errors {
                writeln!(out, "    {} ({} of {} message(s) invalid)", f.file, f.invalid, f.messages)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hl7_runtime::validate::Erl;

    fn finding(rule: &str, severity: Severity) -> Finding {
        Finding { severity, code: 101, location: Erl::default(), rule: rule.into(), source: format!("{rule}.md"), message: String::new() }
    }

    #[test]
    fn counts() {
        let mut t = Tally::new("info");
        t.file("a.hl7");
        let a = [finding("usage", Severity::Warning), finding("fixed", Severity::Error), finding("usage", Severity::Error)];
        t.message(Some("flux1"), false, a.iter());
        t.message(Some("flux1"), true, [].iter());
        t.file("b.hl7");
        t.message(None, true, a[..1].iter());
        t.skipped();
        let s = t.finish();
        assert_eq!((s.messages, s.valid, s.invalid, s.files, s.files_skipped), (3, 2, 1, 2, 1));
        assert_eq!(s.findings, BySeverity { error: 2, warning: 2, info: 0 });
        assert_eq!(s.profiles["flux1"], ProfileCount { messages: 2, invalid: 1 });
        assert_eq!(s.profiles[NO_PROFILE], ProfileCount { messages: 1, invalid: 0 });
        let rules: Vec<(&str, usize)> = s.rules.iter().map(|r| (r.rule.as_str(), r.findings.total())).collect();
        assert_eq!(rules, [("usage", 3), ("fixed", 1)]);
        assert_eq!(s.files_with_errors, [FileWithErrors { file: "a.hl7".into(), invalid: 1, messages: 2 }]);
        let mut text = Vec::new();
        s.write_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("summary: 3 message(s) in 2 file(s): 2 valid, 1 invalid"), "{text}");
        assert!(text.contains("usage  1 / 2 / 0  (usage.md)"), "{text}");
        assert!(text.contains("a.hl7 (1 of 2 message(s) invalid)"), "{text}");
    }
}
