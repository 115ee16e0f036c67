//! The PostgreSQL store (`--store postgres://…`): the schema, the steps and the behaviour of
//! the SQLite store ([`crate::store`]) on a database server, so that several receivers can
//! share one database.
//!
//! # What is the same
//!
//! The receive path is the SQLite store's code (duplicate detection with the digest rule,
//! conflicts, refused senders, the workflow) over `crate::store::Tx`; the writer thread,
//! group commit and the ACK after the commit are the same loop. The tables and columns are
//! the same, with PostgreSQL's types (`BYTEA`, `BOOLEAN`), created by the same numbered steps
//! ([`MIGRATIONS`] has one step per step of [`crate::store::MIGRATIONS`]; the version is the
//! row of `telerad_schema`).
//!
//! # Several receivers
//!
//! Each receiver has its own writer and connection; the database arbitrates:
//! - row ids come from a sequence (`messages_id_seq`), so two receivers never take the same;
//! - an inbound message already stored by another receiver is found by the unique index
//!   `messages_once`: a receiver that inserts it at the same time waits for the other's commit
//!   and gets a unique violation; its item is then run again (at most [`UNIQUE_RETRIES`]
//!   times) and finds the stored message (same bytes: the stored ACK; other bytes: a
//!   conflict). The same holds for two NW creating one order (`orders.key`);
//! - the orders a batch touches are locked (`SELECT … FOR UPDATE`) in key order before its
//!   items run, and each item reads its orders under that lock, at READ COMMITTED: a CA and
//!   an SR for one order on two receivers are applied one after the other, and the second
//!   sees the state the first left (the workflow's AE for it);
//! - a batch that still loses a deadlock or a serialization failure is rolled back and run
//!   again whole, up to [`BATCH_RETRIES`] times.
//!
//! # Losing the database
//!
//! When the connection is lost (server restarted, network cut) the batch's messages get the AR
//! of a message not stored, the connection is dropped, and the next batch connects again: the
//! receiver recovers by itself, without a restart.
//!
//! # TLS
//!
//! `sslmode` in the URL: `disable`, `prefer` (the default: TLS when the server offers it) or
//! `require`. The server's certificate is checked against the system's roots (or the file in
//! `SSL_CERT_FILE`), through rustls.

use std::path::Path;
use std::str::FromStr;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Statement, Transaction};

use crate::inspect::{MessageFilter, MessageRow, StoredMessage};
use crate::receive::Sender;
use crate::store::{self, Backend, BatchOutcome, DbError, OrderView, Purged, Row, Store, StoreError, StoreOptions, Tx, Work, Writer};
use crate::workflow::{OrderKey, State};

