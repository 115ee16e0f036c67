//! Format checks of HL7 primitives and the French datatype rules: each function with values
//! that pass, values that fail, and the examples published in the guide and the French texts.

use hl7_runtime::validate::formats::{
    self, base64, cx, dt, dtm, ei, hd, nir, nm, oid, oids, si, tm, xcn, xon, ComponentProblem, CxParts, EiParts,
    HdParts, XcnParts, XonParts,
};

fn rules(problems: &[ComponentProblem]) -> Vec<&'static str> {
    problems.iter().map(|p| p.rule).collect()
}

fn err(r: Result<(), formats::FormatError>) -> String {
    match r {
        Ok(()) => panic!("expected an error"),
        Err(e) => e.message,
    }
}

/// Key from the published formula, so tests do not depend on hand-computed keys.
fn key(nir13: &str) -> u64 {
    let numeric = nir13.replacen("2A", "19", 1).replacen("2B", "18", 1);
    97 - numeric.parse::<u64>().unwrap() % 97
}

fn with_key(nir13: &str) -> String {
    format!("{nir13}{:02}", key(nir13))
}

// ---- DT ----

#[test]
fn dt_accepts_all_precisions_and_leap_days() {
    for ok in ["2024", "202402", "20240229", "20000229", "19991231", "20230228", "20250131", "20250430"] {
        assert_eq!(dt(ok), Ok(()), "{ok}");
    }
}

#[test]
fn dt_rejects_impossible_dates_with_reason() {
    let m = err(dt("20230229"));
    assert!(m.contains("\"20230229\"") && m.contains("February 2023 has 28 days"), "{m}");
    let m = err(dt("19000229"));
    assert!(m.contains("February 1900 has 28 days") && m.contains("not a leap year"), "{m}");
    assert!(err(dt("20260231")).contains("February 2026 has 28 days"));
    assert!(err(dt("20250431")).contains("April has 30 days"));
    assert!(err(dt("202513")).contains("month 13"));
    assert!(err(dt("20251301")).contains("month 13"));
    assert!(err(dt("202500")).contains("month 00"));
    assert!(err(dt("20250100")).contains("day 00"));
    assert!(err(dt("2025-01-01")).contains("position 5"));
    assert!(err(dt("20250101120000")).contains("14 digits"));
    assert!(err(dt("202")).contains("3 digits"));
    assert!(err(dt("")).contains("empty"));
    assert!(dt("2025011").is_err());
}

// ---- DTM / TS ----

#[test]
fn dtm_accepts_guide_examples_and_all_precisions() {
    // IHE France data types 1.8.2 page 17 examples, and timestamps from the guide's examples.
    for ok in [
        "1967",
        "20080314",
        "200803141001",
        "200803141041+0100",
        "20080314104103+0000",
        "20260106134418",
        "2026010613",
        "20260106134418.1",
        "20260106134418.1234",
        "20260106134418.1234-0500",
        "20240229235959",
        "20250101000000-1200",
        "20250101000000+1400",
        "20250101000000+0545",
        "202501",
    ] {
        assert_eq!(dtm(ok), Ok(()), "{ok}");
    }
}

#[test]
fn dtm_rejects_bad_calendar_clock_and_zone() {
    assert!(err(dtm("20230229120000")).contains("February 2023 has 28 days"));
    assert!(err(dtm("202513011200")).contains("month 13"));
    assert!(err(dtm("2025010124")).contains("hour 24"));
    assert!(err(dtm("202501011260")).contains("minute 60"));
    assert!(err(dtm("20250101120060")).contains("second 60"));
    assert!(err(dtm("20250101120000+1500")).contains("beyond +1400"));
    assert!(err(dtm("20250101120000-1300")).contains("beyond -1200"));
    assert!(err(dtm("20250101120000+0160")).contains("minutes 60"));
    assert!(err(dtm("20250101120000+01")).contains("exactly 4 digits"));
    assert!(err(dtm("20250101120000+01:00")).contains("':' at position 18"));
    assert!(err(dtm("202501011200.5")).contains("only allowed after the seconds"));
    assert!(err(dtm("20250101120000.12345")).contains("at most 4 digits"));
    assert!(err(dtm("20250101120000.")).contains("1 to 4 digits"));
    assert!(err(dtm("2025010112000")).contains("13 digits"));
    let m = err(dtm("2025-01-01T12:00"));
    assert!(m.contains("'T' at position 11") && m.contains("ISO 8601"), "{m}");
    assert!(err(dtm("2025-01-01")).contains("no '-' separators"));
    assert!(err(dtm("20250101+0100-0100")).contains("only one"));
    assert!(err(dtm("2025.5")).contains("only allowed after the seconds"));
    assert!(dtm("").is_err());
    assert!(dtm("+0100").is_err());
}

