//! `telerad validate --report FILE.html`: one self-contained HTML file a person can open on a
//! hospital machine without internet, hand to a colleague or attach to a ticket.
//!
//! The page: the summary (counts, the most frequent rules as CSS bars), then each message with
//! its findings and the message itself, segment by segment, the element of each finding
//! highlighted (a `mark`) with links both ways; filters for severity and profile in a few lines
//! of inline script. Nothing is loaded from elsewhere: no script, font, style or image.
//!
//! The templates (`exchange/templates/`) are rendered by minijinja with HTML auto-escaping, so
//! every value from a message, finding or file name is escaped. The one piece of HTML built
//! here, a segment with its highlights, escapes the message's text itself ([`escape`]).
//!
//! Messages are rendered as they come into a temporary file beside the report, and the page is
//! put together at the end (the summary comes first but is known last): a run of 100,000
//! messages never holds its report in memory. Messages without findings shown are one line
//! each, so that 10,000 of them stay small (under 30 MB for copies of the fixtures).

use std::fmt::Write as _;
use std::io::{BufWriter, Seek, Write};
use std::ops::Range;
use std::path::Path;

use hl7_runtime::validate::{Erl, Finding};
use serde::Serialize;

use crate::summary::Summary;
use crate::validation::{Checked, Settings, Sink};

/// Where the guide's pages are published; a finding's source `st_flux1.md#t5.r7` links to
/// `<GUIDE>/st_flux1.html` (a link only: nothing is loaded when the report is opened).
pub const GUIDE: &str = "https://interop.esante.gouv.fr/ig/hl7v2/teleradiologie";

/// Rules shown in the chart.
const CHART_RULES: usize = 12;

/// A report being written.
pub struct Report {
    env: minijinja::Environment<'static>,
    messages: BufWriter<std::fs::File>,
    count: usize,
    profiles: std::collections::BTreeSet<String>,
    min_severity: &'static str,
    failed: Option<String>,
}

/// `text` escaped for HTML text and double-quoted attribute values (the templates quote every
/// attribute with `"`, so `'` is left as it is: findings quote values with it, and escaping
/// it would add half a megabyte to a report of 10,000 messages); control characters other
/// than tab are shown as `\xNN` (they cannot be seen, and some are not allowed in HTML).
pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push('\t'),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
}

fn environment() -> Result<minijinja::Environment<'static>, String> {
    let mut env = minijinja::Environment::new();
    // Strings are escaped with [`escape`]: the five characters that matter in HTML text and
    // quoted attributes. minijinja's own escaping also writes `/` as `&#x2f;`, which HTML does
    // not need and which adds megabytes of file paths to a report of 10,000 messages.
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(text) if !value.is_safe() && matches!(state.auto_escape(), minijinja::AutoEscape::Html) => {
            let mut escaped = String::with_capacity(text.len());
            escape(text, &mut escaped);
            out.write_str(&escaped).map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    // `.html` names: values are HTML-escaped unless marked `|safe`.
    for (name, text) in [
        ("head.html", include_str!("../templates/report_head.html")),
        ("message.html", include_str!("../templates/report_message.html")),
        ("tail.html", include_str!("../templates/report_tail.html")),
    ] {
        env.add_template(name, text).map_err(|e| format!("report template {name}: {e}"))?;
    }
    Ok(env)
}

