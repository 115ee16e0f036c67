//! Escape decoding under each MSH-18 character set. The first byte picks MSH-18 (and the
//! delimiters); the rest becomes PID fields of a message that declares it. Every field's
//! text decodes, strict and lenient. The escape module's own round trip is checked too:
//! text that `encode_text` accepts decodes back to itself, and raw bytes decoded, encoded and
//! decoded again give the same text. The builders' writer gives `encode_text`'s bytes.
#![no_main]

use hl7_runtime::build::{At, Writer};
use hl7_runtime::escape::{decode, encode_text};
use hl7_runtime::{Charset, Delimiters, Message, ParseOptions};
use libfuzzer_sys::fuzz_target;

const LABELS: [&str; 7] = ["", "ASCII", "8859/1", "8859/15", "UNICODE UTF-8", "8859\\X41\\15", "ISO IR100"];
const CHARSETS: [Charset; 4] = [Charset::Ascii, Charset::Latin1, Charset::Latin9, Charset::Utf8];
const ODD: Delimiters = Delimiters { field: b'#', component: b'/', repetition: b'-', escape: Some(b'!'), subcomponent: Some(b'$') };

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let label = LABELS[usize::from(selector) % LABELS.len()];
    let d = if selector & 0x80 == 0 { Delimiters::STANDARD } else { ODD };
    let f = char::from(d.field);
    let enc = String::from_utf8(d.encoding_characters()).expect("ASCII delimiters");
    // With `/` as the component separator, 8859/15 has to be written escaped (`8859!S!15`).
    let label = if d == ODD { label.replace('/', "!S!").replace('\\', "!") } else { label.to_owned() };
    let mut msg = format!("MSH{f}{enc}{f}A{f}B{f}C{f}D{f}{f}{f}ADT^A01{f}1{f}P{f}2.5.1{f}{f}{f}{f}{f}FRA{f}{label}\rPID{f}{f}").into_bytes();
    msg.extend_from_slice(body);
    for options in [ParseOptions::default(), ParseOptions::lenient()] {
        let Ok(m) = Message::parse_with(&msg, &options) else { continue };
        let cs = m.charset();
        for seg in m.segments() {
            for field in seg.fields() {
                let text = field.text();
                for rep in field.repetitions() {
                    for comp in rep.components() {
                        for sub in comp.subcomponents() {
                            let _ = sub.text();
                        }
                    }
                }
                // Raw → text → raw → text is stable whenever the text can be written back.
                if let Ok(again) = encode_text(&text, &m.delimiters(), cs) {
                    assert_eq!(decode(&again, &m.delimiters(), cs), text, "decode∘encode∘decode of {:?}", field.raw());
                }
            }
        }
    }
    // Text → raw → text is the identity for whatever text the character set can carry.
    if let Ok(text) = std::str::from_utf8(body) {
        for cs in CHARSETS {
            for d in [Delimiters::STANDARD, ODD] {
                if let Ok(raw) = encode_text(text, &d, cs) {
                    assert_eq!(decode(&raw, &d, cs), text, "{cs:?} {:?}", String::from_utf8_lossy(&raw));
                }
            }
        }
        // The builders' writer writes what `encode_text` writes, after a short value and after
        // a long one (its check of a short value reads the output's last sixteen bytes).
        for (msh18, cs) in [("", Charset::Ascii), ("8859/1", Charset::Latin1), ("UNICODE UTF-8", Charset::Utf8)] {
            for before in ["A", "0123456789ABCDEFGHIJ"] {
                let mut w = Writer::new(msh18, 0).expect("a known MSH-18");
                w.segment("ZZZ");
                w.text(At::field(1, 1), before);
                w.text(At::field(2, 1), text);
                match (w.finish(), encode_text(text, &Delimiters::STANDARD, cs)) {
                    (Ok(got), Ok(raw)) => {
                        let sep: &[u8] = if raw.is_empty() { b"" } else { b"|" };
                        assert_eq!(got, [&b"ZZZ|"[..], before.as_bytes(), sep, &raw[..], b"\r"].concat(), "{cs:?} {text:?}");
                    }
                    (Err(_), Err(_)) => {}
                    (got, want) => panic!("writer {got:?}, encode_text {want:?} for {text:?} in {cs:?}"),
                }
            }
        }
    }
});
