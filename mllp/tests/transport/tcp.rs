//! The server over plain TCP: order, framing across reads, limits, timeouts, shutdown.

use std::time::Duration;

use std::sync::atomic::{AtomicUsize, Ordering};

use hl7_mllp::{encode, send_with_retry, Client, ClientError, Config, FrameError, Inbound, RetryPolicy, Stage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

const MSG1: &[u8] = b"MSH|^~\\&|RIS|HOSP|PLAT|TLR|20260106||ORM^O01^ORM_O01|1|P|2.5.1\r";
const MSG2: &[u8] = b"MSH|^~\\&|RIS|HOSP|PLAT|TLR|20260106||ORM^O01^ORM_O01|2|P|2.5.1\r";

fn ack(message: &[u8]) -> Vec<u8> {
    [b"ACK:".as_slice(), message].concat()
}

#[tokio::test]
async fn round_trip_in_order_on_one_connection() {
    let server = Server::start(test_config(), None, Recorder::default()).await;
    let mut client = bounded(Client::connect(server.addr, None, &test_config())).await.unwrap();
    // The last message has no final CR: it is passed on exactly as sent.
    let no_final_cr: &[u8] = b"MSH|^~\\&|RIS|HOSP|PLAT|TLR|20260106||ORM^O01^ORM_O01|3|P|2.5.1";
    for message in [MSG1, MSG2, no_final_cr] {
        assert_eq!(bounded(client.send(message)).await.unwrap(), ack(message));
    }
    bounded(client.close()).await;
    let seen = server.handler.seen();
    let messages: Vec<_> = seen.iter().filter(|s| matches!(s, Seen::Message(_))).cloned().collect();
    assert_eq!(
        messages,
        vec![Seen::Message(MSG1.to_vec()), Seen::Message(MSG2.to_vec()), Seen::Message(no_final_cr.to_vec())]
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_frame_written_one_byte_at_a_time() {
    let server = Server::start(test_config(), None, Recorder::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut wire = Vec::new();
    hl7_mllp::encode(MSG1, &mut wire);
    for byte in &wire {
        stream.write_all(std::slice::from_ref(byte)).await.unwrap();
        stream.flush().await.unwrap();
        // Let the server read between bytes, so the frame really arrives in pieces.
        tokio::task::yield_now().await;
    }
    assert_eq!(Reader::new().next(&mut stream).await, Some(ack(MSG1)));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn two_frames_in_one_write_get_two_answers_in_order() {
    let server = Server::start(test_config(), None, Recorder::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    write_frames(&mut stream, &[MSG1, MSG2]).await;
    let mut reader = Reader::new();
    assert_eq!(reader.next(&mut stream).await, Some(ack(MSG1)));
    assert_eq!(reader.next(&mut stream).await, Some(ack(MSG2)));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn garbage_before_a_start_block_is_reported_and_the_frame_still_handled() {
    let server = Server::start(test_config(), None, Recorder::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream.write_all(b"HELLO\r\n").await.unwrap();
    write_frames(&mut stream, &[MSG1]).await;
    assert_eq!(Reader::new().next(&mut stream).await, Some(ack(MSG1)));
    let seen = server.handler.seen();
    let handled: Vec<_> = seen.iter().filter(|s| matches!(s, Seen::Message(_) | Seen::Invalid(_))).cloned().collect();
    assert_eq!(handled, vec![Seen::Invalid(FrameError::Garbage { bytes: 7 }), Seen::Message(MSG1.to_vec())]);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_frame_is_answered_by_the_handler_and_the_connection_goes_on() {
    let mut config = test_config();
    config.limits.max_message_bytes = 1024;
    let server = Server::start(config, None, Recorder::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let big = vec![b'X'; 5000];
    write_frames(&mut stream, &[&big, MSG1]).await;
    let mut reader = Reader::new();
    let nak = reader.next(&mut stream).await.unwrap();
    assert!(
        nak.starts_with(b"NAK: MLLP frame larger than the limit of 1024 bytes"),
        "{}",
        String::from_utf8_lossy(&nak)
    );
    assert_eq!(reader.next(&mut stream).await, Some(ack(MSG1)));
    // Another connection is served as usual.
    let mut other = bounded(Client::connect(server.addr, None, &test_config())).await.unwrap();
    assert_eq!(bounded(other.send(MSG2)).await.unwrap(), ack(MSG2));
    assert!(!server.handler.seen().iter().any(|s| matches!(s, Seen::Message(m) if m.len() > 1024)));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_stalled_half_frame_is_dropped_and_its_connection_closed() {
    let config = Config { read_timeout: Duration::from_millis(200), ..test_config() };
    let server = Server::start(config, None, Recorder::default()).await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled.write_all(b"\x0BMSH|half").await.unwrap();
    // Served meanwhile.
    let mut client = bounded(Client::connect(server.addr, None, &test_config())).await.unwrap();
    assert_eq!(bounded(client.send(MSG1)).await.unwrap(), ack(MSG1));
    // After read_timeout (200 ms) the server reports the half frame (the recording handler
    // answers it with a NAK) and closes.
    let mut reader = Reader::new();
    let nak = reader.next(&mut stalled).await.unwrap();
    assert!(nak.starts_with(b"NAK: MLLP frame cut short after 8 payload bytes"), "{}", String::from_utf8_lossy(&nak));
    assert_eq!(reader.next(&mut stalled).await, None, "closed after the stall");
    server.handler.wait_for(|seen| seen.contains(&Seen::Closed("read timeout".into()))).await;
    assert!(!server.handler.seen().contains(&Seen::Message(b"MSH|half".to_vec())));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn two_hundred_idle_connections_do_not_keep_a_client_waiting_and_are_closed_when_idle() {
    // All from one address: the per-peer limit is raised so that all 200 are served.
    let config = Config { idle_timeout: Duration::from_secs(3), max_connections_per_peer: 1000, ..test_config() };
    let server = Server::start(config, None, Recorder::default()).await;
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(bounded(TcpStream::connect(server.addr)).await.unwrap());
    }
    server.handler.wait_for(|seen| seen.iter().filter(|s| **s == Seen::Accepted).count() == 200).await;
    let mut client = bounded(Client::connect(server.addr, None, &test_config())).await.unwrap();
    assert_eq!(bounded(client.send(MSG1)).await.unwrap(), ack(MSG1));
    for stream in &mut idle {
        expect_closed(stream).await;
    }
    let idle_closes = server.handler.seen().iter().filter(|s| **s == Seen::Closed("idle timeout".into())).count();
    assert!(idle_closes >= 200, "{idle_closes} connections closed for idleness");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn connections_over_the_limit_are_closed_at_once() {
    let config = Config { max_connections: 2, ..test_config() };
    let server = Server::start(config, None, Recorder::default()).await;
    let mut first = bounded(Client::connect(server.addr, None, &test_config())).await.unwrap();
    let mut second = TcpStream::connect(server.addr).await.unwrap();
    server.handler.wait_for(|seen| seen.iter().filter(|s| **s == Seen::Accepted).count() == 2).await;
    let mut third = TcpStream::connect(server.addr).await.unwrap();
    expect_closed(&mut third).await;
    assert!(server.handler.seen().contains(&Seen::Refused));
    // A freed slot is usable again.
    second.shutdown().await.unwrap();
    server.handler.wait_for(|seen| seen.contains(&Seen::Closed("peer closed".into()))).await;
    let mut fourth = bounded(Client::connect(server.addr, None, &test_config())).await.unwrap();
    assert_eq!(bounded(fourth.send(MSG2)).await.unwrap(), ack(MSG2));
    assert_eq!(bounded(first.send(MSG1)).await.unwrap(), ack(MSG1));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_lets_the_message_in_flight_finish() {
    let handler = Recorder { delay: Duration::from_millis(300), ..Recorder::default() };
    let mut server = Server::start(test_config(), None, handler).await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    let mut client = bounded(Client::connect(server.addr, None, &test_config())).await.unwrap();
    let handler = std::sync::Arc::clone(&server.handler);
    let sending = tokio::spawn(async move { client.send(MSG1).await });
    bounded(handler.started.notified()).await;
    server.trigger_shutdown();
    // The message in flight is answered although shutdown came while the handler was running.
    assert_eq!(bounded(sending).await.unwrap().unwrap(), ack(MSG1));
    expect_closed(&mut idle).await;
    let addr = server.addr;
    server.stop().await.unwrap();
    // The listener is gone.
    let after = Client::connect(addr, None, &test_config()).await;
    assert!(matches!(after, Err(ClientError::Connect { .. })), "{after:?}");
}

#[tokio::test]
async fn the_client_times_out_on_a_server_that_never_answers_then_refuses_to_reuse_the_connection() {
    let config = Config { read_timeout: Duration::from_millis(200), ..test_config() };
    // Garbage gets no answer from the recording handler: the client keeps waiting for a frame.
    let silent = |_event, _peer| async { None };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server =
        tokio::spawn(hl7_mllp::serve(listener, None, config, std::sync::Arc::new(silent), std::future::pending()));
    let mut client = bounded(Client::connect(addr, None, &config)).await.unwrap();
    let error = bounded(client.send(MSG1)).await.unwrap_err();
    assert!(matches!(error, ClientError::Timeout { stage: Stage::Read, .. }), "{error:?}");
    assert_eq!(error.to_string(), "timed out waiting for the answer after 200ms");
    // A late answer could be taken for the next message's: the client is closed for good.
    assert!(matches!(bounded(client.send(MSG2)).await, Err(ClientError::Closed)));
    server.abort();
}

#[tokio::test]
async fn the_client_reports_a_refused_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let error = bounded(Client::connect(addr, None, &test_config())).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::Connect { source, .. } if source.kind() == std::io::ErrorKind::ConnectionRefused),
        "{error:?}"
    );
    assert!(error.to_string().starts_with(&format!("cannot connect to {addr}: ")), "{error}");
}

#[tokio::test]
async fn the_client_reports_a_connection_closed_before_the_answer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = tokio::spawn(async move {
        // Reads the message, then leaves after half an answer.
        let (mut stream, _) = listener.accept().await.unwrap();
        assert_eq!(Reader::new().next(&mut stream).await, Some(MSG1.to_vec()));
        stream.write_all(b"\x0BMSH|half").await.unwrap();
    });
    let mut client = bounded(Client::connect(addr, None, &test_config())).await.unwrap();
    let error = bounded(client.send(MSG1)).await.unwrap_err();
    assert!(matches!(error, ClientError::Frame(FrameError::Truncated { bytes: 8 })), "{error:?}");
    peer.await.unwrap();
}

#[tokio::test]
async fn send_with_retry_reconnects_after_a_dropped_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = tokio::spawn(async move {
        let (first, _) = listener.accept().await.unwrap();
        drop(first);
        let (mut second, _) = listener.accept().await.unwrap();
        let message = Reader::new().next(&mut second).await.unwrap();
        write_frames(&mut second, &[&ack(&message)]).await;
    });
    let policy =
        RetryPolicy { attempts: 3, initial_backoff: Duration::from_millis(10), max_backoff: Duration::from_millis(50) };
    let answer = bounded(send_with_retry(addr, None, &test_config(), MSG1, policy)).await.unwrap();
    assert_eq!(answer, ack(MSG1));
    peer.await.unwrap();
}

#[tokio::test]
async fn send_with_retry_gives_up_after_its_attempts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&accepted);
    let peer = tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            // Read the message so that closing sends a clean FIN, then answer nothing.
            let _ = Reader::new().next(&mut stream).await;
        }
    });
    let policy =
        RetryPolicy { attempts: 3, initial_backoff: Duration::from_millis(10), max_backoff: Duration::from_millis(20) };
    let error = bounded(send_with_retry(addr, None, &test_config(), MSG1, policy)).await.unwrap_err();
    assert!(matches!(error, ClientError::Closed), "{error:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
    peer.abort();
}

#[tokio::test]
async fn a_line_feed_after_each_frame_does_not_count_as_a_stalled_frame() {
    let config = Config { read_timeout: Duration::from_millis(200), ..test_config() };
    let server = Server::start(config, None, Recorder::default()).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let mut reader = Reader::new();
    write_frames(&mut stream, &[MSG1]).await;
    stream.write_all(b"\n").await.unwrap();
    assert_eq!(reader.next(&mut stream).await, Some(ack(MSG1)));
    // Longer than read_timeout: the connection is idle, not inside a frame, so it stays open.
    tokio::time::sleep(Duration::from_millis(600)).await;
    write_frames(&mut stream, &[MSG2]).await;
    assert_eq!(reader.next(&mut stream).await, Some(ack(MSG2)));
    let seen = server.handler.seen();
    assert!(seen.contains(&Seen::Invalid(FrameError::Garbage { bytes: 1 })), "{seen:?}");
    assert!(!seen.iter().any(|s| matches!(s, Seen::Closed(_))), "{seen:?}");
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_panicking_handler_ends_its_connection_only() {
    let handler = |event: Inbound, _peer| async move {
        match event {
            Inbound::Message(message) if message.starts_with(b"PANIC") => panic!("handler bug (expected by this test)"),
            Inbound::Message(message) => Some(ack(&message)),
            Inbound::Invalid(_) => None,
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hl7_mllp::serve(listener, None, test_config(), std::sync::Arc::new(handler), async {
        let _ = stopped.await;
    }));
    let mut doomed = bounded(Client::connect(addr, None, &test_config())).await.unwrap();
    let error = bounded(doomed.send(b"PANIC")).await.unwrap_err();
    assert!(matches!(error, ClientError::Closed | ClientError::Io(_)), "{error:?}");
    let mut client = bounded(Client::connect(addr, None, &test_config())).await.unwrap();
    assert_eq!(bounded(client.send(MSG1)).await.unwrap(), ack(MSG1));
    stop.send(()).unwrap();
    bounded(server).await.unwrap().unwrap();
}

#[tokio::test]
async fn a_peer_over_its_limit_is_closed_at_once_and_others_are_served() {
    let config = Config { max_connections: 10, max_connections_per_peer: 4, ..test_config() };
    let server = Server::start(config, None, Recorder::default()).await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(bounded(TcpStream::connect(server.addr)).await.unwrap());
    }
    server.handler.wait_for(|seen| seen.iter().filter(|s| **s == Seen::Accepted).count() == 4).await;
    let mut fifth = bounded(TcpStream::connect(server.addr)).await.unwrap();
    expect_closed(&mut fifth).await;
    // 127.0.0.2 is loopback too, another address.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let stream = bounded(socket.connect(server.addr)).await.unwrap();
    let mut frame = Vec::new();
    encode(MSG1, &mut frame);
    let mut stream = stream;
    stream.write_all(&frame).await.unwrap();
    let mut expected = Vec::new();
    encode(&ack(MSG1), &mut expected);
    let mut got = vec![0u8; expected.len()];
    bounded(stream.read_exact(&mut got)).await.unwrap();
    assert_eq!(got, expected);
    // A connection that leaves frees its address's slot.
    drop(idle.pop());
    server.handler.wait_for(|seen| seen.contains(&Seen::Closed("peer closed".into()))).await;
    let mut client = bounded(Client::connect(server.addr, None, &test_config())).await.unwrap();
    assert_eq!(bounded(client.send(MSG2)).await.unwrap(), ack(MSG2));
    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_frame_trickling_in_is_cut_at_the_frame_deadline() {
    // Each byte comes well within read_timeout; the whole frame does not come within frame_timeout.
    let config = Config { read_timeout: Duration::from_secs(5), frame_timeout: Duration::from_secs(1), ..test_config() };
    let server = Server::start(config, None, Recorder::default()).await;
    let mut stream = bounded(TcpStream::connect(server.addr)).await.unwrap();
    let started = std::time::Instant::now();
    stream.write_all(b"\x0BMSH|").await.unwrap();
    let closed = bounded(async {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if stream.write_all(b"x").await.is_err() {
                break;
            }
            let mut byte = [0u8; 1];
            if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(1), stream.read(&mut byte)).await {
                break;
            }
        }
    });
    closed.await;
    assert!(started.elapsed() >= Duration::from_millis(900), "closed after {:?}", started.elapsed());
    server.handler.wait_for(|seen| seen.contains(&Seen::Closed("frame deadline".into()))).await;
    assert!(server.handler.seen().iter().any(|s| matches!(s, Seen::Invalid(FrameError::Truncated { .. }))));
    server.stop().await.unwrap();
}
