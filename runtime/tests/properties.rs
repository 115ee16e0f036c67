//! Property-based tests of the ER7 layer (issue 8, item 2): owned model → ER7 → owned model,
//! byte-exact re-encoding of whatever parses, escape/charset round trips, and no panic on any
//! input. Case counts are kept modest so the file runs in a few seconds in debug builds;
//! nothing is persisted (`failure_persistence: None`), so a failure prints its minimised input
//! and leaves no regression file behind.

use hl7_runtime::escape::{decode, encode_text};
use hl7_runtime::owned::{CompBuf, FieldBuf, MessageBuf, RepBuf, SegmentBuf};
use hl7_runtime::{Charset, Delimiters, Message, ParseOptions};
use proptest::prelude::*;

const CHARSETS: [Charset; 4] = [Charset::Utf8, Charset::Latin1, Charset::Latin9, Charset::Ascii];

/// `cases` by default; `PROPTEST_CASES=n` overrides it for a longer hunt.
fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Independent oracle of what each set can carry (not `Charset::encode`, which is under test).
fn representable(ch: char, cs: Charset) -> bool {
    let c = u32::from(ch);
    match cs {
        Charset::Utf8 => true,
        Charset::Ascii => c < 0x80,
        Charset::Latin1 => c <= 0xFF,
        Charset::Latin9 => {
            matches!(ch, '€' | 'Š' | 'š' | 'Ž' | 'ž' | 'Œ' | 'œ' | 'Ÿ')
                || (c <= 0xFF && !matches!(ch, '¤' | '¦' | '¨' | '´' | '¸' | '¼' | '½' | '¾'))
        }
        // Read only through the fallback, not generated here; the set as Windows defines it.
        Charset::Windows1252 => {
            c < 0x80 || (0xA0..=0xFF).contains(&c) || "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ\u{81}\u{8D}\u{8F}\u{90}\u{9D}".contains(ch)
        }
    }
}

fn fits(text: &str, cs: Charset) -> bool {
    text.chars().all(|c| representable(c, cs))
}

/// Pieces of text worth combining: the message's own delimiters alone and inside escape-like
/// shapes, formatting commands, things that look like escapes but are not, accented letters,
/// characters outside Latin-1/Latin-9, CR/LF and other controls, and plain ASCII.
fn atoms(d: &Delimiters) -> Vec<String> {
    let e = char::from(d.escape.unwrap_or(b'\\'));
    let mut v: Vec<String> = [d.field, d.component, d.repetition]
        .into_iter()
        .chain(d.escape)
        .chain(d.subcomponent)
        .map(|b| char::from(b).to_string())
        .collect();
    for body in [".br", "H", "N", ".sp 2", ".in-3", "C2842", "M243F21", "Zfoo", "F", "S", "T", "R", "E", "X0D0A", "X41", "XC3A9", "X", "", "Q", ".xx"] {
        v.push(format!("{e}{body}{e}"));
        v.push(format!("{e}{body}"));
    }
    v.extend(
        ["é", "ç", "Œ", "€", "¤", "Ÿ", "ÿ", "\u{85}", "日本", "😀", "\r", "\n", "\r\n", "\t", "\u{0}", "\u{7f}", "abc", "A", " ", "12", "\\\\server\\share", "|^~\\&", "#"]
            .iter()
            .map(|s| (*s).to_owned()),
    );
    v
}

/// Text from atoms and arbitrary characters, only what `cs` can carry.
fn text(d: Delimiters, cs: Charset) -> impl Strategy<Value = String> {
    let atoms: Vec<String> = atoms(&d).into_iter().filter(|a| fits(a, cs)).collect();
    let piece = prop_oneof![
        4 => proptest::sample::select(atoms),
        1 => any::<char>().prop_filter("representable", move |c| representable(*c, cs)).prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..5).prop_map(|v| v.concat())
}

