//! The assertion language of the hand-kept rules: every real rule parses, bad input is
//! reported with an offset, and evaluation follows `spec/HAND-FORMAT.md`.

use hl7_runtime::meta::{Discriminator, GroupDef, MessageDef, Node, SegmentDef, SegmentNode, SliceDef, Usage, UNBOUNDED};
use hl7_runtime::typed::Placed;
use hl7_runtime::validate::assertion::{
    contexts, eval, parse, segment_scope, CmpOp, CountTarget, Expr, Operand, Ref, RelOp, Rhs, Scope, Truth,
};
use hl7_runtime::Message;

// ---------------------------------------------------------------- real rules

/// `(file, context, text)` of every condition and assertion of the hand files.
fn real_rules() -> Vec<(String, Option<String>, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/telerad");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".hand.json") {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for (array, key) in [("predicates", "condition"), ("conformance", "assertion")] {
            for item in v[array].as_array().unwrap() {
                let text = item[key].as_str().unwrap_or_else(|| panic!("{name}: {array} without {key}"));
                let ctx = item.get("context").and_then(|c| c.as_str()).map(str::to_owned);
                out.push((name.clone(), ctx, text.to_owned()));
            }
        }
    }
    assert!(out.len() >= 30, "expected the hand files' rules, found {}", out.len());
    out
}

#[test]
fn every_rule_of_the_hand_files_parses_and_prints_back() {
    for (file, _, text) in real_rules() {
        let e = parse(&text).unwrap_or_else(|err| panic!("{file}: `{text}`: {err}"));
        // Printing and re-parsing is the identity: the AST keeps everything the text says.
        let again = parse(&e.to_string()).unwrap_or_else(|err| panic!("{file}: reprint `{e}`: {err}"));
        assert_eq!(again, e, "{file}: `{text}`");
    }
}

#[test]
fn no_prefix_or_mangled_rule_panics() {
    for (_, _, text) in real_rules() {
        let chars: Vec<char> = text.chars().collect();
        for n in 0..=chars.len() {
            let prefix: String = chars[..n].iter().collect();
            let _ = parse(&prefix);
            let suffix: String = chars[n..].iter().collect();
            let _ = parse(&suffix);
            // Drop one character, and replace one by a character with a multi-byte encoding.
            let mut dropped = chars.clone();
            if n < dropped.len() {
                dropped.remove(n);
                let _ = parse(&dropped.iter().collect::<String>());
                let mut odd = chars.clone();
                odd[n] = 'é';
                let _ = parse(&odd.iter().collect::<String>());
            }
        }
    }
    for weird in ["", " ", "(", ")", "'", "''", "PID-", "PID-0", "PID-99999999", "count(", "count(PID) <", "count(PID) = 99999999999", "original.", "original.PID", "matches(PID-1, '(')", "NOT", "NOT NOT", "ANY(", "-", "!", "PID-1[", "PID-1[2", "PID-1.", "PID-1.2.", "\u{0}"] {
        let _ = parse(weird);
    }
    // Deep nesting is an error, not a stack overflow.
    for open in ["(", "NOT ", "NOT ("] {
        let text = format!("{}present(PID-1)", open.repeat(100_000));
        assert!(parse(&text).unwrap_err().message.contains("nested deeper"));
    }
    let ok = format!("{}present(PID-1){}", "(".repeat(30), ")".repeat(30));
    assert!(parse(&ok).is_ok());
}

