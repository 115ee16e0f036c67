//! The Done-when comparisons of issues 16 and 21, each timed as an interleaved pair: on a shared
//! machine the load moves more between two criterion benchmarks run seconds apart than the gap
//! being judged (two full runs of one binary have given 4.95× and 6.19× the floor for the same
//! typed read). Here the two sides of a comparison alternate in short batches (A B, then B A),
//! so that both see the same machine, and each round gives one ratio; the table shows the
//! median ratio and its middle half (first to third quartile) over the rounds.
//!
//! A verdict is only given when the middle half is on one side of the target: "met" or
//! "missed"; otherwise "unsettled". The criterion benches remain the reference numbers
//! (`cargo bench -p benches`); this says whether a verdict from them is noise.
//!
//! ```sh
//! cargo run --release -p benches --example interleaved            # 41 rounds of 20 ms batches
//! cargo run --release -p benches --example interleaved -- 101 25 encode  # rounds, milliseconds
//!                                                    # a batch, comparisons whose name has this
//! ```

use std::hint::black_box;
use std::time::{Duration, Instant};

use hl7_runtime::ParseOptions;

#[path = "../benches/common/workloads.rs"]
mod workloads;

const USAGE: &str = "usage: interleaved [ROUNDS [MILLISECONDS [FILTER]]] (defaults 41, 20 and every comparison)";

/// One side of a comparison: runs the operation once and returns something derived from its
/// result (so that nothing is optimised away), or `None` when it failed.
type Op = Box<dyn FnMut() -> Option<usize>>;