/// Distinct printable, non-alphanumeric delimiters (the standard set most of the time).
///
/// `/` and `-` are included on purpose: they occur in the MSH-18 labels `8859/1`, `8859/15`
/// and `UNICODE UTF-8`, which the encoder escapes (`8859\R\1`) and the parser must unescape
/// before reading the label (this property found that it did not).
fn delimiters() -> impl Strategy<Value = Delimiters> {
    let custom = proptest::sample::subsequence(b"|^~\\&#!$%*@+=?._:;'\"<>()[]{},`/-".to_vec(), 5)
        .prop_shuffle()
        .prop_map(|v| Delimiters { field: v[0], component: v[1], repetition: v[2], escape: Some(v[3]), subcomponent: Some(v[4]) });
    prop_oneof![2 => Just(Delimiters::STANDARD), 1 => custom]
}

fn field(d: Delimiters, cs: Charset) -> impl Strategy<Value = FieldBuf> {
    let comp = proptest::collection::vec(text(d, cs), 0..3).prop_map(|subs| CompBuf { subs });
    let rep = proptest::collection::vec(comp, 0..3).prop_map(|comps| RepBuf { comps });
    proptest::collection::vec(rep, 0..3).prop_map(|reps| FieldBuf { reps })
}

fn segment_id() -> impl Strategy<Value = String> {
    "[A-Z][A-Z0-9]{2}".prop_filter("MSH only first", |s| s != "MSH")
}

/// A message whose MSH-18 names its character set, with arbitrary other fields.
fn owned_message() -> impl Strategy<Value = MessageBuf> {
    (delimiters(), proptest::sample::select(CHARSETS.to_vec())).prop_flat_map(|(d, cs)| {
        let msh_fields = proptest::collection::vec(field(d, cs), 0..16);
        let tail = proptest::collection::vec(field(d, cs), 0..3);
        let segment = (segment_id(), proptest::collection::vec(field(d, cs), 0..6))
            .prop_map(|(id, fields)| SegmentBuf { id, fields });
        (msh_fields, tail, proptest::collection::vec(segment, 0..5)).prop_map(move |(msh_fields, tail, segments)| {
            let mut msh = SegmentBuf::new("MSH");
            // fields[0..2] are MSH-1/2 (ignored); 3..=17 generated, 18 the set's label, then more.
            msh.fields = vec![FieldBuf::default(), FieldBuf::default()];
            msh.fields.extend(msh_fields);
            msh.fields.resize_with(17, FieldBuf::default);
            msh.fields.push(FieldBuf::text(cs.label()));
            msh.fields.extend(tail);
            let mut m = MessageBuf::new(d, cs);
            m.segments.push(msh);
            m.segments.extend(segments);
            m
        })
    })
}

proptest! {
    #![proptest_config(config(256))]

    /// Built → ER7 → parsed (strict) → owned equals the normalised built model.
    #[test]
    fn owned_model_round_trips(built in owned_message()) {
        let bytes = built.encode().map_err(|e| TestCaseError::fail(format!("encode: {e}")))?;
        let parsed = Message::parse(&bytes)
            .map_err(|e| TestCaseError::fail(format!("parse: {e}\n{}", String::from_utf8_lossy(&bytes))))?;
        let mut want = built.clone();
        want.normalize();
        prop_assert_eq!(parsed.to_owned_buf(), want, "wire: {:?}", String::from_utf8_lossy(&bytes));
        // Encoding is deterministic and the parsed model re-encodes to the same bytes.
        prop_assert_eq!(parsed.to_owned_buf().encode().ok(), Some(bytes));
    }
}

/// Base messages that mutations start from: the project's fixtures (UTF-8, Latin-9, escapes,
/// repetitions, no final CR).
const BASES: [&[u8]; 5] = [
    include_bytes!("../../tests/fixtures/flux1_nw_escapes.hl7"),
    include_bytes!("../../tests/fixtures/flux1_nw_latin9.hl7"),
    include_bytes!("../../tests/fixtures/flux1_nw_repetitions.hl7"),
    include_bytes!("../../tests/fixtures/flux1_nw_no_final_cr.hl7"),
    include_bytes!("../../tests/fixtures/flux3_ok_ed.hl7"),
];

