//! Loopback tests of the MLLP server and client; every step is bounded by a timeout.

mod support;
mod tcp;
mod tls;
