//! The durable store: every message received or sent, its ACK, and the orders with their
//! history, in one SQLite file — or, with a `postgres://` URL, in a PostgreSQL database
//! ([`crate::pg`]: the same tables, steps and receive path, for several receivers).
//!
//! # Durability and group commit
//!
//! The file is opened in WAL mode with `synchronous=FULL`: a commit returns after the WAL is
//! synced, so it survives a power cut. One writer thread owns the connection. Work arrives over
//! a channel from every connection; the writer takes what is queued (at most
//! [`StoreOptions::max_batch`] items) into one transaction, commits it (one sync for the whole
//! batch), and only then answers each waiter. A receiver writes the ACK to its peer after
//! that answer, so an ACK always follows the commit of the message and of its ACK.
//!
//! # Idempotence
//!
//! An inbound message is identified by its sender (MSH-3, MSH-4) and MSH-10, and each stored
//! message keeps the SHA-256 of its bytes ([`digest`]). When a message already stored arrives
//! again with the same bytes, it is not stored twice and the stored ACK is answered again,
//! byte for byte. With other bytes it is a **conflict**: a sender reused an MSH-10 for another
//! message. The new one is stored apart (`conflict_of` = the first one's row), nothing of it
//! is applied to the orders, and its ACK is AE with `ERR||MSH^1^10|205^Duplicate key
//! identifier^HL70357|E|…` (after its validation errors, if any); that conflict sent again
//! gets its own stored ACK. A message whose MSH-10 cannot be read is stored each time (it
//! cannot be recognised).
//!
//! A message whose sender is not allowed (`telerad serve --senders`, see
//! [`crate::receive::Admission`]) is stored with `refused = 1` and its AR, each time it
//! arrives: it is not recognised as a copy of a stored message, nothing of it is applied, and
//! it does not count for the uniqueness above, so the same message sent later from an allowed
//! connection is received as new. Every inbound row keeps the subject of the TLS client
//! certificate of its connection (`client_subject`; NULL without one).
//!
//! # When the store cannot commit
//!
//! If the transaction (or one message's part of it) fails, nothing of that message is kept and
//! the answer is built with [`Decision::Reject`]: **AR**, with one ERR whose ERR-3 is
//! `207^Application internal error^HL70357`, ERR-4 `E` and ERR-8 `the message was not stored
//! (<SQLite error>); it was not integrated and may be sent again`. A message that also had
//! errors gets AE with its ERRs and that one (errors win, see `hl7_runtime::ack`). That ACK is
//! not stored (there is nowhere to store it); its MSH-10 is `AR` followed by a process-local
//! counter. The writer logs each such failure (`tracing`, target `telerad::store`) with its cause, once per
//! burst ([`FailureLog`]). [`Store::check_writable`] finds a store that cannot be written
//! before anything is received (`telerad serve` exits 2 then).
//!
//! # Tables
//!
//! `messages` (raw bytes and their SHA-256, direction, sender, MSH-10, time, profile, findings
//! as JSON, the ACK, the row a conflict reuses the MSH-10 of, the client certificate's
//! subject, whether the sender was refused),
//! `orders` (key, state), `order_history` (one row per transition, with the message that made
//! it) and `exams` (per order: accession number and Study Instance UID from flow 4). The
//! schema is [`SCHEMA`] (version 1) followed by the steps of [`MIGRATIONS`].
//!
//! # Versions
//!
//! The schema's version is SQLite's `user_version`. Opening a store applies, in one
//! transaction, every step of [`MIGRATIONS`] it has not had, then sets `user_version` to
//! [`SCHEMA_VERSION`]. Version 1 is the schema of the stores written before versions were
//! kept (`user_version` 0): its step creates the tables on a new file and brings the stores of
//! earlier releases to it (columns added), and is a no-op on a version-1 store. A store of a
//! later version than this code knows is refused ([`StoreError::Newer`]), not touched.
//! (`rusqlite_migration`, which does the same, has no release for this crate's rusqlite.)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hl7_runtime::ack::{self, AckOptions, Decision, Identity};
use hl7_runtime::validate::{Erl, Finding};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::clock::{Clock, Stamp};
use crate::receive::{self, Prepared, Sender};
use crate::workflow::{self, Current, Event, OrderKey, Refusal, State};

/// The schema, created on first use.
pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    sender_application TEXT NOT NULL,
    sender_facility TEXT NOT NULL,
    control_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    profile TEXT,
    findings TEXT NOT NULL,
    raw BLOB NOT NULL,
    ack BLOB,
    ack_code TEXT,
    digest BLOB,
    conflict_of INTEGER REFERENCES messages (id) DEFERRABLE INITIALLY DEFERRED,
    -- The subject of the TLS client certificate of the connection (inbound, mutual TLS).
    client_subject TEXT,
    -- 1: the sender was not allowed (`--senders`); answered AR, nothing applied.
    refused INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_once
    ON messages (direction, sender_application, sender_facility, control_id) WHERE control_id <> '' AND conflict_of IS NULL AND refused = 0;
