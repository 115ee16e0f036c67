//! The two workloads every implementation runs on the same bytes (benches/peers.rs, and the
//! agreement test benches/tests/peers.rs includes this file too).
//!
//! 1. **read**: parse the bytes, then read PID-5.1 (XPN.1, read as its first subcomponent,
//!    the surname), ORC-2.1 of the first ORC (EI.1) and every OBX-5 decoded: each
//!    subcomponent of each component of each repetition, escape sequences resolved as far as
//!    the implementation can.
//! 2. **visit**: parse the bytes, then visit every component of every repetition of every
//!    field of every segment once, adding up the lengths of their raw bytes.
//!
//! Values go to a [`Sink`]: a checksum in the benches, a recorder in the agreement test.
//! Every function returns `None` when the implementation cannot parse the input.

#![allow(dead_code)]

use std::borrow::Cow;
use std::fmt::Write as _;

/// Which value of the read workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    Pid5_1,
    Orc2_1,
    Obx5,
}

pub trait Sink {
    fn value(&mut self, what: What, text: &str);
}

/// Adds up lengths and counts values: enough to keep every read alive.
#[derive(Default)]
pub struct Checksum(pub usize);

impl Sink for Checksum {
    #[inline]
    fn value(&mut self, _: What, text: &str) {
        self.0 = self.0.wrapping_add(text.len() + 1);
    }
}

/// Keeps every value, for the agreement test.
#[derive(Default, Debug)]
pub struct Record {
    pub pid5_1: Vec<String>,
    pub orc2_1: Vec<String>,
    pub obx5: Vec<String>,
}

impl Sink for Record {
    fn value(&mut self, what: What, text: &str) {
        let v = match what {
            What::Pid5_1 => &mut self.pid5_1,
            What::Orc2_1 => &mut self.orc2_1,
            What::Obx5 => &mut self.obx5,
        };
        v.push(text.to_owned());
    }
}

// ------------------------------------------------------------------------------------------
// This project.

/// Every subcomponent of every component of every repetition of an OBX-5, decoded.
fn ours_varies(value: hl7_runtime::typed::Varies<'_>, sink: &mut impl Sink) {
    if let hl7_runtime::typed::Part::Repetition(r) = value.0 {
        for c in r.components() {
            // An empty component has no subcomponent view here; the peers hand back one
            // empty subcomponent, so the workload reads it as one too.
            if c.raw().is_empty() {
                sink.value(What::Obx5, "");
            }
            for s in c.subcomponents() {
                sink.value(What::Obx5, &s.text());
            }
        }
    }
}

/// Typed parse of a flow-3 ORU, then the read workload through the typed accessors.
pub fn ours_typed_oru(bytes: &[u8], sink: &mut impl Sink) -> Option<()> {
    let msg = telerad::flux3_oru_r01::Message::parse(bytes).ok()?;
    let result = msg.patient_result().ok()?;
    let pid = result.patient().ok()?.pid().ok()?;
    if let Some(s) = pid.patient_name().next().and_then(|n| n.family_name()).and_then(|f| f.surname()) {
        sink.value(What::Pid5_1, &s.text());
    }
    let mut first = true;
    for order in result.order_observations() {
        if first {
            if let Some(ei) = order.orc().ok().and_then(|o| o.placer_order_number()).and_then(|p| p.entity_identifier()) {
                sink.value(What::Orc2_1, &ei.text());
            }
            first = false;
        }
        for obs in order.observations() {
            for v in obs.obx().ok()?.observation_value() {
                ours_varies(v, sink);
            }
        }
    }
    Some(())
}

