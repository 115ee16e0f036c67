//! `telerad validate --report` opened in a real browser: headless Chromium (Debian's
//! `chromium`, installed by `.ci/run`) loads the report of the fixtures and of a folder with
//! invalid and hostile messages, runs its script, and the test reads the DOM it dumps: the
//! number of messages, findings and highlighted elements, each finding's link to its element,
//! the filters. The screenshot is kept at `target/artifacts/report-fixtures.png` (a CI artifact,
//! named in the README). The browser comes from `TELERAD_CHROMIUM`, else `chromium` on the
//! PATH; without one the test fails under `CI=true` and is skipped loudly elsewhere.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

fn chromium() -> Option<String> {
    if let Ok(p) = std::env::var("TELERAD_CHROMIUM") {
        if Path::new(&p).exists() {
            return Some(p);
        }
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("chromium")).find(|p| p.is_file()));
    if let Some(p) = on_path {
        return Some(p.display().to_string());
    }
    let why = "no chromium (TELERAD_CHROMIUM unset and none on the PATH; .ci/run installs Debian's chromium)";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    // Straight to the process's standard error: libtest captures `eprintln!`.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {why}");
    None
}

/// Runs headless Chromium on `url` with `args`; its standard output.
fn browse(browser: &str, profile: &Path, args: &[&str], url: &str) -> String {
    let out = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .expect("timeout and chromium run");
    assert!(out.status.success(), "chromium {args:?}: {:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}

/// The start tags of `dom` whose class attribute begins with `class` (e.g. `msg`).
fn tags<'a>(dom: &'a str, element: &str, class: &str) -> Vec<&'a str> {
    let open = format!("<{element} class=\"{class}");
    let mut found = Vec::new();
    let mut rest = dom;
    while let Some(i) = rest.find(&open) {
        let tag = &rest[i..];
        let end = tag.find('>').expect("a closed tag");
        found.push(&tag[..=end]);
        rest = &tag[end..];
    }
    found
}

/// The value of `name` in a start tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// The element a finding (the HTML after `<li class="f `) links to: its first link, when it is
/// to an element (`#m<n>-e<k>`) rather than to a rule.
fn element_link(item: &str) -> Option<&str> {
    let item = &item[..item.find("</li>")?];
    let href = item.split("<a href=\"#").nth(1)?.split('"').next()?;
    let (message, element) = href.split_once('-')?;
    (message.starts_with('m') && element.starts_with('e')).then_some(href)
}