CREATE INDEX IF NOT EXISTS messages_conflicts ON messages (conflict_of, digest) WHERE conflict_of IS NOT NULL;
CREATE TABLE IF NOT EXISTS orders (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    has_exams INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    request_message INTEGER NOT NULL REFERENCES messages (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE TABLE IF NOT EXISTS order_history (
    id INTEGER PRIMARY KEY,
    order_key TEXT NOT NULL REFERENCES orders (key) DEFERRABLE INITIALLY DEFERRED,
    at TEXT NOT NULL,
    direction TEXT NOT NULL,
    order_control TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX IF NOT EXISTS order_history_key ON order_history (order_key, id);
-- Child keys of foreign keys are indexed: inserting a message resolves the (deferred)
-- references to it, which would otherwise scan these tables at every insert.
CREATE INDEX IF NOT EXISTS orders_request ON orders (request_message);
CREATE INDEX IF NOT EXISTS order_history_message ON order_history (message_id);
CREATE TABLE IF NOT EXISTS exams (
    order_key TEXT NOT NULL REFERENCES orders (key) DEFERRABLE INITIALLY DEFERRED,
    accession TEXT NOT NULL,
    study_instance_uid TEXT NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id) DEFERRABLE INITIALLY DEFERRED,
    PRIMARY KEY (order_key, accession)
);
CREATE INDEX IF NOT EXISTS exams_message ON exams (message_id);
-- `checked_at`: when `Store::check_writable` last wrote (at each `serve` start).
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
";

/// One step of the schema, from the version before it to its own.
#[derive(Clone, Copy)]
pub enum Migration {
    /// Version 1: [`SCHEMA`], and the columns earlier releases lacked.
    Version1,
    /// SQL run as a batch.
    Sql(&'static str),
}

/// The steps, version 1 first: step `i` brings a store to version `i + 1`. A step is never
/// changed once released; a new one is added at the end.
pub const MIGRATIONS: &[Migration] = &[
    Migration::Version1,
    // 2: `telerad messages --since/--until` reads a time range without scanning every
    // message (the times only grow: each insert appends to the index). `purge` reads `orders`
    // whole (small rows): an index on it would cost each order transition for a rare command.
    Migration::Sql("CREATE INDEX messages_received_at ON messages (received_at);"),
];

/// The version a store has once opened.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The stored ACK of an inbound message (sender, MSH-10). `control_id <> ''` repeats the
/// partial index's condition: without it SQLite cannot use the index for a bound parameter
/// and scans the whole table (public so that a test can check the plan).
pub const FIND_INBOUND: &str =
    "SELECT id, ack, digest, received_at FROM messages WHERE direction = 'in' AND sender_application = ?1 AND sender_facility = ?2 AND control_id = ?3 AND control_id <> '' AND conflict_of IS NULL AND refused = 0";
/// The row of an outbound message (sender, MSH-10); see [`FIND_INBOUND`].
pub const FIND_OUTBOUND: &str =
    "SELECT id FROM messages WHERE direction = 'out' AND sender_application = ?1 AND sender_facility = ?2 AND control_id = ?3 AND control_id <> '' AND conflict_of IS NULL AND refused = 0";
/// The stored ACK of a conflict already received (the message it conflicts with, digest).
pub const FIND_CONFLICT: &str = "SELECT ack FROM messages WHERE conflict_of = ?1 AND digest = ?2";

/// A message's direction, from this side's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub const fn name(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// A database error of either store; its text is what the AR of a message not stored says.
#[derive(Debug)]
pub enum DbError {
    Sqlite(rusqlite::Error),
    Postgres(postgres::Error),
    /// A stored value this code cannot read (an unknown order state), or one it cannot write.
    Data(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Sqlite(e) => e.fmt(f),
            DbError::Postgres(e) => f.write_str(&crate::pg::reason(e)),
            DbError::Data(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DbError {}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> DbError {
        DbError::Sqlite(e)
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> DbError {
        DbError::Postgres(e)
    }
}

/// What the receive path and the workflow need of a transaction, whatever the database: the
/// interface both stores implement ([`SqliteTx`] here, `crate::pg::PgTx`), so that duplicate
/// detection, conflicts and the order workflow are one code for both.
pub(crate) trait Tx {
    /// The row id of the next stored message (known before its ACK is built, which names it).
    fn next_id(&mut self) -> Result<i64, DbError>;
    /// A statement without parameters (savepoints).
    fn run(&mut self, sql: &'static str) -> Result<(), DbError>;
    /// [`FIND_INBOUND`]: id, ACK, digest and time of the stored inbound message.
    #[allow(clippy::type_complexity)]
    fn find_inbound(&mut self, sender: &Sender, control_id: &str) -> Result<Option<(i64, Option<Vec<u8>>, Option<Vec<u8>>, String)>, DbError>;
    /// The bytes of a stored message.
    fn raw_of(&mut self, id: i64) -> Result<Vec<u8>, DbError>;
    /// [`FIND_CONFLICT`]: the ACK of a conflict already stored.
    fn find_conflict(&mut self, conflict_of: i64, digest: &[u8]) -> Result<Option<Option<Vec<u8>>>, DbError>;
    /// [`FIND_OUTBOUND`].
    fn find_outbound(&mut self, sender: &Sender, control_id: &str) -> Result<Option<i64>, DbError>;
    fn insert_message(&mut self, row: &Row<'_>, findings: &str, ack: Option<&[u8]>, ack_code: Option<&str>) -> Result<(), DbError>;
    /// An order's state and whether it has exams. PostgreSQL locks the row until the commit
    /// (another receiver's event for it waits, then reads the state this one leaves); SQLite's
    /// transaction already holds the file's write lock.
    fn order(&mut self, key: &str) -> Result<Option<(String, bool)>, DbError>;
    fn insert_order(&mut self, key: &str, state: &str, has_exams: bool, at: &str, message_id: i64) -> Result<(), DbError>;
    fn update_order(&mut self, key: &str, state: &str, has_exams: bool, at: &str) -> Result<(), DbError>;
    #[allow(clippy::too_many_arguments)]
    fn insert_history(&mut self, key: &str, at: &str, direction: &str, control: &str, from: Option<&str>, to: &str, message_id: i64) -> Result<(), DbError>;
    /// Inserts or replaces the exam (order, accession).
    fn put_exam(&mut self, key: &str, accession: &str, study_instance_uid: &str, message_id: i64) -> Result<(), DbError>;
}

/// [`Tx`] on a SQLite transaction (the statements of this store before the interface, through
/// the statement cache). Row ids count from `MAX(id) + 1`, read under the write lock.
pub(crate) struct SqliteTx<'a, 'c> {
    tx: &'a Transaction<'c>,
    next_id: i64,
}

impl Tx for SqliteTx<'_, '_> {
    fn next_id(&mut self) -> Result<i64, DbError> {
        let id = self.next_id;
        self.next_id += 1;
        Ok(id)
    }
    fn run(&mut self, sql: &'static str) -> Result<(), DbError> {
        Ok(run(self.tx, sql)?)
    }
    fn find_inbound(&mut self, sender: &Sender, control_id: &str) -> Result<Option<(i64, Option<Vec<u8>>, Option<Vec<u8>>, String)>, DbError> {
        Ok(self
            .tx
            .prepare_cached(FIND_INBOUND)?
            .query_row(params![sender.application, sender.facility, control_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?)
    }
    fn raw_of(&mut self, id: i64) -> Result<Vec<u8>, DbError> {
        Ok(self.tx.prepare_cached("SELECT raw FROM messages WHERE id = ?1")?.query_row(params![id], |r| r.get::<_, Vec<u8>>(0))?)
    }
    fn find_conflict(&mut self, conflict_of: i64, digest: &[u8]) -> Result<Option<Option<Vec<u8>>>, DbError> {
        Ok(self.tx.prepare_cached(FIND_CONFLICT)?.query_row(params![conflict_of, digest], |r| r.get(0)).optional()?)
    }
    fn find_outbound(&mut self, sender: &Sender, control_id: &str) -> Result<Option<i64>, DbError> {
        Ok(self.tx.prepare_cached(FIND_OUTBOUND)?.query_row(params![sender.application, sender.facility, control_id], |r| r.get(0)).optional()?)
    }
    fn insert_message(&mut self, row: &Row<'_>, findings: &str, ack: Option<&[u8]>, ack_code: Option<&str>) -> Result<(), DbError> {
        self.tx
            .prepare_cached(
                "INSERT INTO messages (id, direction, sender_application, sender_facility, control_id, received_at, profile, findings, raw, ack, ack_code, digest, conflict_of, client_subject, refused)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                row.id,
                row.direction.name(),
                row.sender.application,
                row.sender.facility,
                row.control_id,
                row.at,
                row.profile,
                findings,
                row.raw,
                ack,
                ack_code,
                row.digest,
                row.conflict_of,
                row.client_subject,
                row.refused
            ])?;
        Ok(())
    }
    fn order(&mut self, key: &str) -> Result<Option<(String, bool)>, DbError> {
        Ok(self
            .tx
            .prepare_cached("SELECT state, has_exams FROM orders WHERE key = ?1")?
            .query_row(params![key], |r| Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?)))
            .optional()?)
    }
    fn insert_order(&mut self, key: &str, state: &str, has_exams: bool, at: &str, message_id: i64) -> Result<(), DbError> {
        self.tx
            .prepare_cached("INSERT INTO orders (key, state, has_exams, created_at, updated_at, request_message) VALUES (?1, ?2, ?3, ?4, ?4, ?5)")?
            .execute(params![key, state, has_exams, at, message_id])?;
        Ok(())
    }
    fn update_order(&mut self, key: &str, state: &str, has_exams: bool, at: &str) -> Result<(), DbError> {
        self.tx.prepare_cached("UPDATE orders SET state = ?2, has_exams = ?3, updated_at = ?4 WHERE key = ?1")?.execute(params![key, state, has_exams, at])?;
        Ok(())
    }
    fn insert_history(&mut self, key: &str, at: &str, direction: &str, control: &str, from: Option<&str>, to: &str, message_id: i64) -> Result<(), DbError> {
        self.tx
            .prepare_cached("INSERT INTO order_history (order_key, at, direction, order_control, from_state, to_state, message_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?
            .execute(params![key, at, direction, control, from, to, message_id])?;
        Ok(())
    }
    fn put_exam(&mut self, key: &str, accession: &str, study_instance_uid: &str, message_id: i64) -> Result<(), DbError> {
        self.tx
            .prepare_cached("INSERT OR REPLACE INTO exams (order_key, accession, study_instance_uid, message_id) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![key, accession, study_instance_uid, message_id])?;
        Ok(())
    }
}

/// How a store is opened and how it answers.
#[derive(Clone)]
pub struct StoreOptions {
    /// This side's MSH-3/MSH-4 when the inbound MSH-5/6 are empty (see `hl7_runtime::ack`).
    pub identity: Identity,
    /// MSH-7 of the ACKs and the times stored.
    pub clock: Clock,
    /// The ACKs' MSH-10 is this prefix followed by the stored message's row id.
    pub ack_prefix: String,
    /// Most work items committed in one transaction.
    pub max_batch: usize,
    /// How long a commit waits for another process holding the file's write lock.
    pub busy_timeout: Duration,
    /// Called by the writer after each transaction with its duration and whether it committed
    /// (`serve --metrics`).
    pub on_commit: Option<CommitHook>,
}

/// See [`StoreOptions::on_commit`].
pub type CommitHook = Arc<dyn Fn(Duration, bool) + Send + Sync>;

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            identity: Identity { application: "TELERAD".into(), facility: "TELERAD".into() },
            clock: crate::clock::system(),
            ack_prefix: "ACK".into(),
            max_batch: 512,
            busy_timeout: Duration::from_secs(5),
            on_commit: None,
        }
    }
}

/// Why the store cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error("store: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("store {path}: cannot create the file: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("store: the writer has stopped")]
    Stopped,
    #[error("store: the transaction failed: {0}")]
    Commit(String),
    #[error("store {path}: cannot be written: {reason}")]
    NotWritable { path: PathBuf, reason: String },
    #[error("store: cannot start the writer thread: {0}")]
    Thread(std::io::Error),
    #[error("store {path}: its schema is version {found}, newer than this telerad's ({known}): use a telerad of that version or later")]
    Newer { path: PathBuf, found: i64, known: i64 },
    #[error("store {url}: {reason}")]
    Postgres { url: String, reason: String },
    #[error("store: {0}")]
    Backend(&'static str),
}

/// A handle on the store's writer; cheap to clone, shared by every connection.
#[derive(Clone)]
pub struct Store {
    tx: mpsc::Sender<Box<dyn Work>>,
    writer: Arc<std::sync::Mutex<Option<JoinHandle<()>>>>,
    options: Arc<StoreOptions>,
    backend: Backend,
}

/// Which database a [`Store`] writes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server; the URL as shown (its password hidden).
    Postgres { shown: String },
}

impl Store {
    /// Opens (creating it on first use) the store at `path` and starts its writer thread. A
    /// `postgres://` or `postgresql://` URL in `path` opens a PostgreSQL store instead
    /// ([`crate::pg`]).
    pub fn open(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        if let Some(url) = crate::pg::url_of(path) {
            return crate::pg::open(url, options);
        }
        let open_err = |source| StoreError::Open { path: path.to_owned(), source };
        create_private(path).map_err(|source| StoreError::Create { path: path.to_owned(), source })?;
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(options.busy_timeout).map_err(open_err)?;
        // WAL: readers do not block the writer; FULL: the WAL is synced at every commit.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        // 32 MiB of page cache (the default is 2 MiB): the indexes stay in memory.
        conn.pragma_update(None, "cache_size", -32_768).map_err(open_err)?;
        migrate(&conn, path)?;
        let (tx, rx) = mpsc::channel::<Box<dyn Work>>();
        let max_batch = options.max_batch.max(1);
        let on_commit = options.on_commit.clone();
        let handle = std::thread::Builder::new()
            .name("telerad-store".into())
            .spawn(move || writer(conn, rx, max_batch, on_commit))
            .map_err(StoreError::Thread)?;
        Ok(Store { tx, writer: Arc::new(std::sync::Mutex::new(Some(handle))), options: Arc::new(options), backend: Backend::Sqlite })
    }

    /// A store whose writer thread is already running (the PostgreSQL store's).
    pub(crate) fn from_parts(tx: mpsc::Sender<Box<dyn Work>>, handle: JoinHandle<()>, options: StoreOptions, backend: Backend) -> Store {
        Store { tx, writer: Arc::new(std::sync::Mutex::new(Some(handle))), options: Arc::new(options), backend }
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Writes to the store once, through the writer and to disk (a row of `meta`), so that a
    /// store that cannot be written (a read-only file or file system, another process holding
    /// the write lock longer than [`StoreOptions::busy_timeout`], a full disk) is found before
    /// any message is answered. `path` is for the error only.
    pub fn check_writable(&self, path: &Path) -> Result<(), StoreError> {
        let now = (self.options.clock)().iso;
        if let Backend::Postgres { shown } = &self.backend {
            let shown = shown.clone();
            let result = self.query_pg(move |c| -> Result<(), String> {
                let c = c?;
                c.execute("INSERT INTO meta (key, value) VALUES ('checked_at', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", &[&now])
                    .map(|_| ())
                    .map_err(|e| crate::pg::reason(&e))
            })?;
            return result.map_err(|reason| StoreError::NotWritable { path: PathBuf::from(shown), reason });
        }
        let result = self.query(move |c| -> Result<(), String> {
            if c.is_readonly(rusqlite::MAIN_DB).map_err(|e| e.to_string())? {
                return Err("SQLite opened it read-only (the file or its directory is not writable by this user)".into());
            }
            c.execute("INSERT INTO meta (key, value) VALUES ('checked_at', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", params![now])
                .map(|_| ())
                .map_err(|e| e.to_string())
        })?;
        result.map_err(|reason| StoreError::NotWritable { path: path.to_owned(), reason })
    }

    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Applies the workflow to a prepared inbound message, stores it with its ACK, and
    /// returns the ACK once committed (or the AR of a failed commit, or the stored ACK of a
    /// message already received).
    pub async fn receive(&self, prepared: Prepared) -> Vec<u8> {
        match self.submit(prepared) {
            Ok((rx, fallback)) => rx.await.unwrap_or(fallback),
            Err(fallback) => fallback,
        }
    }

    /// [`Store::receive`] for callers without an async runtime (it must not be called from
    /// inside one).
    pub fn receive_blocking(&self, prepared: Prepared) -> Vec<u8> {
        match self.submit(prepared) {
            Ok((rx, fallback)) => rx.blocking_recv().unwrap_or(fallback),
            Err(fallback) => fallback,
        }
    }

    /// Queues an inbound message for the writer; the AR to answer if the writer is gone (now,
    /// or before it answers).
    #[allow(clippy::type_complexity)]
    fn submit(&self, prepared: Prepared) -> Result<(tokio::sync::oneshot::Receiver<Vec<u8>>, Vec<u8>), Vec<u8>> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let work = Inbound { prepared, options: self.options.clone(), reply: Some(reply), outcome: None };
        let fallback = work.failure_ack("the store has stopped");
        match self.tx.send(Box::new(work)) {
            Ok(()) => Ok((rx, fallback)),
            Err(_) => Err(fallback),
        }
    }

    /// Records a message this side sent (or is about to send). With `apply`, its order events
    /// are applied and a refusal keeps nothing; without, the message is stored alone.
    pub fn record_outbound(&self, outbound: Outbound, apply: bool) -> Result<Recorded, StoreError> {
        let (reply, rx) = tokio::sync::oneshot::channel();
        let work = OutboundWork { outbound, apply, clock: self.options.clock.clone(), reply: Some(reply), outcome: None };
        self.tx.send(Box::new(work)).map_err(|_| StoreError::Stopped)?;
        rx.blocking_recv().map_err(|_| StoreError::Stopped)?
    }

    /// Sets the ACK a peer returned for an outbound message.
    pub fn set_ack(&self, id: i64, ack: &[u8], ack_code: &str) -> Result<(), StoreError> {
        let (ack, code) = (ack.to_vec(), ack_code.to_owned());
        if let Backend::Postgres { .. } = self.backend {
            return self
                .query_pg(move |c| c.and_then(|c| c.execute("UPDATE messages SET ack = $1, ack_code = $2 WHERE id = $3", &[&ack, &code, &id]).map(|_| ()).map_err(|e| crate::pg::reason(&e))))?
                .map_err(StoreError::Commit);
        }
        self.query(move |c| c.execute("UPDATE messages SET ack = ?1, ack_code = ?2 WHERE id = ?3", params![ack, code, id]).map(|_| ()))?
            .map_err(StoreError::Sql)
    }

    /// Records the ACK a peer returned when an outbound message (row `id`) was sent again
    /// (`telerad resend`). When the peer accepts it now and did not before, the message's order
    /// events are applied, as [`crate::send::record`] does for a first sending; the refusal of
    /// the workflow, if any, is returned (the ACK is recorded anyway, the orders unchanged).
    pub fn record_resent(&self, id: i64, ack: &[u8], ack_code: &str) -> Result<Option<String>, StoreError> {
        let (ack, code) = (ack.to_vec(), ack_code.to_owned());
        let now = (self.options.clock)().iso;
        if let Backend::Postgres { .. } = self.backend {
            return self.query_pg(move |c| c.and_then(|c| crate::pg::record_resent(c, id, &ack, &code, &now).map_err(|e| e.to_string())))?.map_err(StoreError::Commit);
        }
        self.query(move |c| -> rusqlite::Result<Option<String>> {
            let tx = c.unchecked_transaction()?;
            let (raw, before): (Vec<u8>, Option<String>) = tx.query_row("SELECT raw, ack_code FROM messages WHERE id = ?1 AND direction = 'out'", params![id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            tx.execute("UPDATE messages SET ack = ?1, ack_code = ?2 WHERE id = ?3", params![ack, code, id])?;
            let mut refused = None;
            if crate::send::accepted(&code) && !before.as_deref().is_some_and(crate::send::accepted) {
                let events = hl7_runtime::Message::parse(&raw).ok().and_then(|m| workflow::events(&m).ok()).unwrap_or_default();
                run(&tx, "SAVEPOINT resent")?;
                let applied = apply_events(&mut SqliteTx { tx: &tx, next_id: 0 }, &events, Direction::Out, id, &now).map_err(|e| match e {
                    DbError::Sqlite(e) => e,
                    other => rusqlite::Error::ToSqlConversionFailure(Box::new(other)),
                })?;
                match applied {
                    Ok(()) => run(&tx, "RELEASE resent")?,
                    Err((_, refusal)) => {
                        run(&tx, "ROLLBACK TO resent")?;
                        run(&tx, "RELEASE resent")?;
                        refused = Some(format!("{} ({})", refusal.reason, refusal.code));
                    }
                }
            }
            tx.commit()?;
            Ok(refused)
        })?
        .map_err(StoreError::Sql)
    }

    /// Runs `f` on a PostgreSQL store's writer connection, between two batches (connecting
    /// first if it was lost; `Err` is why it cannot).
    pub fn query_pg<T: Send + 'static>(&self, f: impl FnOnce(Result<&mut postgres::Client, String>) -> T + Send + 'static) -> Result<T, StoreError> {
        if self.backend == Backend::Sqlite {
            return Err(StoreError::Backend("a PostgreSQL query on a SQLite store"));
        }
        let (reply, rx) = tokio::sync::oneshot::channel();
        let work = crate::pg::Query::new(move |c| {
            let _ = reply.send(f(c));
        });
        self.tx.send(Box::new(work)).map_err(|_| StoreError::Stopped)?;
        rx.blocking_recv().map_err(|_| StoreError::Stopped)
    }

    /// Runs `f` on the writer's connection, between two batches (reads for the command line;
    /// not for the receive path). SQLite stores only.
    pub fn query<T: Send + 'static>(&self, f: impl FnOnce(&Connection) -> T + Send + 'static) -> Result<T, StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Backend("a SQLite query on a PostgreSQL store"));
        }
        let (reply, rx) = tokio::sync::oneshot::channel();
        let work = Query { f: Some(Box::new(move |c: &Connection| {
            let _ = reply.send(f(c));
        })) };
        self.tx.send(Box::new(work)).map_err(|_| StoreError::Stopped)?;
        rx.blocking_recv().map_err(|_| StoreError::Stopped)
    }

    /// Every order with its exams and history ([`orders`]), whatever the database.
    pub fn list_orders(&self) -> Result<Vec<OrderView>, StoreError> {
        match self.backend {
            Backend::Sqlite => self.query(orders)?.map_err(StoreError::Sql),
            Backend::Postgres { .. } => self.query_pg(|c| c.and_then(|c| crate::pg::orders(c).map_err(|e| e.to_string())))?.map_err(StoreError::Commit),
        }
    }

    /// Messages stored in one direction ([`count_messages`]), whatever the database.
    pub fn count(&self, direction: Direction) -> Result<i64, StoreError> {
        match self.backend {
            Backend::Sqlite => self.query(move |c| count_messages(c, direction))?.map_err(StoreError::Sql),
            Backend::Postgres { .. } => self.query_pg(move |c| c.and_then(|c| crate::pg::count_messages(c, direction).map_err(|e| e.to_string())))?.map_err(StoreError::Commit),
        }
    }

    /// Waits until everything sent before is committed and the writer has stopped. Other
    /// clones of this handle must be dropped first, or this waits for them.
    pub fn close(self) {
        let Store { tx, writer, .. } = self;
        drop(tx);
        let handle = writer.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

/// Applies the steps of [`MIGRATIONS`] that the store at `path` has not had, in one
/// transaction; returns the version it had.
pub fn migrate(conn: &Connection, path: &Path) -> Result<i64, StoreError> {
    let open_err = |source| StoreError::Open { path: path.to_owned(), source };
    let version = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
    // A store of this version is only read (it may be read-only: `check_writable` says so
    // later, with the reason).
    if version(conn).map_err(open_err)? == SCHEMA_VERSION {
        return Ok(SCHEMA_VERSION);
    }
    // The write lock before reading the version again: two processes opening the same old
    // store do not both migrate it.
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate).map_err(open_err)?;
    let found = version(&tx).map_err(open_err)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::Newer { path: path.to_owned(), found, known: SCHEMA_VERSION });
    }
    for step in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
        match step {
            Migration::Version1 => migrate_and_create(&tx),
            Migration::Sql(sql) => tx.execute_batch(sql),
        }
        .map_err(open_err)?;
    }
    if found != SCHEMA_VERSION {
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(open_err)?;
    }
    tx.commit().map_err(open_err)?;
    Ok(found)
}