#[test]
fn ast_of_the_spec_examples() {
    let pid = |field, component, subcomponent| Ref {
        original: false,
        segment: "PID".into(),
        field,
        repetition: None,
        component,
        subcomponent,
    };
    assert_eq!(
        parse("PV1-2 IN ('E','I','O','R')").unwrap(),
        Expr::In(
            Operand::Ref(Ref { segment: "PV1".into(), ..pid(2, None, None) }),
            vec!["E".into(), "I".into(), "O".into(), "R".into()]
        )
    );
    assert_eq!(
        parse("ANY(PID-3.5) = 'INS' AND ANY(PID-3.4.2) = '1.2.250.1.213.1.4.10'").unwrap(),
        Expr::And(vec![
            Expr::Compare { left: Operand::Any(pid(3, Some(5), None)), op: CmpOp::Eq, right: Rhs::Literal("INS".into()) },
            Expr::Compare {
                left: Operand::Any(pid(3, Some(4), Some(2))),
                op: CmpOp::Eq,
                right: Rhs::Literal("1.2.250.1.213.1.4.10".into())
            },
        ])
    );
    assert_eq!(
        parse("count(NTE) <= 1").unwrap(),
        Expr::Count { target: CountTarget::Segment("NTE".into()), op: RelOp::Le, n: 1 }
    );
    assert_eq!(
        parse("MSH-5 = original.MSH-3").unwrap(),
        Expr::Compare {
            left: Operand::Ref(Ref { segment: "MSH".into(), ..pid(5, None, None) }),
            op: CmpOp::Eq,
            right: Rhs::Operand(Operand::Ref(Ref { original: true, segment: "MSH".into(), ..pid(3, None, None) })),
        }
    );
    let r = parse("PID-3[2].4.2 = 'x'").unwrap();
    let Expr::Compare { left: Operand::Ref(r), .. } = r else { panic!() };
    assert_eq!((r.field, r.repetition, r.component, r.subcomponent), (3, Some(2), Some(4), Some(2)));
    // `''` is an escaped quote.
    assert_eq!(
        parse("PID-5 = 'l''eau'").unwrap(),
        Expr::Compare { left: Operand::Ref(pid(5, None, None)), op: CmpOp::Eq, right: Rhs::Literal("l'eau".into()) }
    );
    // NOT > AND > OR.
    let e = parse("NOT present(PID-1) AND present(PID-2) OR present(PID-3)").unwrap();
    assert_eq!(
        e,
        Expr::Or(vec![
            Expr::And(vec![Expr::Not(Box::new(Expr::Present(pid(1, None, None)))), Expr::Present(pid(2, None, None))]),
            Expr::Present(pid(3, None, None)),
        ])
    );
    // A segment id may contain digits (RQ1) and is not a keyword.
    assert!(matches!(parse("count(RQ1) = 0").unwrap(), Expr::Count { target: CountTarget::Segment(s), .. } if s == "RQ1"));
}

#[test]
fn parse_errors_carry_a_character_offset() {
    let cases: &[(&str, usize, &str)] = &[
        ("", 0, "expected an expression"),
        ("PID-3 = ", 8, "expected a path or a quoted string"),
        ("PID-3 = 'x", 8, "unterminated string"),
        ("PID-0 = 'x'", 4, "positions start at 1"),
        ("PID-03 = 'x'", 4, "no leading zero"),
        ("PID-3[ = 'x'", 6, "expected a repetition number"),
        ("PID-3 and PID-4", 6, "unknown word `and`"),
        ("present(PID-3) present(PID-4)", 15, "expected `AND`, `OR` or end of input"),
        ("PID-3 < 'x'", 6, "compare only with"),
        ("matches(PID-3, '(')", 15, "invalid regular expression"),
        ("count(PID) = x", 13, "unknown word `x`"),
        ("count(PID) = 'x'", 13, "expected an integer"),
        ("(present(PID-3)", 15, "expected `)`"),
        ("PID-3 IN ()", 10, "expected a quoted string"),
        ("original.pid-3 = 'x'", 9, "after `original.`"),
        ("PID-3.4.2.1 = 'x'", 9, "at most field"),
        ("ANY(PID-3 = 'x'", 10, "expected `)`"),
        // Offsets count characters, not bytes: `é` is two bytes.
        ("PID-5 = 'é' ?", 12, "unexpected character `?`"),
        ("PID-3 ! 'x'", 6, "expected `!=`"),
        ("NOT", 3, "expected an expression"),
    ];
    for (text, at, msg) in cases {
        let err = parse(text).expect_err(text);
        assert_eq!(err.at, *at, "`{text}`: {err}");
        assert!(err.message.contains(msg), "`{text}`: {err}");
        assert_eq!(err.to_string(), format!("at {}: {}", err.at, err.message));
    }
}