/// The steps of the schema on PostgreSQL: step `i` is step `i` of [`store::MIGRATIONS`] (same
/// version numbers). A step is never changed once released; a new one is added at the end of
/// both lists.
pub const MIGRATIONS: &[&str] = &[
    // 1: the tables of `store::SCHEMA`.
    "CREATE TABLE messages (
        id BIGINT PRIMARY KEY,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        sender_application TEXT NOT NULL,
        sender_facility TEXT NOT NULL,
        control_id TEXT NOT NULL,
        -- \"C\": the times compare as the SQLite store's, byte by byte, whatever the cluster's locale.
        received_at TEXT COLLATE \"C\" NOT NULL,
        profile TEXT,
        findings TEXT NOT NULL,
        raw BYTEA NOT NULL,
        ack BYTEA,
        ack_code TEXT,
        digest BYTEA,
        conflict_of BIGINT REFERENCES messages (id) DEFERRABLE INITIALLY DEFERRED,
        client_subject TEXT,
        refused BOOLEAN NOT NULL DEFAULT false
    );
    CREATE SEQUENCE messages_id_seq OWNED BY messages.id;
    CREATE UNIQUE INDEX messages_once
        ON messages (direction, sender_application, sender_facility, control_id) WHERE control_id <> '' AND conflict_of IS NULL AND NOT refused;
    CREATE INDEX messages_conflicts ON messages (conflict_of, digest) WHERE conflict_of IS NOT NULL;
    CREATE TABLE orders (
        key TEXT COLLATE \"C\" PRIMARY KEY,
        state TEXT NOT NULL,
        has_exams BOOLEAN NOT NULL DEFAULT false,
        created_at TEXT COLLATE \"C\" NOT NULL,
        updated_at TEXT COLLATE \"C\" NOT NULL,
        request_message BIGINT NOT NULL REFERENCES messages (id) DEFERRABLE INITIALLY DEFERRED
    );
    CREATE TABLE order_history (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        order_key TEXT COLLATE \"C\" NOT NULL REFERENCES orders (key) DEFERRABLE INITIALLY DEFERRED,
        at TEXT NOT NULL,
        direction TEXT NOT NULL,
        order_control TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        message_id BIGINT NOT NULL REFERENCES messages (id) DEFERRABLE INITIALLY DEFERRED
    );
    CREATE INDEX order_history_key ON order_history (order_key, id);
    CREATE INDEX orders_request ON orders (request_message);
    CREATE INDEX order_history_message ON order_history (message_id);
    CREATE TABLE exams (
        order_key TEXT COLLATE \"C\" NOT NULL REFERENCES orders (key) DEFERRABLE INITIALLY DEFERRED,
        accession TEXT NOT NULL,
        study_instance_uid TEXT NOT NULL,
        message_id BIGINT NOT NULL REFERENCES messages (id) DEFERRABLE INITIALLY DEFERRED,
        PRIMARY KEY (order_key, accession)
    );
    CREATE INDEX exams_message ON exams (message_id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 2: as the SQLite store's step 2.
    "CREATE INDEX messages_received_at ON messages (received_at);",
];

const _: () = assert!(MIGRATIONS.len() == store::MIGRATIONS.len(), "one PostgreSQL step per SQLite step");

/// How many times an item is run again after a unique violation (another receiver stored the
/// same message or created the same order at the same moment).
pub const UNIQUE_RETRIES: usize = 2;
/// How many times a batch is run again after a deadlock or a serialization failure.
pub const BATCH_RETRIES: usize = 5;

/// The URL in a `--store` value, when it names a PostgreSQL database.
pub fn url_of(path: &Path) -> Option<&str> {
    let s = path.to_str()?;
    (s.starts_with("postgres://") || s.starts_with("postgresql://")).then_some(s)
}

/// The URL with its password, if any, replaced by `***` (for messages and logs).
pub fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The text of a PostgreSQL error: the server's message (with its SQLSTATE) or the client's
/// error and its causes.
pub fn reason(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn code_of(e: &DbError) -> Option<&SqlState> {
    match e {
        DbError::Postgres(e) => e.code(),
        _ => None,
    }
}

/// Connects to `url`. TLS as `sslmode` says (see the module's documentation); a connection
/// that takes more than 5 s (unless the URL says `connect_timeout`) fails.
pub fn connect(url: &str) -> Result<Client, String> {
    let mut config = postgres::Config::from_str(url).map_err(|e| format!("not a PostgreSQL URL: {}", reason(&e)))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(5));
    }
    // A server that stops answering (a network cut without a reset) is found within a minute,
    // not after the system's two hours of TCP retries.
    config.keepalives(true).keepalives_idle(Duration::from_secs(30));
    let client = match config.get_ssl_mode() {
        postgres::config::SslMode::Disable => config.connect(postgres::NoTls),
        _ => config.connect(tls()?),
    };
    client.map_err(|e| reason(&e))
}