/// Version 1: brings a store file written by an earlier version to [`SCHEMA`] (the `digest`,
/// `conflict_of`, `client_subject` and `refused` columns, the unique index that leaves
/// conflicts and refused messages out), then creates what is
/// missing. Rows stored before have no digest; theirs is computed from their bytes when a
/// message with their MSH-10 arrives.
fn migrate_and_create(tx: &Connection) -> rusqlite::Result<()> {
    let columns: Vec<String> = tx.prepare("SELECT name FROM pragma_table_info('messages')")?.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    if !columns.is_empty() {
        if !columns.iter().any(|c| c == "digest") {
            tx.execute_batch("ALTER TABLE messages ADD COLUMN digest BLOB")?;
        }
        if !columns.iter().any(|c| c == "conflict_of") {
            tx.execute_batch("ALTER TABLE messages ADD COLUMN conflict_of INTEGER REFERENCES messages (id) DEFERRABLE INITIALLY DEFERRED")?;
        }
        if !columns.iter().any(|c| c == "client_subject") {
            tx.execute_batch("ALTER TABLE messages ADD COLUMN client_subject TEXT")?;
        }
        if !columns.iter().any(|c| c == "refused") {
            tx.execute_batch("ALTER TABLE messages ADD COLUMN refused INTEGER NOT NULL DEFAULT 0")?;
        }
        let index: Option<String> = tx.query_row("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'messages_once'", [], |r| r.get(0)).optional()?;
        if index.is_some_and(|sql| !sql.contains("conflict_of") || !sql.contains("refused")) {
            tx.execute_batch("DROP INDEX messages_once")?;
        }
    }
    tx.execute_batch(SCHEMA)
}

