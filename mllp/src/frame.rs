//! MLLP framing: a start block `0x0B`, the payload, an end block `0x1C 0x0D`.
//!
//! Pure and synchronous (no I/O, no tokio), so the same decoder serves the server, the client
//! and a fuzz target. Payload bytes are passed on untouched: the character set is MSH-18's
//! business, not the transport's.
//!
//! # What the decoder reports, and when
//!
//! [`FrameDecoder::next_frame`] yields, in input order, either a complete [`Frame`] or a
//! [`FrameError`] event; an event never stops the decoder, which resynchronises by itself:
//!
//! - **Bytes before a start block** (outside any frame) are skipped and reported as one
//!   [`FrameError::Garbage`] when the next start block arrives (or at [`FrameDecoder::finish`]),
//!   then the frame that follows is decoded as usual. A stray line feed after an end block,
//!   which some senders add, shows up this way as `Garbage { bytes: 1 }`.
//! - **A payload over the limit** yields [`FrameError::TooLarge`] as soon as the limit is
//!   crossed (not at the end block, so a sender that never ends its frame is still reported);
//!   the decoder then discards everything up to the next end block, start blocks included.
//! - **A start block inside a frame** (a new `0x0B` before `0x1C 0x0D`) means the sender gave up
//!   on the frame and started again: the partial payload is dropped and reported as
//!   [`FrameError::Truncated`], and the new start block opens a new frame.
//! - **`0x1C` not followed by `0x0D`** is not an end block: both bytes stay in the payload (the
//!   HL7 parser will then refuse the message; the transport does not second-guess it).
//! - **The end of the stream inside a frame** (the peer closes, or stalls past a timeout) is
//!   reported by [`FrameDecoder::finish`] as [`FrameError::Truncated`]: a half frame is never
//!   handed on as a message.
//!
//! # Allowance (memory shared across connections)
//!
//! A decoder made with [`FrameDecoder::with_allowance`] holds at most `allowance` bytes of a
//! payload by itself. Past that, [`next_frame`](FrameDecoder::next_frame) stops *before* taking
//! the bytes that would need more and [`FrameDecoder::wants`] says how much the payload needs:
//! the caller either [`grant`](FrameDecoder::grant)s it (after charging a shared budget, say)
//! or [`refuse`](FrameDecoder::refuse)s the frame, which is then discarded like an oversized
//! one and reported as [`FrameError::OverBudget`]. The payload's allocation never exceeds what
//! was granted. With [`FrameDecoder::new`] the allowance is the payload limit: it never asks.
//!
//! # Cost
//!
//! Work is linear in the input: each byte is scanned once (with `memchr`) and the decoder keeps
//! its scan position between pushes. After `next_frame` has returned `None`, the decoder holds
//! at most `max_payload` bytes (the partial payload) whatever was pushed
//! ([`FrameDecoder::buffered`]); bytes pushed but not yet drained are held until drained.

use memchr::{memchr, memchr2};

/// Start block: the byte that opens an MLLP frame (VT).
pub const START_BLOCK: u8 = 0x0B;
/// First byte of the end block (FS).
pub const END_BLOCK: u8 = 0x1C;
/// Second byte of the end block (CR).
pub const END_CR: u8 = 0x0D;

/// Smallest allocation for a payload, so short messages do not regrow byte by byte.
const MIN_PAYLOAD_CAPACITY: usize = 1024;

/// One complete MLLP frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The bytes between the start block and the end block, exactly as received.
    pub payload: Vec<u8>,
}