// ---- TM ----

#[test]
fn tm_accepts_and_rejects() {
    for ok in ["00", "23", "2359", "235959", "235959.9", "235959.1234", "1200+0100", "120000.5-0330"] {
        assert_eq!(tm(ok), Ok(()), "{ok}");
    }
    assert!(err(tm("24")).contains("hour 24"));
    assert!(err(tm("1260")).contains("minute 60"));
    assert!(err(tm("120061")).contains("second 61"));
    assert!(err(tm("123")).contains("3 digits"));
    assert!(err(tm("12:00")).contains("':' at position 3"));
    assert!(err(tm("12-00-00")).contains("only one"));
    assert!(err(tm("1200.5")).contains("only allowed after the seconds"));
    assert!(err(tm("1200+2000")).contains("beyond +1400"));
    assert!(tm("").is_err());
}

// ---- NM / SI ----

#[test]
fn nm_accepts_and_rejects() {
    for ok in ["0", "-1.5", "+3", "12.", ".5", "007", "-0.0001", "123456789012345678901234567890"] {
        assert_eq!(nm(ok), Ok(()), "{ok}");
    }
    assert!(err(nm("1e5")).contains("exponent"));
    assert!(err(nm(".")).contains("no digit"));
    assert!(err(nm("-")).contains("no digit"));
    assert!(err(nm("1.2.3")).contains("more than one decimal point"));
    assert!(err(nm("1 000")).contains("a space"));
    assert!(err(nm(" 1")).contains("a space"));
    assert!(err(nm("1,5")).contains("decimal separator"));
    assert!(err(nm("1-")).contains("first character"));
    assert!(err(nm("+-1")).contains("first character"));
    assert!(nm("").is_err());
    assert!(nm("abc").is_err());
}

#[test]
fn si_accepts_and_rejects() {
    for ok in ["0", "1", "42", "9999"] {
        assert_eq!(si(ok), Ok(()), "{ok}");
    }
    assert!(err(si("-1")).contains("negative"));
    assert!(si("+1").is_err());
    assert!(si("1.0").is_err());
    assert!(si("").is_err());
    assert!(si(" 1").is_err());
}

// ---- OID ----

#[test]
fn oid_accepts_known_oids() {
    for ok in [
        oids::INS_NIR,
        oids::INS_NIA,
        oids::INS_NIR_TEST,
        oids::INS_NIR_DEMO,
        oids::INS_C,
        oids::CNOP_NDP,
        oids::ASIP_SANTE_PS,
        oids::ASIP_SANTE_ST,
        oids::LOINC,
        "1.2.250.1.748.12345678.12",
        "0.0",
        "2.999",
        "1.39",
        "2.25.329800735698586629295641978511506172918",
    ] {
        assert_eq!(oid(ok), Ok(()), "{ok}");
    }
}

#[test]
fn oid_rejects_malformed() {
    assert!(err(oid("1.02.3")).contains("leading zero"));
    assert!(err(oid("3.1")).contains("first arc"));
    assert!(err(oid("1")).contains("at least two arcs"));
    assert!(err(oid("1..2")).contains("empty arc"));
    assert!(err(oid(".1.2")).contains("empty arc"));
    assert!(err(oid("1.2.")).contains("empty arc"));
    assert!(err(oid("1.40")).contains("0 to 39"));
    assert!(err(oid("1.2.250.a")).contains("position 9"));
    assert!(err(oid("urn:oid:1.2.3")).contains("only digits and dots"));
    assert!(oid("").is_err());
    assert!(oid("1.2 ").is_err());
}

// ---- NIR ----

