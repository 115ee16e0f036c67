//! Access through the views and paths of a parsed message.

use std::borrow::Cow;

use hl7_runtime::{Charset, Delimiters, Message, ParseOptions};

fn join(segments: &[&str]) -> Vec<u8> {
    let mut out = segments.join("\r").into_bytes();
    out.push(b'\r');
    out
}

fn sample() -> Vec<u8> {
    join(&[
        r"MSH|^~\&|SEND|FAC|RECV|FAC2|20260106134418||ORU^R01^ORU_R01|MSG1|P|2.5.1|||||FRA|UNICODE UTF-8",
        r"PID|1||123^^^HOSP&1.2.3&ISO^PI~456^^^OTHER||Dupont\S\Durand^Amélie^^^^^L||19790328|F|||||||||||||||||||||||||||||||||||||||||||||||",
        r#"PV1||"""#,
        r"OBX|1|FT|CODE^Libellé||ligne 1\.br\ligne 2 \F\ pipe \R\ tilde \T\ amp \E\ back \XC3A9\ \H\gras\N\|||||F",
        r"OBX|2|NM|N^Num||42",
        r"OBX|3|ST|S^Str||trois",
    ])
}

#[test]
fn delimiters_charset_and_segments() {
    let bytes = sample();
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.delimiters(), Delimiters::STANDARD);
    assert_eq!(m.charset(), Charset::Utf8);
    assert_eq!(m.segment_count(), 6);
    let ids: Vec<&str> = m.segments().map(|s| s.id()).collect();
    assert_eq!(ids, ["MSH", "PID", "PV1", "OBX", "OBX", "OBX"]);
    let pid = m.segment(1).unwrap();
    assert_eq!(pid.index(), 1);
    assert_eq!(pid.byte_offset(), bytes.iter().position(|&b| b == b'\r').unwrap() + 1);
    assert!(pid.raw().starts_with(b"PID|1|"));
    assert!(!pid.raw().contains(&b'\r'));
    assert!(m.segment(6).is_none());
    assert_eq!(m.segments_by_id("OBX").count(), 3);
    assert_eq!(m.encode(), bytes);
    let mut out = b"prefix".to_vec();
    m.write_to(&mut out);
    assert_eq!(&out[6..], &bytes[..]);
    let mut seg_bytes = Vec::new();
    m.segments().for_each(|s| s.write_to(&mut seg_bytes));
    assert_eq!(seg_bytes, bytes);
}

#[test]
fn msh_fields_are_numbered_like_hl7() {
    let bytes = sample();
    let m = Message::parse(&bytes).unwrap();
    let msh = m.segment(0).unwrap();
    assert_eq!(msh.field(1).raw(), b"|");
    assert_eq!(msh.field(1).text(), "|");
    let msh2 = msh.field(2);
    assert_eq!(msh2.raw(), br"^~\&");
    assert_eq!(msh2.text(), r"^~\&", "MSH-2 is neither unescaped nor split");
    assert_eq!(msh2.repetition_count(), 1);
    assert_eq!(msh2.component(1).raw(), br"^~\&");
    assert!(msh2.component(2).is_empty());
    assert_eq!(msh.field(3).text(), "SEND");
    assert_eq!(msh.field(9).component(2).text(), "R01");
    assert_eq!(msh.field(18).text(), "UNICODE UTF-8");
    assert_eq!(msh.field_count(), 18);
    assert!(msh.field(19).is_empty());
    assert!(msh.field(500).is_empty());
    assert!(msh.field(0).is_empty());
    let all: Vec<String> = msh.fields().map(|f| f.text().into_owned()).collect();
    assert_eq!(all.len(), 18);
    assert_eq!(all[0], "|");
    assert_eq!(all[1], r"^~\&");
    assert_eq!(all[8], "ORU^R01^ORU_R01");
    assert_eq!(msh.field(9).location().to_string(), "MSH-9 (byte 44)");
    for (i, f) in msh.fields().enumerate() {
        assert_eq!(f.raw(), msh.field(i + 1).raw(), "fields() and field({}) agree", i + 1);
        assert_eq!(f.location(), msh.field(i + 1).location());
    }
}