/// SHA-256 of a message's bytes (as received, MLLP framing removed): what tells a message sent
/// again from another message that reuses its MSH-10. A collision-resistant digest, so that no
/// sender can make a different message pass for a copy of a stored one.
pub fn digest(raw: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, raw).as_ref().to_vec()
}

/// Creates the store file, readable and writable by its owner only (0600), when it does not
/// exist yet. SQLite gives the WAL and shared-memory files (`-wal`, `-shm`) the mode of the
/// database file, so they are 0600 too. An existing file keeps its mode (an operator may have
/// chosen it); the README says what to check.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        // An empty file is an empty SQLite database.
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// One item of work for the writer. `apply` runs inside the batch's transaction, in a
/// savepoint of its own; the answer is given after the commit (`committed`) or instead of it
/// (`failed`).
pub(crate) trait Work: Send {
    /// Reads (`query`) run outside any transaction.
    fn is_query(&self) -> bool {
        false
    }
    fn run_query(&mut self, _conn: &Connection) {}
    /// A query of a PostgreSQL store, on its writer's connection (or the reason there is none).
    fn run_pg_query(&mut self, _client: Result<&mut postgres::Client, String>) {}
    /// The orders the item's events touch (PostgreSQL locks them, in key order, before the
    /// batch's items run: two receivers' batches then never wait on each other in a cycle).
    fn order_keys<'a>(&'a self, _out: &mut Vec<&'a str>) {}
    /// May run more than once (PostgreSQL retries a batch that lost a deadlock): it must
    /// leave nothing behind but its outcome, rewritten each time.
    fn apply(&mut self, tx: &mut dyn Tx) -> Result<(), DbError>;
    fn committed(self: Box<Self>);
    fn failed(self: Box<Self>, reason: &str);
}