// ---------------------------------------------------------------- a tiny structure

macro_rules! seg {
    ($name:ident, $id:literal) => {
        static $name: SegmentDef = SegmentDef { id: $id, name: $id, fields: &[], constraints: None };
    };
}
seg!(MSH, "MSH");
seg!(MSA, "MSA");
seg!(PID, "PID");
seg!(ORC, "ORC");
seg!(OBR, "OBR");
seg!(NTE, "NTE");
seg!(OBX, "OBX");

const fn s(def: &'static SegmentDef, min: u32, max: u32) -> Node {
    Node::Segment(SegmentNode { def, usage: Usage::O, min, max, src: "" })
}

static REGION: SliceDef = SliceDef {
    name: "region",
    title: "Région",
    usage: Usage::O,
    min: 0,
    max: UNBOUNDED,
    discriminator: &[Discriminator::Value { path: "OBX-3.1", field: 3, component: Some(1), value: "REGION" }],
    segments: &[],
    value_type: None,
    src: "",
};
static OBSERVATION: GroupDef = GroupDef {
    name: "OBSERVATION",
    usage: Usage::O,
    min: 0,
    max: UNBOUNDED,
    choice: false,
    children: &[s(&OBX, 1, 1), s(&NTE, 0, UNBOUNDED)],
    first: &["OBX"],
    slices: &[&REGION],
    src: "",
};
static ORDER: GroupDef = GroupDef {
    name: "ORDER",
    usage: Usage::R,
    min: 1,
    max: UNBOUNDED,
    choice: false,
    children: &[s(&ORC, 1, 1), s(&OBR, 1, 1), s(&NTE, 0, UNBOUNDED), Node::Group(&OBSERVATION)],
    first: &["ORC"],
    slices: &[],
    src: "",
};
static ROOT: GroupDef = GroupDef {
    name: "TEST",
    usage: Usage::R,
    min: 1,
    max: 1,
    choice: false,
    children: &[s(&MSH, 1, 1), s(&MSA, 0, 1), s(&PID, 0, 1), Node::Group(&ORDER)],
    first: &["MSH"],
    slices: &[],
    src: "",
};
static DEF: MessageDef = MessageDef {
    profile: "test",
    title: "test",
    code: "ORM",
    event: Some("O01"),
    structure: "TEST",
    root: &ROOT,
    segments: &[],
    rules: &[],
    extends: None,
};

fn join(segments: &[&str]) -> Vec<u8> {
    let mut out = segments.join("\r").into_bytes();
    out.push(b'\r');
    out
}

const MSH_LINE: &str = r"MSH|^~\&|SEND|FAC|RECV|FAC2|20260106134418||ORM^O01^ORM_O01|MSG1|P|2.5.1";

fn sample() -> Vec<u8> {
    join(&[
        MSH_LINE,
        // PID-3: an INS repetition and a local one; PID-5 with an escaped `^` and trailing
        // empty components; PID-8 empty; PID-11 with subcomponents.
        r"PID|1||1234567890123^^^INSi&1.2.250.1.213.1.4.8&ISO^INS~L42^^^HOSP^PI||Dupont\S\Durand^Jean^^^^^L^^||19790328||||1 rue&Rue&1^^Paris^^75001",
        "ORC|NW|A1||||||||||DR1",
        "OBR|1|A1||||||||||||||DR1",
        "NTE|1||order note",
        "OBX|1|CE|REGION^Region||x||||||F|||||||||1.1",
        "NTE|1||obs note 1",
        "NTE|2||obs note 2",
        "OBX|2|CE|OTHER^Autre||y||||||F|||||||||1.2",
        "ORC|NW|A2||||||||||DR2",
        "OBR|1|B2||||||||||||||DR2",
        "OBX|1|CE|REGION^Region||z||||||F|||||||||x",
    ])
}