/// A framing problem. The decoder reports it and carries on with the next frame.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The payload grew past the limit; the rest of the frame, up to its end block, is discarded.
    #[error("MLLP frame larger than the limit of {limit} bytes: discarded up to its end block")]
    TooLarge {
        /// The payload limit, in bytes.
        limit: usize,
    },
    /// The frame needed more memory than its reader could grant (the receiver's budget for
    /// frames being read, shared by all connections, was spent); the rest of the frame, up to
    /// its end block, is discarded.
    #[error("MLLP frame refused at {bytes} bytes: the receiver's memory budget of {budget} bytes for frames being read is in use: discarded up to its end block")]
    OverBudget {
        /// The payload bytes held when the frame was refused.
        bytes: usize,
        /// The budget, in bytes, shared by all connections.
        budget: usize,
    },
    /// Bytes outside any frame (before a start block) were skipped.
    #[error("{bytes} bytes outside any MLLP frame skipped (not preceded by a start block 0x0B)")]
    Garbage {
        /// How many bytes were skipped.
        bytes: usize,
    },
    /// A frame ended without its end block (a new start block, the end of the stream or a
    /// stall); its partial payload was dropped.
    #[error("MLLP frame cut short after {bytes} payload bytes (no end block 0x1C 0x0D): dropped")]
    Truncated {
        /// How many payload bytes had been received.
        bytes: usize,
    },
}

/// Where the decoder stands in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Between frames, looking for a start block; `skipped` bytes passed over so far.
    Seeking { skipped: usize },
    /// Inside a frame, collecting its payload.
    InFrame,
    /// Inside a frame, right after a `0x1C` that may be the first byte of the end block.
    InFrameAfterFs,
    /// Skipping the rest of a frame that crossed the limit.
    Discarding,
    /// Skipping, right after a `0x1C`.
    DiscardingAfterFs,
}

/// Incremental MLLP decoder: push bytes as they arrive, then call
/// [`next_frame`](FrameDecoder::next_frame) until it returns `None`.
///
/// ```
/// use hl7_mllp::frame::{encode, FrameDecoder};
///
/// let mut wire = Vec::new();
/// encode(b"MSH|^~\\&|A\r", &mut wire);
/// let mut decoder = FrameDecoder::new(1 << 20);
/// let (first, second) = wire.split_at(5); // a frame split across two reads
/// decoder.push(first);
/// assert!(decoder.next_frame().is_none());
/// decoder.push(second);
/// let frame = decoder.next_frame().unwrap().unwrap();
/// assert_eq!(frame.payload, b"MSH|^~\\&|A\r");
/// assert!(decoder.next_frame().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct FrameDecoder {
    max_payload: usize,
    state: State,
    /// Pushed bytes; `input[pos..]` is not yet scanned.
    input: Vec<u8>,
    pos: usize,
    /// The current frame's payload so far (never longer than `max_payload`, its allocation
    /// never larger than `allowed`).
    payload: Vec<u8>,
    /// What any frame may hold without asking.
    allowance: usize,
    /// What the current frame may hold: `allowance`, or more once granted.
    allowed: usize,
    /// Set when `next_frame` stopped because the payload needs more than `allowed`.
    wants: Option<usize>,
    /// Start blocks seen (frames opened), to tell one frame from the next.
    started: u64,
}

impl FrameDecoder {
    /// A decoder accepting payloads of at most `max_payload` bytes (use
    /// `Limits::max_message_bytes`).
    pub fn new(max_payload: usize) -> Self {
        FrameDecoder::with_allowance(max_payload, max_payload)
    }

    /// A decoder accepting payloads of at most `max_payload` bytes, holding at most
    /// `allowance` of them unless more is [granted](FrameDecoder::grant) (see the
    /// [module documentation](self)).
    pub fn with_allowance(max_payload: usize, allowance: usize) -> Self {
        let allowance = allowance.min(max_payload);
        FrameDecoder {
            max_payload,
            state: State::Seeking { skipped: 0 },
            input: Vec::new(),
            pos: 0,
            payload: Vec::new(),
            allowance,
            allowed: allowance,
            wants: None,
            started: 0,
        }
    }

    /// What the current frame may hold: the allowance, or what was granted since.
    pub fn allowed(&self) -> usize {
        self.allowed
    }

