//! Just enough HTTP/1.1 for the sandbox's data plane: the helloworld servers, the
//! waypoint that routes each request, and the pods' `curl`. Messages are framed by
//! `Content-Length` (every server here sends one), heads are bounded, and a peer that
//! closes between messages is a clean end, not an error.

use std::io;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// A head larger than this is refused, as servers refuse one (431).
const MAX_HEAD: usize = 64 * 1024;
/// A body larger than this is refused: nothing here sends big bodies.
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A request or response head: its first line and its headers, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub start: String,
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// A header's value, by name in any case.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn content_length(&self) -> io::Result<Option<usize>> {
        match self.get("content-length") {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| invalid(format!("bad Content-Length {v:?}"))),
        }
    }

    /// Whether the connection stays open after this message (HTTP/1.1's default).
    pub fn keep_alive(&self) -> bool {
        let close = self
            .get("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        !close && !self.start.contains("HTTP/1.0")
    }
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

/// Reads a head; None when the peer closed before sending a byte of it.
pub async fn read_head<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<Head>> {
    let mut lines: Vec<String> = Vec::new();
    let mut size = 0;
    loop {
        let mut line = Vec::new();
        let n = (&mut *reader)
            .take((MAX_HEAD - size + 1) as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return if lines.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        size += n;
        if size > MAX_HEAD {
            return Err(invalid("head too large".into()));
        }
        let text = String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_string();
        if text.is_empty() {
            // Blank lines before a request are allowed; after the start line, the end.
            if lines.is_empty() {
                continue;
            }
            break;
        }
        lines.push(text);
    }
    let start = lines.remove(0);
    let headers = lines
        .into_iter()
        .map(|l| match l.split_once(':') {
            Some((n, v)) if !n.is_empty() && !n.contains(' ') => {
                Ok((n.to_string(), v.trim().to_string()))
            }
            _ => Err(invalid(format!("bad header line {l:?}"))),
        })
        .collect::<io::Result<_>>()?;
    Ok(Some(Head { start, headers }))
}

/// Reads the body the head announces (none without `Content-Length` when `to_end` is
/// false; everything to the end of the stream when it is true).
pub async fn read_body<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    head: &Head,
    to_end: bool,
) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    match head.content_length()? {
        Some(n) if n > MAX_BODY => return Err(invalid("body too large".into())),
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body).await?;
        }
        None if to_end => {
            (&mut *reader)
                .take(MAX_BODY as u64)
                .read_to_end(&mut body)
                .await?;
        }
        None => {}
    }
    Ok(body)
}

/// A request as the waypoint and the servers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub head: Head,
    pub method: String,
    pub path: String,
    pub body: Vec<u8>,
}

/// Reads one request; None when the client closed between requests.
pub async fn read_request<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Option<Request>> {
    let Some(head) = read_head(reader).await? else {
        return Ok(None);
    };
    let mut parts = head.start.split(' ');
    let (Some(method), Some(path), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid(format!("bad request line {:?}", head.start)));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(invalid(format!("unsupported version {version}")));
    }
    let (method, path) = (method.to_string(), path.to_string());
    let body = read_body(reader, &head, false).await?;
    Ok(Some(Request {
        head,
        method,
        path,
        body,
    }))
}

impl Request {
    /// The request as bytes, to send on.
    pub fn to_bytes(&self) -> Vec<u8> {
        message(&self.head, &self.body)
    }
}

/// A response as a client sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub head: Head,
    pub status: u16,
    pub body: Vec<u8>,
}

/// Reads one response. One without `Content-Length` runs to the end of the stream.
pub async fn read_response<R: AsyncBufRead + Unpin>(reader: &mut R) -> io::Result<Response> {
    let head = read_head(reader)
        .await?
        .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
    let status = head
        .start
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .filter(|_| head.start.starts_with("HTTP/1."))
        .ok_or_else(|| invalid(format!("bad status line {:?}", head.start)))?;
    let body = read_body(reader, &head, true).await?;
    Ok(Response { head, status, body })
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        message(&self.head, &self.body)
    }
}

fn message(head: &Head, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{}\r\n", head.start);
    for (name, value) in &head.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// A response with a body and its length, as the servers here send.
pub fn respond(status: u16, reason: &str, content_type: &str, body: &str) -> Response {
    Response {
        head: Head {
            start: format!("HTTP/1.1 {status} {reason}"),
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("content-length".into(), body.len().to_string()),
            ],
        },
        status,
        body: body.as_bytes().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_and_responses_round_trip() {
        let raw = b"GET /hello HTTP/1.1\r\nHost: helloworld:5000\r\nAccept: */*\r\n\r\nGET /x HTTP/1.1\r\nHost: h\r\n\r\n";
        let mut reader = &raw[..];
        let first = read_request(&mut reader).await.unwrap().unwrap();
        assert_eq!(
            (first.method.as_str(), first.path.as_str()),
            ("GET", "/hello")
        );
        assert_eq!(first.head.get("HOST"), Some("helloworld:5000"));
        assert!(first.head.keep_alive());
        let second = read_request(&mut reader).await.unwrap().unwrap();
        assert_eq!(second.path, "/x");
        assert_eq!(read_request(&mut reader).await.unwrap(), None);

        let sent = respond(200, "OK", "text/plain", "Hello version: v1\n");
        let bytes = sent.to_bytes();
        let got = read_response(&mut &bytes[..]).await.unwrap();
        assert_eq!(got, sent);

        let truncated = b"GET / HTTP/1.1\r\nHost: h\r\n";
        assert!(read_request(&mut &truncated[..]).await.is_err());
        let bad = b"HELLO\r\n\r\n";
        assert!(read_request(&mut &bad[..]).await.is_err());
    }
}