/// rustls with ring (as MLLP's TLS) and the system's roots.
fn tls() -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Brings the database to [`store::SCHEMA_VERSION`]: the steps it has not had, in one
/// transaction, under an advisory lock (two receivers starting together do not both migrate).
/// Returns the version it had. A newer schema is refused, untouched.
pub fn migrate(client: &mut Client, shown: &str) -> Result<i64, StoreError> {
    let err = |e: postgres::Error| StoreError::Postgres { url: shown.to_owned(), reason: reason(&e) };
    let mut tx = client.transaction().map_err(err)?;
    // Any constant: the lock only serialises telerad's own migrations.
    tx.batch_execute("SELECT pg_advisory_xact_lock(7432020); CREATE TABLE IF NOT EXISTS telerad_schema (version BIGINT NOT NULL)").map_err(err)?;
    let found: i64 = tx.query_opt("SELECT version FROM telerad_schema", &[]).map_err(err)?.map(|r| r.get(0)).unwrap_or(0);
    if found > store::SCHEMA_VERSION {
        return Err(StoreError::Newer { path: shown.into(), found, known: store::SCHEMA_VERSION });
    }
    if found == store::SCHEMA_VERSION {
        return Ok(found);
    }
    for step in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
        tx.batch_execute(step).map_err(err)?;
    }
    tx.execute("DELETE FROM telerad_schema", &[]).map_err(err)?;
    tx.execute("INSERT INTO telerad_schema (version) VALUES ($1)", &[&store::SCHEMA_VERSION]).map_err(err)?;
    tx.commit().map_err(err)?;
    Ok(found)
}

/// Opens the PostgreSQL store at `url` (migrating it) and starts its writer thread.
pub fn open(url: &str, options: StoreOptions) -> Result<Store, StoreError> {
    let shown = shown(url);
    let mut client = connect(url).map_err(|reason| StoreError::Postgres { url: shown.clone(), reason })?;
    migrate(&mut client, &shown)?;
    let (tx, rx) = mpsc::channel::<Box<dyn Work>>();
    let max_batch = options.max_batch.max(1);
    let on_commit = options.on_commit.clone();
    let writer = PgWriter { url: url.to_owned(), client: Some(client), statements: Default::default() };
    let handle = std::thread::Builder::new()
        .name("telerad-store".into())
        .spawn(move || store::writer_loop(rx, max_batch, on_commit, writer))
        .map_err(StoreError::Thread)?;
    Ok(Store::from_parts(tx, handle, options, Backend::Postgres { shown }))
}

/// Prepared statements of one connection, by their text.
type Statements = std::collections::HashMap<&'static str, Statement>;

struct PgWriter {
    url: String,
    /// None once lost; the next batch or query connects again.
    client: Option<Client>,
    statements: Statements,
}

/// The writer's connection, connecting again when it was lost (its statements then forgotten).
fn ensure<'a>(slot: &'a mut Option<Client>, statements: &mut Statements, url: &str) -> Result<&'a mut Client, String> {
    if slot.as_ref().is_some_and(|c| c.is_closed()) {
        *slot = None;
    }
    if slot.is_none() {
        statements.clear();
        *slot = Some(connect(url).map_err(|e| format!("cannot connect to the database: {e}"))?);
    }
    slot.as_mut().ok_or_else(|| "no connection".to_owned())
}

impl PgWriter {

    /// After an error: a connection the error closed is dropped (reconnected next time).
    fn forget_if_closed(&mut self) {
        if self.client.as_ref().is_some_and(|c| c.is_closed()) {
            self.client = None;
            self.statements.clear();
        }
    }
}

/// Why a batch did not commit.
enum BatchError {
    /// A deadlock or serialization failure: run it again.
    Retry(String),
    /// Anything else: its items are answered AR.
    Fail(String),
}

impl From<postgres::Error> for BatchError {
    fn from(e: postgres::Error) -> BatchError {
        classify(&DbError::Postgres(e))
    }
}

fn classify(e: &DbError) -> BatchError {
    match code_of(e) {
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE => BatchError::Retry(e.to_string()),
        _ => BatchError::Fail(e.to_string()),
    }
}

impl Writer for PgWriter {
    fn queries(&mut self, queries: Vec<Box<dyn Work>>) {
        for mut q in queries {
            let client = ensure(&mut self.client, &mut self.statements, &self.url);
            q.run_pg_query(client);
            self.forget_if_closed();
        }
    }