fn check(placed: &Placed<'_>, context: Option<&str>, rule: &str) -> Vec<Truth> {
    let e = parse(rule).unwrap_or_else(|err| panic!("`{rule}`: {err}"));
    contexts(placed, context).unwrap().iter().map(|sc| eval(&e, sc)).collect()
}

fn whole(placed: &Placed<'_>, rule: &str) -> Truth {
    let v = check(placed, None, rule);
    assert_eq!(v.len(), 1);
    v[0]
}

use Truth::{False as F, True as T, Unknown as U};

#[test]
fn equality_with_paths_literals_and_absent_values() {
    let bytes = sample();
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    assert_eq!(whole(&placed, "MSH-3 = 'SEND'"), T);
    assert_eq!(whole(&placed, "MSH-3 = 'send'"), F, "case-sensitive");
    assert_eq!(whole(&placed, "MSH-9.2 = 'O01'"), T);
    assert_eq!(whole(&placed, "MSH-9 = 'ORM^O01^ORM_O01'"), T, "a field with components compares on its ER7 encoding");
    assert_eq!(whole(&placed, "PID-5 = 'Dupont^Durand^Jean^^^^^L'"), T, "escapes decoded per part, trailing empties dropped");
    assert_eq!(whole(&placed, "PID-5.1 = 'Dupont^Durand'"), T);
    assert_eq!(whole(&placed, "PID-3.4 = 'INSi&1.2.250.1.213.1.4.8&ISO'"), T, "a component with subcomponents");
    assert_eq!(whole(&placed, "PID-3.4.2 = '1.2.250.1.213.1.4.8'"), T);
    assert_eq!(whole(&placed, "PID-3[2].1 = 'L42'"), T);
    assert_eq!(whole(&placed, "PID-3[3].1 = 'L42'"), F);
    assert_eq!(whole(&placed, "OBR-16 = ORC-12"), T, "path = path, first ORDER");
    // Absent on either side: `=` is false, `!=` is true, even between two absent values.
    assert_eq!(whole(&placed, "PID-8 = 'M'"), F);
    assert_eq!(whole(&placed, "PID-8 != 'M'"), T);
    assert_eq!(whole(&placed, "PID-8 = PID-9"), F);
    assert_eq!(whole(&placed, "PID-8 != PID-9"), T);
    assert_eq!(whole(&placed, "ZZZ-1 != 'x'"), T, "a segment that occurs nowhere is absent, not unknown");
    assert_eq!(whole(&placed, "PID-1 != '1'"), F);
}

#[test]
fn in_present_absent_matches() {
    let bytes = sample();
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    assert_eq!(whole(&placed, "MSH-11 IN ('P','T','D')"), T);
    assert_eq!(whole(&placed, "MSH-11 IN ('T','D')"), F);
    assert_eq!(whole(&placed, "PID-8 IN ('')"), F, "an absent value is in no list");
    assert_eq!(whole(&placed, "present(PID-7) AND absent(PID-8) AND absent(PID-99) AND absent(ZZZ-1)"), T);
    assert_eq!(whole(&placed, "present(PID-5.7) AND absent(PID-5.8)"), T);
    assert_eq!(whole(&placed, "matches(PID-7, '[0-9]{8}')"), T);
    assert_eq!(whole(&placed, "matches(PID-7, '[0-9]{4}')"), F, "anchored at both ends");
    assert_eq!(whole(&placed, "matches(PID-7, '1979|2026')"), F, "alternation stays inside the anchors");
    assert_eq!(whole(&placed, "matches(PID-8, '.*')"), F, "absent never matches");
}

