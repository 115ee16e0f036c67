//! The log of `telerad serve` and `telerad send` in JSON: one line per message with its
//! direction, peer, sender, MSH-10, profile, MSA-1, error count and time to ACK; one per
//! connection event; never patient data.

mod common;

use common::*;

/// Every JSON line of a log (a line that is not JSON fails the test).
fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect()
}

/// The components of PID-5 (family and given names) and PID-3.1 of a fixture.
fn patient_data(name: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(&std::fs::read(fixture(name)).unwrap()).into_owned();
    let pid = text.split('\r').find(|s| s.starts_with("PID|")).unwrap().to_owned();
    let fields: Vec<&str> = pid.split('|').collect();
    let mut out: Vec<String> = fields[5].split('^').filter(|c| c.len() > 2).map(str::to_owned).collect();
    out.push(fields[3].split('^').next().unwrap().to_owned());
    out.push(fields[7].to_owned());
    assert!(out.len() >= 4, "{out:?}");
    out
}

#[test]
fn serve_logs_one_json_line_per_message_without_patient_data() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    let server = Server::start_logged("platform", "127.0.0.1:0", &dir.path().join("p.db"), &["--log-format", "json"], &log);
    // AA, AA, AE (flow 3 is not the platform's), AE (an SR for an unknown order).
    let names = ["flux1_nw_full.hl7", "flux2_ca.hl7", "flux3_ok_ft.hl7", "flux4_sr.hl7"];
    let files: Vec<String> = names.iter().map(|n| fixture(n).to_str().unwrap().to_owned()).collect();
    let mut args = vec!["send", "--log-format", "json", "--log-level", "info", "--to", server.addr.as_str()];
    args.extend(files.iter().map(String::as_str));
    let out = run(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let addr = server.addr.clone();
    assert!(server.stop().success());

    let expected: Vec<(String, &str, &str)> = vec![
        (control_id_of(&fixture(names[0])), "flux1_orm_o01_nw", "AA"),
        (control_id_of(&fixture(names[1])), "flux2_orm_o01_ca", "AA"),
        (control_id_of(&fixture(names[2])), "flux3_oru_r01", "AE"),
        (control_id_of(&fixture(names[3])), "flux4_omi_o23", "AE"),
    ];
    let text = std::fs::read_to_string(&log).unwrap();
    let lines = json_lines(&text);
    let messages: Vec<&serde_json::Value> = lines.iter().filter(|l| l["target"] == "telerad::message").collect();
    assert_eq!(messages.len(), 4, "one line per message: {text}");
    for ((line, (id, profile, msa)), name) in messages.iter().zip(&expected).zip(names) {
        assert_eq!(line["level"], "INFO", "{line}");
        assert!(line["timestamp"].as_str().is_some_and(|t| t.len() >= 20 && t.contains('T')), "{line}");
        assert_eq!(line["direction"], "in", "{line}");
        assert!(line["peer"].as_str().is_some_and(|p| p.starts_with("127.0.0.1:")), "{line}");
        let msh: Vec<String> = std::fs::read_to_string(fixture(name)).unwrap().split('|').take(4).map(str::to_owned).collect();
        assert_eq!((line["sender_application"].as_str(), line["sender_facility"].as_str()), (Some(msh[2].as_str()), Some(msh[3].as_str())), "{line}");
        assert_eq!(line["control_id"].as_str(), Some(id.as_str()), "{line}");
        assert_eq!(line["profile"].as_str(), Some(*profile), "{line}");
        assert_eq!(line["msa"].as_str(), Some(*msa), "{line}");
        let errors = line["errors"].as_u64().unwrap_or_else(|| panic!("errors: {line}"));
        assert_eq!(errors == 0, *msa == "AA", "{line}");
        assert!(line["ack_us"].as_u64().is_some(), "{line}");
    }
    // The connection's open and close.
    let events: Vec<&str> = lines.iter().filter(|l| l["target"] == "telerad::connection").filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(events, ["open", "close"], "{text}");
    assert!(lines.iter().any(|l| l["target"] == "telerad::serve" && l["message"].as_str().is_some_and(|m| m.contains("listening"))), "{text}");

    // The sender's side: the same four, outbound, to the server's address.
    let sent = json_lines(&stderr(&out));
    let sent: Vec<&serde_json::Value> = sent.iter().filter(|l| l["target"] == "telerad::message").collect();
    assert_eq!(sent.len(), 4, "{}", stderr(&out));
    for (line, (id, _, msa)) in sent.iter().zip(&expected) {
        assert_eq!((line["direction"].as_str(), line["peer"].as_str()), (Some("out"), Some(addr.as_str())), "{line}");
        assert_eq!((line["control_id"].as_str(), line["msa"].as_str()), (Some(id.as_str()), Some(*msa)), "{line}");
    }

    // No patient data in any line of either log.
    for name in names {
        for datum in patient_data(name) {
            assert!(!text.contains(&datum), "`{datum}` in the server's log: {text}");
            assert!(!stderr(&out).contains(&datum), "`{datum}` in the sender's log");
        }
    }
}

#[test]
fn the_level_comes_from_log_level_or_rust_log_and_a_bad_one_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("serve.log");
    // At WARN, no line per message.
    let server = Server::start_logged("platform", "127.0.0.1:0", &dir.path().join("p.db"), &["--log-level", "warn"], &log);
    let nw = fixture("flux1_nw_minimal.hl7");
    let out = run(&["send", "--log-level", "info", "--to", &server.addr, nw.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains(" INFO telerad::message: message sent direction=\"out\""), "{}", stderr(&out));
    // RUST_LOG when there is no --log-level; --log-level wins over it.
    let out = run_env(&["send", "--to", &server.addr, nw.to_str().unwrap()], &[("RUST_LOG", "error")]);
    assert_eq!((out.status.code(), stderr(&out)), (Some(0), String::new()));
    let out = run_env(&["send", "--log-level", "info", "--to", &server.addr, nw.to_str().unwrap()], &[("RUST_LOG", "error")]);
    assert!(stderr(&out).contains("message sent"), "{}", stderr(&out));
    let out = run_env(&["send", "--to", &server.addr, nw.to_str().unwrap()], &[("RUST_LOG", "info,telerad::message=off")]);
    assert!(!stderr(&out).contains("message sent"), "{}", stderr(&out));
    assert!(server.stop().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains("message received") && !text.contains("connection opened"), "{text}");
    let out = run(&["profiles", "--log-level", "info,=="]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--log-level `info,==`"), "{}", stderr(&out));
}
