//! Placement of segments into groups: the cases integrators keep hitting (repeated ORDER
//! groups, OBX/NTE pairs, Z segments, segments out of order).

use hl7_runtime::meta::{GroupDef, Node, SegmentDef, SegmentNode, Usage, UNBOUNDED};
use hl7_runtime::structure::{place, GroupInstance, Item};

macro_rules! seg {
    ($name:ident, $id:literal) => {
        static $name: SegmentDef = SegmentDef { id: $id, name: $id, fields: &[], constraints: None };
    };
}
seg!(MSH, "MSH");
seg!(PID, "PID");
seg!(ORC, "ORC");
seg!(OBR, "OBR");
seg!(NTE, "NTE");
seg!(OBX, "OBX");
seg!(IPC, "IPC");

const fn s(def: &'static SegmentDef, usage: Usage, min: u32, max: u32) -> Node {
    Node::Segment(SegmentNode { def, usage, min, max, src: "" })
}

static OBSERVATION: GroupDef = GroupDef {
    name: "OBSERVATION",
    usage: Usage::O,
    min: 0,
    max: UNBOUNDED,
    choice: false,
    children: &[s(&OBX, Usage::R, 1, 1), s(&NTE, Usage::O, 0, UNBOUNDED)],
    first: &["OBX"],
    slices: &[],
    src: "",
};
static ORDER: GroupDef = GroupDef {
    name: "ORDER",
    usage: Usage::R,
    min: 1,
    max: UNBOUNDED,
    choice: false,
    children: &[
        s(&ORC, Usage::R, 1, 1),
        s(&OBR, Usage::R, 1, 1),
        s(&NTE, Usage::O, 0, UNBOUNDED),
        Node::Group(&OBSERVATION),
        s(&IPC, Usage::R, 1, 1),
    ],
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
    children: &[s(&MSH, Usage::R, 1, 1), s(&PID, Usage::R, 1, 1), Node::Group(&ORDER)],
    first: &["MSH"],
    slices: &[],
    src: "",
};

/// A compact picture of a placed tree: `GROUP(seg seg GROUP(...))`, unexpected as `!SEG`.
fn show(inst: &GroupInstance, ids: &[&str]) -> String {
    let mut out = Vec::new();
    for it in &inst.items {
        match it {
            Item::Segment { segment, .. } => out.push(ids[*segment].to_owned()),
            Item::Unexpected { segment } => out.push(format!("!{}", ids[*segment])),
            Item::Group { group, .. } => out.push(format!("{}({})", group.def.name, show(group, ids))),
        }
    }
    out.join(" ")
}

fn placed(ids: &[&str]) -> String {
    show(&place(&ROOT, ids.iter().copied()), ids)
}

#[test]
fn repeated_orders_and_observations() {
    let ids = ["MSH", "PID", "ORC", "OBR", "NTE", "OBX", "NTE", "OBX", "IPC", "ORC", "OBR", "OBX", "IPC"];
    assert_eq!(
        placed(&ids),
        "MSH PID ORDER(ORC OBR NTE OBSERVATION(OBX NTE) OBSERVATION(OBX) IPC) ORDER(ORC OBR OBSERVATION(OBX) IPC)"
    );
}

#[test]
fn nte_after_obx_belongs_to_the_observation_not_the_order() {
    assert_eq!(placed(&["MSH", "PID", "ORC", "OBR", "OBX", "NTE", "NTE"]), "MSH PID ORDER(ORC OBR OBSERVATION(OBX NTE NTE))");
}

#[test]
fn z_segment_is_kept_in_place_and_does_not_break_what_follows() {
    assert_eq!(
        placed(&["MSH", "PID", "ORC", "OBR", "ZTL", "OBX", "IPC"]),
        "MSH PID ORDER(ORC OBR !ZTL OBSERVATION(OBX) IPC)"
    );
}

#[test]
fn misplaced_and_duplicate_segments_are_kept_as_unexpected() {
    // A second PID fits nowhere after the ORDER has started; a segment before its place too.
    assert_eq!(placed(&["MSH", "ORC", "PID", "OBR", "PID"]), "MSH ORDER(ORC !PID OBR !PID)");
    assert_eq!(placed(&["MSH", "MSH"]), "MSH !MSH");
}

#[test]
fn missing_required_segments_do_not_stop_placement() {
    assert_eq!(placed(&["MSH", "OBX", "ORC", "IPC"]), "MSH !OBX ORDER(ORC IPC)");
}

#[test]
fn every_segment_is_placed_exactly_once() {
    let ids = ["MSH", "NTE", "PID", "ZZZ", "ORC", "ORC", "OBX", "OBX", "NTE", "IPC", "IPC", "OBR"];
    let tree = place(&ROOT, ids.iter().copied());
    let mut all = Vec::new();
    tree.all_segments(&mut all);
    assert_eq!(all, (0..ids.len()).collect::<Vec<_>>());
}

/// Placement takes the item vectors of dropped trees back (kept per thread): each comes back
/// empty, so a tree placed after others is the tree placed on a thread's first use, whatever
/// the earlier trees held.
#[test]
fn a_placement_after_dropped_trees_is_the_same_as_a_first() {
    let later = ["MSH", "PID", "ORC", "OBR", "OBX", "NTE", "ORC", "OBR"];
    let first = std::thread::spawn(move || placed(&later)).join().unwrap();
    for earlier in [
        &["MSH", "PID", "ORC", "OBR", "NTE", "OBX", "NTE", "OBX", "IPC", "ORC", "OBR", "OBX", "IPC"][..],
        &["MSH", "ZZZ", "PID", "PID", "ORC", "OBX", "OBX", "OBX", "OBX", "OBX", "OBX"][..],
    ] {
        drop(place(&ROOT, earlier.iter().copied()));
        assert_eq!(placed(&later), first);
        // And while an earlier tree is alive (nothing kept to take).
        let alive = place(&ROOT, earlier.iter().copied());
        assert_eq!(placed(&later), first);
        assert_eq!(show(&alive, earlier), placed(earlier));
    }
}