fn writer(conn: Connection, rx: mpsc::Receiver<Box<dyn Work>>, max_batch: usize, on_commit: Option<CommitHook>) {
    writer_loop(rx, max_batch, on_commit, SqliteWriter(conn));
}

/// What a writer thread does with its connection: the queries, then the batch of writes.
pub(crate) trait Writer {
    fn queries(&mut self, queries: Vec<Box<dyn Work>>);
    fn commit(&mut self, writes: Vec<Box<dyn Work>>) -> BatchOutcome;
}

struct SqliteWriter(Connection);

impl Writer for SqliteWriter {
    fn queries(&mut self, queries: Vec<Box<dyn Work>>) {
        for mut q in queries {
            q.run_query(&self.0);
        }
    }
    fn commit(&mut self, writes: Vec<Box<dyn Work>>) -> BatchOutcome {
        commit_batch(&mut self.0, writes)
    }
}

/// The writer thread's loop, for both stores: takes what is queued (at most `max_batch`),
/// runs the queries, commits the writes as one batch, and logs the failures once per burst.
pub(crate) fn writer_loop(rx: mpsc::Receiver<Box<dyn Work>>, max_batch: usize, on_commit: Option<CommitHook>, mut w: impl Writer) {
    let mut batch: Vec<Box<dyn Work>> = Vec::with_capacity(max_batch);
    let mut log = FailureLog::new(FAILURE_LOG_WINDOW);
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        // Queries run before the batch's writes; they are for the command line and see what
        // was committed before them.
        let (queries, writes): (Vec<_>, Vec<_>) = batch.drain(..).partition(|w| w.is_query());
        if !queries.is_empty() {
            w.queries(queries);
        }
        if !writes.is_empty() {
            let start = std::time::Instant::now();
            let outcome = w.commit(writes);
            let now = std::time::Instant::now();
            if let Some(hook) = &on_commit {
                hook(now.duration_since(start), outcome.failures.is_empty());
            }
            for line in outcome.failures.iter().flat_map(|cause| log.failure(cause, now)) {
                tracing::error!(target: "telerad::store", "store: {line}");
            }
            if outcome.stored > 0 {
                if let Some(line) = log.success() {
                    tracing::warn!(target: "telerad::store", "store: {line}");
                }
            }
        }
    }
}

/// How long identical store failures are counted rather than logged.
pub const FAILURE_LOG_WINDOW: Duration = Duration::from_secs(60);

/// What one batch did: the cause of each item that was not stored, and how many were.
pub(crate) struct BatchOutcome {
    pub(crate) failures: Vec<String>,
    pub(crate) stored: usize,
}

/// Store failures, logged once per burst: the first with its cause; identical ones (same
/// cause) within `window` of the last line are counted, and the count is logged when the window
/// has passed, when the cause changes, or when storing works again.
#[derive(Debug)]
pub struct FailureLog {
    window: Duration,
    burst: Option<Burst>,
}

#[derive(Debug)]
struct Burst {
    cause: String,
    logged_at: std::time::Instant,
    /// Failures since the last line.
    unlogged: u64,
    total: u64,
}

impl FailureLog {
    pub fn new(window: Duration) -> FailureLog {
        FailureLog { window, burst: None }
    }

    /// A failure with its cause at `now`: the lines to log (none while identical failures are
    /// counted).
    pub fn failure(&mut self, cause: &str, now: std::time::Instant) -> Vec<String> {
        let mut lines = Vec::new();
        match &mut self.burst {
            Some(b) if b.cause == cause => {
                b.total += 1;
                if now.saturating_duration_since(b.logged_at) < self.window {
                    b.unlogged += 1;
                } else {
                    lines.push(format!("still failing: {cause} ({} failure(s) in all; {} since the last report)", b.total, b.unlogged + 1));
                    b.unlogged = 0;
                    b.logged_at = now;
                }
                return lines;
            }
            Some(b) => {
                if b.unlogged > 0 {
                    lines.push(format!("{} more failure(s) with the same cause: {}", b.unlogged, b.cause));
                }
                let total = b.total + 1;
                lines.push(format!("a message was not stored: {cause} (it is answered AR; the cause has changed)"));
                self.burst = Some(Burst { cause: cause.to_owned(), logged_at: now, unlogged: 0, total });
            }
            None => {
                lines.push(format!(
                    "a message was not stored: {cause} (it is answered AR; identical failures are counted and reported every {} s)",
                    self.window.as_secs()
                ));
                self.burst = Some(Burst { cause: cause.to_owned(), logged_at: now, unlogged: 0, total: 1 });
            }
        }
        lines
    }

    /// A commit that stored something: the end of a burst, if one was going on.
    pub fn success(&mut self) -> Option<String> {
        let b = self.burst.take()?;
        Some(format!("storing again after {} failure(s) (last cause: {})", b.total, b.cause))
    }
}