impl Report {
    /// Starts a report to be written at `path`; fails early when its folder cannot be written.
    pub fn create(path: &Path, settings: &Settings) -> Result<Report, String> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let temp = tempfile::tempfile_in(dir).map_err(|e| format!("cannot write the report {}: {e}", path.display()))?;
        let min_severity = settings.min_severity.word();
        Ok(Report { env: environment()?, messages: BufWriter::new(temp), count: 0, profiles: Default::default(), min_severity, failed: None })
    }

    /// Puts the page together at `path`.
    pub fn write(self, path: &Path, summary: &Summary) -> Result<(), String> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let fail = |e: &dyn std::fmt::Display| format!("cannot write the report {}: {e}", path.display());
        let mut messages = self.messages.into_inner().map_err(|e| fail(&e.error().to_string()))?;
        messages.rewind().map_err(|e| fail(&e))?;
        let total = summary.findings.total().max(1);
        let top = summary.rules.iter().take(CHART_RULES).map(|r| ChartRow { rule: &r.rule, source: &r.source, count: r.findings.total(), percent: (r.findings.total() * 1000 / total) as f64 / 10.0 }).collect::<Vec<_>>();
        let widest = top.first().map_or(1, |r| r.count.max(1));
        let chart: Vec<ChartRow> = top.into_iter().map(|r| ChartRow { percent: (r.count * 1000 / widest) as f64 / 10.0, ..r }).collect();
        let rules: Vec<RuleRow> = summary.rules.iter().map(|r| RuleRow { rule: &r.rule, source: &r.source, href: guide_link(&r.source), error: r.findings.error, warning: r.findings.warning, info: r.findings.info }).collect();
        let context = minijinja::context! {
            summary => summary,
            chart => chart,
            rules => rules,
            profiles => self.profiles,
            min_severity => self.min_severity,
            messages => self.count,
            version => env!("CARGO_PKG_VERSION"),
        };
        let render = |name: &str| self.env.get_template(name).and_then(|t| t.render(&context)).map_err(|e| format!("report template {name}: {e}"));
        let head = render("head.html")?;
        let tail = render("tail.html")?;
        let mut file = BufWriter::new(std::fs::File::create(path).map_err(|e| fail(&e))?);
        file.write_all(head.as_bytes()).map_err(|e| fail(&e))?;
        std::io::copy(&mut messages, &mut file).map_err(|e| fail(&e))?;
        file.write_all(tail.as_bytes()).map_err(|e| fail(&e))?;
        file.flush().map_err(|e| fail(&e))
    }
}

#[derive(Serialize)]
struct ChartRow<'a> {
    rule: &'a str,
    source: &'a str,
    count: usize,
    /// Of the most frequent rule's count (the bar's width).
    percent: f64,
}

/// A rule in the summary's table, linked to its page in the guide; findings link here.
#[derive(Serialize)]
struct RuleRow<'a> {
    rule: &'a str,
    source: &'a str,
    href: Option<String>,
    error: usize,
    warning: usize,
    info: usize,
}

#[derive(Serialize)]
struct MessageView<'a> {
    id: String,
    name: String,
    file: &'a str,
    number: usize,
    line: usize,
    control_id: &'a str,
    profile: &'a str,
    valid: bool,
    errors: usize,
    findings: Vec<FindingView<'a>>,
    /// The message's HTML, a line per segment, highlights included (escaped here).
    segments: String,
}

#[derive(Serialize)]
struct FindingView<'a> {
    id: String,
    number: usize,
    severity: &'static str,
    code: u16,
    location: String,
    message: &'a str,
    rule: &'a str,
    source: &'a str,
    /// The id of its highlighted element, when the element is in the message.
    element: Option<String>,
}

/// `st_flux1.md#t5.r7` → the published page `…/st_flux1.html`.
pub fn guide_link(source: &str) -> Option<String> {
    let page = source.split('#').next()?;
    let stem = page.strip_suffix(".md")?;
    if stem.is_empty() || !stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') {
        return None;
    }
    Some(format!("{GUIDE}/{stem}.html"))
}

