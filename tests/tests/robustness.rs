//! No input makes the typed layer panic: every prefix and a set of single-byte mutations of a
//! real message go through parsing (strict and lenient), every profile's placement, JSON,
//! the structure check, generic paths and re-encoding.

use hl7_runtime::{path, Message, ParseOptions};
use telerad::{AnyMessage, REGISTRY};
use telerad_tests::fixture;

fn exercise(bytes: &[u8]) -> usize {
    let mut placed = 0;
    for options in [ParseOptions::default(), ParseOptions::lenient()] {
        let Ok(message) = Message::parse_with(bytes, &options) else { continue };
        // Validation and the ACK built from its findings never panic either (on the profile
        // the message selects; every profile is exercised below for placement and paths).
        let checked = telerad::check(bytes, &options, None).expect("no usage error");
        let clock = || "20260101000000".to_owned();
        let id = || "ACK1".to_owned();
        let opts = hl7_runtime::ack::AckOptions { receiver: hl7_runtime::ack::Identity::default(), clock: &clock, next_id: &id };
        let inbound = checked.message.as_ref().map(|m| &m.placed().message);
        let ack = hl7_runtime::ack::build(inbound, bytes, &checked.findings, hl7_runtime::ack::Decision::Accept, &opts);
        assert!(ack.is_ok_and(|a| a.ends_with(b"\r")));
        for def in REGISTRY.profiles {
            let any = AnyMessage::with_profile(message.clone(), def.profile).expect("every registered profile");
            let p = any.placed();
            let _ = hl7_runtime::json::message(p, &REGISTRY);
            let _ = p.check_structure();
            for q in ["PID-3[1].4.2", "ORDER[1]/OBX[2]-5.1", "ORDER[2]/ORC-1", "MSH-9.3", "OBX[9]-5[3].2.1"] {
                let _ = path::get(p, q).map(|t| t.map(|t| (t.text().len(), t.location())));
            }
            // An unmodified message re-encodes byte for byte, whatever profile it was put in.
            assert_eq!(p.encode(), bytes, "re-encoding under {}", def.profile);
            placed += 1;
        }
    }
    placed
}

#[test]
fn every_prefix() {
    let bytes = fixture("flux1_nw_minimal.hl7");
    let mut placed = 0;
    for end in 0..=bytes.len() {
        placed += exercise(&bytes[..end]);
    }
    assert!(placed > 0, "some prefixes parse");
}

/// Every third byte of a flow-4 message (groups, slices, ED values) replaced by a delimiter,
/// an escape, a terminator, a letter or a stray UTF-8 lead byte. Debug builds are slow, so the
/// set is sampled rather than exhaustive; the runtime's own tests mutate every byte.
#[test]
fn single_byte_mutations() {
    let bytes = fixture("flux4_sr.hl7");
    let mut placed = 0;
    for i in (0..bytes.len()).step_by(3) {
        for b in [b'|', b'^', b'\\', b'\r', b'Z', 0xC3] {
            let mut m = bytes.clone();
            m[i] = b;
            placed += exercise(&m);
        }
    }
    assert!(placed > 0, "some mutations parse");
}