    /// What any frame may hold without asking.
    pub fn allowance(&self) -> usize {
        self.allowance
    }

    /// `Some(bytes)` when the last [`next_frame`](FrameDecoder::next_frame) returned `None`
    /// because the current payload needs `bytes` (more than [`allowed`](FrameDecoder::allowed))
    /// to go on: [`grant`](FrameDecoder::grant) at least that, or
    /// [`refuse`](FrameDecoder::refuse) the frame, then call `next_frame` again. Pushing more
    /// bytes meanwhile is allowed but they are held unscanned.
    pub fn wants(&self) -> Option<usize> {
        self.wants
    }

    /// Lets the current frame hold up to `bytes` (at most the payload limit). It lasts until
    /// the frame ends; the next frame starts with the allowance again.
    pub fn grant(&mut self, bytes: usize) {
        self.allowed = self.allowed.max(bytes.min(self.max_payload));
        if self.wants.is_some_and(|w| w <= self.allowed) {
            self.wants = None;
        }
    }

    /// Refuses the current frame (meant for when [`wants`](FrameDecoder::wants) is `Some`):
    /// its payload is dropped and the rest of it discarded up to its end block. Returns the
    /// event to report, [`FrameError::OverBudget`] with `budget`; `None` outside a frame.
    pub fn refuse(&mut self, budget: usize) -> Option<FrameError> {
        if !matches!(self.state, State::InFrame | State::InFrameAfterFs) {
            return None;
        }
        let bytes = self.payload.len();
        self.end_frame();
        self.state = State::Discarding;
        Some(FrameError::OverBudget { bytes, budget })
    }

    /// How many frames have been opened (start blocks seen): a change tells a caller timing
    /// frames that a new one began.
    pub fn frames_started(&self) -> u64 {
        self.started
    }

    /// Back to the allowance for the next frame, giving back a payload allocation above it.
    fn end_frame(&mut self) {
        if self.payload.capacity() > self.allowance {
            self.payload = Vec::new();
        } else {
            self.payload.clear();
        }
        self.allowed = self.allowance;
        self.wants = None;
    }