impl Sink for Report {
    fn message(&mut self, m: &Checked<'_>) -> std::io::Result<()> {
        self.count += 1;
        let id = format!("m{}", self.count);
        let profile = m.profile.unwrap_or(crate::summary::NO_PROFILE);
        self.profiles.insert(profile.to_owned());
        let (segments, elements) = render_segments(m.bytes, &m.shown, &id);
        let findings = m
            .shown
            .iter()
            .enumerate()
            .map(|(k, f)| FindingView {
                id: format!("{id}-f{}", k + 1),
                number: k + 1,
                severity: f.severity.word(),
                code: f.code,
                location: f.location.to_string(),
                message: &f.message,
                rule: &f.rule,
                source: &f.source,
                element: elements.get(k).cloned().flatten(),
            })
            .collect();
        let view = MessageView {
            id,
            name: m.name(),
            file: m.file,
            number: m.number,
            line: m.line,
            control_id: &m.control_id,
            profile,
            valid: m.valid,
            errors: m.errors,
            findings,
            segments: segments.join("\n"),
        };
        let html = self.env.get_template("message.html").and_then(|t| t.render(minijinja::context! { m => view }));
        match html {
            Ok(h) => self.messages.write_all(h.as_bytes()),
            Err(e) => {
                self.failed.get_or_insert_with(|| format!("report template message.html: {e}"));
                Ok(())
            }
        }
    }

    fn finish(&mut self, _summary: &Summary) -> std::io::Result<()> {
        self.messages.flush()
    }
}

/// The delimiters of a message, from its MSH (the standard ones when it is too short).
struct Delimiters {
    field: u8,
    component: u8,
    repetition: u8,
    subcomponent: u8,
}

/// The lines of a message: each segment's range in `bytes` (empty lines skipped).
fn segment_ranges(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\r' || *b == b'\n' {
            if i > start {
                out.push(start..i);
            }
            start = i + 1;
        }
    }
    if bytes.len() > start {
        out.push(start..bytes.len());
    }
    out
}

/// The `n`-th (0-based) part of `within` cut at `sep`: `Ok(range)`, or `Err(position)` where
/// it would be when there are fewer parts.
fn nth_part(bytes: &[u8], within: Range<usize>, sep: u8, n: usize) -> Result<Range<usize>, usize> {
    let mut start = within.start;
    let mut index = 0;
    for i in within.clone() {
        if bytes.get(i) == Some(&sep) {
            if index == n {
                return Ok(start..i);
            }
            index += 1;
            start = i + 1;
        }
    }
    if index == n {
        Ok(start..within.end)
    } else {
        Err(within.end)
    }
}

/// Where the element an ERL names is in a message: a range of `bytes` (empty when the element
/// is empty or absent: then where it would be), or `None` when its segment is not there.
fn locate(bytes: &[u8], segments: &[Range<usize>], d: &Delimiters, erl: &Erl) -> Option<Range<usize>> {
    let id = erl.segment.as_deref()?;
    let occurrence = erl.sequence.unwrap_or(1).max(1) as usize;
    let seg = segments.iter().filter(|r| bytes.get(r.start..r.start + 3) == Some(id.as_bytes())).nth(occurrence - 1)?.clone();
    let Some(field) = erl.field else {
        // The whole segment: its id stands for it.
        return Some(seg.start..(seg.start + 3).min(seg.end));
    };
    let at = |p: usize| p..p;
    let is_msh = id == "MSH";
    let field_range = if is_msh {
        match field {
            0 => return Some(seg.start..seg.start + 3),
            1 => return Some((seg.start + 3).min(seg.end)..(seg.start + 4).min(seg.end)),
            // MSH-2 holds the encoding characters: not cut into components.
            2 => return Some(nth_part(bytes, (seg.start + 4).min(seg.end)..seg.end, d.field, 0).unwrap_or_else(at)),
            n => nth_part(bytes, (seg.start + 4).min(seg.end)..seg.end, d.field, n as usize - 2),
        }
    } else {
        nth_part(bytes, seg.clone(), d.field, field as usize)
    };
    let mut range = match field_range {
        Ok(r) => r,
        Err(p) => return Some(at(p)),
    };
    let steps = [(d.repetition, erl.repetition.or(erl.component.map(|_| 1))), (d.component, erl.component), (d.subcomponent, erl.subcomponent)];
    for (sep, n) in steps {
        let Some(n) = n else { break };
        range = match nth_part(bytes, range, sep, (n.max(1) - 1) as usize) {
            Ok(r) => r,
            Err(p) => return Some(at(p)),
        };
    }
    Some(range)
}

