//! Resource limits: one configuration shared by the parser, validation and the transport.
//!
//! Every stage that reads untrusted input takes its bound from here, so a receiver sets them
//! once (MLLP frame size = parser message size) and no input costs more than linear work or
//! unbounded memory.

/// Bounds on what one message may cost. The defaults fit every message of the guide with
/// a wide margin (its largest, a flow-3 ORU with an embedded PDF protocol, is a few MB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest message accepted, in bytes; also the largest MLLP frame payload.
    pub max_message_bytes: usize,
    /// Most segments in one message.
    pub max_segments: usize,
    /// Most repetitions in one field.
    pub max_repetitions: usize,
    /// Most units of validation work (element checks plus rule evaluations) per message.
    pub max_validation_steps: u64,
}

impl Limits {
    /// The defaults: 64 MiB, 100,000 segments, 10,000 repetitions per field, 10 million
    /// validation steps.
    pub const DEFAULT: Limits = Limits {
        max_message_bytes: 64 << 20,
        max_segments: 100_000,
        max_repetitions: 10_000,
        max_validation_steps: 10_000_000,
    };

    /// No bound at all (for tools that read trusted files).
    pub const UNBOUNDED: Limits = Limits {
        max_message_bytes: usize::MAX,
        max_segments: usize::MAX,
        max_repetitions: usize::MAX,
        max_validation_steps: u64::MAX,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}
