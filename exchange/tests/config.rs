//! `telerad serve --config FILE`, `telerad config check FILE`, and the deployment files of
//! `exchange/deploy/`.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

fn deploy(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy").join(name)
}

#[test]
fn the_example_configuration_is_valid() {
    let example = deploy("serve.toml");
    let out = run(&["config", "check", example.to_str().unwrap()]);
    assert_eq!((out.status.code(), stdout(&out)), (Some(0), format!("{}: valid\n", example.display())), "{}", stderr(&out));
}

#[test]
fn config_check_reports_every_problem_located() {
    let dir = tempfile::tempdir().unwrap();
    let check = |text: &str| {
        let file = dir.path().join("serve.toml");
        std::fs::write(&file, text).unwrap();
        let out = run(&["config", "check", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{text}: {}", stdout(&out));
        stderr(&out)
    };
    let e = check("role = \"platform\"\nlisten = \"127.0.0.1:2575\"\nstore = \"p.db\"\nmax-conections = 3\n");
    assert!(e.contains("serve.toml: TOML parse error at line 4, column 1") && e.contains("unknown field `max-conections`"), "{e}");
    let e = check("role = \"plat\"\n");
    assert!(e.contains("line 1, column 8") && e.contains("unknown variant `plat`, expected `platform` or `ris`"), "{e}");
    let e = check("max-connections = \"many\"\n");
    assert!(e.contains("line 1") && e.contains("invalid type: string \"many\""), "{e}");
    // Several problems at once, each on its line.
    let e = check("listen = \"0.0.0.0:2575\"\ntls-cert = \"server.pem\"\nlog-level = \"info,==\"\n[[sender]]\napplication = \"RIS\"\nfacility = \"CHU_X\"\n");
    for expected in [
        "`role` is missing",
        "`store` is missing",
        "`tls-cert` and `tls-key` go together",
        "listen = \"0.0.0.0:2575\" is not a loopback address",
        "log-level = \"info,==\"",
        "[[sender]]: sender 1 (`RIS` / `CHU_X`): give certificates or addresses",
    ] {
        assert!(e.contains(expected), "`{expected}` in {e}");
    }
    assert_eq!(e.lines().filter(|l| l.starts_with("telerad: ")).count(), 6, "{e}");
    let e = check("senders = \"none.json\"\n[[sender]]\napplication = \"RIS\"\nfacility = \"CHU_X\"\naddresses = [\"127.0.0.1\"]\n");
    assert!(e.contains("give `senders` (a file) or `[[sender]]` tables, not both"), "{e}");
    let out = run(&["config", "check", dir.path().join("none.toml").to_str().unwrap()]);
    assert!(stderr(&out).contains("cannot read the configuration file"), "{}", stderr(&out));
}

/// Starts `telerad serve ARGS` with its log in `log`; returns it and its bound address.
fn serve(args: &[&str], log: &Path) -> Server {
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    let mut child = Command::new(bin()).args(&all).env_remove("RUST_LOG").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(std::fs::File::create(log).unwrap()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.starts_with("127.0.0.1:"), "the bound address: `{line}`, log: {}", std::fs::read_to_string(log).unwrap());
    Server { child: Some(child), addr: line.trim().to_owned(), store: PathBuf::new() }
}

#[test]
fn serve_takes_every_option_from_the_file_and_the_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("serve.toml");
    std::fs::write(
        &file,
        "role = \"platform\"\nlisten = \"127.0.0.1:0\"\nstore = \"p.db\"\nmax-message-bytes = 200\nlog-format = \"json\"\nlog-level = \"info\"\n\
         [[sender]]\napplication = \"RIS\"\nfacility = \"CHU_X\"\naddresses = [\"127.0.0.1\"]\n",
    )
    .unwrap();
    let config = file.to_str().unwrap();
    let nw = fixture("flux1_nw_full.hl7");
    let log = dir.path().join("serve.log");

    // From the file: the store next to it, the size limit, the JSON log.
    let server = serve(&["--config", config], &log);
    let out = run(&["send", "--verbose", "--to", &server.addr, nw.to_str().unwrap()]);
    assert!(stdout(&out).contains("\tAE\n") && stdout(&out).contains("larger than 200 bytes"), "{}", stdout(&out));
    assert!(server.stop().success());
    assert!(dir.path().join("p.db").exists(), "the store's relative path is the file's folder");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.lines().all(|l| l.starts_with('{')), "JSON log: {text}");

    // Flags win: a larger limit, a text log.
    let server = serve(&["--config", config, "--max-message-bytes", "1000000", "--log-format", "text"], &log);
    let out = run(&["send", "--to", &server.addr, nw.to_str().unwrap()]);
    assert_eq!(stdout(&out), format!("{}\tAA\n", control_id_of(&nw)), "{}", stderr(&out));
    // The [[sender]] tables: another facility is refused.
    let other = variant_with_id(dir.path(), "other.hl7", "flux1_nw_full.hl7", "OTHER-1", &[("|RIS|CHU_X|", "|RIS|CHU_Y|")]);
    let out = run(&["send", "--to", &server.addr, other.to_str().unwrap()]);
    assert_eq!(stdout(&out), "OTHER-1\tAR\n", "{}", stderr(&out));
    assert!(server.stop().success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains(" INFO telerad::message: message received") && !text.starts_with('{'), "text log: {text}");

    // Without the file, the required options are named.
    let out = run(&["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("serve needs --role (or `role` in the --config file)"), "{}", stderr(&out));
    let out = run(&["serve", "--config", dir.path().join("none.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read the configuration file"), "{}", stderr(&out));
}

#[test]
fn the_systemd_unit_verifies() {
    let unit = std::fs::read_to_string(deploy("telerad-serve.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/telerad serve --config /etc/telerad/serve.toml"), "{unit}");
    let found = Command::new("systemd-analyze").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED: systemd-analyze is not installed; exchange/deploy/telerad-serve.service was not verified");
        return;
    }
    // The unit as installed, pointing at this build and at the example configuration.
    let dir = tempfile::tempdir().unwrap();
    let local = unit.replace("/usr/local/bin/telerad", bin()).replace("/etc/telerad/serve.toml", deploy("serve.toml").to_str().unwrap());
    let path = dir.path().join("telerad-serve.service");
    std::fs::write(&path, local).unwrap();
    let out = Command::new("systemd-analyze").arg("verify").arg(&path).output().unwrap();
    assert!(out.status.success(), "systemd-analyze verify: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!said.contains("telerad-serve.service"), "no warning about the unit: {said}");
}