#[derive(Clone, Debug)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => proptest::sample::select(b"|^~\\&\r\nXZ0 .#".to_vec()),
        1 => proptest::sample::select(vec![0x00, 0x09, 0x1F, 0x7F, 0x80, 0xA4, 0xC3, 0xA9, 0xE2, 0xFF]),
        1 => any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    let pos = any::<prop::sample::Index>();
    prop_oneof![
        (pos.clone(), interesting_byte()).prop_map(|(i, b)| Edit::Replace(i.index(usize::MAX), b)),
        (pos.clone(), interesting_byte()).prop_map(|(i, b)| Edit::Insert(i.index(usize::MAX), b)),
        pos.prop_map(|i| Edit::Delete(i.index(usize::MAX))),
    ]
}

/// A fixture with 1 to 4 byte edits (positions taken modulo the current length).
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (proptest::sample::select(BASES.to_vec()), proptest::collection::vec(edit(), 1..5)).prop_map(|(base, edits)| {
        let mut v = base.to_vec();
        for e in edits {
            match e {
                Edit::Replace(i, b) if !v.is_empty() => {
                    let n = v.len();
                    v[i % n] = b;
                }
                Edit::Insert(i, b) => {
                    let at = i % (v.len() + 1);
                    v.insert(at, b);
                }
                Edit::Delete(i) if !v.is_empty() => {
                    let n = v.len();
                    v.remove(i % n);
                }
                _ => {}
            }
        }
        v
    })
}

/// Reads everything a consumer may read, so that a panic anywhere in the views shows up.
fn walk(m: &Message<'_>) {
    for seg in m.segments() {
        for f in seg.fields() {
            let _ = f.text();
            for r in f.repetitions() {
                for c in r.components() {
                    for s in c.subcomponents() {
                        let _ = s.text();
                    }
                }
            }
        }
        let _ = seg.location();
    }
    for p in ["MSH-9.1", "MSH-10", "PID-3[1].4.2", "OBR[2]-4", "OBX[3]-5[2].1.1", "ZZZ-99"] {
        let _ = m.get(p);
    }
    let _ = m.to_owned_buf();
}

proptest! {
    #![proptest_config(config(512))]

    /// Whatever parses (strict or lenient) re-encodes to its input byte for byte, and its owned
    /// model, when encodable, reads back to itself.
    #[test]
    fn parsed_input_re_encodes_byte_for_byte(bytes in mutated()) {
        for options in [ParseOptions::default(), ParseOptions::lenient()] {
            let Ok(m) = Message::parse_with(&bytes, &options) else { continue };
            prop_assert_eq!(m.encode(), bytes.clone());
            walk(&m);
            let owned = m.to_owned_buf();
            if let Ok(again) = owned.encode() {
                let back = Message::parse_with(&again, &options)
                    .map_err(|e| TestCaseError::fail(format!("{options:?}: re-encoded owned model does not parse: {e}\n{:?}", String::from_utf8_lossy(&again))))?;
                prop_assert_eq!(back.to_owned_buf(), owned, "{:?}", options);
            }
        }
    }

    /// Parsing never panics, strict or lenient, on arbitrary bytes (half of them behind a
    /// plausible `MSH|^~\&|` so that the parser gets past the header).
    #[test]
    fn parse_never_panics(head in proptest::sample::select(vec![&b""[..], b"MSH", b"MSH|^~\\&|", b"MSH|^~\\&|A|B|C|D|||ADT^A01|1|P|2.5.1|||||FRA|UNICODE UTF-8\r"]),
                          tail in proptest::collection::vec(interesting_byte(), 0..120)) {
        let mut bytes = head.to_vec();
        bytes.extend(tail);
        for options in [ParseOptions::default(), ParseOptions::lenient()] {
            if let Ok(m) = Message::parse_with(&bytes, &options) {
                prop_assert_eq!(m.encode(), bytes.clone());
                walk(&m);
            }
        }
    }
}