    fn commit(&mut self, mut writes: Vec<Box<dyn Work>>) -> BatchOutcome {
        let mut attempt = 0;
        let result = loop {
            let client = match ensure(&mut self.client, &mut self.statements, &self.url) {
                Ok(c) => c,
                Err(reason) => break Err(reason),
            };
            match try_batch(client, &mut self.statements, &mut writes) {
                Ok(failed) => break Ok(failed),
                Err(BatchError::Retry(reason)) if attempt < BATCH_RETRIES => {
                    attempt += 1;
                    tracing::debug!(target: "telerad::store", "store: batch run again ({reason})");
                    // Apart in time from the batch it ran into (which is retried too, or
                    // goes on), by an amount that differs between receivers.
                    std::thread::sleep(Duration::from_millis(2 + u64::from(std::process::id() % 7) * attempt as u64));
                }
                Err(BatchError::Retry(reason) | BatchError::Fail(reason)) => {
                    self.forget_if_closed();
                    break Err(reason);
                }
            }
        };
        match result {
            Ok(failed) => {
                let mut outcome = BatchOutcome { failures: Vec::new(), stored: 0 };
                for (w, failure) in writes.into_iter().zip(failed) {
                    match failure {
                        None => {
                            outcome.stored += 1;
                            w.committed();
                        }
                        Some(reason) => {
                            w.failed(&reason);
                            outcome.failures.push(reason);
                        }
                    }
                }
                outcome
            }
            Err(reason) => {
                let failures = vec![reason.clone(); writes.len()];
                writes.into_iter().for_each(|w| w.failed(&reason));
                BatchOutcome { failures, stored: 0 }
            }
        }
    }
}

/// One transaction for the batch; each item in a savepoint of its own, as SQLite's. Returns,
/// once committed, each item's failure (None: stored).
fn try_batch(client: &mut Client, statements: &mut Statements, writes: &mut [Box<dyn Work>]) -> Result<Vec<Option<String>>, BatchError> {
    let mut tx = client.transaction()?;
    let mut found: Vec<&str> = Vec::new();
    for w in writes.iter() {
        w.order_keys(&mut found);
    }
    if !found.is_empty() {
        found.sort_unstable();
        found.dedup();
        let keys: Vec<String> = found.into_iter().map(str::to_owned).collect();
        // In key order: two batches touching the same orders lock them in the same order.
        tx.query("SELECT 1 FROM orders WHERE key = ANY($1) ORDER BY key FOR UPDATE", &[&keys])?;
    }
    let mut failures = Vec::with_capacity(writes.len());
    for w in writes.iter_mut() {
        tx.batch_execute("SAVEPOINT item")?;
        let mut tries = 0;
        let result = loop {
            let result = w.apply(&mut PgTx { tx: &mut tx, statements: &mut *statements });
            match &result {
                Err(e) if code_of(e) == Some(&SqlState::UNIQUE_VIOLATION) && tries < UNIQUE_RETRIES => {
                    // Another receiver committed the same message or order meanwhile: run the
                    // item again, it now sees that row.
                    tries += 1;
                    tx.batch_execute("ROLLBACK TO item")?;
                }
                _ => break result,
            }
        };
        match result {
            Ok(()) => {
                tx.batch_execute("RELEASE item")?;
                failures.push(None);
            }
            Err(e) => {
                if let BatchError::Retry(reason) = classify(&e) {
                    return Err(BatchError::Retry(reason));
                }
                // Undo this item only; the rest of the batch goes on (a lost connection fails
                // here too, and so the batch).
                tx.batch_execute("ROLLBACK TO item; RELEASE item")?;
                failures.push(Some(e.to_string()));
            }
        }
    }
    tx.commit()?;
    Ok(failures)
}

/// [`Tx`] on a PostgreSQL transaction, with the connection's prepared statements.
struct PgTx<'a, 't> {
    tx: &'a mut Transaction<'t>,
    statements: &'a mut Statements,
}