    /// The payload limit given to [`new`](FrameDecoder::new).
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// Adds received bytes. Nothing is decoded until [`next_frame`](FrameDecoder::next_frame).
    pub fn push(&mut self, bytes: &[u8]) {
        let unscanned = self.input.len().saturating_sub(self.pos);
        if unscanned == 0 {
            self.input.clear();
            self.pos = 0;
        } else if self.pos >= unscanned {
            // Moving the unscanned tail costs no more than the bytes already consumed, so
            // compaction stays linear even when the caller pushes before draining.
            self.input.drain(..self.pos);
            self.pos = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// The next complete frame or framing event, in input order; `None` when more bytes are
    /// needed. Call it until it returns `None` after each [`push`](FrameDecoder::push).
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        self.wants = None;
        loop {
            let rest = self.input.get(self.pos..).unwrap_or_default();
            if rest.is_empty() {
                // Everything pushed is scanned: give the buffer back for the next push.
                self.input.clear();
                self.pos = 0;
                return None;
            }
            match self.state {
                State::Seeking { skipped } => match memchr(START_BLOCK, rest) {
                    None => {
                        self.state = State::Seeking { skipped: skipped.saturating_add(rest.len()) };
                        self.pos = self.input.len();
                    }
                    Some(at) => {
                        self.pos += at + 1;
                        self.state = State::InFrame;
                        self.started = self.started.wrapping_add(1);
                        let bytes = skipped.saturating_add(at);
                        if bytes > 0 {
                            return Some(Err(FrameError::Garbage { bytes }));
                        }
                    }
                },
                State::InFrame => {
                    let (take, delimiter) = match memchr2(START_BLOCK, END_BLOCK, rest) {
                        Some(at) => (at, rest.get(at).copied()),
                        None => (rest.len(), None),
                    };
                    let data = rest.get(..take).unwrap_or_default();
                    match append(&mut self.payload, data, self.max_payload, self.allowed) {
                        Append::Done => {}
                        Append::TooLarge => {
                            // The delimiter (if any) is left for the discarding state to read.
                            self.pos += take;
                            return Some(Err(self.too_large()));
                        }
                        Append::Wants(bytes) => {
                            // Nothing of `data` taken: it is read again once granted.
                            self.wants = Some(bytes);
                            return None;
                        }
                    }
                    self.pos += take;
                    match delimiter {
                        Some(START_BLOCK) => {
                            self.pos += 1;
                            let bytes = self.payload.len();
                            self.end_frame();
                            self.started = self.started.wrapping_add(1);
                            return Some(Err(FrameError::Truncated { bytes }));
                        }
                        Some(_) => {
                            self.pos += 1;
                            self.state = State::InFrameAfterFs;
                        }
                        None => {}
                    }
                }
                State::InFrameAfterFs => {
                    if rest.first() == Some(&END_CR) {
                        self.pos += 1;
                        self.state = State::Seeking { skipped: 0 };
                        let payload = std::mem::take(&mut self.payload);
                        self.end_frame();
                        return Some(Ok(Frame { payload }));
                    }
                    // A lone 0x1C is payload; the byte after it is read again as payload.
                    match append(&mut self.payload, &[END_BLOCK], self.max_payload, self.allowed) {
                        Append::Done => self.state = State::InFrame,
                        Append::TooLarge => {
                            self.state = State::InFrame;
                            return Some(Err(self.too_large()));
                        }
                        Append::Wants(bytes) => {
                            // Still right after the 0x1C: it is appended once granted.
                            self.wants = Some(bytes);
                            return None;
                        }
                    }
                }
                State::Discarding => match memchr(END_BLOCK, rest) {
                    None => self.pos = self.input.len(),
                    Some(at) => {
                        self.pos += at + 1;
                        self.state = State::DiscardingAfterFs;
                    }
                },
                State::DiscardingAfterFs => {
                    match rest.first() {
                        Some(&END_CR) => self.state = State::Seeking { skipped: 0 },
                        Some(&END_BLOCK) => {}
                        _ => self.state = State::Discarding,
                    }
                    self.pos += 1;
                }
            }
        }
    }

    /// Ends the stream (the peer closed, or stalled past a timeout) and resets the decoder for
    /// reuse. Returns what was pending: [`FrameError::Truncated`] for a frame started but not
    /// ended, [`FrameError::Garbage`] for skipped bytes not yet reported, `None` otherwise (an
    /// oversized frame being discarded was already reported). Meant to be called after
    /// [`next_frame`](FrameDecoder::next_frame) returned `None`; bytes pushed and not drained
    /// are counted in the report and dropped.
    pub fn finish(&mut self) -> Option<FrameError> {
        let unscanned = self.input.len().saturating_sub(self.pos);
        let payload = self.payload.len();
        let state = std::mem::replace(&mut self.state, State::Seeking { skipped: 0 });
        self.input.clear();
        self.pos = 0;
        // A large partial payload is not kept for a stream that may never send another frame.
        self.payload = Vec::new();
        self.allowed = self.allowance;
        self.wants = None;
        match state {
            State::Seeking { skipped } => {
                let bytes = skipped.saturating_add(unscanned);
                (bytes > 0).then_some(FrameError::Garbage { bytes })
            }
            State::InFrame => Some(FrameError::Truncated { bytes: payload.saturating_add(unscanned) }),
            // The 0x1C just received counts as a payload byte: it was not an end block.
            State::InFrameAfterFs => {
                Some(FrameError::Truncated { bytes: payload.saturating_add(1).saturating_add(unscanned) })
            }
            State::Discarding | State::DiscardingAfterFs => None,
        }
    }

    /// True between a start block and the end of its frame (oversized frames being discarded
    /// included). The server bounds the wait for more bytes by `read_timeout` in a frame and by
    /// `idle_timeout` otherwise: skipped bytes outside a frame (a line feed some senders put
    /// after each frame) do not turn an idle connection into a stalled one.
    pub fn in_frame(&self) -> bool {
        !matches!(self.state, State::Seeking { .. })
    }

    /// Bytes held: the partial payload plus bytes pushed and not yet scanned. Once
    /// [`next_frame`](FrameDecoder::next_frame) has returned `None` this is at most
    /// `max_payload`.
    pub fn buffered(&self) -> usize {
        self.payload.len() + self.input.len().saturating_sub(self.pos)
    }

    /// Drops the partial payload and switches to discarding the rest of the frame.
    #[cold]
    fn too_large(&mut self) -> FrameError {
        self.end_frame();
        self.payload = Vec::new();
        self.state = State::Discarding;
        FrameError::TooLarge { limit: self.max_payload }
    }
}

/// What [`append`] did.
enum Append {
    Done,
    /// The payload would pass the limit: nothing appended.
    TooLarge,
    /// The payload would need this many bytes, more than allowed: nothing appended.
    Wants(usize),
}

/// Appends `bytes` to `payload` unless that would make it longer than `max` or than `allowed`
/// (`allowed <= max`); the allocation grows geometrically but never past `allowed`, so a frame
/// costs at most what it was allowed.
fn append(payload: &mut Vec<u8>, bytes: &[u8], max: usize, allowed: usize) -> Append {
    let Some(needed) = payload.len().checked_add(bytes.len()).filter(|&n| n <= max) else {
        return Append::TooLarge;
    };
    if needed > allowed {
        return Append::Wants(needed);
    }
    if needed > payload.capacity() {
        let target = payload.capacity().saturating_mul(2).max(MIN_PAYLOAD_CAPACITY).max(needed).min(allowed);
        payload.reserve_exact(target - payload.len());
    }
    payload.extend_from_slice(bytes);
    Append::Done
}

/// Appends `payload` framed (start block, payload, end block) to `out`, in one piece so that
/// a writer can send the whole frame with one write. The payload is not inspected: HL7 text
/// never contains the framing bytes.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    out.reserve(payload.len().saturating_add(3));
    out.push(START_BLOCK);
    out.extend_from_slice(payload);
    out.extend_from_slice(&[END_BLOCK, END_CR]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every event the decoder yields for `chunks`, pushed one after the other, then `finish`.
    fn decode_all(max: usize, chunks: &[&[u8]]) -> Vec<Result<Frame, FrameError>> {
        let mut decoder = FrameDecoder::new(max);
        let mut events = Vec::new();
        for chunk in chunks {
            decoder.push(chunk);
            while let Some(event) = decoder.next_frame() {
                events.push(event);
            }
            assert!(decoder.buffered() <= max, "holds {} bytes over {max}", decoder.buffered());
            assert!(decoder.payload.capacity() <= max, "allocated {} over {max}", decoder.payload.capacity());
        }
        events.extend(decoder.finish().map(Err));
        events
    }

    fn frame(payload: &[u8]) -> Result<Frame, FrameError> {
        Ok(Frame { payload: payload.to_vec() })
    }

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for payload in payloads {
            encode(payload, &mut out);
        }
        out
    }