#[test]
fn any_quantifies_over_repetitions() {
    let bytes = sample();
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    assert_eq!(whole(&placed, "PID-3.5 = 'PI'"), F, "without ANY: the first repetition");
    assert_eq!(whole(&placed, "ANY(PID-3.5) = 'PI'"), T);
    assert_eq!(whole(&placed, "ANY(PID-3.5) IN ('XX','PI')"), T);
    assert_eq!(whole(&placed, "matches(ANY(PID-3.1), 'L[0-9]+')"), T);
    assert_eq!(whole(&placed, "ANY(PID-3.5) = 'NNN'"), F);
    assert_eq!(whole(&placed, "ANY(PID-3.5) != 'INS'"), T, "the second repetition is not INS");
    assert_eq!(whole(&placed, "ANY(PID-32) = 'VALI'"), F);
    assert_eq!(whole(&placed, "ANY(PID-32) != 'VALI'"), T, "an empty field is one absent value");
}

#[test]
fn count_segments_and_repetitions() {
    let bytes = sample();
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    assert_eq!(whole(&placed, "count(PID-3) = 2"), T);
    assert_eq!(whole(&placed, "count(PID-8) = 0 AND count(ZZZ-1) = 0"), T);
    assert_eq!(whole(&placed, "count(PID-3.4.2) = 1"), T, "repetitions where the element is present");
    assert_eq!(whole(&placed, "count(OBX) = 3 AND count(ORC) >= 2 AND count(NTE) > 2 AND count(NTE) < 4"), T);
    // Inside a group context: all descendants of that occurrence.
    assert_eq!(check(&placed, Some("ORDER"), "count(NTE) = 3"), vec![T, F]);
    assert_eq!(check(&placed, Some("ORDER"), "count(OBX) != 1"), vec![T, F]);
    assert_eq!(check(&placed, Some("ORDER/OBSERVATION"), "count(NTE) <= 1"), vec![F, T, T]);
}

#[test]
fn not_and_or_precedence() {
    let bytes = sample();
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    // NOT binds tighter than AND, AND tighter than OR.
    assert_eq!(whole(&placed, "NOT present(PID-8) AND present(PID-7)"), T);
    assert_eq!(whole(&placed, "NOT (present(PID-8) AND present(PID-7))"), T);
    assert_eq!(whole(&placed, "NOT (present(PID-7) AND present(PID-7))"), F);
    assert_eq!(whole(&placed, "present(PID-7) OR present(PID-8) AND present(PID-9)"), T);
    assert_eq!(whole(&placed, "(present(PID-7) OR present(PID-8)) AND present(PID-9)"), F);
    assert_eq!(whole(&placed, "NOT NOT present(PID-7)"), T);
    assert_eq!(whole(&placed, "NOT PID-1 = '1'"), F, "a comparison is a primary");
}