/// Typed parse of a flow-4 OMI, then the read workload through the typed accessors.
pub fn ours_typed_omi(bytes: &[u8], sink: &mut impl Sink) -> Option<()> {
    let msg = telerad::flux4_omi_o23::Message::parse(bytes).ok()?;
    let pid = msg.patient().ok()?.pid().ok()?;
    if let Some(s) = pid.patient_name().next().and_then(|n| n.family_name()).and_then(|f| f.surname()) {
        sink.value(What::Pid5_1, &s.text());
    }
    let mut first = true;
    for order in msg.orders() {
        if first {
            if let Some(ei) = order.orc().ok().and_then(|o| o.placer_order_number()).and_then(|p| p.entity_identifier()) {
                sink.value(What::Orc2_1, &ei.text());
            }
            first = false;
        }
        for obs in order.observations() {
            for v in obs.obx().ok()?.observation_value() {
                ours_varies(v, sink);
            }
        }
    }
    Some(())
}

/// Typed parse of whichever flow the bytes are, then the read workload.
pub fn ours_typed(bytes: &[u8], sink: &mut impl Sink) -> Option<()> {
    if bytes.windows(7).any(|w| w == b"|OMI^O2") {
        ours_typed_omi(bytes, sink)
    } else {
        ours_typed_oru(bytes, sink)
    }
}

/// Generic parse (no profile), then the read workload through the generic views.
pub fn ours_generic(bytes: &[u8], sink: &mut impl Sink) -> Option<()> {
    let msg = hl7_runtime::Message::parse(bytes).ok()?;
    fn first_sub<'a>(seg: hl7_runtime::Segment<'a>, f: usize) -> Cow<'a, str> {
        seg.field(f).first().component(1).subcomponent(1).text()
    }
    if let Some(pid) = msg.segments_by_id("PID").next() {
        sink.value(What::Pid5_1, &first_sub(pid, 5));
    }
    if let Some(orc) = msg.segments_by_id("ORC").next() {
        sink.value(What::Orc2_1, &first_sub(orc, 2));
    }
    for obx in msg.segments_by_id("OBX") {
        for r in obx.field(5).repetitions() {
            for c in r.components() {
                // An empty component has no subcomponent view here; the peers hand back one
                // empty subcomponent, so the workload reads it as one too.
                if c.raw().is_empty() {
                    sink.value(What::Obx5, "");
                }
                for s in c.subcomponents() {
                    sink.value(What::Obx5, &s.text());
                }
            }
        }
    }
    Some(())
}

/// Generic parse, then every component of every field once.
pub fn ours_visit(bytes: &[u8]) -> Option<usize> {
    let msg = hl7_runtime::Message::parse(bytes).ok()?;
    let mut n = 0usize;
    for seg in msg.segments() {
        for f in seg.fields() {
            for r in f.repetitions() {
                for c in r.components() {
                    n = n.wrapping_add(c.raw().len() + 1);
                }
            }
        }
    }
    Some(n)
}

// ------------------------------------------------------------------------------------------
// er7 0.1.4: an owned tree (a String per subcomponent); escapes decoded by `value`.

fn er7_sub(seg: &er7::Segment, f: usize) -> Option<&er7::Subcomponent> {
    seg.field(f)?.repetition(1)?.component(1)?.subcomponent(1)
}

pub fn er7_read_tree(msg: &er7::Message, sink: &mut impl Sink) {
    let seps = &msg.separators;
    if let Some(s) = msg.segment("PID").and_then(|p| er7_sub(p, 5)) {
        sink.value(What::Pid5_1, &s.value(seps));
    }
    if let Some(s) = msg.segment("ORC").and_then(|p| er7_sub(p, 2)) {
        sink.value(What::Orc2_1, &s.value(seps));
    }
    for obx in msg.segments_named("OBX") {
        if let Some(f) = obx.field(5) {
            for r in &f.repetitions {
                for c in &r.components {
                    for s in &c.subcomponents {
                        sink.value(What::Obx5, &s.value(seps));
                    }
                }
            }
        }
    }
}

pub fn er7_read(bytes: &[u8], sink: &mut impl Sink) -> Option<()> {
    let text = std::str::from_utf8(bytes).ok()?;
    let msg = er7::parse(text).ok()?;
    er7_read_tree(&msg, sink);
    Some(())
}