    #[test]
    fn encode_wraps_the_payload_untouched() {
        let mut out = b"kept".to_vec();
        encode(b"MSH|\xE9\r", &mut out);
        assert_eq!(out, b"kept\x0BMSH|\xE9\r\x1C\x0D");
    }

    #[test]
    fn one_frame_in_one_push() {
        assert_eq!(decode_all(100, &[&framed(&[b"MSH|1\r"])]), vec![frame(b"MSH|1\r")]);
    }

    #[test]
    fn several_frames_in_one_push_come_out_in_order() {
        let wire = framed(&[b"one", b"", b"three"]);
        assert_eq!(decode_all(100, &[&wire]), vec![frame(b"one"), frame(b""), frame(b"three")]);
    }

    #[test]
    fn a_frame_split_between_the_two_end_bytes() {
        let events = decode_all(100, &[b"\x0Babc\x1C", b"\x0D"]);
        assert_eq!(events, vec![frame(b"abc")]);
    }

    #[test]
    fn a_message_without_a_final_cr_is_passed_on_as_is() {
        assert_eq!(decode_all(100, &[b"\x0BMSH|x\x1C\x0D"]), vec![frame(b"MSH|x")]);
    }

    #[test]
    fn garbage_before_a_start_block_is_reported_then_the_frame_follows() {
        let events = decode_all(100, &[b"junk", b"\n\x0Bmsg\x1C\x0D"]);
        assert_eq!(events, vec![Err(FrameError::Garbage { bytes: 5 }), frame(b"msg")]);
    }