/// A highlighted element: its range and the findings (0-based, in the message) on it.
struct Mark {
    range: Range<usize>,
    findings: Vec<usize>,
}

/// Each segment's HTML with the elements of `findings` highlighted, and for each finding the id
/// of its element (`None` when the element is not in the message).
fn render_segments(bytes: &[u8], findings: &[Finding], id: &str) -> (Vec<String>, Vec<Option<String>>) {
    let segments = segment_ranges(bytes);
    let msh = segments.first().and_then(|r| bytes.get(r.clone())).filter(|s| s.starts_with(b"MSH"));
    let delim = |i: usize, default: u8| msh.and_then(|s| s.get(i).copied()).unwrap_or(default);
    let d = Delimiters { field: delim(3, b'|'), component: delim(4, b'^'), repetition: delim(5, b'~'), subcomponent: delim(7, b'&') };
    // Text that is not UTF-8 is shown as Latin-1 (each byte a character): the report shows the
    // bytes, the findings say what is wrong with them.
    let utf8 = std::str::from_utf8(bytes).is_ok();
    let text = |r: Range<usize>, out: &mut String| {
        let b = bytes.get(r).unwrap_or_default();
        if utf8 {
            escape(&String::from_utf8_lossy(b), out);
        } else {
            escape(&b.iter().map(|&c| c as char).collect::<String>(), out);
        }
    };
    let mut marks: Vec<Mark> = Vec::new();
    let mut elements = vec![None; findings.len()];
    for (k, f) in findings.iter().enumerate() {
        let Some(range) = locate(bytes, &segments, &d, &f.location) else { continue };
        let index = match marks.iter().position(|m| m.range == range) {
            Some(i) => i,
            None => {
                marks.push(Mark { range, findings: Vec::new() });
                marks.len() - 1
            }
        };
        if let Some(m) = marks.get_mut(index) {
            m.findings.push(k);
        }
    }
    // Element ids in the order the marks appear in the message.
    marks.sort_by(|a, b| a.range.start.cmp(&b.range.start).then(b.range.end.cmp(&a.range.end)));
    for (j, m) in marks.iter().enumerate() {
        for &k in &m.findings {
            if let Some(e) = elements.get_mut(k) {
                *e = Some(format!("{id}-e{}", j + 1));
            }
        }
    }
    // Links to the element's findings, numbered as in the list (shown as superscripts).
    let refs = |m: &Mark| {
        let mut s = String::new();
        for &k in &m.findings {
            let _ = write!(s, "<a href=\"#{id}-f{0}\">{0}</a>", k + 1);
        }
        s
    };
    let mut html = Vec::with_capacity(segments.len());
    let mut next = 0;
    for seg in &segments {
        let mut out = String::with_capacity(seg.len() + 16);
        let mut pos = seg.start;
        // Marks open, innermost last: (end, closing HTML).
        let mut open: Vec<(usize, String)> = Vec::new();
        while let Some(m) = marks.get(next).filter(|m| m.range.start < seg.end || (m.range.start == seg.end && m.range.is_empty())) {
            let start = m.range.start.max(pos);
            while let Some((end, close)) = open.last().filter(|(end, _)| *end <= start) {
                text(pos..*end, &mut out);
                pos = *end;
                out.push_str(close);
                open.pop();
            }
            text(pos..start, &mut out);
            pos = start;
            let j = next + 1;
            if m.range.is_empty() {
                let _ = write!(out, "<mark class=\"el gap\" id=\"{id}-e{j}\" title=\"empty\">∅{}</mark>", refs(m));
            } else {
                // Elements nest (a component inside its field); one that would cross its
                // parent's end is cut there so that the HTML stays well nested.
                let end = open.last().map_or(m.range.end, |(e, _)| m.range.end.min(*e)).min(seg.end);
                let _ = write!(out, "<mark class=\"el\" id=\"{id}-e{j}\">");
                open.push((end, format!("{}</mark>", refs(m))));
            }
            next += 1;
        }
        while let Some((end, close)) = open.pop() {
            text(pos..end, &mut out);
            pos = end;
            out.push_str(&close);
        }
        text(pos..seg.end, &mut out);
        html.push(out);
    }
    (html, elements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hl7_runtime::validate::Severity;

    fn finding(location: &str) -> Finding {
        Finding { severity: Severity::Error, code: 101, location: location.parse().unwrap(), rule: "r".into(), source: "st_flux1.md#t1.r1".into(), message: "m".into() }
    }

    #[test]
    fn elements_are_found_and_highlighted() {
        let msg = b"MSH|^~\\&|APP|FAC|||20260101||ORM^O01^ORM_O01|1|P|2.5.1\rPID|||123^^^X~456||DOE^<b>&amp;\rPID|||9\r";
        let segments = segment_ranges(msg);
        let d = Delimiters { field: b'|', component: b'^', repetition: b'~', subcomponent: b'&' };
        let at = |erl: &str| locate(msg, &segments, &d, &erl.parse().unwrap()).map(|r| String::from_utf8_lossy(&msg[r]).into_owned());
        assert_eq!(at("MSH[1]-9.2").as_deref(), Some("O01"));
        assert_eq!(at("MSH[1]-2").as_deref(), Some("^~\\&"));
        assert_eq!(at("MSH[1]-12").as_deref(), Some("2.5.1"));
        assert_eq!(at("PID[1]-3[2]").as_deref(), Some("456"));
        assert_eq!(at("PID[1]-3.4").as_deref(), Some("X"));
        assert_eq!(at("PID[1]-5.2.2").as_deref(), Some("amp;"));
        assert_eq!(at("PID[2]-3").as_deref(), Some("9"));
        assert_eq!(at("PID[2]").as_deref(), Some("PID"));
        // Absent: an empty range where it would be; a segment not there: nothing.
        assert_eq!(at("PID[2]-30").as_deref(), Some(""));
        assert_eq!(at("OBR[1]-2"), None);

        let findings = [finding("PID[1]-5"), finding("PID[1]-5.2"), finding("PID[1]-5"), finding("OBR[1]-2"), finding("PID[2]-30")];
        let (html, elements) = render_segments(msg, &findings, "m1");
        assert_eq!(elements, [Some("m1-e1".into()), Some("m1-e2".into()), Some("m1-e1".into()), None, Some("m1-e3".into())]);
        // The message's text is escaped; marks nest; each links to its findings.
        assert_eq!(html[1], "PID|||123^^^X~456||<mark class=\"el\" id=\"m1-e1\">DOE^<mark class=\"el\" id=\"m1-e2\">&lt;b&gt;&amp;amp;<a href=\"#m1-f2\">2</a></mark><a href=\"#m1-f1\">1</a><a href=\"#m1-f3\">3</a></mark>");
        assert_eq!(html[2], "PID|||9<mark class=\"el gap\" id=\"m1-e3\" title=\"empty\">∅<a href=\"#m1-f5\">5</a></mark>");
        assert!(html[0].starts_with("MSH|^~\\&amp;|APP"));
    }

    #[test]
    fn escaping_and_guide_links() {
        let mut s = String::new();
        escape("<script>'\"&\u{1}", &mut s);
        assert_eq!(s, "&lt;script&gt;'&quot;&amp;\\x01");
        assert_eq!(guide_link("st_flux1.md#t5.r7").as_deref(), Some("https://interop.esante.gouv.fr/ig/hl7v2/teleradiologie/st_flux1.html"));
        assert_eq!(guide_link("hl7v2.5.1"), None);
        assert_eq!(guide_link("hl7_runtime::Limits"), None);
    }
}