#[test]
fn original_is_unknown_without_the_acknowledged_message() {
    let ack = join(&[r"MSH|^~\&|RECV|FAC2|SEND|FAC|20260106134420||ACK^O01^ACK|ACK1|P|2.5.1", "MSA|AA|MSG1"]);
    let orig = sample();
    let placed = Placed::new(Message::parse(&ack).unwrap(), &DEF);
    let original = Message::parse(&orig).unwrap();
    let rules = [
        ("MSH-5 = original.MSH-3", T),
        ("MSA-2 = original.MSH-10", T),
        ("MSH-9.2 = original.MSH-9.2", T),
        ("MSH-3 = original.MSH-3", F),
        ("MSH-3 != original.MSH-3", T),
        ("present(original.PID-5)", T),
        ("absent(original.PID-5)", F),
        ("count(original.PID-3) = 2", T),
    ];
    for (rule, with) in rules {
        let e = parse(rule).unwrap();
        assert_eq!(eval(&e, &Scope::message(&placed)), U, "{rule} without the original");
        assert_eq!(eval(&e, &Scope::message(&placed).with_original(&original)), with, "{rule}");
    }
    // Three-valued logic: Unknown AND False = False, Unknown OR True = True, NOT Unknown = Unknown.
    let sc = Scope::message(&placed);
    let e = |s: &str| eval(&parse(s).unwrap(), &sc);
    assert_eq!(e("MSH-5 = original.MSH-3 AND MSA-1 = 'AE'"), F);
    assert_eq!(e("MSH-5 = original.MSH-3 AND MSA-1 = 'AA'"), U);
    assert_eq!(e("MSH-5 = original.MSH-3 OR MSA-1 = 'AA'"), T);
    assert_eq!(e("MSH-5 = original.MSH-3 OR MSA-1 = 'AE'"), U);
    assert_eq!(e("NOT MSH-5 = original.MSH-3"), U);
    assert_eq!(e("original.MSH-3 IN ('SEND')"), U);
    assert_eq!(e("matches(original.MSH-3, '.*')"), U);
}

#[test]
fn group_contexts_and_nearest_enclosing_resolution() {
    let bytes = sample();
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    assert_eq!(contexts(&placed, Some("ORDER")).unwrap().len(), 2);
    assert_eq!(contexts(&placed, Some("ORDER/OBSERVATION")).unwrap().len(), 3);
    // OBR-2 = ORC-2 holds in the first ORDER only: each ORDER reads its own segments.
    assert_eq!(check(&placed, Some("ORDER"), "OBR-2 = ORC-2"), vec![T, F]);
    // From an OBSERVATION, ORC resolves to the ORC of the enclosing ORDER, PID and MSH to
    // the message's, OBX to the observation's own.
    assert_eq!(check(&placed, Some("ORDER/OBSERVATION"), "ORC-2 = 'A1'"), vec![T, T, F]);
    assert_eq!(check(&placed, Some("ORDER/OBSERVATION"), "ORC-12 = OBR-16 AND PID-1 = '1' AND MSH-3 = 'SEND'"), vec![T, T, T]);
    assert_eq!(check(&placed, Some("ORDER/OBSERVATION"), "OBX-5 IN ('x','z')"), vec![T, F, T]);
    // An NTE directly in the group wins over those of its child groups …
    assert_eq!(check(&placed, Some("ORDER"), "NTE-3 = 'order note'"), vec![T, T]);
    // (The second ORDER has no NTE at all: rule 3 of the spec falls back to the first NTE of
    // the message, which is the first ORDER's.)
    // … and from an OBSERVATION, the observation's own NTE wins over the ORDER's.
    assert_eq!(check(&placed, Some("ORDER/OBSERVATION"), "NTE-3 = 'obs note 1'"), vec![T, F, F]);
    assert_eq!(check(&placed, Some("ORDER/OBSERVATION"), "NTE-3 = 'order note'"), vec![F, T, T]);
    // Without a context: the first occurrence in the message.
    assert_eq!(whole(&placed, "ORC-2 = 'A1' AND OBX-5 = 'x'"), T);
    // The default predicate context: the segment's own occurrence.
    let second_orc = placed.message.segments().position(|s| s.raw().starts_with(b"ORC|NW|A2")).unwrap();
    let sc = segment_scope(&placed, second_orc).unwrap();
    assert_eq!(eval(&parse("ORC-2 = 'A2' AND OBR-2 = 'B2' AND count(OBX) = 1").unwrap(), &sc), T);
    assert!(segment_scope(&placed, 999).is_none());
}