#[test]
fn nir_keys_from_the_formula() {
    for body in ["1850775123456", "2990199123001", "1600162015089", "2760375106693", "1010101001001"] {
        let full = with_key(body);
        assert_eq!(nir(&full), Ok(()), "{full}");
        // Every other key is wrong and the message names the right one.
        let wrong = format!("{body}{:02}", (key(body) % 97) + 1);
        let m = err(nir(&wrong));
        assert!(m.contains(&format!("gives key {:02}", key(body))), "{m}");
    }
}

#[test]
fn guide_example_nir_has_a_correct_key() {
    // Teleradiology guide exemples.md, PID-3 of every flow: 279035121518989 (INS-NIR, test OID).
    assert_eq!(key("2790351215189"), 89);
    assert_eq!(nir("279035121518989"), Ok(()));
}

#[test]
fn french_texts_nir_examples() {
    // IHE France data types 1.8.2 page 8: the beneficiary NIR example is right...
    assert_eq!(nir("276037510669326"), Ok(()));
    // ...but the INS-NIR example on the same page reuses that NIR with key 80, which is wrong.
    let m = err(nir("276037510669380"));
    assert!(m.contains("the key is 80") && m.contains("gives key 26"), "{m}");
    // IHE PAM-FR 2.11.2 page 18: INS-NIR example.
    assert_eq!(nir("260058815400233"), Ok(()));
}

#[test]
fn nir_corsica() {
    let a = with_key("185072A123456");
    let b = with_key("285072B123456");
    assert_eq!(nir(&a), Ok(()), "{a}");
    assert_eq!(nir(&b), Ok(()), "{b}");
    // 2A and 2B do not share a key with the digits 20 or with each other.
    assert_ne!(key("185072A123456"), key("1850720123456"));
    assert_ne!(key("185072A123456"), key("185072B123456"));
    // The 2A key must not validate a 2B NIR.
    let swapped = format!("{}{}", "185072B123456", &a[13..]);
    assert!(nir(&swapped).is_err());
    let lower = a.replace("2A", "2a");
    assert!(err(nir(&lower)).contains("upper case"));
    assert!(err(nir(&with_key("1850720123456").replace("720", "7AB"))).contains("department"));
}

#[test]
fn nir_rejects_bad_shapes() {
    assert!(err(nir("27903512151898")).contains("14 characters"));
    assert!(err(nir("2790351215189890")).contains("16 characters"));
    assert!(err(nir("27903512151898X")).contains("position 15"));
    assert!(err(nir("2790351215 8989")).contains("a space"));
    assert!(err(nir("")).contains("0 characters"));
    assert!(nir("27903512151898é").is_err());
}

// ---- Base64 ----

#[test]
fn base64_valid_and_invalid() {
    assert_eq!(base64("SGVsbG8="), Ok(5));
    assert_eq!(base64("SGVsbG8h"), Ok(6));
    assert_eq!(base64("SGk="), Ok(2));
    assert_eq!(base64("SA=="), Ok(1));
    assert_eq!(base64("+/+/"), Ok(3));
    assert_eq!(base64(""), Ok(0));
    // Missing padding.
    assert!(base64("SGVsbG8").unwrap_err().message.contains("padding is missing"));
    // Too much or misplaced padding.
    assert!(base64("SGk==").is_err());
    assert!(base64("SG=k").is_err());
    assert!(base64("S===").is_err());
    // URL-safe alphabet is not standard Base64.
    assert!(base64("-_-_").unwrap_err().message.contains("URL-safe"));
    // Non-alphabet characters, including whitespace and non-ASCII.
    assert!(base64("SGVs bG8=").unwrap_err().message.contains("a space"));
    assert!(base64("SGVs\nbG8=").is_err());
    assert!(base64("SGVsbé==").is_err());
    // Non-canonical trailing bits ("SGl=" decodes to "Hi" only if the extra bits are ignored).
    assert!(base64("SGl=").is_err());
}

