//! The subset of HTTP/1.1 the service speaks, over `std::net`: one request
//! per connection (`Connection: close`), bodies sized by `Content-Length`
//! (no chunked encoding), binary bodies. Enough for the service and its
//! client; put a reverse proxy in front for TLS, keep-alive and
//! authentication.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The largest request or reply body accepted (a commit with a Welcome for
/// many joiners is the largest message): 16 MiB.
pub const MAX_BODY: usize = 16 << 20;
/// The largest request line plus headers: 16 KiB.
pub const MAX_HEAD: usize = 16 << 10;
/// Connections served at once; more are answered 503 at once.
pub const MAX_CONNECTIONS: usize = 256;
/// How long a connection may stay silent while a request or reply is
/// read or written.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// A request.
#[derive(Debug)]
pub struct Request {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query's `key=value` pairs, as sent (no percent-decoding: the
    /// service's names and numbers need none).
    pub query: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A reply: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status code.
    pub status: u16,
    /// The body (binary, or a UTF-8 explanation for an error).
    pub body: Vec<u8>,
}

impl Response {
    /// A reply with `status` and `body`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            body: body.into(),
        }
    }

    /// The body as text (for errors).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Serves `handler` on `listener`, a thread per connection (at most
/// [`MAX_CONNECTIONS`]), until the listener fails.
pub fn serve(
    listener: TcpListener,
    handler: Arc<dyn Fn(Request) -> Response + Send + Sync>,
) -> std::io::Result<()> {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            let _ = write_response(&mut stream, &Response::new(503, "too many connections"));
            continue;
        }
        let (handler, open) = (handler.clone(), open.clone());
        std::thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
            let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
            let response = match read_request(&mut stream) {
                Ok(request) => handler(request),
                Err(e) => e,
            };
            let _ = write_response(&mut stream, &response);
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
    Ok(())
}

/// Reads the head (request or status line and headers) and the body.
fn read_message(stream: &mut impl Read) -> Result<(String, Vec<u8>), Response> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    let mut length = 0usize;
    let mut first = String::new();
    loop {
        let mut line = String::new();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| Response::new(400, format!("reading the request: {e}")))?;
        if n == 0 {
            return Err(Response::new(400, "the connection closed mid-head"));
        }
        head.push_str(&line);
        if head.len() > MAX_HEAD {
            return Err(Response::new(413, "head too large"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if first.is_empty() {
            first = line.to_owned();
        } else if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value
                .trim()
                .parse()
                .map_err(|_| Response::new(400, "bad Content-Length"))?;
        }
    }
    if length > MAX_BODY {
        return Err(Response::new(413, format!("body over {MAX_BODY} bytes")));
    }
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .map_err(|e| Response::new(400, format!("reading the body: {e}")))?;
    Ok((first, body))
}

fn read_request(stream: &mut TcpStream) -> Result<Request, Response> {
    let (line, body) = read_message(stream)?;
    let mut words = line.split(' ');
    let (Some(method), Some(target)) = (words.next(), words.next()) else {
        return Err(Response::new(400, "bad request line"));
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    Ok(Request {
        method: method.to_owned(),
        path: path.to_owned(),
        query,
        body,
    })
}

fn write_response(stream: &mut TcpStream, response: &Response) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(&response.body)?;
    stream.flush()
}

/// Sends one request to `addr` (`host:port`) and reads the reply.
pub fn call(
    addr: impl ToSocketAddrs,
    method: &str,
    target: &str,
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: arbor-ds\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let (status_line, body) = read_message(&mut stream)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.text()))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("bad status line {status_line:?}"),
            )
        })?;
    Ok(Response { status, body })
}