impl PgTx<'_, '_> {
    fn statement(&mut self, sql: &'static str) -> Result<Statement, DbError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.tx.prepare(sql)?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }

    fn execute(&mut self, sql: &'static str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> Result<(), DbError> {
        let s = self.statement(sql)?;
        self.tx.execute(&s, params)?;
        Ok(())
    }

    fn query_opt(&mut self, sql: &'static str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> Result<Option<postgres::Row>, DbError> {
        let s = self.statement(sql)?;
        Ok(self.tx.query_opt(&s, params)?)
    }
}

/// [`store::FIND_INBOUND`] in PostgreSQL's words.
const FIND_INBOUND: &str = "SELECT id, ack, digest, received_at FROM messages WHERE direction = 'in' AND sender_application = $1 AND sender_facility = $2 AND control_id = $3 AND control_id <> '' AND conflict_of IS NULL AND NOT refused";
const FIND_OUTBOUND: &str = "SELECT id FROM messages WHERE direction = 'out' AND sender_application = $1 AND sender_facility = $2 AND control_id = $3 AND control_id <> '' AND conflict_of IS NULL AND NOT refused";

impl Tx for PgTx<'_, '_> {
    fn next_id(&mut self) -> Result<i64, DbError> {
        let s = self.statement("SELECT nextval('messages_id_seq')")?;
        Ok(self.tx.query_one(&s, &[])?.get(0))
    }
    fn run(&mut self, sql: &'static str) -> Result<(), DbError> {
        Ok(self.tx.batch_execute(sql)?)
    }
    fn find_inbound(&mut self, sender: &Sender, control_id: &str) -> Result<Option<(i64, Option<Vec<u8>>, Option<Vec<u8>>, String)>, DbError> {
        Ok(self.query_opt(FIND_INBOUND, &[&sender.application, &sender.facility, &control_id])?.map(|r| (r.get(0), r.get(1), r.get(2), r.get(3))))
    }
    fn raw_of(&mut self, id: i64) -> Result<Vec<u8>, DbError> {
        let s = self.statement("SELECT raw FROM messages WHERE id = $1")?;
        Ok(self.tx.query_one(&s, &[&id])?.get(0))
    }
    fn find_conflict(&mut self, conflict_of: i64, digest: &[u8]) -> Result<Option<Option<Vec<u8>>>, DbError> {
        Ok(self.query_opt("SELECT ack FROM messages WHERE conflict_of = $1 AND digest = $2", &[&conflict_of, &digest])?.map(|r| r.get(0)))
    }
    fn find_outbound(&mut self, sender: &Sender, control_id: &str) -> Result<Option<i64>, DbError> {
        Ok(self.query_opt(FIND_OUTBOUND, &[&sender.application, &sender.facility, &control_id])?.map(|r| r.get(0)))
    }
    fn insert_message(&mut self, row: &Row<'_>, findings: &str, ack: Option<&[u8]>, ack_code: Option<&str>) -> Result<(), DbError> {
        self.execute(
            "INSERT INTO messages (id, direction, sender_application, sender_facility, control_id, received_at, profile, findings, raw, ack, ack_code, digest, conflict_of, client_subject, refused)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            &[
                &row.id,
                &row.direction.name(),
                &row.sender.application,
                &row.sender.facility,
                &row.control_id,
                &row.at,
                &row.profile,
                &findings,
                &row.raw,
                &ack,
                &ack_code,
                &row.digest,
                &row.conflict_of,
                &row.client_subject,
                &row.refused,
            ],
        )
    }
    fn order(&mut self, key: &str) -> Result<Option<(String, bool)>, DbError> {
        // FOR UPDATE: at READ COMMITTED, waits for another transaction holding the row, then
        // reads the state it committed.
        Ok(self.query_opt("SELECT state, has_exams FROM orders WHERE key = $1 FOR UPDATE", &[&key])?.map(|r| (r.get(0), r.get(1))))
    }
    fn insert_order(&mut self, key: &str, state: &str, has_exams: bool, at: &str, message_id: i64) -> Result<(), DbError> {
        self.execute("INSERT INTO orders (key, state, has_exams, created_at, updated_at, request_message) VALUES ($1, $2, $3, $4, $4, $5)", &[&key, &state, &has_exams, &at, &message_id])
    }
    fn update_order(&mut self, key: &str, state: &str, has_exams: bool, at: &str) -> Result<(), DbError> {
        self.execute("UPDATE orders SET state = $2, has_exams = $3, updated_at = $4 WHERE key = $1", &[&key, &state, &has_exams, &at])
    }
    fn insert_history(&mut self, key: &str, at: &str, direction: &str, control: &str, from: Option<&str>, to: &str, message_id: i64) -> Result<(), DbError> {
        self.execute(
            "INSERT INTO order_history (order_key, at, direction, order_control, from_state, to_state, message_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&key, &at, &direction, &control, &from, &to, &message_id],
        )
    }
    fn put_exam(&mut self, key: &str, accession: &str, study_instance_uid: &str, message_id: i64) -> Result<(), DbError> {
        self.execute(
            "INSERT INTO exams (order_key, accession, study_instance_uid, message_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (order_key, accession) DO UPDATE SET study_instance_uid = excluded.study_instance_uid, message_id = excluded.message_id",
            &[&key, &accession, &study_instance_uid, &message_id],
        )
    }
}