#[test]
fn guide_flow3_payload_is_not_base64() {
    // exemples.md flow 3, OBX-5 declared ^TEXT^^Base64^Pendggfbubzbdy12gggvt: 21 characters.
    let e = base64("Pendggfbubzbdy12gggvt").unwrap_err();
    assert!(e.message.contains("Pendggfbubzbdy12gggvt") && e.message.contains("groups of 4"), "{}", e.message);
    // Flow 5's placeholder "Penfhghdegge" happens to be well-formed Base64 (9 bytes of binary
    // noise), so only a content check on the decoded document could flag it.
    assert!(base64("Penfhghdegge").is_ok());
}

// ---- HD ----

#[test]
fn hd_valid_forms() {
    assert!(hd(Some("AUT-AFFECTATION"), None, None).is_empty());
    assert!(hd(Some("ASIP-SANTE-INS-NIR"), Some(oids::INS_NIR), Some("ISO")).is_empty());
    assert!(hd(Some("AUT-AFFECTATION"), Some("120456789"), Some("M")).is_empty());
    assert!(hd(Some("X"), Some("f81d4fae-7dec-11d0-a765-00a0c91e6bf6"), Some("UUID")).is_empty());
    assert!(hd(Some("X"), Some("chu-rennes.fr"), Some("DNS")).is_empty());
    assert!(hd(Some("X"), Some("\"\""), Some("ISO")).is_empty(), "explicit null is not format-checked");
}

#[test]
fn hd_rules_fire() {
    let p = hd(Some("AUTH"), Some("not-an-oid"), Some("ISO"));
    assert_eq!(rules(&p), ["HD-ISO-OID"]);
    assert_eq!((p[0].component, p[0].subcomponent), (2, None));
    assert!(p[0].message.contains("HD-2") && p[0].message.contains("\"not-an-oid\""), "{}", p[0].message);

    assert_eq!(rules(&hd(Some("AUTH"), Some("1.02.3"), Some("ISO"))), ["HD-ISO-OID"]);
    assert_eq!(rules(&hd(Some("AUTH"), Some("1.2.3"), None)), ["HD-3-REQ"]);
    assert_eq!(rules(&hd(Some("AUTH"), None, Some("ISO"))), ["HD-2-REQ"]);
    assert_eq!(rules(&hd(None, Some("1.2.3"), Some("ISO"))), ["HD-1-REQ"]);
    assert_eq!(rules(&hd(Some(""), None, None)), ["HD-1-REQ"]);
    assert_eq!(rules(&hd(Some("AUTH"), Some("1.2.3"), Some("GUID"))), ["HD-3-TABLE"]);
    assert_eq!(rules(&hd(Some("AUTH"), Some("1.2.3"), Some("iso"))), ["HD-3-TABLE"]);
    assert_eq!(rules(&hd(Some("AUTH"), Some("xyz"), Some("UUID"))), ["HD-UUID"]);
    assert_eq!(rules(&hd(Some("AUTH"), Some("a..b"), Some("DNS"))), ["HD-DNS"]);
}

// ---- EI ----

#[test]
fn ei_guide_examples_pass() {
    // exemples.md: ORC-2 OPN101^^1.2.250.1.748.12345678.12^ISO and IPC-1.
    let ok = ei(EiParts {
        entity_identifier: Some("OPN101"),
        namespace_id: None,
        universal_id: Some("1.2.250.1.748.12345678.12"),
        universal_id_type: Some("ISO"),
    });
    assert!(ok.is_empty(), "{ok:?}");
    assert!(ei(EiParts { entity_identifier: Some("X1"), namespace_id: Some("RIS"), ..Default::default() }).is_empty());
}

#[test]
fn ei_rules_fire() {
    let p = ei(EiParts { entity_identifier: Some("X"), universal_id: Some("1.2.3"), universal_id_type: Some("L"), ..Default::default() });
    assert!(p.is_empty(), "{p:?}");
    let p = ei(EiParts { entity_identifier: Some("X"), universal_id: Some("3.1"), universal_id_type: Some("ISO"), ..Default::default() });
    assert_eq!(rules(&p), ["HD-ISO-OID"]);
    assert_eq!(p[0].component, 3, "EI-3 holds the universal ID");
    assert!(p[0].message.contains("EI-3") && p[0].message.contains("EI-4"), "{}", p[0].message);
    assert_eq!(rules(&ei(EiParts { entity_identifier: Some("X"), ..Default::default() })), ["EI-AUTH"]);
    assert_eq!(rules(&ei(EiParts { namespace_id: Some("RIS"), ..Default::default() })), ["EI-1-REQ"]);
    let long = "9".repeat(129);
    assert_eq!(rules(&ei(EiParts { entity_identifier: Some(&long), namespace_id: Some("RIS"), ..Default::default() })), ["EI-1-LEN"]);
    let p = ei(EiParts { entity_identifier: Some("X"), universal_id: Some("1.2.3"), ..Default::default() });
    assert_eq!(rules(&p), ["HD-3-REQ"]);
    assert_eq!(p[0].component, 4);
}