/// Text the escape layer must carry unchanged in any delimiter set and character set.
///
/// No text is excluded: `encode_text` writes delimiters as `\F\ \S\ \T\ \R\ \E\`, controls as
/// `\Xhh\` and formatting commands verbatim, and `decode` reads each of those back to exactly
/// what was written, so decode ∘ encode is the identity even on text that itself looks like an
/// escape (`\F\` is written `\E\F\E\`). What escape.rs excludes by design is the other
/// direction, raw → text → raw: a literal `\H\` sent as `\E\H\E\` decodes to the same text as
/// the command `\H\` and is re-encoded as the command; that is checked separately below.
fn text_in(cs: Charset) -> impl Strategy<Value = (Delimiters, String)> {
    delimiters().prop_flat_map(move |d| (Just(d), text(d, cs)))
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn escape_round_trip_utf8((d, s) in text_in(Charset::Utf8)) { escape_round_trip(d, &s, Charset::Utf8)?; }

    #[test]
    fn escape_round_trip_latin1((d, s) in text_in(Charset::Latin1)) { escape_round_trip(d, &s, Charset::Latin1)?; }

    #[test]
    fn escape_round_trip_latin9((d, s) in text_in(Charset::Latin9)) { escape_round_trip(d, &s, Charset::Latin9)?; }

    #[test]
    fn escape_round_trip_ascii((d, s) in text_in(Charset::Ascii)) { escape_round_trip(d, &s, Charset::Ascii)?; }

    /// Text with a character the set cannot carry is an error, never a substitution, both in
    /// `encode_text` and `Charset::encode`; text it can carry encodes and decodes back.
    #[test]
    fn unrepresentable_is_an_error(cs in proptest::sample::select(CHARSETS.to_vec()),
                                   (d, s) in text_in(Charset::Utf8)) {
        let enc = encode_text(&s, &d, cs);
        prop_assert_eq!(enc.is_ok(), fits(&s, cs), "{:?} in {:?}: {:?}", s, cs, enc);
        let plain = cs.encode(&s);
        prop_assert_eq!(plain.is_ok(), fits(&s, cs));
        if let Ok(bytes) = plain {
            let back = cs.decode(&bytes).map(|t| t.into_owned()).ok();
            prop_assert_eq!(back.as_deref(), Some(s.as_str()));
        }
    }

    /// Raw → text → raw → text: decoding what `encode_text` wrote for a decoded value gives the
    /// same text again (the stable form of the by-design `\E\H\E\` ambiguity), for any raw value
    /// the strict parser accepts.
    #[test]
    fn decode_encode_decode_is_stable((d, raw) in delimiters().prop_flat_map(|d| (Just(d), text(d, Charset::Utf8))),
                                     cs in proptest::sample::select(CHARSETS.to_vec())) {
        // `raw` plays the part of element bytes: keep those a strict parse would accept (no
        // separator, no control, valid in the set, well-formed escapes).
        let seg = format!("ZZZ{}", char::from(d.field));
        let mut msg = Vec::from(&b"MSH"[..]);
        msg.push(d.field);
        msg.extend(d.encoding_characters());
        msg.extend(std::iter::repeat_n(d.field, 16));
        msg.extend(cs.label().as_bytes());
        msg.push(b'\r');
        msg.extend(seg.as_bytes());
        let Ok(raw_bytes) = cs.encode(&raw) else { return Ok(()) };
        if raw_bytes.iter().any(|b| d.is_separator_byte(*b) || *b == b'\r' || *b == b'\n') { return Ok(()); }
        msg.extend(raw_bytes.iter());
        msg.push(b'\r');
        let Ok(m) = Message::parse(&msg) else { return Ok(()) };
        let text = m.segment(1).map(|s| s.field(1).text().into_owned()).unwrap_or_default();
        let again = encode_text(&text, &d, cs).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(decode(&again, &d, cs), text);
    }
}

trait SeparatorByte {
    fn is_separator_byte(&self, b: u8) -> bool;
}

impl SeparatorByte for Delimiters {
    fn is_separator_byte(&self, b: u8) -> bool {
        b == self.field || b == self.component || b == self.repetition || Some(b) == self.subcomponent
    }
}

fn escape_round_trip(d: Delimiters, s: &str, cs: Charset) -> Result<(), TestCaseError> {
    let enc = encode_text(s, &d, cs).map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
    // Nothing that could split an element or a segment is left raw.
    prop_assert!(
        !enc.iter().any(|b| d.is_separator_byte(*b) || *b == b'\r' || *b == b'\n'),
        "{:?} → {:?}",
        s,
        String::from_utf8_lossy(&enc)
    );
    prop_assert_eq!(decode(&enc, &d, cs), s, "wire {:?}", String::from_utf8_lossy(&enc));
    Ok(())
}