#[test]
fn repetitions_components_subcomponents() {
    let bytes = sample();
    let m = Message::parse(&bytes).unwrap();
    let pid = m.segment(1).unwrap();
    let pid3 = pid.field(3);
    assert_eq!(pid3.repetition_count(), 2);
    let reps: Vec<_> = pid3.repetitions().collect();
    assert_eq!(reps.len(), 2);
    assert_eq!(reps[1].raw(), b"456^^^OTHER");
    let r1 = pid3.repetition(1).unwrap();
    assert_eq!(r1.component_count(), 5);
    assert_eq!(r1.component(1).text(), "123");
    assert!(r1.component(2).is_empty());
    assert!(r1.component(9).is_empty());
    let hosp = r1.component(4);
    assert_eq!(hosp.subcomponent_count(), 3);
    assert_eq!(hosp.subcomponent(2).text(), "1.2.3");
    assert!(hosp.subcomponent(4).is_empty());
    let subs: Vec<String> = hosp.subcomponents().map(|s| s.text().into_owned()).collect();
    assert_eq!(subs, ["HOSP", "1.2.3", "ISO"]);
    assert!(pid3.repetition(3).is_none());
    assert!(pid3.repetition(0).is_none());
    assert_eq!(pid3.component(1).text(), "123", "component() reads the first repetition");
    // Locations in HL7 terms.
    let sub = pid3.repetition(2).unwrap().component(4).subcomponent(1);
    assert_eq!(sub.text(), "OTHER");
    let byte = sub.location().byte;
    assert_eq!(&bytes[byte..byte + 5], b"OTHER");
    assert_eq!(sub.location().to_string(), format!("PID-3[2].4.1 (byte {byte})"));
    assert_eq!(hosp.subcomponent(2).location().to_string(), format!("PID-3[1].4.2 (byte {})", hosp.subcomponent(2).location().byte));
    // Empty field: no repetitions.
    let pid2 = pid.field(2);
    assert!(pid2.is_empty());
    assert_eq!(pid2.repetition_count(), 0);
    assert_eq!(pid2.repetitions().count(), 0);
    assert!(pid2.component(1).is_empty());
    // Trailing empty fields are counted.
    assert!(pid.field_count() > 50);
    assert!(pid.field(pid.field_count()).is_empty());
}

#[test]
fn null_value() {
    let bytes = sample();
    let m = Message::parse(&bytes).unwrap();
    let pv1 = m.segment(2).unwrap();
    assert!(pv1.field(2).is_null());
    assert!(!pv1.field(2).is_empty());
    assert!(!pv1.field(1).is_null());
    assert_eq!(pv1.field(2).text(), "\"\"");
}

#[test]
fn text_decodes_escapes_and_keeps_formatting() {
    let bytes = sample();
    let m = Message::parse(&bytes).unwrap();
    let pid = m.segment(1).unwrap();
    assert_eq!(pid.field(5).component(1).text(), "Dupont^Durand");
    assert_eq!(pid.field(5).component(2).text(), "Amélie");
    let obx = m.segment(3).unwrap();
    assert_eq!(
        obx.field(5).text(),
        r"ligne 1\.br\ligne 2 | pipe ~ tilde & amp \ back é \H\gras\N\"
    );
    assert_eq!(obx.field(3).component(2).text(), "Libellé");
}

#[test]
fn text_borrows_when_nothing_to_convert() {
    let bytes = sample();
    let m = Message::parse(&bytes).unwrap();
    let pid = m.segment(1).unwrap();
    assert!(matches!(pid.field(5).component(2).text(), Cow::Borrowed("Amélie")));
    assert!(matches!(pid.field(5).component(1).text(), Cow::Owned(_)));
    // Latin-9: pure ASCII borrows, non-ASCII is converted.
    let mut latin = format!("MSH|^~\\&{}8859/15\rPID|||||Ren", "|".repeat(16)).into_bytes();
    latin.extend_from_slice(b"\xE9^abc\r");
    let m = Message::parse(&latin).unwrap();
    let pid = m.segment(1).unwrap();
    assert!(matches!(pid.field(5).component(2).text(), Cow::Borrowed("abc")));
    assert_eq!(pid.field(5).component(1).text(), "René");
}

#[test]
fn text_outlives_the_message_borrow() {
    let bytes = sample();
    let text: Cow<'_, str>;
    let field;
    {
        let m = Message::parse(&bytes).unwrap();
        let seg = m.segment(1).unwrap();
        field = seg.field(5);
        text = m.get("PID-5.2").unwrap().unwrap();
    }
    assert_eq!(text, "Amélie");
    assert_eq!(field.component(2).text(), "Amélie");
}

