//! The MLLP frame decoder under arbitrary chunkings. The first byte sets the payload limit and
//! the next ones the sizes of the reads the stream is cut into; the rest is the stream. Whatever
//! the cut, the decoder yields the same events as for the stream in one read (and as for one
//! byte at a time), never holds more than the limit once drained, never yields a payload over
//! the limit or containing a start or end block, and each frame it yields, encoded again,
//! decodes to itself.
#![no_main]

use hl7_mllp::frame::{encode, Frame, FrameDecoder, FrameError};
use libfuzzer_sys::fuzz_target;

type Events = Vec<Result<Frame, FrameError>>;

fn decode(stream: &[u8], limit: usize, cuts: &mut dyn Iterator<Item = usize>) -> Events {
    let mut decoder = FrameDecoder::new(limit);
    let mut events = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let n = cuts.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        decoder.push(chunk);
        while let Some(event) = decoder.next_frame() {
            events.push(event);
        }
        assert!(decoder.buffered() <= limit, "{} bytes held over the limit {limit}", decoder.buffered());
    }
    events.extend(decoder.finish().map(Err));
    events
}

fuzz_target!(|data: &[u8]| {
    let Some((&limit_byte, rest)) = data.split_first() else { return };
    let limit = usize::from(limit_byte) * 8;
    let cut_count = rest.first().map_or(0, |&b| usize::from(b % 16));
    let (cuts, stream) = rest.get(1..).unwrap_or_default().split_at(cut_count.min(rest.len().saturating_sub(1)));
    let whole = decode(stream, limit, &mut std::iter::empty());
    let chunked = decode(stream, limit, &mut cuts.iter().map(|&c| usize::from(c)).cycle());
    assert_eq!(chunked, whole, "the cut changed the events");
    let bytewise = decode(stream, limit, &mut std::iter::repeat(1));
    assert_eq!(bytewise, whole, "byte-at-a-time reads changed the events");
    for frame in whole.iter().flatten() {
        assert!(frame.payload.len() <= limit);
        assert!(!frame.payload.contains(&0x0B));
        assert!(!frame.payload.windows(2).any(|w| w == [0x1C, 0x0D]));
        let mut wire = Vec::new();
        encode(&frame.payload, &mut wire);
        assert_eq!(decode(&wire, limit, &mut std::iter::empty()), vec![Ok(frame.clone())]);
    }
});