    #[test]
    fn garbage_at_the_end_of_the_stream_is_reported_by_finish() {
        let events = decode_all(100, &[b"\x0Bmsg\x1C\x0D\n"]);
        assert_eq!(events, vec![frame(b"msg"), Err(FrameError::Garbage { bytes: 1 })]);
    }

    #[test]
    fn a_start_block_inside_a_frame_drops_the_partial_payload_and_restarts() {
        let events = decode_all(100, &[b"\x0Bhalf\x0Bwhole\x1C\x0D"]);
        assert_eq!(events, vec![Err(FrameError::Truncated { bytes: 4 }), frame(b"whole")]);
    }

    #[test]
    fn a_lone_fs_stays_in_the_payload() {
        let events = decode_all(100, &[b"\x0Ba\x1Cb\x1C\x1C\x0D"]);
        assert_eq!(events, vec![frame(b"a\x1Cb\x1C")]);
    }

    #[test]
    fn a_frame_cut_by_the_end_of_the_stream_is_truncated_not_a_message() {
        assert_eq!(decode_all(100, &[b"\x0Bhalf"]), vec![Err(FrameError::Truncated { bytes: 4 })]);
        assert_eq!(decode_all(100, &[b"\x0Bhalf\x1C"]), vec![Err(FrameError::Truncated { bytes: 5 })]);
    }

    #[test]
    fn a_payload_at_the_limit_passes_and_one_byte_more_is_too_large() {
        assert_eq!(decode_all(3, &[b"\x0Babc\x1C\x0D"]), vec![frame(b"abc")]);
        let events = decode_all(3, &[b"\x0Babcd\x1C\x0D\x0Bok\x1C\x0D"]);
        assert_eq!(events, vec![Err(FrameError::TooLarge { limit: 3 }), frame(b"ok")]);
    }

    #[test]
    fn a_lone_fs_counts_against_the_limit() {
        let events = decode_all(3, &[b"\x0Babc\x1Cx\x1C\x0D"]);
        assert_eq!(events, vec![Err(FrameError::TooLarge { limit: 3 })]);
    }

    #[test]
    fn too_large_is_reported_before_the_end_block_arrives() {
        let mut decoder = FrameDecoder::new(4);
        decoder.push(b"\x0B0123456789");
        assert_eq!(decoder.next_frame(), Some(Err(FrameError::TooLarge { limit: 4 })));
        assert_eq!(decoder.next_frame(), None);
        assert_eq!(decoder.buffered(), 0);
        // Start blocks are discarded with the rest of the oversized frame.
        decoder.push(b"\x0B\x1Cx\x1C\x1C\x0D\x0Bok\x1C\x0D");
        assert_eq!(decoder.next_frame(), Some(frame(b"ok")));
        assert_eq!(decoder.next_frame(), None);
        assert_eq!(decoder.finish(), None);
    }