fn commit_batch(conn: &mut Connection, writes: Vec<Box<dyn Work>>) -> BatchOutcome {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let reason = e.to_string();
            let failures = vec![reason.clone(); writes.len()];
            writes.into_iter().for_each(|w| w.failed(&reason));
            return BatchOutcome { failures, stored: 0 };
        }
    };
    // Row ids are given here rather than by SQLite so that an ACK (which names its row) is
    // built before its row is written; the IMMEDIATE transaction holds the write lock, so no
    // other process can take them.
    let next_id = match tx.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM messages", [], |r| r.get::<_, i64>(0)) {
        Ok(n) => n,
        Err(e) => {
            let reason = e.to_string();
            let failures = vec![reason.clone(); writes.len()];
            writes.into_iter().for_each(|w| w.failed(&reason));
            return BatchOutcome { failures, stored: 0 };
        }
    };
    let mut ok: Vec<Box<dyn Work>> = Vec::with_capacity(writes.len());
    let mut failed: Vec<(Box<dyn Work>, String)> = Vec::new();
    let mut stx = SqliteTx { tx: &tx, next_id };
    for mut w in writes {
        let result = run(&tx, "SAVEPOINT item").map_err(DbError::from).and_then(|()| w.apply(&mut stx));
        match result {
            Ok(()) => match run(&tx, "RELEASE item") {
                Ok(()) => ok.push(w),
                Err(e) => failed.push((w, e.to_string())),
            },
            Err(e) => {
                // Undo this item only; the rest of the batch goes on.
                let _ = run(&tx, "ROLLBACK TO item").and_then(|()| run(&tx, "RELEASE item"));
                failed.push((w, e.to_string()));
            }
        }
    }
    let mut outcome = BatchOutcome { failures: failed.iter().map(|(_, reason)| reason.clone()).collect(), stored: 0 };
    match tx.commit() {
        Ok(()) => {
            outcome.stored = ok.len();
            ok.into_iter().for_each(|w| w.committed());
        }
        Err(e) => {
            let reason = e.to_string();
            outcome.failures.extend(std::iter::repeat_n(reason.clone(), ok.len()));
            ok.into_iter().for_each(|w| w.failed(&reason));
        }
    }
    failed.into_iter().for_each(|(w, reason)| w.failed(&reason));
    outcome
}

type QueryFn = Box<dyn FnOnce(&Connection) + Send>;

/// Runs a statement without parameters through the statement cache (savepoints are run for
/// every message: parsing them each time showed in profiles).
fn run(tx: &Transaction<'_>, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([]).map(|_| ())
}

struct Query {
    f: Option<QueryFn>,
}

impl Work for Query {
    fn is_query(&self) -> bool {
        true
    }
    fn run_query(&mut self, conn: &Connection) {
        if let Some(f) = self.f.take() {
            f(conn);
        }
    }
    fn apply(&mut self, _tx: &mut dyn Tx) -> Result<(), DbError> {
        Ok(())
    }
    fn committed(self: Box<Self>) {}
    fn failed(self: Box<Self>, _reason: &str) {}
}

/// Counter of the MSH-10 of ACKs that are not stored (failed commits).
static UNSTORED_ACKS: AtomicU64 = AtomicU64::new(1);

struct Inbound {
    prepared: Prepared,
    options: Arc<StoreOptions>,
    reply: Option<tokio::sync::oneshot::Sender<Vec<u8>>>,
    /// The ACK to answer once committed.
    outcome: Option<Vec<u8>>,
}

impl Inbound {
    /// The ACK and its MSA-1.
    fn ack(&self, findings: &[Finding], decision: Decision, control_id: String, now: &Stamp) -> (Vec<u8>, &'static str) {
        let (dtm, id) = (now.dtm.clone(), control_id);
        let clock = move || dtm.clone();
        let next_id = move || id.clone();
        let opts = AckOptions { receiver: self.options.identity.clone(), clock: &clock, next_id: &next_id };
        let header = self.prepared.header();
        match ack::build_with_info(header.as_ref(), &self.prepared.raw, findings, decision, &opts) {
            Ok(built) => (built.bytes, built.info.code.code()),
            // Only the configured identity, the clock or the id can fail to encode (see
            // `hl7_runtime::ack`); answer from the identity alone rather than not at all.
            Err(e) => (fallback_ack(&self.options, &format!("the acknowledgment cannot be written: {e}")), "AE"),
        }
    }

    /// Stores a message whose sender is not allowed, with its AR: not looked up among the
    /// stored ones (it answers for nothing stored), nothing applied, outside the unique index
    /// (`refused = 1`), so the same message from an allowed connection is taken later.
    fn refuse(&mut self, tx: &mut dyn Tx, digest: &[u8], reason: &str) -> Result<(), DbError> {
        let p = &self.prepared;
        let id = tx.next_id()?;
        let now = (self.options.clock)();
        let (ack, code) = self.ack(&p.findings, Decision::Reject { reason: reason.to_owned() }, format!("{}{id}", self.options.ack_prefix), &now);
        let mut findings = p.findings.clone();
        findings.push(receive::error(hl7_runtime::validate::finding::code::APPLICATION_INTERNAL, Erl::default(), "senders", reason.to_owned()));
        let stored = Row::inbound(p, id, &now.iso, digest, None, true);
        insert_message(tx, &stored, &findings, Some(&ack), Some(code))?;
        self.outcome = Some(ack);
        Ok(())
    }

    fn failure_ack(&self, reason: &str) -> Vec<u8> {
        let now = (self.options.clock)();
        let id = format!("AR{}", UNSTORED_ACKS.fetch_add(1, Ordering::Relaxed));
        let reason = format!("the message was not stored ({reason}); it was not integrated and may be sent again");
        self.ack(&self.prepared.findings, Decision::Reject { reason }, id, &now).0
    }
}

/// An AE from the receiver identity alone, for the one case where the ACK builder refuses.
/// It takes the builder's fallbacks for what it does not know (ACK profile errata E5-E8:
/// `UNKNOWN` addressee and MSA-2, event O01, processing id P), so it passes the ACK profile too.
fn fallback_ack(options: &StoreOptions, reason: &str) -> Vec<u8> {
    let now = (options.clock)();
    let id = format!("AR{}", UNSTORED_ACKS.fetch_add(1, Ordering::Relaxed));
    let clean = |s: &str| s.replace(['|', '^', '~', '\\', '&', '\r', '\n'], " ");
    let known = |s: String| if s.trim().is_empty() { hl7_runtime::ack::UNKNOWN.to_owned() } else { s };
    let unknown = hl7_runtime::ack::UNKNOWN;
    format!(
        "MSH|^~\\&|{}|{}|{unknown}|{unknown}|{}||ACK^O01^ACK|{}|P|2.5.1|||||FRA|UNICODE UTF-8\rMSA|AE|{unknown}\rERR|||207^Application internal error^HL70357|E||||{}\r",
        known(clean(&options.identity.application)),
        known(clean(&options.identity.facility)),
        now.dtm,
        id,
        clean(reason)
    )
    .into_bytes()
}