// ---- CX ----

fn ins_nir(id: &'static str, authority: &'static str) -> CxParts<'static> {
    CxParts {
        id_number: Some(id),
        assigning_authority: HdParts::new(Some("ASIP-SANTE-INS-NIR"), Some(authority), Some("ISO")),
        identifier_type_code: Some("INS"),
        ..Default::default()
    }
}

#[test]
fn cx_guide_and_french_examples_pass() {
    // Guide PID-3: test INS-NIR with effective date.
    let mut guide = ins_nir("279035121518989", oids::INS_NIR_TEST);
    guide.effective_date = Some("20101207");
    assert!(cx(guide).is_empty(), "{:?}", cx(guide));
    // Guide PID-18: 405660^^^AUT-AFFECTATION&1204567809&M^AN^^20101205.
    let an = CxParts {
        id_number: Some("405660"),
        assigning_authority: HdParts::new(Some("AUT-AFFECTATION"), Some("1204567809"), Some("M")),
        identifier_type_code: Some("AN"),
        effective_date: Some("20101205"),
        ..Default::default()
    };
    assert!(cx(an).is_empty(), "{:?}", cx(an));
    // IHE France page 8: IPP with the local form of the authority; NH NIR; INS-C; NDP.
    assert!(cx(CxParts {
        id_number: Some("123456789"),
        assigning_authority: HdParts::new(Some("AUT-AFFECTATION"), None, None),
        identifier_type_code: Some("PI"),
        ..Default::default()
    })
    .is_empty());
    let mut nh = ins_nir("276037510669326", oids::INS_NIR);
    nh.identifier_type_code = Some("NH");
    nh.effective_date = Some("20210506");
    assert!(cx(nh).is_empty(), "{:?}", cx(nh));
    let insc = CxParts {
        id_number: Some("0411886319605719371016"),
        assigning_authority: HdParts::new(Some("ASIP-SANTE-INS-C"), Some(oids::INS_C), Some("ISO")),
        identifier_type_code: Some("INS-C"),
        effective_date: Some("20101207"),
        ..Default::default()
    };
    assert!(cx(insc).is_empty(), "{:?}", cx(insc));
    let ndp = CxParts {
        id_number: Some("DUPONT|Jean|19590510|1|1234567891011|clésur14positions"),
        assigning_authority: HdParts::new(Some("CNOP"), Some(oids::CNOP_NDP), Some("ISO")),
        identifier_type_code: Some("NDP"),
        ..Default::default()
    };
    assert!(cx(ndp).is_empty(), "{:?}", cx(ndp));
    // INS-NIA: the key is not checked (the texts do not describe the NIA).
    assert!(cx(ins_nir("260058815400244", oids::INS_NIA)).is_empty());
}

