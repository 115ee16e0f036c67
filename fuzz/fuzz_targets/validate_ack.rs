//! Validation and the ACK on whatever parses (and on what does not): `telerad::check` returns
//! findings, never panics; the ACK built from them always builds and always parses again.
#![no_main]

use hl7_runtime::ack::{build, AckOptions, Decision, Identity};
use hl7_runtime::{Message, ParseOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let clock = || "20260106134419".to_owned();
    let id = || "ACK0001".to_owned();
    let opts = AckOptions {
        receiver: Identity { application: "PLAT".into(), facility: "TLR".into() },
        clock: &clock,
        next_id: &id,
    };
    for options in [ParseOptions::default(), ParseOptions::lenient()] {
        let checked = telerad::check(data, &options, None).expect("no profile named, so no usage error");
        for f in &checked.findings {
            let _ = f.to_string();
        }
        let inbound = checked.message.as_ref().map(|m| &m.placed().message);
        for decision in [Decision::Accept, Decision::Reject { reason: "busy".into() }] {
            let ack = build(inbound, data, &checked.findings, decision, &opts).expect("an ACK with an ASCII identity always builds");
            if let Err(e) = Message::parse(&ack) {
                panic!("the ACK does not parse: {e}\n{}", String::from_utf8_lossy(&ack));
            }
        }
    }
});