impl Work for Inbound {
    fn order_keys<'a>(&'a self, out: &mut Vec<&'a str>) {
        out.extend(self.prepared.events.iter().map(|e| e.key.as_str()));
    }

    fn apply(&mut self, tx: &mut dyn Tx) -> Result<(), DbError> {
        let p = &self.prepared;
        // `prepare` computed it on the connection's task; a hand-made `Prepared` may lack it.
        let computed;
        let digest = if p.digest.is_empty() {
            computed = digest(&p.raw);
            &computed
        } else {
            &p.digest
        };
        if let Some(reason) = p.refusal.clone() {
            let digest = digest.clone();
            return self.refuse(tx, &digest, &reason);
        }
        // The stored message this one reuses the MSH-10 of, with other bytes.
        let mut conflict: Option<(i64, String)> = None;
        if !p.control_id.is_empty() {
            let stored = tx.find_inbound(&p.sender, &p.control_id)?;
            if let Some((stored_id, ack, stored_digest, at)) = stored {
                let stored_digest = match stored_digest {
                    Some(d) => d,
                    // A row from before the digest column.
                    None => self::digest(&tx.raw_of(stored_id)?),
                };
                if stored_digest == *digest {
                    self.outcome = Some(ack.unwrap_or_default());
                    return Ok(());
                }
                // The same conflicting message sent again: its stored ACK.
                let again = tx.find_conflict(stored_id, digest)?;
                if let Some(ack) = again {
                    self.outcome = Some(ack.unwrap_or_default());
                    return Ok(());
                }
                conflict = Some((stored_id, at));
            }
        }
        let id = tx.next_id()?;
        let now = (self.options.clock)();
        let mut findings = p.findings.clone();
        if let Some((_, at)) = &conflict {
            let msh10 = Erl { segment: Some("MSH".into()), sequence: Some(1), field: Some(10), ..Erl::default() };
            findings.push(receive::error(
                workflow::code::DUPLICATE_KEY,
                msh10,
                "duplicate-control-id",
                format!(
                    "MSH-10 `{}` was already used by this sender for another message (received {at}); this one was stored apart and not integrated: send it again with a new MSH-10",
                    p.control_id
                ),
            ));
        } else if !p.has_errors() {
            // With one event a refusal comes before any write; with several, the events
            // applied before the refused one are undone.
            let several = p.events.len() > 1;
            if several {
                tx.run("SAVEPOINT workflow")?;
            }
            match apply_events(tx, &p.events, Direction::In, id, &now.iso)? {
                Ok(()) if several => tx.run("RELEASE workflow")?,
                Ok(()) => {}
                Err((sequence, refusal)) => {
                    if several {
                        tx.run("ROLLBACK TO workflow")?;
                        tx.run("RELEASE workflow")?;
                    }
                    findings.push(receive::error(refusal.code, receive::orc_erl(sequence, refusal.field), "workflow", refusal.reason));
                }
            }
        }
        let (ack, code) = self.ack(&findings, Decision::Accept, format!("{}{id}", self.options.ack_prefix), &now);
        let stored = Row::inbound(p, id, &now.iso, digest, conflict.map(|(c, _)| c), false);
        insert_message(tx, &stored, &findings, Some(&ack), Some(code))?;
        self.outcome = Some(ack);
        Ok(())
    }

    fn committed(mut self: Box<Self>) {
        let ack = self.outcome.take().unwrap_or_default();
        if let Some(r) = self.reply.take() {
            let _ = r.send(ack);
        }
    }

    fn failed(mut self: Box<Self>, reason: &str) {
        let ack = self.failure_ack(reason);
        if let Some(r) = self.reply.take() {
            let _ = r.send(ack);
        }
    }
}

/// MSA-1 of an ACK.
pub fn ack_code(ack: &[u8]) -> Option<String> {
    crate::send::acknowledgment(ack).map(|(code, _)| code)
}

/// What identifies a stored message.
pub(crate) struct Row<'a> {
    pub(crate) id: i64,
    pub(crate) direction: Direction,
    pub(crate) sender: &'a Sender,
    pub(crate) control_id: &'a str,
    pub(crate) at: &'a str,
    pub(crate) profile: Option<&'a str>,
    pub(crate) raw: &'a [u8],
    pub(crate) digest: &'a [u8],
    /// The message whose MSH-10 this one reused with other bytes.
    pub(crate) conflict_of: Option<i64>,
    /// The TLS client certificate's subject of the connection it came on.
    pub(crate) client_subject: Option<&'a str>,
    /// Its sender was not allowed.
    pub(crate) refused: bool,
}

impl<'a> Row<'a> {
    /// The row of an inbound message, received at `at`.
    fn inbound(p: &'a Prepared, id: i64, at: &'a str, digest: &'a [u8], conflict_of: Option<i64>, refused: bool) -> Row<'a> {
        Row {
            id,
            direction: Direction::In,
            sender: &p.sender,
            control_id: &p.control_id,
            at,
            profile: p.profile,
            raw: &p.raw,
            digest,
            conflict_of,
            client_subject: p.origin.certificate.as_deref(),
            refused,
        }
    }
}

fn insert_message(tx: &mut dyn Tx, row: &Row<'_>, findings: &[Finding], ack: Option<&[u8]>, ack_code: Option<&str>) -> Result<(), DbError> {
    let findings = serde_json::to_string(findings).map_err(|e| DbError::Data(format!("the findings cannot be written as JSON: {e}")))?;
    tx.insert_message(row, &findings, ack, ack_code)
}

/// Applies a message's events in order. The outer `Err` is SQLite's; the inner one the first
/// refusal, with the ORC's sequence (the caller rolls back what was applied before it).
pub(crate) fn apply_events(tx: &mut dyn Tx, events: &[Event], direction: Direction, message_id: i64, at: &str) -> Result<Result<(), (u32, Refusal)>, DbError> {
    for ev in events {
        let current = match tx.order(ev.key.as_str())? {
            Some((s, has_exams)) => match State::from_name(&s) {
                Some(state) => Some(Current { state, has_exams }),
                None => return Err(DbError::Data(format!("orders.state `{s}` of order `{}` is not a state this telerad knows", ev.key.as_str()))),
            },
            None => None,
        };
        let to = match workflow::transition(current, ev.control) {
            Ok(s) => s,
            Err(r) => return Ok(Err((ev.orc_sequence, r))),
        };
        let has_exams = current.is_some_and(|c| c.has_exams) || !ev.exams.is_empty();
        if current.is_none() {
            tx.insert_order(ev.key.as_str(), to.name(), has_exams, at, message_id)?;
        } else {
            tx.update_order(ev.key.as_str(), to.name(), has_exams, at)?;
        }
        tx.insert_history(ev.key.as_str(), at, direction.name(), ev.control.code(), current.map(|c| c.state.name()), to.name(), message_id)?;
        for exam in &ev.exams {
            tx.put_exam(ev.key.as_str(), &exam.accession, &exam.study_instance_uid, message_id)?;
        }
    }
    Ok(Ok(()))
}

/// A message this side sends.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub raw: Vec<u8>,
    pub sender: Sender,
    pub control_id: String,
    pub profile: Option<&'static str>,
    pub events: Vec<Event>,
    /// The peer's ACK, when already received.
    pub ack: Option<Vec<u8>>,
}

/// What recording an outbound message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Stored as this row, its events applied (when asked).
    Stored { id: i64 },
    /// The same sender and MSH-10 were already recorded as sent: nothing changed.
    AlreadyRecorded { id: i64 },
    /// The workflow refuses the events (only when asked to apply them): nothing stored.
    Refused { key: OrderKey, refusal: Refusal },
}

struct OutboundWork {
    outbound: Outbound,
    apply: bool,
    clock: Clock,
    reply: Option<tokio::sync::oneshot::Sender<Result<Recorded, StoreError>>>,
    outcome: Option<Recorded>,
}