pub fn er7_visit_tree(msg: &er7::Message) -> usize {
    let mut n = 0usize;
    for seg in &msg.segments {
        for f in &seg.fields {
            for r in &f.repetitions {
                for c in &r.components {
                    // A component is stored split: its raw length is its subcomponents' plus
                    // the separators between them.
                    let len: usize = c.subcomponents.iter().map(|s| s.raw.len() + 1).sum();
                    n = n.wrapping_add(len.max(1));
                }
            }
        }
    }
    n
}

pub fn er7_visit(bytes: &[u8]) -> Option<usize> {
    let msg = er7::parse(std::str::from_utf8(bytes).ok()?).ok()?;
    Some(er7_visit_tree(&msg))
}

// ------------------------------------------------------------------------------------------
// hl7-2 0.2.7: er7 underneath, plus the release's dictionary; values read through its er7
// tree (`raw()`), the fastest access it offers.

pub fn hl7_2_read(bytes: &[u8], sink: &mut impl Sink) -> Option<()> {
    let msg = hl7_2::parse(std::str::from_utf8(bytes).ok()?).ok()?;
    er7_read_tree(msg.raw(), sink);
    Some(())
}

pub fn hl7_2_visit(bytes: &[u8]) -> Option<usize> {
    let msg = hl7_2::parse(std::str::from_utf8(bytes).ok()?).ok()?;
    Some(er7_visit_tree(msg.raw()))
}

// ------------------------------------------------------------------------------------------
// hl7-parser 0.3.0: a borrowed tree (nom); escapes decoded by `Display`, written here into
// one reused buffer.

fn hp_decode<'b>(buf: &'b mut String, s: &hl7_parser::message::Subcomponent<'_>, seps: &hl7_parser::message::Separators) -> &'b str {
    buf.clear();
    let _ = write!(buf, "{}", s.display(seps));
    buf
}

pub fn hl7_parser_read(bytes: &[u8], sink: &mut impl Sink) -> Option<()> {
    let msg = hl7_parser::Message::parse(std::str::from_utf8(bytes).ok()?).ok()?;
    let seps = &msg.separators;
    let mut buf = String::new();
    let first = |seg: &str, f: usize| msg.segment(seg)?.field(f)?.repeat(1)?.component(1)?.subcomponent(1);
    if let Some(s) = first("PID", 5) {
        sink.value(What::Pid5_1, hp_decode(&mut buf, s, seps));
    }
    if let Some(s) = first("ORC", 2) {
        sink.value(What::Orc2_1, hp_decode(&mut buf, s, seps));
    }
    for obx in msg.segments().filter(|s| s.name == "OBX") {
        if let Some(f) = obx.field(5) {
            for r in f.repeats() {
                for c in r.components() {
                    for s in c.subcomponents() {
                        sink.value(What::Obx5, hp_decode(&mut buf, s, seps));
                    }
                }
            }
        }
    }
    Some(())
}

pub fn hl7_parser_visit(bytes: &[u8]) -> Option<usize> {
    let msg = hl7_parser::Message::parse(std::str::from_utf8(bytes).ok()?).ok()?;
    let mut n = 0usize;
    for seg in msg.segments() {
        for f in seg.fields() {
            for r in f.repeats() {
                for c in r.components() {
                    n = n.wrapping_add(c.raw_value().len() + 1);
                }
            }
        }
    }
    Some(n)
}

// ------------------------------------------------------------------------------------------
// rust-hl7 0.5.0: a borrowed tree, vectors at every level (its index `fields[0]` is the
// segment name); escapes decoded by an `EscapeSequence`, which compiles a regex and is
// meant to be built once per set of delimiters, so the caller passes it in.

pub fn rust_hl7_decoder() -> rusthl7::escape_sequence::EscapeSequence {
    rusthl7::escape_sequence::EscapeSequence::new(rusthl7::separators::Separators::default())
}

