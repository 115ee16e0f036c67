//! The parser must never panic: every prefix and every single-byte mutation of a small
//! message is parsed (strict and lenient), and every successful parse is walked fully.

use hl7_runtime::{Message, ParseOptions};

fn small() -> Vec<u8> {
    let segs = [
        "MSH|^~\\&|SND|FAC|RCV|FAC|20260106||ORU^R01^ORU_R01|1|P|2.5.1|||||FRA|UNICODE UTF-8",
        "PID|1||123^^^H&1.2&ISO~9||Dupont\\S\\X^Zo\\XC3A9\\||\"\"",
        "OBX|1|FT|C^L||a\\.br\\b\\E\\|||||F",
    ];
    let mut out = segs.join("\r").into_bytes();
    out.push(b'\r');
    out
}

/// Touches everything a caller could touch; any panic fails the test.
fn walk(m: &Message<'_>, input: &[u8]) {
    assert_eq!(m.encode(), input);
    for seg in m.segments() {
        let _ = (seg.id(), seg.location().to_string(), seg.raw());
        for n in 0..=seg.field_count() + 1 {
            let f = seg.field(n);
            let _ = (f.text(), f.is_null(), f.location().to_string());
            for r in f.repetitions() {
                let _ = r.text();
                for c in r.components() {
                    let _ = (c.text(), c.location());
                    for s in c.subcomponents() {
                        let _ = (s.text(), s.location().to_string());
                    }
                    let _ = c.subcomponent(5).text();
                }
                let _ = r.component(9).text();
            }
            let _ = f.repetition(3).map(|r| r.text());
            let _ = f.component(2).subcomponent(2).text();
        }
        let _: Vec<_> = seg.fields().map(|f| f.text()).collect();
    }
    for path in ["MSH-9.1", "PID-3[2]", "PID-3[1].4.2", "OBX-5", "PID-5.2.1", "MSH-2", "MSH-1", "ZZZ-1"] {
        let _ = m.get(path).unwrap();
    }
    let owned = m.to_owned_buf();
    // A strictly valid message must survive the owned model's round trip.
    if let Ok(bytes) = owned.encode() {
        if let Ok(back) = Message::parse(&bytes) {
            assert_eq!(back.to_owned_buf(), owned, "owned round trip of {:?}", String::from_utf8_lossy(input));
        }
    }
}

fn try_all(input: &[u8]) -> (usize, usize) {
    let mut ok = (0, 0);
    for (i, opts) in [ParseOptions::default(), ParseOptions::lenient()].iter().enumerate() {
        if let Ok(m) = Message::parse_with(input, opts) {
            walk(&m, input);
            if i == 0 { ok.0 += 1 } else { ok.1 += 1 }
        } else if let Err(e) = Message::parse_with(input, opts) {
            let _ = e.to_string();
        }
    }
    ok
}

#[test]
fn every_prefix() {
    let msg = small();
    let mut strict_ok = 0;
    for len in 0..=msg.len() {
        strict_ok += try_all(&msg[..len]).0;
    }
    // Every prefix that ends after the MSH-2 and not inside an escape parses.
    assert!(strict_ok > msg.len() / 2, "{strict_ok}");
    assert!(Message::parse(&msg).is_ok());
}

#[test]
fn every_single_byte_mutation() {
    let msg = small();
    let values = [0x00, 0x09, b'\n', b'\r', b'|', b'^', b'~', b'\\', b'&', b'"', b'A', b'z', b'0', b' ', 0x7F, 0x80, 0xA4, 0xC3, 0xE9, 0xFF];
    let mut parsed = 0;
    for pos in 0..msg.len() {
        for &v in &values {
            let mut m = msg.clone();
            m[pos] = v;
            let (s, l) = try_all(&m);
            parsed += s + l;
        }
        // Deletion and duplication too.
        let mut del = msg.clone();
        del.remove(pos);
        try_all(&del);
        let mut dup = msg.clone();
        dup.insert(pos, msg[pos]);
        try_all(&dup);
    }
    assert!(parsed > 0);
}

#[test]
fn hostile_inputs() {
    let inputs: Vec<Vec<u8>> = vec![
        vec![],
        b"MSH".to_vec(),
        b"MSH|^~".to_vec(),
        b"MSH|^~\\&".to_vec(),
        b"MSH|^~\\&|".to_vec(),
        b"hello world".to_vec(),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0".to_vec(),
        vec![0xFF; 64],
        b"MSH|^~\\&|\\".to_vec(),
        b"MSH|^~\\&|a\\E\\".to_vec(),
        b"MSH|^~\\&|\\\\server\\share".to_vec(),
        b"MSH|^~\\&|\\X".to_vec(),
        b"MSH|^~\\&|\\X\\".to_vec(),
        b"MSH|^~\\&|\\.sp".to_vec(),
        b"MSH|^~\\&\r\r\r\n\n".to_vec(),
        b"MSH|^~\\&|||||||||||||||||||||||||||||||||||||||||||||||||||||||||||||".to_vec(),
        [b"MSH|^~\\&|".as_slice(), &[b'^'; 5000], b"~".as_slice(), &[b'&'; 5000]].concat(),
    ];
    for input in &inputs {
        try_all(input);
    }
    let e = Message::parse(b"MSH|^~\\&|\\\\server\\share").unwrap_err();
    assert_eq!(e.location().to_string(), "MSH-3 (byte 9)");
    let lenient = Message::parse_with(b"MSH|^~\\&|\\\\server\\share", &ParseOptions::lenient()).unwrap();
    assert_eq!(lenient.get("MSH-3").unwrap().unwrap(), "\\\\server\\share");
    let m = Message::parse(b"MSH|^~\\&|a\\E\\").unwrap();
    assert_eq!(m.get("MSH-3").unwrap().unwrap(), "a\\");
}
