//! Building responses: JSON values, empty answers, Docker's error body, and
//! bodies streamed from a channel (progress streams, events, exports).

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use berth_engine::progress::{Cancelled, Progress};
use berth_models::error::ErrorResponse;
use berth_models::progress::JsonMessage;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Frame;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::ApiError;

/// Every response body: a whole buffer or a stream.
pub type Body = BoxBody<Bytes, io::Error>;
pub type Response = http::Response<Body>;

fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// An empty body with `status`.
pub fn empty(status: StatusCode) -> Response {
    let mut r = http::Response::new(
        Empty::new()
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *r.status_mut() = status;
    r
}

/// `value` as JSON with `status`.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(mut bytes) => {
            bytes.push(b'\n');
            with_type(status, "application/json", full(bytes))
        }
        Err(e) => error(&ApiError::internal(format!("encoding the response: {e}"))),
    }
}

/// Plain text (the `/_ping` "OK").
pub fn text(status: StatusCode, body: &'static str) -> Response {
    with_type(status, "text/plain; charset=utf-8", full(body))
}

/// Docker's error body.
pub fn error(e: &ApiError) -> Response {
    let body = ErrorResponse {
        message: e.message.clone(),
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"message\":\"error\"}".to_vec());
    with_type(e.status, "application/json", full(bytes))
}

/// A streamed body of `content_type`, fed by a channel.
pub fn stream(
    status: StatusCode,
    content_type: &'static str,
    rx: mpsc::Receiver<Bytes>,
) -> Response {
    with_type(
        status,
        content_type,
        ChannelBody { first: None, rx }.boxed(),
    )
}

fn with_type(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut r = http::Response::new(body);
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

/// A body whose chunks arrive on a channel; it ends when the sender drops.
struct ChannelBody {
    /// A chunk already taken off the channel, sent before the rest.
    first: Option<Bytes>,
    rx: mpsc::Receiver<Bytes>,
}

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        self.rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// [`Progress`] over a response stream: one JSON message per line, as
/// dockerd writes them (Go's escaping, CRLF line ends). Remembers whether
/// anything was sent, because an error before the first message is
/// answered with a status code instead.
pub struct ProgressStream {
    tx: mpsc::Sender<Bytes>,
    sent: AtomicBool,
}

impl ProgressStream {
    /// Whether a message went out (an error now belongs in the stream).
    pub fn has_sent(&self) -> bool {
        self.sent.load(Ordering::Relaxed)
    }
}

/// JSON as Go's encoder writes it by default: `<`, `>` and `&` escaped
/// (`\u003c`…), and U+2028/U+2029 too. Those bytes can only be inside
/// strings, so escaping them in the encoded text is safe.
pub fn go_json_escape(json: Vec<u8>) -> Vec<u8> {
    let needs = json
        .windows(3)
        .any(|w| w == "\u{2028}".as_bytes() || w == "\u{2029}".as_bytes())
        || json.iter().any(|b| matches!(b, b'<' | b'>' | b'&'));
    if !needs {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + 16);
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            0xe2 if json.get(i + 1) == Some(&0x80)
                && matches!(json.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                out.extend_from_slice(if json[i + 2] == 0xa8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                i += 3;
                continue;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

impl Progress for ProgressStream {
    fn send(&self, message: JsonMessage) -> Result<(), Cancelled> {
        let line = serde_json::to_vec(&message).map_err(|_| Cancelled)?;
        let mut line = go_json_escape(line);
        // dockerd's `streamformatter` ends each message with CRLF.
        line.extend_from_slice(b"\r\n");
        self.sent.store(true, Ordering::Relaxed);
        self.tx
            .blocking_send(Bytes::from(line))
            .map_err(|_| Cancelled)
    }

    fn cancelled(&self) -> bool {
        self.tx.is_closed()
    }
}

/// [`std::io::Write`] into a streamed body, in chunks of up to 256 KiB.
/// Must be used from a blocking thread; a write fails once the client has
/// gone.
pub struct ChannelWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

const WRITE_CHUNK: usize = 256 << 10;

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<Bytes>) -> Self {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(WRITE_CHUNK),
        }
    }
}

impl io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(WRITE_CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == WRITE_CHUNK {
            self.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(WRITE_CHUNK),
        ));
        self.tx.blocking_send(chunk).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the client closed the connection",
            )
        })
    }
}

/// Runs `op` on a blocking thread with a [`ProgressStream`] and answers with
/// its messages as a JSON stream. If `op` fails before sending anything,
/// the answer is its error with a status code, as dockerd does; a later
/// failure ends the stream with an error message.
pub async fn progress<F>(op: F) -> Response
where
    F: FnOnce(&ProgressStream) -> Result<(), ApiError> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Bytes>(64);
    let task = tokio::task::spawn_blocking(move || {
        let sink = ProgressStream {
            tx,
            sent: AtomicBool::new(false),
        };
        match op(&sink) {
            Ok(()) => Ok(()),
            Err(e) if sink.sent.load(Ordering::Relaxed) => {
                // The client may be gone already; nothing more to do then.
                let _ = sink.send(JsonMessage::error(e.message));
                Ok(())
            }
            Err(e) => Err(e),
        }
    });
    match rx.recv().await {
        Some(first) => with_type(
            StatusCode::OK,
            "application/json",
            ChannelBody {
                first: Some(first),
                rx,
            }
            .boxed(),
        ),
        None => match task.await {
            Ok(Ok(())) => with_type(StatusCode::OK, "application/json", full(Bytes::new())),
            Ok(Err(e)) => error(&e),
            Err(join) => error(&ApiError::internal(format!("the operation failed: {join}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaped_as_go_escapes_it() {
        let json =
            serde_json::to_vec(&serde_json::json!({"stream": "a > b && c <d>\u{2028}é"})).unwrap();
        let out = String::from_utf8(go_json_escape(json)).unwrap();
        assert_eq!(
            out,
            r#"{"stream":"a \u003e b \u0026\u0026 c \u003cd\u003e\u2028é"}"#
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["stream"], "a > b && c <d>\u{2028}é");
        assert_eq!(go_json_escape(b"{}".to_vec()), b"{}");
    }
}