type QueryFn = Box<dyn FnOnce(Result<&mut Client, String>) + Send>;

/// A query run by the writer between two batches ([`Store::query_pg`]).
pub(crate) struct Query {
    f: Option<QueryFn>,
}

impl Query {
    pub(crate) fn new(f: impl FnOnce(Result<&mut Client, String>) + Send + 'static) -> Query {
        Query { f: Some(Box::new(f)) }
    }
}

impl Work for Query {
    fn is_query(&self) -> bool {
        true
    }
    fn run_pg_query(&mut self, client: Result<&mut Client, String>) {
        if let Some(f) = self.f.take() {
            f(client);
        }
    }
    fn apply(&mut self, _tx: &mut dyn Tx) -> Result<(), DbError> {
        Ok(())
    }
    fn committed(self: Box<Self>) {}
    fn failed(self: Box<Self>, _reason: &str) {}
}

/// [`Store::record_resent`] on PostgreSQL.
pub(crate) fn record_resent(client: &mut Client, id: i64, ack: &[u8], code: &str, now: &str) -> Result<Option<String>, DbError> {
    let mut tx = client.transaction()?;
    let row = tx.query_opt("SELECT raw, ack_code FROM messages WHERE id = $1 AND direction = 'out' FOR UPDATE", &[&id])?;
    let Some(row) = row else {
        return Err(DbError::Data(format!("no message {id} sent from this store")));
    };
    let (raw, before): (Vec<u8>, Option<String>) = (row.get(0), row.get(1));
    tx.execute("UPDATE messages SET ack = $1, ack_code = $2 WHERE id = $3", &[&ack, &code, &id])?;
    let mut refused = None;
    if crate::send::accepted(code) && !before.as_deref().is_some_and(crate::send::accepted) {
        let events = hl7_runtime::Message::parse(&raw).ok().and_then(|m| crate::workflow::events(&m).ok()).unwrap_or_default();
        tx.batch_execute("SAVEPOINT resent")?;
        let mut statements = Statements::new();
        match store::apply_events(&mut PgTx { tx: &mut tx, statements: &mut statements }, &events, store::Direction::Out, id, now)? {
            Ok(()) => tx.batch_execute("RELEASE resent")?,
            Err((_, refusal)) => {
                tx.batch_execute("ROLLBACK TO resent; RELEASE resent")?;
                refused = Some(format!("{} ({})", refusal.reason, refusal.code));
            }
        }
    }
    tx.commit()?;
    Ok(refused)
}