#[test]
fn paths() {
    let bytes = sample();
    let m = Message::parse(&bytes).unwrap();
    let get = |p: &str| m.get(p).unwrap().map(|c| c.into_owned());
    assert_eq!(get("MSH-9.1").as_deref(), Some("ORU"));
    assert_eq!(get("MSH-1").as_deref(), Some("|"));
    assert_eq!(get("MSH-2").as_deref(), Some(r"^~\&"));
    assert_eq!(get("MSH-2.2").as_deref(), None, "MSH-2 is not split");
    assert_eq!(get("PID-3[1].4.2").as_deref(), Some("1.2.3"));
    assert_eq!(get("PID-3[2].4").as_deref(), Some("OTHER"));
    assert_eq!(get("PID-3[2]").as_deref(), Some("456^^^OTHER"));
    assert_eq!(get("PID-3").as_deref(), Some("123^^^HOSP&1.2.3&ISO^PI~456^^^OTHER"));
    assert_eq!(get("PID-3[3]"), None);
    assert_eq!(get("PID-3.6"), None);
    assert_eq!(get("PID-3.2").as_deref(), Some(""));
    assert_eq!(get("PID[1]-5.2").as_deref(), Some("Amélie"));
    assert_eq!(get("PID[2]-5"), None);
    assert_eq!(get("OBX[3]-5").as_deref(), Some("trois"));
    assert_eq!(get("OBX[2]-5").as_deref(), Some("42"));
    assert_eq!(get("OBX-5.1.1").as_deref(), Some(r"ligne 1\.br\ligne 2 | pipe ~ tilde & amp \ back é \H\gras\N\"));
    assert_eq!(get("ZZZ-1"), None);
    assert_eq!(get("OBX-99"), None);
    for bad in ["", "PID", "pid-1", "PID-0", "PID-", "PID-1.", "PID[0]-1", "PID-1[x]", "PID-1.2.3.4", "PID-1x", "PID-99999999999999999999999"] {
        let err = m.get(bad).unwrap_err();
        assert!(err.to_string().starts_with(&format!("invalid path {bad:?} at character")), "{err}");
    }
    assert_eq!(
        m.get("PID-0").unwrap_err().to_string(),
        "invalid path \"PID-0\" at character 4: positions start at 1"
    );
}

#[test]
fn missing_final_cr_is_accepted_and_reproduced() {
    let bytes = b"MSH|^~\\&|A\rPID|1|X".to_vec();
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.segment_count(), 2);
    assert_eq!(m.segment(1).unwrap().field(2).text(), "X");
    assert_eq!(m.encode(), bytes);
}

#[test]
fn lenient_terminators_reproduce_input() {
    let bytes = b"MSH|^~\\&|A\r\nPID|1|X\n\nPV1|1\r\r\n\rOBX|1\n".to_vec();
    assert!(Message::parse(&bytes).is_err());
    let opts = ParseOptions { lenient_terminators: true, ..Default::default() };
    let m = Message::parse_with(&bytes, &opts).unwrap();
    let ids: Vec<&str> = m.segments().map(|s| s.id()).collect();
    assert_eq!(ids, ["MSH", "PID", "PV1", "OBX"]);
    assert_eq!(m.segment(1).unwrap().raw(), b"PID|1|X");
    assert_eq!(m.encode(), bytes);
    let mut out = Vec::new();
    m.segments().for_each(|s| s.write_to(&mut out));
    assert_eq!(out, bytes, "segments' own bytes include terminators and skipped lines");
}

#[test]
fn escape_free_delimiters() {
    // Three encoding characters: no subcomponent separator, '&' is plain text.
    let bytes = b"MSH|^~\\|A\rPID|||a&b^c\r".to_vec();
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.delimiters().subcomponent, None);
    let c = m.segment(1).unwrap().field(3).component(1);
    assert_eq!(c.subcomponent_count(), 1);
    assert_eq!(c.text(), "a&b");
    // Five encoding characters (v2.7 truncation character) are accepted.
    let bytes = b"MSH|^~\\&#|A\rPID|||a#b\r".to_vec();
    let m = Message::parse(&bytes).unwrap();
    assert_eq!(m.delimiters(), Delimiters::STANDARD);
    assert_eq!(m.get("PID-3").unwrap().unwrap(), "a#b");
}

#[test]
fn field_walk_agrees_with_field_access_around_the_offset_cache() {
    // The view caches 48 field separators: `fields()` takes the cached ones from the cache and
    // scans for the rest, so every count around that edge, for MSH (whose MSH-1 is the
    // separator) and for another segment, must give what `field(n)` gives.
    for n in [0usize, 1, 2, 46, 47, 48, 49, 50, 51, 97] {
        let many: Vec<String> = (1..=n).map(|i| format!("v{i}^c")).collect();
        let tail = if n == 0 { String::new() } else { format!("|{}", many.join("|")) };
        let input = format!("MSH|^~\\&{tail}\rZZZ{tail}\r");
        let opts = ParseOptions { lenient_charset: true, ..Default::default() };
        let m = Message::parse_with(input.as_bytes(), &opts).unwrap();
        for seg in m.segments() {
            let walked: Vec<_> = seg.fields().collect();
            assert_eq!(walked.len(), seg.field_count(), "{} with {n} values", seg.id());
            for (i, f) in walked.iter().enumerate() {
                let g = seg.field(i + 1);
                assert_eq!((f.raw(), f.location()), (g.raw(), g.location()), "{}-{} of {n}", seg.id(), i + 1);
            }
        }
    }
}

