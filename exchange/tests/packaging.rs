//! Library users' builds stay lean: nothing the `telerad` crate depends on, however indirectly
//! (Cargo.lock lists build and dev dependencies too, so this is stricter than a build), pulls in
//! the command line, the network or the database.

use std::collections::{BTreeMap, BTreeSet};

/// Package name → names of its dependencies, from Cargo.lock.
fn lock_graph() -> BTreeMap<String, Vec<String>> {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let name = block.lines().find_map(|l| l.strip_prefix("name = \"")).map(|n| n.trim_end_matches('"').to_owned()).unwrap();
        let deps = match block.find("dependencies = [") {
            Some(i) => block[i..].split_once('[').unwrap().1.split_once(']').unwrap().0.split(',').map(|d| d.trim().trim_matches('"')).filter(|d| !d.is_empty()).map(|d| d.split(' ').next().unwrap().to_owned()).collect(),
            None => Vec::new(),
        };
        graph.entry(name).or_default().extend(deps);
    }
    graph
}

fn closure(graph: &BTreeMap<String, Vec<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_owned()];
    while let Some(p) = todo.pop() {
        if seen.insert(p.clone()) {
            todo.extend(graph.get(&p).cloned().unwrap_or_default());
        }
    }
    seen
}

#[test]
fn the_typed_library_compiles_no_cli_network_or_database() {
    let graph = lock_graph();
    let telerad = closure(&graph, "telerad");
    assert!(telerad.contains("hl7-runtime"), "the graph was read: {telerad:?}");
    for heavy in ["clap", "tokio", "rustls", "rusqlite", "libsqlite3-sys", "hl7-mllp", "telerad-exchange"] {
        assert!(!telerad.contains(heavy), "telerad depends on {heavy}");
    }
    // The exchange does carry them.
    let exchange = closure(&graph, "telerad-exchange");
    for p in ["clap", "tokio", "rustls", "rusqlite", "hl7-mllp", "telerad"] {
        assert!(exchange.contains(p), "telerad-exchange without {p}");
    }
}
