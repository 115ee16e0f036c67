//! Running the `telerad` binary in the exchange tests: servers on a free loopback port,
//! commands with a time limit, temp directories removed afterwards.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_telerad")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(name)
}

pub fn identity() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/platform.json")
}

/// Runs `telerad args`, killing it after `limit`.
pub fn run_for(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(bin()).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("telerad runs");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("telerad {args:?} still running after {limit:?}; stderr: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub fn run(args: &[&str]) -> Output {
    run_for(args, Duration::from_secs(60))
}

/// [`run`] with environment variables set for the command (`TZ`…).
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(bin()).args(args).envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("telerad runs");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("telerad {args:?} still running after 60 s; stderr: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().expect("output")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A `telerad serve` process; stopped with SIGTERM (or killed) when dropped.
pub struct Server {
    pub child: Option<Child>,
    pub addr: String,
    pub store: PathBuf,
}

impl Server {
    /// Starts `telerad serve --role ROLE --listen LISTEN --store STORE EXTRA…` and reads the
    /// bound address from its first line.
    /// Its log (inherited) at WARN: no line per message in the tests' output.
    pub fn start(role: &str, listen: &str, store: &Path, extra: &[&str]) -> Server {
        Server::start_full(role, listen, store, extra, Stdio::inherit(), &[("RUST_LOG", "warn")])
    }

    /// [`Server::start`] with environment variables set for the server (`TZ`…).
    pub fn start_env(role: &str, listen: &str, store: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_full(role, listen, store, extra, Stdio::inherit(), env)
    }

    /// [`Server::start`] with standard error written to `log`.
    pub fn start_logged(role: &str, listen: &str, store: &Path, extra: &[&str], log: &Path) -> Server {
        Server::start_with(role, listen, store, extra, Stdio::from(std::fs::File::create(log).expect("the log file")))
    }

    fn start_with(role: &str, listen: &str, store: &Path, extra: &[&str], stderr: Stdio) -> Server {
        Server::start_full(role, listen, store, extra, stderr, &[])
    }

    fn start_full(role: &str, listen: &str, store: &Path, extra: &[&str], stderr: Stdio, env: &[(&str, &str)]) -> Server {
        let mut args = vec!["serve", "--role", role, "--listen", listen, "--store", store.to_str().unwrap()];
        args.extend_from_slice(extra);
        let mut command = Command::new(bin());
        // The log's level is the test's choice, not the environment's.
        if !env.iter().any(|(k, _)| *k == "RUST_LOG") {
            command.env_remove("RUST_LOG");
        }
        let mut child = command.args(&args).envs(env.iter().copied()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(stderr).spawn().expect("telerad serve runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("the bound address");
        let addr = line.trim().to_owned();
        assert!(addr.starts_with("127.0.0.1:"), "first line is the bound address: `{line}`");
        Server { child: Some(child), addr, store: store.to_owned() }
    }

    /// SIGTERM, then the exit status (within 30 s).
    pub fn stop(mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        terminate(&child);
        wait_for(&mut child, Duration::from_secs(30))
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn terminate(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
}

pub fn wait_for(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("server did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `bytes` with every `from` replaced by `to`, written to `dir/name`.
pub fn variant(dir: &Path, name: &str, fixture_name: &str, replacements: &[(&str, &str)]) -> PathBuf {
    let mut text = String::from_utf8(std::fs::read(fixture(fixture_name)).unwrap()).unwrap();
    for (from, to) in replacements {
        text = text.replace(from, to);
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The orders of a store, as `telerad orders --format json` prints them.
pub fn orders(store: &Path) -> Vec<serde_json::Value> {
    let out = run(&["orders", "--store", store.to_str().unwrap(), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).lines().map(|l| serde_json::from_str(l).expect("one JSON object per line")).collect()
}

/// MSH-10 of a message file (tests do not depend on the fixtures' control ids).
pub fn control_id_of(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    text.split(['\r', '\n']).next().unwrap_or("").split('|').nth(9).unwrap_or("").to_owned()
}

/// A fixture with its MSH-10 set to `id` and the `replacements` made, written to `dir/name`.
pub fn variant_with_id(dir: &Path, name: &str, fixture_name: &str, id: &str, replacements: &[(&str, &str)]) -> PathBuf {
    let old = control_id_of(&fixture(fixture_name));
    let old_field = format!("|{old}|");
    let new_field = format!("|{id}|");
    let mut all: Vec<(&str, &str)> = vec![(old_field.as_str(), new_field.as_str())];
    all.extend_from_slice(replacements);
    variant(dir, name, fixture_name, &all)
}

/// A test PKI in a folder: `ca.pem`, and `<name>.pem` / `<name>.key` for each leaf issued.
pub struct Pki {
    pub dir: PathBuf,
    ca: rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
}

impl Pki {
    pub fn new(dir: &Path) -> Pki {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "telerad test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        Pki { dir: dir.to_owned(), ca }
    }

    /// Issues a leaf whose subject is `CN=<name>`, for a server (`server`) or a client.
    pub fn issue(&self, name: &str, sans: &[&str], server: bool) {
        use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![if server { ExtendedKeyUsagePurpose::ServerAuth } else { ExtendedKeyUsagePurpose::ClientAuth }];
        let cert = params.signed_by(&key, &*self.ca).unwrap();
        std::fs::write(self.dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(self.dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    }

    /// The path of a file of the PKI, as text.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }
}

/// The PostgreSQL server of the tests (`TELERAD_TEST_PG`, a URL; `.ci/postgres.sh start`
/// prints it) with a fresh database named after `test`, dropped first if an earlier run left
/// it. Without the variable: under `CI=true` the test fails; elsewhere it says loudly that it
/// is skipped and returns None.
pub fn postgres(test: &str) -> Option<String> {
    let Ok(base) = std::env::var("TELERAD_TEST_PG") else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("TELERAD_TEST_PG is not set: the PostgreSQL tests need a server (.ci/postgres.sh start DIR prints the variable)");
        }
        // Straight to the process's standard error: the test harness captures `eprintln!` of
        // a passing test, and a skip must be seen.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED {test}: TELERAD_TEST_PG is not set, no PostgreSQL server to test against.\n*** Run `eval \"$(.ci/postgres.sh start /tmp/telerad-pg)\"` first (see the README).\n"
        );
        return None;
    };
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap_or_else(|e| panic!("TELERAD_TEST_PG={base}: cannot connect: {e}"));
    let name = format!("t_{}", test.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).take(50).collect::<String>());
    // One statement each: neither runs inside a transaction block.
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).expect("drop the test database");
    admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
    let (head, tail) = match base.find('?') {
        Some(i) => base.split_at(i),
        None => (base.as_str(), ""),
    };
    let (server, _) = head.rsplit_once('/').expect("a URL with a database");
    Some(format!("{server}/{name}{tail}"))
}
