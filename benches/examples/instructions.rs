//! Runs one operation `n` times on one input, for counting instructions with callgrind: a
//! count that machine load does not move, unlike the criterion medians (this machine is
//! shared). `benches/scripts/instructions.sh` runs it twice (`n` = 1 and 101) and prints the
//! instructions of one operation as the difference divided by 100, so start-up and the
//! preparation done once (reading the file, a first parse for `validate`) cancel out.
//!
//! ```sh
//! cargo build --release -p benches --example instructions
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/instructions validate flux3_ok_ft.hl7 101
//! ```

use std::hint::black_box;

use hl7_runtime::ParseOptions;

#[path = "../benches/common/workloads.rs"]
mod workloads;

const USAGE: &str = "usage: instructions OPERATION FIXTURE N
  OPERATION: parse | read | generic-read | er7-read | hl7-v2-read | visit | hl7-v2-visit | floor | typed | validate | check | ack | er7-parse | encode | er7-encode
  FIXTURE:   a file of tests/fixtures/, or - for flux3_ok_ft.hl7 (encode and er7-encode build the flow-3 response)";

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [op, fixture, n] = args.as_slice() else { return Err(USAGE.into()) };
    let n: usize = n.parse().map_err(|_| USAGE.to_owned())?;
    // `-` (encode, er7-encode: no input read) stands for the flow-3 fixture, as in the script;
    // a fixture that cannot be read is an error, not a panic.
    let name = if fixture == "-" { benches::ORU_FT } else { fixture.as_str() };
    let bytes = std::fs::read(benches::fixtures_dir().join(name)).map_err(|e| format!("cannot read the fixture {name}: {e}"))?;
    let opts = ParseOptions::default();
    let mut sink = 0usize;
    match op.as_str() {
        "parse" => {
            for _ in 0..n {
                sink += hl7_runtime::Message::parse_with(black_box(&bytes), &opts).map_err(|e| e.to_string())?.segment_count();
            }
        }
        // The peers' workloads (benches/benches/common/workloads.rs), the same functions the
        // criterion bench `peers` times: the typed read and the visit of every component, ours
        // and the peers' that lead them (issue 21), and the SIMD floor.
        "read" if fixture.contains("omi") || fixture.contains("flux4") => {
            for _ in 0..n {
                let mut s = workloads::Checksum::default();
                workloads::ours_typed_omi(black_box(&bytes), &mut s).ok_or("does not parse")?;
                sink += s.0;
            }
        }
        "read" => {
            for _ in 0..n {
                let mut s = workloads::Checksum::default();
                workloads::ours_typed_oru(black_box(&bytes), &mut s).ok_or("does not parse")?;
                sink += s.0;
            }
        }
        "generic-read" => {
            for _ in 0..n {
                let mut s = workloads::Checksum::default();
                workloads::ours_generic(black_box(&bytes), &mut s).ok_or("does not parse")?;
                sink += s.0;
            }
        }
        "er7-read" | "hl7-v2-read" => {
            for _ in 0..n {
                let mut s = workloads::Checksum::default();
                let ok = if op == "er7-read" { workloads::er7_read(black_box(&bytes), &mut s) } else { workloads::hl7_v2_read(black_box(&bytes), &mut s) };
                ok.ok_or("does not parse")?;
                sink += s.0;
            }
        }
        "visit" | "hl7-v2-visit" => {
            for _ in 0..n {
                let visited = if op == "visit" { workloads::ours_visit(black_box(&bytes)) } else { workloads::hl7_v2_visit(black_box(&bytes)) };
                sink += visited.ok_or("does not parse")?;
            }
        }
        "floor" => {
            let mut positions = Vec::with_capacity(bytes.len());
            for _ in 0..n {
                sink += workloads::floor(black_box(&bytes), &mut positions);
            }
        }
        "typed" => {
            for _ in 0..n {
                let m = hl7_runtime::Message::parse_with(black_box(&bytes), &opts).map_err(|e| e.to_string())?;
                sink += telerad::AnyMessage::from_message(m).map_err(|e| e.to_string())?.placed().message.segment_count();
            }
        }
        "validate" => {
            let checked = telerad::check(&bytes, &opts, None).map_err(|e| e.to_string())?;
            let placed = checked.message.as_ref().ok_or("the fixture does not parse")?.placed();
            for _ in 0..n {
                sink += hl7_runtime::validate::validate(black_box(placed), &telerad::REGISTRY).len();
            }
        }
        "check" => {
            for _ in 0..n {
                sink += telerad::check(black_box(&bytes), &opts, None).map_err(|e| e.to_string())?.findings.len();
            }
        }
        // The ACK of a message already checked (its findings computed once, before the loop).
        "ack" => {
            use hl7_runtime::ack::{build, AckOptions, Decision, Identity};
            let clock = || "20260106171300".to_owned();
            let next_id = || "ACK-000001".to_owned();
            let receiver = Identity { application: "RIS".into(), facility: "CHU_X".into() };
            let ack_opts = AckOptions { receiver, clock: &clock, next_id: &next_id };
            let checked = telerad::check(&bytes, &opts, None).map_err(|e| e.to_string())?;
            let inbound = checked.message.as_ref().map(|m| &m.placed().message);
            for _ in 0..n {
                sink += build(black_box(inbound), &bytes, &checked.findings, Decision::Accept, &ack_opts).map_err(|e| e.to_string())?.len();
            }
        }
        "er7-parse" => {
            let text = std::str::from_utf8(&bytes).map_err(|e| e.to_string())?;
            for _ in 0..n {
                sink += er7::parse(black_box(text)).map_err(|e| e.to_string())?.segments.len();
            }
        }
        "encode" => {
            let msg = benches::built::flow3_response();
            for _ in 0..n {
                sink += black_box(&msg).encode().map_err(|e| e.to_string())?.len();
            }
        }
        "er7-encode" => {
            let ours = benches::built::flow3_response().encode().map_err(|e| e.to_string())?;
            let text = std::str::from_utf8(&ours).map_err(|e| e.to_string())?;
            let msg = er7::parse(text).map_err(|e| e.to_string())?;
            let options = er7::RenderOptions { trailing_terminator: true, ..Default::default() };
            for _ in 0..n {
                sink += black_box(&msg).to_er7_with(options).len();
            }
        }
        _ => return Err(USAGE.into()),
    }
    println!("{sink}");
    Ok(())
}