    #[test]
    fn in_frame_from_the_start_block_to_the_end_block() {
        let mut decoder = FrameDecoder::new(2);
        assert!(!decoder.in_frame());
        decoder.push(b"x");
        assert_eq!(decoder.next_frame(), None);
        assert!(!decoder.in_frame(), "skipped bytes are not a frame");
        decoder.push(b"\x0Bab");
        assert_eq!(decoder.next_frame(), Some(Err(FrameError::Garbage { bytes: 1 })));
        assert_eq!(decoder.next_frame(), None);
        assert!(decoder.in_frame());
        decoder.push(b"\x1C");
        assert_eq!(decoder.next_frame(), None);
        assert!(decoder.in_frame(), "0x1C alone does not end a frame");
        decoder.push(b"\x0D");
        assert_eq!(decoder.next_frame(), Some(frame(b"ab")));
        assert!(!decoder.in_frame());
        decoder.push(b"\x0Babc");
        assert_eq!(decoder.next_frame(), Some(Err(FrameError::TooLarge { limit: 2 })));
        assert!(decoder.in_frame(), "discarding the rest of an oversized frame");
    }

    #[test]
    fn pushing_without_draining_keeps_every_frame() {
        let mut decoder = FrameDecoder::new(10);
        decoder.push(b"\x0Ba\x1C\x0D\x0Bb");
        assert_eq!(decoder.next_frame(), Some(frame(b"a")));
        decoder.push(b"\x1C\x0D");
        decoder.push(b"\x0Bc\x1C\x0D");
        assert_eq!(decoder.next_frame(), Some(frame(b"b")));
        assert_eq!(decoder.next_frame(), Some(frame(b"c")));
        assert_eq!(decoder.next_frame(), None);
    }

    #[test]
    fn a_zero_limit_accepts_only_empty_frames() {
        let events = decode_all(0, &[b"\x0B\x1C\x0D\x0Bx\x1C\x0D"]);
        assert_eq!(events, vec![frame(b""), Err(FrameError::TooLarge { limit: 0 })]);
    }

    /// Events for `chunks` with an allowance, granting whatever is asked up to `budget` bytes
    /// in all and refusing past it; checks that the allocation never exceeds what was allowed.
    fn decode_granting(max: usize, allowance: usize, budget: usize, chunks: &[&[u8]]) -> Vec<Result<Frame, FrameError>> {
        let mut decoder = FrameDecoder::with_allowance(max, allowance);
        let mut events = Vec::new();
        for chunk in chunks {
            decoder.push(chunk);
            loop {
                while let Some(event) = decoder.next_frame() {
                    events.push(event);
                }
                assert!(decoder.payload.capacity() <= decoder.allowed(), "allocated {} over {}", decoder.payload.capacity(), decoder.allowed());
                let Some(wanted) = decoder.wants() else { break };
                assert!(wanted > decoder.allowed() && wanted <= max);
                if wanted <= budget {
                    decoder.grant(wanted);
                } else {
                    events.push(Err(decoder.refuse(budget).expect("in a frame")));
                }
            }
        }
        events.extend(decoder.finish().map(Err));
        events
    }