/// Every order, by key, with its exams and history (as [`store::orders`]).
pub fn orders(client: &mut Client) -> Result<Vec<OrderView>, DbError> {
    let mut out: Vec<OrderView> = client
        .query("SELECT key, state, created_at, updated_at FROM orders ORDER BY key", &[])?
        .iter()
        .map(|r| OrderView { key: r.get(0), state: r.get(1), created_at: r.get(2), updated_at: r.get(3), exams: Vec::new(), history: Vec::new() })
        .collect();
    let exams = client.prepare("SELECT accession, study_instance_uid FROM exams WHERE order_key = $1 ORDER BY message_id, accession COLLATE \"C\"")?;
    let history = client.prepare(
        "SELECT h.at, h.direction, h.order_control, h.from_state, h.to_state, m.control_id
         FROM order_history h JOIN messages m ON m.id = h.message_id WHERE h.order_key = $1 ORDER BY h.id",
    )?;
    for o in &mut out {
        o.exams = client.query(&exams, &[&o.key])?.iter().map(|r| store::ExamView { accession: r.get(0), study_instance_uid: r.get(1) }).collect();
        o.history = client
            .query(&history, &[&o.key])?
            .iter()
            .map(|r| store::HistoryView { at: r.get(0), direction: r.get(1), order_control: r.get(2), from: r.get(3), to: r.get(4), message_control_id: r.get(5) })
            .collect();
    }
    Ok(out)
}

/// The message that created an order, as stored (as [`store::request_of`]).
pub fn request_of(client: &mut Client, key: &OrderKey) -> Result<Option<(State, Vec<u8>)>, DbError> {
    let row = client.query_opt("SELECT o.state, m.raw FROM orders o JOIN messages m ON m.id = o.request_message WHERE o.key = $1", &[&key.as_str()])?;
    Ok(row.and_then(|r| State::from_name(r.get::<_, &str>(0)).map(|s| (s, r.get(1)))))
}

/// The id the next message would get if ids were counted (`telerad respond`'s MSH-10).
pub fn next_id(client: &mut Client) -> Result<i64, DbError> {
    Ok(client.query_one("SELECT COALESCE(MAX(id), 0) + 1 FROM messages", &[])?.get(0))
}

/// Messages stored in one direction.
pub fn count_messages(client: &mut Client, direction: store::Direction) -> Result<i64, DbError> {
    Ok(client.query_one("SELECT COUNT(*) FROM messages WHERE direction = $1", &[&direction.name()])?.get(0))
}

/// A stored message's direction, bytes and MSH-10 (`telerad resend`).
pub fn sent_message(client: &mut Client, id: i64) -> Result<Option<(String, Vec<u8>, String)>, DbError> {
    Ok(client.query_opt("SELECT direction, raw, control_id FROM messages WHERE id = $1", &[&id])?.map(|r| (r.get(0), r.get(1), r.get(2))))
}

const COLUMNS: &str = "id, direction, received_at, sender_application, sender_facility, control_id, profile, ack_code, findings, conflict_of, refused";

fn message_row(r: &postgres::Row) -> (MessageRow, String) {
    (
        MessageRow {
            id: r.get(0),
            direction: r.get(1),
            received_at: r.get(2),
            sender_application: r.get(3),
            sender_facility: r.get(4),
            control_id: r.get(5),
            profile: r.get(6),
            msa: r.get(7),
            errors: 0,
            conflict_of: r.get(9),
            refused: r.get(10),
        },
        r.get(8),
    )
}

/// The messages `filter` selects, oldest first (as [`crate::inspect::messages`]).
pub fn messages(client: &mut Client, filter: &MessageFilter) -> Result<Vec<MessageRow>, DbError> {
    let (conditions, values) = filter.conditions(|n| format!("${n}"));
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE true{conditions} ORDER BY id");
    let params: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|v| v as &(dyn postgres::types::ToSql + Sync)).collect();
    let rows = client.query(&sql, &params)?;
    rows.iter()
        .map(|r| {
            let (mut m, findings) = message_row(r);
            m.errors = errors_in(m.id, &findings)?;
            Ok(m)
        })
        .collect()
}

fn errors_in(id: i64, findings: &str) -> Result<usize, DbError> {
    let f = crate::inspect::findings_of(findings).map_err(|e| DbError::Data(format!("message {id}: its findings cannot be read: {e}")))?;
    Ok(f.iter().filter(|f| f.severity == hl7_runtime::validate::Severity::Error).count())
}

