//! What the server and the client share below the protocol: writing one frame.

use std::time::Duration;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::frame::encode;

/// Why a frame could not be written.
#[derive(Debug)]
pub(crate) enum WriteFailure {
    Timeout,
    Io(std::io::Error),
}

/// Writes `payload` framed with a single `write_all` of the whole frame, then flushes (a TLS
/// stream holds the record until then), all within `limit`. One write for the whole frame keeps
/// a receiver that reads with one `read` per frame working, and sends one segment where
/// the frame fits. `out` is a scratch buffer reused across frames.
pub(crate) async fn write_frame<S>(
    stream: &mut S,
    payload: &[u8],
    out: &mut Vec<u8>,
    limit: Duration,
) -> Result<(), WriteFailure>
where
    S: AsyncWrite + Unpin + ?Sized,
{
    out.clear();
    encode(payload, out);
    let writing = async {
        stream.write_all(out).await?;
        stream.flush().await
    };
    match tokio::time::timeout(limit, writing).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(WriteFailure::Io(error)),
        Err(_) => Err(WriteFailure::Timeout),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, ReadBuf};

    use super::*;

    /// A stream that reads from a script then sees the end of the stream, and records every
    /// `poll_write` call separately, accepting each whole.
    #[derive(Default)]
    pub(crate) struct Recorder {
        pub(crate) script: io::Cursor<Vec<u8>>,
        pub(crate) writes: Vec<Vec<u8>>,
    }

    impl AsyncRead for Recorder {
        fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
            let script = &mut self.script;
            let at = script.position() as usize;
            let rest = &script.get_ref()[at..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            script.set_position((at + n) as u64);
            Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Recorder {
        fn poll_write(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
            self.writes.push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn a_frame_is_one_write_call() {
        let mut stream = Recorder::default();
        let mut out = Vec::new();
        let ack = vec![b'A'; 100_000];
        write_frame(&mut stream, &ack, &mut out, Duration::from_secs(5)).await.unwrap();
        write_frame(&mut stream, b"MSA|AA\r", &mut out, Duration::from_secs(5)).await.unwrap();
        assert_eq!(stream.writes.len(), 2);
        let mut first = vec![0x0B];
        first.extend_from_slice(&ack);
        first.extend_from_slice(b"\x1C\x0D");
        assert_eq!(stream.writes[0], first);
        assert_eq!(stream.writes[1], b"\x0BMSA|AA\r\x1C\x0D");
    }
}