#[test]
fn field_access_agrees_with_linear_walk_on_long_segments() {
    // 120 fields (beyond the inline offset cache) and a segment longer than 64 KiB.
    let many: Vec<String> = (1..=120).map(|i| format!("f{i}")).collect();
    let big = "x".repeat(70_000);
    let input = format!(
        "MSH|^~\\&|{}\rZDS|{}\rOBX|1|{big}|a|{big}|b^c\r",
        many.join("|"),
        many.join("|")
    );
    // MSH-18 holds "f16" here, hence the lenient character set.
    let opts = ParseOptions { lenient_charset: true, ..Default::default() };
    let m = Message::parse_with(input.as_bytes(), &opts).unwrap();
    for seg in m.segments() {
        let walked: Vec<_> = seg.fields().collect();
        assert_eq!(walked.len(), seg.field_count());
        for (i, f) in walked.iter().enumerate() {
            let g = seg.field(i + 1);
            assert_eq!(f.raw(), g.raw(), "{}-{}", seg.id(), i + 1);
            assert_eq!(f.location(), g.location());
        }
        assert!(seg.field(seg.field_count() + 1).is_empty());
    }
    let zds = m.segment(1).unwrap();
    assert_eq!(zds.field_count(), 120);
    assert_eq!(zds.field(120).text(), "f120");
    assert_eq!(zds.field(49).text(), "f49");
    assert_eq!(m.segment(0).unwrap().field(122).text(), "f120");
    let obx = m.segment(2).unwrap();
    assert_eq!(obx.field(3).text(), "a");
    assert_eq!(obx.field(5).component(2).text(), "c");
    assert_eq!(obx.field(5).location().byte, input.rfind("b^c").unwrap());
    assert_eq!(m.get("OBX-5.2").unwrap().unwrap(), "c");
}

#[test]
fn utf8_values_are_read_as_slices_of_the_message_validated_once() {
    use std::borrow::Cow;
    // A UTF-8 message valid as a whole: a value without escapes is borrowed from it as text
    // (no second validation, no copy); one with an escape is decoded into a new string; MSH-2
    // (which holds the escape character itself) is read as it is.
    let input = "MSH|^~\\&|A|B|||20260106||ADT^A01|1|P|2.5.1|||||FRA|UNICODE UTF-8\rPID|||1^^^H\\T\\I||Élodie^Zoé\r";
    let m = Message::parse(input.as_bytes()).unwrap();
    let pid = m.segment(1).unwrap();
    let name = pid.field(5).first();
    assert!(matches!(name.component(1).text(), Cow::Borrowed("Élodie")));
    assert!(matches!(name.component(2).text(), Cow::Borrowed("Zoé")));
    assert!(matches!(pid.field(3).first().component(4).text(), Cow::Owned(ref s) if s == "H&I"));
    assert!(matches!(m.segment(0).unwrap().field(2).text(), Cow::Borrowed("^~\\&")));
    // Not valid UTF-8 as a whole: the strict parse still locates the bad byte.
    let mut bad = input.as_bytes().to_vec();
    let at = input.find("Zo").unwrap() + 2;
    bad[at] = 0xFF;
    let e = Message::parse(&bad).unwrap_err();
    assert_eq!(e.location().byte, at, "{e}");
}

/// The typed repetition iterator walks a field once, remembering where the next repetition
/// starts: it must cut the field where the generic view does, locate each repetition the
/// same way, and agree with random access by index.
#[test]
fn typed_repetitions_are_the_views_repetitions() {
    use hl7_runtime::typed::{Part, Primitive, Reps};
    for field in ["", "a", "a~b", "~", "a~~c~", "~~~", r"x^y~z&w~\R\", "123^^^H&1.2&ISO^PI~456^^^O~~789"] {
        let bytes = join(&[r"MSH|^~\&|A|B|C|D|20260101||ADT^A01|1|P|2.5.1", &format!("PID|1||{field}|x")]);
        let msg = Message::parse(&bytes).expect("parses");
        let f = msg.segment(1).expect("PID").field(3);
        let view: Vec<_> = if f.is_empty() { Vec::new() } else { f.repetitions().map(|r| (r.raw(), r.location())).collect() };
        let reps = Reps::<Primitive>::new(f);
        assert_eq!(reps.len(), view.len(), "{field:?}");
        let by_index: Vec<_> = (1..=view.len()).map(|i| reps.get(i).map(|p| (p.raw(), p.location()))).collect();
        let walked: Vec<_> = reps
            .map(|p| match p.part() {
                Part::Repetition(r) => (r.raw(), r.location()),
                other => panic!("a repetition, not {other:?}"),
            })
            .collect();
        assert_eq!(walked, view, "{field:?}");
        assert_eq!(by_index, view.into_iter().map(Some).collect::<Vec<_>>(), "{field:?}");
    }
}
