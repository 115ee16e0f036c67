//! The generic ER7 parser, strict and lenient: whatever the bytes, `parse_with` returns a
//! message or a located error; a message re-encodes byte for byte, and every view below it
//! (segment, field, repetition, component, subcomponent) decodes and locates without panic.
#![no_main]

use hl7_runtime::{Message, ParseOptions};
use libfuzzer_sys::fuzz_target;

fn walk(m: &Message<'_>) {
    assert_eq!(m.encode(), m.bytes(), "a parsed message re-encodes to its input");
    let len = m.bytes().len();
    for seg in m.segments() {
        assert!(seg.byte_offset() <= len);
        let _ = seg.location();
        for field in seg.fields() {
            let _ = field.text();
            let loc = field.location();
            assert!(loc.byte <= len, "{loc} past the end ({len})");
            for rep in field.repetitions() {
                let _ = rep.text();
                for comp in rep.components() {
                    let _ = comp.text();
                    for sub in comp.subcomponents() {
                        let _ = sub.text();
                        assert!(sub.location().byte <= len);
                    }
                }
            }
        }
        // Positional access past the end is an empty element, never a panic.
        let f = seg.field(seg.field_count() + 1);
        assert!(f.is_empty());
        let _ = seg.field(3).repetition(2).map(|r| r.component(2).subcomponent(2).text());
    }
    for path in ["MSH-9.1", "MSH-18", "PID-3[2].4.2", "OBX[2]-5", "ORC-1", "ZZZ-99[9].9.9"] {
        let _ = m.get(path);
    }
}

fuzz_target!(|data: &[u8]| {
    for options in [ParseOptions::default(), ParseOptions::lenient()] {
        match Message::parse_with(data, &options) {
            Ok(m) => walk(&m),
            Err(e) => {
                let _ = e.to_string();
                assert!(e.location().byte <= data.len(), "{e}: location past the input");
            }
        }
    }
});