#[test]
fn the_report_in_a_browser() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let traffic = dir.path().join("traffic");
    std::fs::create_dir(&traffic).unwrap();
    let minimal = String::from_utf8(std::fs::read(fixture("flux1_nw_minimal.hl7")).unwrap()).unwrap();
    // MSH-12 `2.3`: an error at MSH-12.1, whose element must be highlighted and hold `2.3`.
    std::fs::write(traffic.join("bad.hl7"), minimal.replacen("|2.5.1|", "|2.3|", 1)).unwrap();
    // Markup in a message is text in the report, never markup.
    std::fs::write(traffic.join("hostile.hl7"), minimal.replacen("|2.5.1|", "|<script>document.title='owned'</script><b>x</b>|", 1)).unwrap();
    let report = dir.path().join("report.html");
    let fixtures = fixture("");
    let (f, t, r) = (fixtures.to_str().unwrap(), traffic.to_str().unwrap(), report.to_str().unwrap());
    let run = Command::new(bin()).args(["validate", "--report", r, f, t]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let json = Command::new(bin()).args(["validate", "--format", "json", f, t]).stdin(Stdio::null()).output().unwrap();
    let messages: Vec<serde_json::Value> = stdout(&json).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let findings: usize = messages.iter().map(|m| m["findings"].as_array().unwrap().len()).sum();
    let invalid = messages.iter().filter(|m| m["valid"] == false).count();
    assert_eq!(invalid, 2);

    // Self-contained: nothing is loaded from anywhere.
    let html = std::fs::read_to_string(&report).unwrap();
    for outside in ["src=", "<link", "@import", "url(", "http://"] {
        assert!(!html.contains(outside), "the report refers to something outside: `{outside}`");
    }

    let profile = dir.path().join("chromium");
    let url = format!("file://{r}");
    let dom = browse(&browser, &profile, &["--dump-dom"], &url);
    assert!(dom.contains("<body data-ready=\"1\">"), "the report's script ran");
    assert!(dom.contains(&format!("<span id=\"shown\">{n} of {n} message(s) shown</span>", n = messages.len())), "{}", &dom[dom.find("id=\"shown\"").unwrap()..][..80]);
    let sections = tags(&dom, "section", "msg");
    let compact = tags(&dom, "div", "msg");
    assert_eq!(sections.len() + compact.len(), messages.len());
    // Messages with findings are shown whole; the others on one line.
    assert_eq!(sections.len(), messages.iter().filter(|m| !m["findings"].as_array().unwrap().is_empty()).count());
    assert_eq!(tags(&dom, "section", "msg invalid").len(), invalid);
    let items = tags(&dom, "li", "f ");
    assert_eq!(items.len(), findings);
    // Each finding whose element is in the message links to a highlighted element that exists,
    // and every highlighted element is linked from a finding.
    let marks = tags(&dom, "mark", "el");
    assert!(!marks.is_empty());
    let mark_ids: Vec<&str> = marks.iter().map(|m| attribute(m, "id").expect("a mark has an id")).collect();
    let links: Vec<&str> = dom.split("<li class=\"f ").skip(1).filter_map(element_link).collect();
    assert!(links.len() >= items.len() / 2, "{} of {} findings located", links.len(), items.len());
    for l in &links {
        assert!(mark_ids.contains(l), "finding links to #{l}, which is not there");
    }
    for id in &mark_ids {
        assert!(links.contains(id), "element #{id} is linked from no finding");
    }
    // Each finding's rule links to its row in the rules table, which links to the guide's page.
    for item in dom.split("<li class=\"f ").skip(1) {
        let rule = item.split("<i><a href=\"#").nth(1).expect("a rule link").split('"').next().unwrap();
        assert!(dom.contains(&format!("<tr id=\"{rule}\">")), "no row #{rule}");
    }
    assert!(dom.contains("<tr id=\"rule-fixed\"><td>fixed</td><td class=\"n\">2</td><td class=\"n\">0</td><td class=\"n\">0</td><td><a href=\"https://interop.esante.gouv.fr/ig/hl7v2/teleradiologie/st-contraintes.html\">st-contraintes.md#t1.r12</a></td></tr>"));
    // The MSH-12.1 error of bad.hl7: its element holds `2.3` and links back to it.
    let at = dom.find("MSH-12.1 is '2.3'").expect("the error is in the report");
    let item = &dom[dom[..at].rfind("<li class=\"f error\"").unwrap()..];
    let finding_id = attribute(item, "id").unwrap();
    let element = element_link(item).expect("the error links to its element");
    let mark = &dom[dom.find(&format!("<mark class=\"el\" id=\"{element}\">")).unwrap()..];
    assert!(mark.starts_with(&format!("<mark class=\"el\" id=\"{element}\">2.3<a href=\"#{finding_id}\">")), "{}", &mark[..120]);
    // The hostile message is shown as text.
    assert!(dom.contains("&lt;script&gt;document.title='owned'&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;"));
    assert_eq!(dom.matches("<script").count(), 1, "only the report's own script");
    assert!(!dom.contains("<title>owned"));

    // The filters, given in the address: errors only, messages without findings hidden.
    let dom = browse(&browser, &profile, &["--dump-dom"], &format!("{url}?severity=error&clean=0"));
    let shown = |dom: &str| tags(dom, "section", "msg").into_iter().chain(tags(dom, "div", "msg")).filter(|t| !t.contains(" hidden")).count();
    assert_eq!(shown(&dom), invalid);
    assert!(dom.contains(&format!("<span id=\"shown\">{invalid} of {} message(s) shown</span>", messages.len())));
    let visible_items = tags(&dom, "li", "f ").into_iter().filter(|t| !t.contains(" hidden")).count();
    let errors = messages.iter().flat_map(|m| m["findings"].as_array().unwrap().iter()).filter(|f| f["severity"] == "error").count();
    assert_eq!(visible_items, errors);
    // One profile.
    let dom = browse(&browser, &profile, &["--dump-dom"], &format!("{url}?profile=flux2_orm_o01_ca"));
    assert_eq!(shown(&dom), messages.iter().filter(|m| m["profile"] == "flux2_orm_o01_ca").count());

    // The screenshot, kept for CI.
    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report-fixtures.png");
    let _ = std::fs::remove_file(&shot);
    browse(&browser, &profile, &[&format!("--screenshot={}", shot.display()), "--window-size=1280,1600"], &url);
    let png = std::fs::read(&shot).expect("the screenshot is written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "{} bytes", png.len());
}

/// The report of 10,000 messages (copies of the fixtures, one per file, in 10 folders) stays
/// under 30 MB, opens in the browser, and its script sees every message.
#[test]
fn ten_thousand_messages() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let traffic = dir.path().join("traffic");
    let fixtures: Vec<Vec<u8>> = telerad_tests::all_fixtures().into_iter().map(|(_, bytes)| bytes).collect();
    for i in 0..10_000 {
        let folder = traffic.join(format!("{:02}", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&folder).unwrap();
        }
        std::fs::write(folder.join(format!("{i:05}.hl7")), &fixtures[i % fixtures.len()]).unwrap();
    }
    let report = dir.path().join("report.html");
    let run = Command::new(bin()).args(["validate", "--summary", "--report", report.to_str().unwrap(), traffic.to_str().unwrap()]).stdin(Stdio::null()).output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    assert!(stdout(&run).contains("summary: 10000 message(s) in 10000 file(s): 10000 valid, 0 invalid"));
    let size = std::fs::metadata(&report).unwrap().len();
    assert!(size < 30_000_000, "{size} bytes");
    let dom = browse(&browser, &dir.path().join("chromium"), &["--dump-dom"], &format!("file://{}", report.display()));
    assert!(dom.contains("<body data-ready=\"1\">"), "the report's script ran");
    assert!(dom.contains("<span id=\"shown\">10000 of 10000 message(s) shown</span>"));
    assert_eq!(tags(&dom, "section", "msg").len() + tags(&dom, "div", "msg").len(), 10_000);
}