    #[test]
    fn past_its_allowance_a_frame_waits_for_a_grant_or_is_refused() {
        let wire = framed(&[b"0123456789", b"abc", b"0123456789"]);
        // Enough granted: the same frames as without an allowance.
        assert_eq!(decode_granting(100, 4, 100, &[&wire]), vec![frame(b"0123456789"), frame(b"abc"), frame(b"0123456789")]);
        // Eight bytes at most: the long frames are refused (a read chunk is taken whole or not at
        // all, so nothing was held), the short one passes.
        let refused = Err(FrameError::OverBudget { bytes: 0, budget: 8 });
        assert_eq!(decode_granting(100, 4, 8, &[&wire]), vec![refused.clone(), frame(b"abc"), refused]);
        // Nothing is taken past the allowance until granted.
        let mut decoder = FrameDecoder::with_allowance(100, 4);
        decoder.push(b"\x0B0123456789\x1C\x0D");
        assert_eq!(decoder.next_frame(), None);
        assert_eq!(decoder.wants(), Some(10));
        assert_eq!(decoder.payload.len(), 0, "the read chunk is taken whole or not at all");
        assert_eq!(decoder.frames_started(), 1);
        decoder.grant(10);
        assert_eq!(decoder.next_frame(), Some(frame(b"0123456789")));
        assert_eq!((decoder.allowed(), decoder.wants()), (4, None), "the next frame starts with the allowance");
        assert_eq!(decoder.refuse(1), None, "nothing to refuse between frames");
    }

    #[test]
    fn a_lone_fs_past_the_allowance_waits_too() {
        let events = decode_granting(100, 2, 100, &[b"\x0Bab", b"\x1C", b"c\x1C\x0D"]);
        assert_eq!(events, vec![frame(b"ab\x1Cc")]);
        let events = decode_granting(100, 2, 2, &[b"\x0Bab", b"\x1C", b"c\x1C\x0D\x0Bz\x1C\x0D"]);
        assert_eq!(events, vec![Err(FrameError::OverBudget { bytes: 2, budget: 2 }), frame(b"z")]);
    }

    /// Payloads as HL7 senders produce them: anything but the framing bytes.
    fn payload() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            any::<u8>().prop_filter("framing byte", |b| *b != START_BLOCK && *b != END_BLOCK),
            0..64,
        )
    }

    /// Splits `bytes` at the given cut points (taken modulo the length, sorted).
    fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks = Vec::new();
        let mut start = 0;
        for point in points {
            chunks.push(&bytes[start..point]);
            start = point;
        }
        chunks.push(&bytes[start..]);
        chunks
    }

    proptest! {
        #[test]
        fn any_split_of_a_frame_sequence_yields_the_same_frames(
            payloads in proptest::collection::vec(payload(), 0..8),
            cuts in proptest::collection::vec(any::<usize>(), 0..16),
        ) {
            let refs: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
            let wire = framed(&refs);
            let expected: Vec<_> = payloads.iter().map(|p| frame(p)).collect();
            prop_assert_eq!(&decode_all(64, &[&wire]), &expected);
            prop_assert_eq!(&decode_all(64, &split(&wire, &cuts)), &expected);
            let bytewise: Vec<&[u8]> = wire.chunks(1).collect();
            prop_assert_eq!(&decode_all(64, &bytewise), &expected);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_stay_within_the_bound(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
            cuts in proptest::collection::vec(any::<usize>(), 0..16),
            max in 0usize..40,
        ) {
            // decode_all asserts the bound after every drained push. Events do not depend on
            // where the reads were split (garbage is counted up to the next start block).
            let whole = decode_all(max, &[&bytes]);
            prop_assert_eq!(&decode_all(max, &split(&bytes, &cuts)), &whole);
            for event in whole.iter().filter_map(|e| e.as_ref().ok()) {
                prop_assert!(event.payload.len() <= max);
            }
            // Granting every request gives the same events as having no allowance.
            prop_assert_eq!(&decode_granting(max, max / 4, usize::MAX, &split(&bytes, &cuts)), &whole);
        }

        #[test]
        fn frames_with_a_lot_of_framing_noise_are_kept_apart(
            noise in proptest::collection::vec(prop_oneof![Just(START_BLOCK), Just(END_BLOCK), Just(END_CR), Just(b'x')], 0..256),
            cuts in proptest::collection::vec(any::<usize>(), 0..16),
        ) {
            let whole = decode_all(8, &[&noise]);
            let pieces = decode_all(8, &split(&noise, &cuts));
            prop_assert_eq!(whole, pieces);
        }
    }
}