#[test]
fn cx_rules_fire() {
    // Wrong key on an INS-NIR, as in the INS-NIR example of IHE France page 8.
    let p = cx(ins_nir("276037510669380", oids::INS_NIR));
    assert_eq!(rules(&p), ["CX-INS-NIR"]);
    assert_eq!(p[0].component, 1);
    assert!(p[0].message.contains("gives key 26"), "{}", p[0].message);

    assert_eq!(rules(&cx(CxParts::default())), ["CX-1-REQ", "CX-4-REQ"]);
    let mut bad_type = ins_nir("279035121518989", oids::INS_NIR);
    bad_type.identifier_type_code = Some("PI");
    assert_eq!(rules(&cx(bad_type)), ["CX-INS-TYPE"]);
    bad_type.identifier_type_code = Some("XX");
    assert_eq!(rules(&cx(bad_type)), ["ID-TYPE-TABLE", "CX-INS-TYPE"]);
    bad_type.identifier_type_code = Some("FINEJ");
    assert_eq!(rules(&cx(bad_type))[0], "ID-TYPE-DATATYPE");

    let wrong_authority = ins_nir("279035121518989", "1.2.250.1.213.1.4.99");
    let p = cx(wrong_authority);
    assert_eq!(rules(&p), ["CX-INS-AUTH"]);
    assert_eq!((p[0].component, p[0].subcomponent), (4, Some(2)));

    let mut not_iso = ins_nir("279035121518989", oids::INS_NIR);
    not_iso.assigning_authority.universal_id_type = Some("L");
    assert_eq!(rules(&cx(not_iso)), ["CX-INS-AUTH"]);

    let mut dates = ins_nir("279035121518989", oids::INS_NIR);
    dates.effective_date = Some("20230229");
    dates.expiration_date = Some("2025-01-01");
    assert_eq!(rules(&cx(dates)), ["CX-7-DT", "CX-8-DT"]);

    let insc = CxParts {
        id_number: Some("0411886319605719371016"),
        assigning_authority: HdParts::new(Some("ASIP-SANTE-INS-C"), Some(oids::INS_NIR), Some("ISO")),
        identifier_type_code: Some("INS-C"),
        ..Default::default()
    };
    assert_eq!(rules(&cx(insc)), ["CX-INS-TYPE", "CX-7-INSC", "CX-INSC-AUTH"]);

    let ndp = CxParts {
        id_number: Some("X"),
        assigning_authority: HdParts::new(Some("CNOP"), None, None),
        identifier_type_code: Some("NDP"),
        ..Default::default()
    };
    assert_eq!(rules(&cx(ndp)), ["CX-NDP-AUTH"]);

    // HD rules inside CX-4 are located as subcomponents.
    let local = CxParts {
        id_number: Some("1900068"),
        assigning_authority: HdParts::new(None, Some("350000121"), Some("M")),
        identifier_type_code: Some("PI"),
        ..Default::default()
    };
    let p = cx(local);
    assert_eq!(rules(&p), ["HD-1-REQ"]);
    assert_eq!((p[0].component, p[0].subcomponent), (4, Some(1)));
    assert!(p[0].message.contains("CX-4.1"), "{}", p[0].message);

    let facility = CxParts {
        id_number: Some("1"),
        assigning_authority: HdParts::new(Some("A"), None, None),
        assigning_facility: HdParts::new(Some("F"), Some("1.2.3.x"), Some("ISO")),
        ..Default::default()
    };
    let p = cx(facility);
    assert_eq!(rules(&p), ["HD-ISO-OID"]);
    assert_eq!((p[0].component, p[0].subcomponent), (6, Some(2)));

    let long = "1".repeat(129);
    let p = cx(CxParts { id_number: Some(&long), assigning_authority: HdParts::new(Some("A"), None, None), ..Default::default() });
    assert_eq!(rules(&p), ["CX-1-LEN"]);
}

// ---- XCN ----

fn ps(id: &'static str, kind: &'static str) -> XcnParts<'static> {
    XcnParts {
        id_number: Some(id),
        family_name: Some("Hoda"),
        given_name: Some("Adam"),
        assigning_authority: HdParts::new(Some("ASIP-SANTE-PS"), Some(oids::ASIP_SANTE_PS), Some("ISO")),
        name_type_code: Some("D"),
        identifier_type_code: Some(kind),
    }
}

#[test]
fn xcn_examples_pass() {
    assert!(xcn(ps("801234567897", "IDNPS")).is_empty());
    assert!(xcn(ps("751012344", "ADELI")).is_empty());
    assert!(xcn(ps("01234567897", "RPPS")).is_empty());
    // IHE France page 29: establishment staff register.
    let staff = XcnParts {
        id_number: Some("750100125/50362"),
        family_name: Some("Loisel"),
        given_name: Some("Jeanne"),
        assigning_authority: HdParts::new(Some("AUT-AFFECTATION"), Some("3750100125"), Some("M")),
        name_type_code: Some("D"),
        identifier_type_code: Some("EI"),
    };
    assert!(xcn(staff).is_empty(), "{:?}", xcn(staff));
    // Name only, no identifier.
    assert!(xcn(XcnParts { family_name: Some("Dupont"), name_type_code: Some("L"), ..Default::default() }).is_empty());
    assert!(xcn(XcnParts::default()).is_empty());
}