/// A comparison: A's time over B's, against a target ratio that A must stay under.
struct Pair {
    what: String,
    a: (&'static str, Op),
    b: (&'static str, Op),
    /// The ratio A ÷ B must be below this.
    below: f64,
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| args.get(i).map_or(Ok(default), |a| a.parse::<u64>().map_err(|_| USAGE.to_owned()));
    let rounds = number(0, 41)?.max(1) as usize;
    let batch = Duration::from_millis(number(1, 20)?.max(1));
    println!("{rounds} rounds of {} ms batches per side, the sides alternating (A B, B A)\n", batch.as_millis());
    println!("| comparison | A | B | A median | B median | A ÷ B median | middle half | target | verdict |");
    println!("|---|---|---|---:|---:|---:|---:|---|---|");
    let filter = args.get(2).map_or("", String::as_str);
    for mut pair in pairs()?.into_iter().filter(|p| p.what.contains(filter)) {
        let (a, b, ratios) = interleave(&mut pair, rounds, batch)?;
        let [q1, median, q3] = quartiles(&ratios);
        let verdict = if q3 < pair.below {
            "met"
        } else if q1 >= pair.below {
            "missed"
        } else {
            "unsettled"
        };
        println!(
            "| {} | {} | {} | {} | {} | {median:.3} | {q1:.3} – {q3:.3} | < {:.3} | {verdict} |",
            pair.what,
            pair.a.0,
            pair.b.0,
            shown(a),
            shown(b),
            pair.below
        );
    }
    Ok(())
}

/// The comparisons of the two issues' Done-when, on the inputs they name.
fn pairs() -> Result<Vec<Pair>, String> {
    let read = |name: &str| -> Result<Vec<u8>, String> {
        std::fs::read(benches::fixtures_dir().join(name)).map_err(|e| format!("cannot read the fixture {name}: {e}"))
    };
    let (oru, oru_ed, omi, flux1) = (read(benches::ORU_FT)?, read(benches::ORU_ED_64K)?, read(benches::OMI_10_ORDERS)?, read("flux1_nw_full.hl7")?);
    let typed_read = |bytes: Vec<u8>| -> Op {
        Box::new(move || {
            let mut sink = workloads::Checksum::default();
            workloads::ours_typed_oru(black_box(&bytes), &mut sink).map(|()| sink.0)
        })
    };
    let er7_read = |bytes: Vec<u8>| -> Op {
        Box::new(move || {
            let mut sink = workloads::Checksum::default();
            workloads::er7_read(black_box(&bytes), &mut sink).map(|()| sink.0)
        })
    };
    let floor = |bytes: Vec<u8>| -> Op {
        let mut positions = Vec::with_capacity(bytes.len());
        Box::new(move || Some(workloads::floor(black_box(&bytes), &mut positions)))
    };
    let visit = |bytes: Vec<u8>| -> Op { Box::new(move || workloads::ours_visit(black_box(&bytes))) };
    let hl7_v2_visit = |bytes: Vec<u8>| -> Op { Box::new(move || workloads::hl7_v2_visit(black_box(&bytes))) };
    let check = |bytes: Vec<u8>| -> Op {
        let opts = ParseOptions::default();
        Box::new(move || telerad::check(black_box(&bytes), &opts, None).ok().map(|c| c.findings.len()))
    };
    let er7_parse = |bytes: Vec<u8>| -> Op {
        let text = String::from_utf8(bytes).unwrap_or_default();
        Box::new(move || er7::parse(black_box(&text)).ok().map(|m| m.segments.len()))
    };
    // The flow-3 response built with the builders, and `er7`'s tree of the same message, as
    // `benches/benches/encode.rs` times them.
    let built = benches::built::flow3_response();
    let ours_bytes = built.encode().map_err(|e| e.to_string())?;
    let ours_text = String::from_utf8(ours_bytes).map_err(|e| e.to_string())?;
    let builder: Op = Box::new(move || black_box(&built).encode().ok().map(|v| v.len()));
    let er7_encode: Op = {
        let options = er7::RenderOptions { trailing_terminator: true, ..Default::default() };
        // The tree borrows its text for as long as the closure lives: the whole run.
        let tree = er7::parse(String::leak(ours_text)).map_err(|e| e.to_string())?;
        Box::new(move || Some(black_box(&tree).to_er7_with(options).len()))
    };
    let pair = |what: &str, a: (&'static str, Op), b: (&'static str, Op), below: f64| Pair { what: what.to_owned(), a, b, below };
    Ok(vec![
        pair("typed read, flux3_ok_ft (issue 21: ≥ 10× faster than er7)", ("ours-typed", typed_read(oru.clone())), ("er7", er7_read(oru.clone())), 0.1),
        pair("typed read, flux3_ok_ft (issue 21: within 5× of the floor)", ("ours-typed", typed_read(oru.clone())), ("floor", floor(oru.clone())), 5.0),
        pair("visit, flux3_ok_ft (issue 21: faster than hl7-v2)", ("ours", visit(oru.clone())), ("hl7-v2", hl7_v2_visit(oru.clone())), 1.0),
        pair("visit, ten-order OMI", ("ours", visit(omi.clone())), ("hl7-v2", hl7_v2_visit(omi.clone())), 1.0),
        pair("visit, 64 KB ED", ("ours", visit(oru_ed.clone())), ("hl7-v2", hl7_v2_visit(oru_ed)), 1.0),
        pair("builder encode, flow-3 response (issue 21: faster than er7)", ("ours-builder", builder), ("er7", er7_encode), 1.0),
        pair("check, flux3_ok_ft (issue 16: ≥ 3× faster than er7's parse)", ("check", check(oru.clone())), ("er7 parse", er7_parse(oru)), 1.0 / 3.0),
        pair("check, flux1_nw_full", ("check", check(flux1.clone())), ("er7 parse", er7_parse(flux1)), 1.0 / 3.0),
        pair("check, ten-order OMI", ("check", check(omi.clone())), ("er7 parse", er7_parse(omi)), 1.0 / 3.0),
    ])
}

/// `rounds` ratios A ÷ B, each from one batch of each side (in alternating order), and the
/// median time of each side, in seconds per operation.
fn interleave(pair: &mut Pair, rounds: usize, batch: Duration) -> Result<(f64, f64, Vec<f64>), String> {
    for (name, op) in [&mut pair.a, &mut pair.b] {
        op().ok_or_else(|| format!("{}: {name} failed on its input", pair.what))?;
    }
    let (na, nb) = (calibrate(&mut pair.a.1, batch), calibrate(&mut pair.b.1, batch));
    let (mut ta, mut tb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (a, b) = if round % 2 == 0 {
            let a = per_op(&mut pair.a.1, na);
            (a, per_op(&mut pair.b.1, nb))
        } else {
            let b = per_op(&mut pair.b.1, nb);
            (per_op(&mut pair.a.1, na), b)
        };
        ta.push(a);
        tb.push(b);
        ratios.push(a / b);
    }
    Ok((quartiles(&ta)[1], quartiles(&tb)[1], ratios))
}

/// How many operations fill a batch (after a warm-up of one batch's length).
fn calibrate(op: &mut Op, batch: Duration) -> u64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < batch {
        black_box(op());
        n += 1;
    }
    n.max(1)
}

/// Seconds per operation over `n` operations.
fn per_op(op: &mut Op, n: u64) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(op());
    }
    start.elapsed().as_secs_f64() / n as f64
}

/// First quartile, median and third quartile (nearest rank).
fn quartiles(values: &[f64]) -> [f64; 3] {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v.get(((v.len() - 1) as f64 * q).round() as usize).copied().unwrap_or(f64::NAN);
    [at(0.25), at(0.5), at(0.75)]
}

/// A time per operation in the unit that suits it.
fn shown(seconds: f64) -> String {
    match seconds {
        s if s < 1e-6 => format!("{:.0} ns", s * 1e9),
        s if s < 1e-3 => format!("{:.2} µs", s * 1e6),
        s => format!("{:.2} ms", s * 1e3),
    }
}