/// The message stored as row `id` (as [`crate::inspect::message`]).
pub fn message(client: &mut Client, id: i64) -> Result<Option<StoredMessage>, DbError> {
    let Some(r) = client.query_opt(&format!("SELECT {COLUMNS}, raw, ack FROM messages WHERE id = $1"), &[&id])? else {
        return Ok(None);
    };
    let (mut row, findings) = message_row(&r);
    let (raw, ack): (Vec<u8>, Option<Vec<u8>>) = (r.get(11), r.get(12));
    let findings = crate::inspect::findings_of(&findings).map_err(|e| DbError::Data(format!("message {id}: its findings cannot be read: {e}")))?;
    row.errors = findings.iter().filter(|f| f.severity == hl7_runtime::validate::Severity::Error).count();
    let transitions = client
        .query("SELECT order_key, order_control, COALESCE(from_state, '-'), to_state FROM order_history WHERE message_id = $1 ORDER BY id", &[&id])?
        .iter()
        .map(|r| (r.get::<_, String>(0), format!("{}: {} -> {}", r.get::<_, String>(1), r.get::<_, String>(2), r.get::<_, String>(3))))
        .collect();
    Ok(Some(StoredMessage { row, raw, findings, ack, transitions }))
}

/// [`store::purge`] on PostgreSQL: the same rows, in one transaction; then `VACUUM` of the
/// tables (PostgreSQL gives the space back to the tables, not to the file system, unless
/// `VACUUM FULL`, which an operator runs when they choose: it locks the tables).
pub fn purge(client: &mut Client, before: &str) -> Result<Purged, DbError> {
    let final_states = [State::Refused.name(), State::Cancelled.name()];
    let mut tx = client.transaction()?;
    // The orders chosen stay chosen while this runs: a receiver moving one of them waits.
    tx.batch_execute(
        "CREATE TEMP TABLE purge_orders (key TEXT COLLATE \"C\" PRIMARY KEY) ON COMMIT DROP;
         CREATE TEMP TABLE purge_messages (id BIGINT PRIMARY KEY) ON COMMIT DROP;",
    )?;
    let orders = tx.execute(
        "INSERT INTO purge_orders SELECT key FROM orders WHERE state IN ($1, $2) AND updated_at < $3 FOR UPDATE",
        &[&final_states[0], &final_states[1], &before],
    )?;
    tx.batch_execute(
        "INSERT INTO purge_messages
             (SELECT message_id FROM order_history WHERE order_key IN (SELECT key FROM purge_orders)
              UNION SELECT request_message FROM orders WHERE key IN (SELECT key FROM purge_orders)
              UNION SELECT message_id FROM exams WHERE order_key IN (SELECT key FROM purge_orders))
             EXCEPT SELECT message_id FROM order_history WHERE order_key NOT IN (SELECT key FROM purge_orders)
             EXCEPT SELECT request_message FROM orders WHERE key NOT IN (SELECT key FROM purge_orders)
             EXCEPT SELECT message_id FROM exams WHERE order_key NOT IN (SELECT key FROM purge_orders);
         INSERT INTO purge_messages SELECT id FROM messages WHERE conflict_of IN (SELECT id FROM purge_messages) ON CONFLICT DO NOTHING;
         DELETE FROM exams WHERE order_key IN (SELECT key FROM purge_orders);
         DELETE FROM order_history WHERE order_key IN (SELECT key FROM purge_orders);
         DELETE FROM orders WHERE key IN (SELECT key FROM purge_orders);",
    )?;
    let messages = tx.execute("DELETE FROM messages WHERE id IN (SELECT id FROM purge_messages)", &[])?;
    tx.commit()?;
    client.batch_execute("VACUUM messages, orders, order_history, exams")?;
    Ok(Purged { orders: orders as i64, messages: messages as i64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(shown("postgres://telerad:secret@db.example:5432/telerad?sslmode=require"), "postgres://telerad:***@db.example:5432/telerad?sslmode=require");
        assert_eq!(shown("postgres://telerad@127.0.0.1:5432/postgres"), "postgres://telerad@127.0.0.1:5432/postgres");
        assert_eq!(shown("postgresql://db/x"), "postgresql://db/x");
        assert_eq!(url_of(Path::new("postgres://x/y")), Some("postgres://x/y"));
        assert_eq!(url_of(Path::new("store.db")), None);
    }
}