#[test]
fn xcn_rules_fire() {
    let mut p = ps("801234567897", "IDNPS");
    p.identifier_type_code = None;
    assert_eq!(rules(&xcn(p)), ["XCN-13-COND"]);
    let mut p = ps("801234567897", "IDNPS");
    p.name_type_code = None;
    assert_eq!(rules(&xcn(p)), ["XCN-10-COND"]);
    p.name_type_code = Some("M");
    assert_eq!(rules(&xcn(p)), ["XCN-10-TABLE"]);
    let mut p = ps("801234567897", "IDNPS");
    p.assigning_authority = HdParts::new(Some("ASIP-SANTE-PS"), Some("1.2.250.1.71.4.2.2"), Some("ISO"));
    let problems = xcn(p);
    assert_eq!(rules(&problems), ["XCN-PS-AUTH"]);
    assert_eq!((problems[0].component, problems[0].subcomponent), (9, Some(2)));
    let mut p = ps("X1", "EI");
    assert_eq!(rules(&xcn(p)), ["XCN-PS-TYPE"]);
    p.identifier_type_code = Some("FINEJ");
    assert_eq!(rules(&xcn(p)), ["ID-TYPE-DATATYPE", "XCN-PS-TYPE"]);
    p.identifier_type_code = Some("NIR");
    assert_eq!(rules(&xcn(p))[0], "ID-TYPE-TABLE");
    let mut p = ps("801234567897", "IDNPS");
    p.assigning_authority.universal_id_type = None;
    assert_eq!(rules(&xcn(p)), ["HD-3-REQ", "XCN-PS-AUTH"]);
    let long = "8".repeat(200);
    let p = XcnParts { id_number: Some(&long), identifier_type_code: Some("RI"), ..Default::default() };
    assert_eq!(rules(&xcn(p)), ["XCN-1-LEN"]);
}

// ---- XON ----

#[test]
fn xon_examples_pass() {
    // Guide ORC-21: Structure-Y^^^^^ASIP-SANTE-ST&1.2.250.1.71.4.2.2&ISO^FINEG^^^300017985.
    let guide = XonParts {
        organization_name: Some("Structure-Y"),
        assigning_authority: HdParts::new(Some("ASIP-SANTE-ST"), Some(oids::ASIP_SANTE_ST), Some("ISO")),
        identifier_type_code: Some("FINEG"),
        organization_identifier: Some("300017985"),
    };
    assert!(xon(guide).is_empty(), "{:?}", xon(guide));
    // IHE France page 34 examples.
    let mut idnst = guide;
    idnst.identifier_type_code = Some("IDNST");
    idnst.organization_identifier = Some("1750100125");
    assert!(xon(idnst).is_empty());
    let mut finess = guide;
    finess.identifier_type_code = Some("FINESS");
    assert!(xon(finess).is_empty());
    let uf = XonParts {
        organization_name: Some("Urologie"),
        assigning_authority: HdParts::new(Some("120456789"), None, None),
        identifier_type_code: Some("UF"),
        organization_identifier: Some("3435"),
    };
    assert!(xon(uf).is_empty());
    assert!(xon(XonParts { organization_name: Some("Clinique"), ..Default::default() }).is_empty());
}

