//! The bench-only fixtures of `tests/fixtures/bench/`: generated deterministically from the
//! project's fixtures by this file, committed, and checked to be valid messages of the guide.
//!
//! `BLESS=1 cargo test -p benches --test fixtures` rewrites them; without it the test fails
//! when a committed file differs from what the generator makes.

use hl7_runtime::ParseOptions;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let vals: Vec<u32> = text.bytes().filter(|&b| b != b'=').map(|b| B64.iter().position(|&c| c == b).unwrap() as u32).collect();
    for chunk in vals.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, v)| n | v << (18 - 6 * i));
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

fn segments(bytes: &[u8]) -> Vec<String> {
    String::from_utf8(bytes.to_vec()).unwrap().split_terminator('\r').map(str::to_owned).collect()
}

fn join(segments: &[String]) -> Vec<u8> {
    let mut s = segments.join("\r");
    s.push('\r');
    s.into_bytes()
}

/// Flow 3, the protocol as a Base64 ED of 64 KiB (49,152 bytes of text): the ED fixture's
/// protocol text, repeated with numbered lines.
fn oru_ed_64k() -> Vec<u8> {
    let mut segs = segments(&benches::fixture("flux3_ok_ed.hl7"));
    let obx = segs.iter_mut().find(|s| s.starts_with("OBX|")).unwrap();
    let mut fields: Vec<String> = obx.split('|').map(str::to_owned).collect();
    let mut comps: Vec<String> = fields[5].split('^').map(str::to_owned).collect();
    let text = String::from_utf8(base64_decode(&comps[4])).unwrap();
    const RAW: usize = 49_152;
    let mut data = String::with_capacity(RAW + 200);
    let mut n = 0;
    while data.len() < RAW {
        for line in text.lines() {
            n += 1;
            data.push_str(&format!("{n:05} {line}\n"));
        }
    }
    let mut cut = RAW;
    while !data.is_char_boundary(cut) {
        cut -= 1;
    }
    data.truncate(cut);
    while data.len() < RAW {
        data.push('\n');
    }
    comps[4] = base64(data.as_bytes());
    assert_eq!(comps[4].len(), 65_536);
    fields[5] = comps.join("^");
    *obx = fields.join("|");
    join(&segs)
}

/// Flow 3 with a protocol of 80 lines: the FT fixture's five lines (with their `\H\`,
/// `\N\` and `\E\` escapes) in turn, numbered, joined by `\.br\` as a report's lines are.
fn oru_ft_80_lines() -> Vec<u8> {
    let mut segs = segments(&benches::fixture(benches::ORU_FT));
    let obx = segs.iter_mut().find(|s| s.starts_with("OBX|")).unwrap();
    let mut fields: Vec<String> = obx.split('|').map(str::to_owned).collect();
    let lines: Vec<&str> = fields[5].split("\\.br\\").collect();
    assert_eq!(lines.len(), 5);
    let report: Vec<String> = (0..80).map(|k| format!("{:02} {}", k + 1, lines[k % lines.len()])).collect();
    fields[5] = report.join("\\.br\\");
    *obx = fields.join("|");
    join(&segs)
}

/// Flow 4 with 10 ORDER groups: the three orders of `flux4_sr_three_orders.hl7` in turn,
/// each copy with its own accession number, Study Instance UID and viewer URL.
fn omi_ten_orders() -> Vec<u8> {
    let segs = segments(&benches::fixture("flux4_sr_three_orders.hl7"));
    let first_orc = segs.iter().position(|s| s.starts_with("ORC|")).unwrap();
    let mut orders: Vec<Vec<String>> = Vec::new();
    for s in &segs[first_orc..] {
        if s.starts_with("ORC|") {
            orders.push(Vec::new());
        }
        orders.last_mut().unwrap().push(s.clone());
    }
    assert_eq!(orders.len(), 3);
    let url = |k: usize| {
        base64(format!("https://drimbox.chu-x.fr/drimbox/viewer?StudyInstanceUID=1.2.250.1.213.4.5.2.1.4800{k:02}&AccessionNumber=ACN-2026-0480-{k:02}&idCR=").as_bytes())
    };
    let mut out: Vec<String> = segs[..first_orc].to_vec();
    out[0] = out[0].replace("CHUXF4-20260113-0002", "CHUXF4-20260113-0010");
    for k in 1..=10 {
        let j = (k - 1) % 3 + 1;
        for s in &orders[j - 1] {
            let original = url(j);
            assert!(s.starts_with("OBX|1|ED") == s.contains(&original), "URL template differs from the fixture's");
            out.push(
                s.replace(&original, &url(k))
                    .replace(&format!("ACN-2026-0480-0{j}"), &format!("ACN-2026-0480-{k:02}"))
                    .replace(&format!("1.2.250.1.213.4.5.2.1.48000{j}"), &format!("1.2.250.1.213.4.5.2.1.4800{k:02}")),
            );
        }
    }
    join(&out)
}

#[test]
fn bench_fixtures_are_generated_and_valid() {
    let dir = benches::fixtures_dir().join("bench");
    let bless = std::env::var_os("BLESS").is_some();
    for (name, bytes) in [(benches::ORU_ED_64K, oru_ed_64k()), (benches::OMI_10_ORDERS, omi_ten_orders()), (benches::ORU_FT_80_LINES, oru_ft_80_lines())] {
        let path = benches::fixtures_dir().join(name);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(committed == bytes, "{name} differs from its generator: BLESS=1 cargo test -p benches --test fixtures");
    }
}

#[test]
fn every_bench_input_is_a_valid_message_of_the_guide() {
    for name in benches::ALL {
        let bytes = benches::fixture(name);
        let checked = telerad::check(&bytes, &ParseOptions::default(), None).unwrap();
        assert!(checked.is_valid(), "{name}: {:#?}", checked.findings);
        assert!(checked.message.is_some(), "{name}");
    }
    let omi = benches::fixture(benches::OMI_10_ORDERS);
    assert_eq!(telerad::flux4_omi_o23::Message::parse(&omi).unwrap().orders().count(), 10);
    let ed = benches::fixture(benches::ORU_ED_64K);
    assert!(ed.len() > 65_536 && ed.len() < 70_000, "{}", ed.len());
    // Not one of the criterion inputs (`ALL`): the instruction counts' report of 80 lines.
    let long = benches::fixture(benches::ORU_FT_80_LINES);
    let checked = telerad::check(&long, &ParseOptions::default(), None).unwrap();
    assert!(checked.is_valid(), "{:#?}", checked.findings);
    assert_eq!(long.windows(5).filter(|w| w == b"\\.br\\").count(), 79);
}

#[test]
fn base64_round_trips() {
    for len in 0..10 {
        let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
        assert_eq!(base64_decode(&base64(&data)), data);
    }
    assert_eq!(base64(b"Ma"), "TWE=");
}