impl Work for OutboundWork {
    fn order_keys<'a>(&'a self, out: &mut Vec<&'a str>) {
        if self.apply {
            out.extend(self.outbound.events.iter().map(|e| e.key.as_str()));
        }
    }

    fn apply(&mut self, tx: &mut dyn Tx) -> Result<(), DbError> {
        let o = &self.outbound;
        if !o.control_id.is_empty() {
            if let Some(id) = tx.find_outbound(&o.sender, &o.control_id)? {
                self.outcome = Some(Recorded::AlreadyRecorded { id });
                return Ok(());
            }
        }
        let id = tx.next_id()?;
        let now = (self.clock)();
        if self.apply {
            if let Err((sequence, refusal)) = apply_events(tx, &o.events, Direction::Out, id, &now.iso)? {
                let key = o.events.iter().find(|e| e.orc_sequence == sequence).map(|e| e.key.clone()).unwrap_or_else(|| OrderKey::from_components(["", "", "", ""]));
                // Nothing of this item is kept: back to `commit_batch`'s savepoint, which it
                // then releases.
                tx.run("ROLLBACK TO item")?;
                self.outcome = Some(Recorded::Refused { key, refusal });
                return Ok(());
            }
        }
        let code = o.ack.as_deref().and_then(ack_code);
        let digest = digest(&o.raw);
        let row = Row {
            id,
            direction: Direction::Out,
            sender: &o.sender,
            control_id: &o.control_id,
            at: &now.iso,
            profile: o.profile,
            raw: &o.raw,
            digest: &digest,
            conflict_of: None,
            client_subject: None,
            refused: false,
        };
        insert_message(tx, &row, &[], o.ack.as_deref(), code.as_deref())?;
        self.outcome = Some(Recorded::Stored { id });
        Ok(())
    }

    fn committed(mut self: Box<Self>) {
        let outcome = self.outcome.take().ok_or(StoreError::Stopped);
        if let Some(r) = self.reply.take() {
            let _ = r.send(outcome);
        }
    }

    fn failed(mut self: Box<Self>, reason: &str) {
        if let Some(r) = self.reply.take() {
            let _ = r.send(Err(StoreError::Commit(reason.to_owned())));
        }
    }
}

/// One order as `telerad orders` shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrderView {
    pub key: String,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
    pub exams: Vec<ExamView>,
    pub history: Vec<HistoryView>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExamView {
    pub accession: String,
    pub study_instance_uid: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HistoryView {
    pub at: String,
    pub direction: String,
    pub order_control: String,
    pub from: Option<String>,
    pub to: String,
    /// MSH-10 of the message that made the transition.
    pub message_control_id: String,
}

/// Every order, by key, with its exams and history (oldest first).
pub fn orders(conn: &Connection) -> rusqlite::Result<Vec<OrderView>> {
    let mut out: Vec<OrderView> = conn
        .prepare("SELECT key, state, created_at, updated_at FROM orders ORDER BY key")?
        .query_map([], |r| Ok(OrderView { key: r.get(0)?, state: r.get(1)?, created_at: r.get(2)?, updated_at: r.get(3)?, exams: Vec::new(), history: Vec::new() }))?
        .collect::<Result<_, _>>()?;
    let mut exams = conn.prepare("SELECT accession, study_instance_uid FROM exams WHERE order_key = ?1 ORDER BY message_id, accession")?;
    let mut history = conn.prepare(
        "SELECT h.at, h.direction, h.order_control, h.from_state, h.to_state, m.control_id
         FROM order_history h JOIN messages m ON m.id = h.message_id WHERE h.order_key = ?1 ORDER BY h.id",
    )?;
    for o in &mut out {
        o.exams = exams.query_map(params![o.key], |r| Ok(ExamView { accession: r.get(0)?, study_instance_uid: r.get(1)? }))?.collect::<Result<_, _>>()?;
        o.history = history
            .query_map(params![o.key], |r| Ok(HistoryView { at: r.get(0)?, direction: r.get(1)?, order_control: r.get(2)?, from: r.get(3)?, to: r.get(4)?, message_control_id: r.get(5)? }))?
            .collect::<Result<_, _>>()?;
    }
    Ok(out)
}

/// The message that created an order (its NW), as stored.
pub fn request_of(conn: &Connection, key: &OrderKey) -> rusqlite::Result<Option<(State, Vec<u8>)>> {
    conn.query_row(
        "SELECT o.state, m.raw FROM orders o JOIN messages m ON m.id = o.request_message WHERE o.key = ?1",
        params![key.as_str()],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)),
    )
    .optional()
    .map(|o| o.and_then(|(s, raw)| State::from_name(&s).map(|s| (s, raw))))
}

/// What [`purge`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub orders: i64,
    pub messages: i64,
}

/// Deletes the orders in a final state (refused, cancelled) last changed before `before` (the
/// store's UTC form), their history and exams, and the messages that created or moved them
/// (with the conflicts that reused their MSH-10), in one transaction. A message that also moved
/// an order that is kept is kept; an order still open (requested, accepted) is never deleted,
/// nor a message linked to no order. Then compacts the file (VACUUM), outside the
/// transaction.
pub fn purge(conn: &Connection, before: &str) -> rusqlite::Result<Purged> {
    let final_states = [State::Refused.name(), State::Cancelled.name()];
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "DROP TABLE IF EXISTS temp.purge_orders; DROP TABLE IF EXISTS temp.purge_messages;
         CREATE TEMP TABLE purge_orders (key TEXT PRIMARY KEY);
         CREATE TEMP TABLE purge_messages (id INTEGER PRIMARY KEY);",
    )?;
    let orders = tx.execute("INSERT INTO temp.purge_orders SELECT key FROM orders WHERE state IN (?1, ?2) AND updated_at < ?3", params![final_states[0], final_states[1], before])?;
    tx.execute_batch(
        "INSERT INTO temp.purge_messages
             SELECT message_id FROM order_history WHERE order_key IN temp.purge_orders
             UNION SELECT request_message FROM orders WHERE key IN temp.purge_orders
             UNION SELECT message_id FROM exams WHERE order_key IN temp.purge_orders
             EXCEPT SELECT message_id FROM order_history WHERE order_key NOT IN temp.purge_orders
             EXCEPT SELECT request_message FROM orders WHERE key NOT IN temp.purge_orders
             EXCEPT SELECT message_id FROM exams WHERE order_key NOT IN temp.purge_orders;
         INSERT OR IGNORE INTO temp.purge_messages SELECT id FROM messages WHERE conflict_of IN temp.purge_messages;
         DELETE FROM exams WHERE order_key IN temp.purge_orders;
         DELETE FROM order_history WHERE order_key IN temp.purge_orders;
         DELETE FROM orders WHERE key IN temp.purge_orders;",
    )?;
    let messages = tx.execute("DELETE FROM messages WHERE id IN temp.purge_messages", [])?;
    tx.execute_batch("DROP TABLE temp.purge_orders; DROP TABLE temp.purge_messages;")?;
    tx.commit()?;
    conn.execute_batch("VACUUM")?;
    // The WAL holds the compacted pages until a checkpoint: the file shrinks now.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(Purged { orders: orders as i64, messages: messages as i64 })
}

/// Counts of what is stored, for tests and the load tool.
pub fn count_messages(conn: &Connection, direction: Direction) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM messages WHERE direction = ?1", params![direction.name()], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_burst_of_identical_failures_is_logged_once_then_counted() {
        let mut log = FailureLog::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let first = log.failure("database is locked", t0);
        assert_eq!(first.len(), 1);
        assert!(first[0].starts_with("a message was not stored: database is locked"), "{first:?}");
        // Identical ones within the window: counted, not logged.
        for s in 1..=5 {
            assert!(log.failure("database is locked", t0 + Duration::from_secs(s)).is_empty());
        }
        // Past the window: one line with the count.
        let later = log.failure("database is locked", t0 + Duration::from_secs(61));
        assert_eq!(later, vec!["still failing: database is locked (7 failure(s) in all; 6 since the last report)".to_owned()]);
        assert!(log.failure("database is locked", t0 + Duration::from_secs(62)).is_empty());
        // Another cause: the count of the old one, then the new one.
        let changed = log.failure("disk I/O error", t0 + Duration::from_secs(63));
        assert_eq!(changed.len(), 2, "{changed:?}");
        assert_eq!(changed[0], "1 more failure(s) with the same cause: database is locked");
        assert!(changed[1].starts_with("a message was not stored: disk I/O error"));
        // Working again: the end of the burst, once.
        assert_eq!(log.success().as_deref(), Some("storing again after 9 failure(s) (last cause: disk I/O error)"));
        assert_eq!(log.success(), None);
        // A new burst starts over.
        assert_eq!(log.failure("disk I/O error", t0 + Duration::from_secs(64)).len(), 1);
    }
}