#[test]
fn xon_rules_fire() {
    let p = XonParts { organization_identifier: Some("300017985"), ..Default::default() };
    assert_eq!(rules(&xon(p)), ["XON-7-COND"]);
    let p = XonParts { identifier_type_code: Some("FINEG"), ..Default::default() };
    assert_eq!(rules(&xon(p)), ["XON-10-COND"]);
    let p = XonParts { identifier_type_code: Some("PI"), organization_identifier: Some("1"), ..Default::default() };
    assert_eq!(rules(&xon(p)), ["ID-TYPE-DATATYPE"]);
    let p = XonParts {
        assigning_authority: HdParts::new(Some("X"), Some("1.2.3"), Some("ISO")),
        identifier_type_code: Some("IDNST"),
        organization_identifier: Some("1750100125"),
        ..Default::default()
    };
    let problems = xon(p);
    assert_eq!(rules(&problems), ["XON-ST-AUTH"]);
    assert_eq!((problems[0].component, problems[0].subcomponent), (6, Some(2)));
    let p = XonParts {
        assigning_authority: HdParts::new(Some("ASIP-SANTE-ST"), Some(oids::ASIP_SANTE_ST), Some("ISO")),
        identifier_type_code: Some("UF"),
        organization_identifier: Some("3435"),
        ..Default::default()
    };
    assert_eq!(rules(&xon(p)), ["XON-ST-TYPE"]);
    let long = "1".repeat(65);
    let p = XonParts { identifier_type_code: Some("UF"), organization_identifier: Some(&long), ..Default::default() };
    assert_eq!(rules(&xon(p)), ["XON-10-LEN"]);
    let p = XonParts {
        assigning_authority: HdParts::new(None, Some("1.2.3"), Some("ISO")),
        identifier_type_code: Some("UF"),
        organization_identifier: Some("1"),
        ..Default::default()
    };
    let problems = xon(p);
    assert_eq!(rules(&problems), ["HD-1-REQ"]);
    assert_eq!((problems[0].component, problems[0].subcomponent), (6, Some(1)));
}

// ---- robustness ----

#[test]
fn no_panic_on_odd_strings() {
    let long_digits = "9".repeat(100_000);
    let long_dots = "1.".repeat(50_000);
    let long_mixed = "é🙂\u{0}\r".repeat(10_000);
    let odd: Vec<&str> = vec![
        "", " ", "\0", "\r\n", ".", "..", "+", "-", "+-", "=", "==", "====", "\"\"", "é", "🙂", "2A", "2a",
        "20240229+", "20240229-", "2024+0100+0100", "2024..5", "120000.", "00000000", "99999999", "0000",
        "9999123123595.9999+9999", "٣٤٥", "２０２４", "1.2.250.1.213.1.4.8\u{0}", "27903512151898🙂",
        "2790351215189🙂", "1850é2A123456", "ZZZZZZZZZZZZZZZ", "SGVsbG8=🙂", "\u{feff}SGk=",
        &long_digits, &long_dots, &long_mixed,
    ];
    for s in &odd {
        let _ = dt(s);
        let _ = dtm(s);
        let _ = tm(s);
        let _ = nm(s);
        let _ = si(s);
        let _ = oid(s);
        let _ = nir(s);
        let _ = base64(s);
        let o = Some(*s);
        let _ = hd(o, o, o);
        let _ = hd(Some("A"), o, Some("ISO"));
        let _ = hd(Some("A"), o, Some("UUID"));
        let _ = hd(Some("A"), o, Some("DNS"));
        let _ = ei(EiParts { entity_identifier: o, namespace_id: o, universal_id: o, universal_id_type: o });
        let h = HdParts::new(o, o, o);
        let _ = cx(CxParts {
            id_number: o,
            assigning_authority: h,
            identifier_type_code: o,
            assigning_facility: h,
            effective_date: o,
            expiration_date: o,
        });
        for kind in ["INS", "NH", "INS-C", "NDP"] {
            let _ = cx(CxParts {
                id_number: o,
                assigning_authority: HdParts::new(Some("A"), Some(oids::INS_NIR), Some("ISO")),
                identifier_type_code: Some(kind),
                effective_date: o,
                ..Default::default()
            });
        }
        let _ = xcn(XcnParts {
            id_number: o,
            family_name: o,
            given_name: o,
            assigning_authority: h,
            name_type_code: o,
            identifier_type_code: o,
        });
        let _ = xon(XonParts { organization_name: o, assigning_authority: h, identifier_type_code: o, organization_identifier: o });
    }
}

#[test]
fn long_values_are_shortened_in_messages() {
    let long = "x".repeat(99_999) + "#";
    for m in [err(dt(&long)), err(nm(&long)), err(oid(&long)), err(nir(&long)), base64(&long).unwrap_err().message] {
        assert!(m.len() < 400, "message of {} bytes: {}", m.len(), &m[..200]);
        assert!(m.contains("100000 characters"), "{m}");
    }
}