#[test]
fn repetition_context_iterates_the_field() {
    let bytes = sample();
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    assert_eq!(contexts(&placed, Some("PID-3[*]")).unwrap().len(), 2);
    // The real INS rule: each repetition either is not INS or carries an INS OID and ISO.
    let rule = "PID-3.5 != 'INS' OR (PID-3.4.2 IN ('1.2.250.1.213.1.4.8','1.2.250.1.213.1.4.9','1.2.250.1.213.1.4.10','1.2.250.1.213.1.4.11') AND PID-3.4.3 = 'ISO')";
    assert_eq!(check(&placed, Some("PID-3[*]"), rule), vec![T, T]);
    assert_eq!(check(&placed, Some("PID-3[*]"), "PID-3.5 = 'INS'"), vec![T, F]);
    assert_eq!(check(&placed, Some("PID-3[*]"), "PID-3.1 = 'L42'"), vec![F, T]);
    // Paths outside that field, explicit indexes and ANY are unaffected by the repetition.
    assert_eq!(check(&placed, Some("PID-3[*]"), "PID-3[1].5 = 'INS' AND PID-1 = '1'"), vec![T, T]);
    assert_eq!(check(&placed, Some("PID-3[*]"), "ANY(PID-3.5) = 'PI' AND count(PID-3) = 2"), vec![T, T]);
    // An empty field, and a segment that is absent, have no repetition: vacuous.
    assert!(contexts(&placed, Some("PID-8[*]")).unwrap().is_empty());
    assert!(contexts(&placed, Some("MSA-1[*]")).unwrap().is_empty());
    // With a broken INS repetition the rule fails on that repetition only.
    let bad = join(&[MSH_LINE, "PID|1||123^^^X&1.2.3&ISO^INS~L42^^^HOSP^PI~9^^^Y&1.2.250.1.213.1.4.9&ISO^INS"]);
    let placed = Placed::new(Message::parse(&bad).unwrap(), &DEF);
    assert_eq!(check(&placed, Some("PID-3[*]"), rule), vec![F, T, T]);
}

#[test]
fn slice_context_selects_matching_occurrences() {
    let bytes = sample();
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    assert_eq!(contexts(&placed, Some("slice:region")).unwrap().len(), 2);
    // The real sub-id rule of the anatomical region slice.
    assert_eq!(check(&placed, Some("slice:region"), r"matches(OBX-4, '[1-9][0-9]*\.1')"), vec![F, F]);
    assert_eq!(check(&placed, Some("slice:region"), r"matches(OBX-20, '[1-9][0-9]*\.1')"), vec![T, F]);
    assert_eq!(check(&placed, Some("slice:region"), "ORC-2 = 'A1'"), vec![T, F]);
}

#[test]
fn unknown_contexts_are_errors_and_known_empty_ones_are_vacuous() {
    let bytes = join(&[MSH_LINE]);
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    for bad in ["NOPE", "ORDER/NOPE", "OBSERVATION", "slice:nope", "PID-3", "PID-0[*]", "pid-3[*]", "ORDER//OBSERVATION", ""] {
        assert!(contexts(&placed, Some(bad)).is_err(), "{bad}");
    }
    assert!(contexts(&placed, Some("ORDER")).unwrap().is_empty());
    assert!(contexts(&placed, Some("ORDER/OBSERVATION")).unwrap().is_empty());
    assert!(contexts(&placed, Some("slice:region")).unwrap().is_empty());
    assert_eq!(contexts(&placed, None).unwrap().len(), 1);
}

#[test]
fn real_rules_evaluate_on_a_sample_without_panicking() {
    let bytes = sample();
    let placed = Placed::new(Message::parse(&bytes).unwrap(), &DEF);
    for (file, ctx, text) in real_rules() {
        let e = parse(&text).unwrap();
        // The sample's structure is not the profile's: contexts it lacks are skipped.
        let Ok(scopes) = contexts(&placed, ctx.as_deref()) else { continue };
        for sc in &scopes {
            let t = eval(&e, sc);
            if text.contains("original.") {
                assert_eq!(t, U, "{file}: {text}");
            }
        }
    }
}