pub fn rust_hl7_read(bytes: &[u8], esc: &rusthl7::escape_sequence::EscapeSequence, sink: &mut impl Sink) -> Option<()> {
    let text = std::str::from_utf8(bytes).ok()?;
    // Its parser keeps the empty line after the final CR as one more (empty) segment: trimmed
    // here, which only spares it work. `TryFrom` is the entry point its docs show.
    let msg = rusthl7::message::Message::try_from(text.trim_end_matches('\r')).ok()?;
    let first = |id: &str, f: usize| -> Option<&str> {
        let seg = msg.segments.iter().find(|s| s.fields[0].source == id)?;
        Some(*seg.fields.get(f)?.subcomponents.first()?.first()?.first()?)
    };
    if let Some(s) = first("PID", 5) {
        sink.value(What::Pid5_1, &esc.decode(s));
    }
    if let Some(s) = first("ORC", 2) {
        sink.value(What::Orc2_1, &esc.decode(s));
    }
    for obx in msg.segments.iter().filter(|s| s.fields[0].source == "OBX") {
        if let Some(f) = obx.fields.get(5) {
            if f.source.is_empty() {
                continue;
            }
            for r in &f.subcomponents {
                for c in r {
                    for s in c {
                        let d: Cow<'_, str> = esc.decode(*s);
                        sink.value(What::Obx5, &d);
                    }
                }
            }
        }
    }
    Some(())
}

pub fn rust_hl7_visit(bytes: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(bytes).ok()?;
    let msg = rusthl7::message::Message::try_from(text.trim_end_matches('\r')).ok()?;
    let mut n = 0usize;
    for seg in &msg.segments {
        for f in &seg.fields[1..] {
            for r in &f.components {
                for c in r {
                    n = n.wrapping_add(c.len() + 1);
                }
            }
        }
    }
    Some(n)
}

// ------------------------------------------------------------------------------------------
// hl7-v2 0.1.0: splits segments and fields only (`Vec<&str>` per segment); no repetitions,
// no subcomponents, no escape decoding. Its `Field::component` splits on `^` on every call;
// below the field, the workload splits with `str::split`, and values stay raw.

pub fn hl7_v2_read(bytes: &[u8], sink: &mut impl Sink) -> Option<()> {
    let msg = hl7_v2::Hl7Message::parse(bytes).ok()?;
    let enc = &msg.encoding;
    let (rep, comp, sub) = (enc.repetition_sep as char, enc.component_sep as char, enc.sub_component_sep as char);
    let first = |seg: &hl7_v2::Segment<'_>, f: usize| -> Option<String> {
        let c = seg.field(f)?.component(1)?.to_owned();
        Some(c.split(rep).next()?.split(sub).next()?.to_owned())
    };
    if let Some(s) = msg.segment("PID").and_then(|p| first(p, 5)) {
        sink.value(What::Pid5_1, &s);
    }
    if let Some(s) = msg.segment("ORC").and_then(|p| first(p, 2)) {
        sink.value(What::Orc2_1, &s);
    }
    for obx in msg.segments("OBX") {
        if let Some(&raw) = obx.raw_fields().get(4) {
            if raw.is_empty() {
                continue;
            }
            for r in raw.split(rep) {
                for c in r.split(comp) {
                    for s in c.split(sub) {
                        sink.value(What::Obx5, s);
                    }
                }
            }
        }
    }
    Some(())
}

pub fn hl7_v2_visit(bytes: &[u8]) -> Option<usize> {
    let msg = hl7_v2::Hl7Message::parse(bytes).ok()?;
    let enc = &msg.encoding;
    let (rep, comp) = (enc.repetition_sep as char, enc.component_sep as char);
    let mut n = 0usize;
    for seg in msg.all_segments() {
        for f in seg.raw_fields() {
            if f.is_empty() {
                continue;
            }
            for r in f.split(rep) {
                for c in r.split(comp) {
                    n = n.wrapping_add(c.len() + 1);
                }
            }
        }
    }
    Some(n)
}

// ------------------------------------------------------------------------------------------
// The floor.

/// The SIMD delimiter scan into `out` (preallocated by the caller): no values read.
pub fn floor(bytes: &[u8], out: &mut Vec<u32>) -> usize {
    benches::floor::scan(bytes, benches::floor::delimiters_of(bytes), out);
    out.len()
}
