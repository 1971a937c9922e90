//! `curl`, as far as probe loops use it: GET (or `-X`) over HTTP/1.1 to `http://` URLs,
//! several URLs over one kept-alive connection where they share a host and port, `-s`,
//! `-S`, `-f`, `-o -|/dev/null`, `-w` with curl's variables and escapes, `-H`, `-m`,
//! `--connect-timeout`. Errors and exit codes are curl's; an option curl has that this
//! one does not is refused by name, so a probe never silently does something else.

use std::time::{Duration, Instant};

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::net::ConnectError;
use super::process::{Shell, Sink};
use crate::sandbox::wire::{Head, Request, read_response};

const TRY_HELP: &str = "curl: try 'curl --help' or 'curl --manual' for more information";
const KNOWN: &str = "-s -S -f -o -w -H -m -X --connect-timeout --http1.1";

#[derive(Debug, Default)]
struct Args {
    silent: bool,
    show_error: bool,
    fail: bool,
    /// `-o /dev/null`: the body goes nowhere.
    discard: bool,
    write_out: Option<String>,
    headers: Vec<(String, String)>,
    max_time: Option<Duration>,
    connect_timeout: Option<Duration>,
    method: Option<String>,
    urls: Vec<String>,
}

/// What is wrong with the command line, as curl says it, and its exit code.
struct Refused(Vec<String>, i32);

fn seconds(option: &str, value: &str) -> Result<Duration, Refused> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            Refused(
                vec![
                    format!("curl: option {option}: expected a proper numerical parameter"),
                    TRY_HELP.into(),
                ],
                2,
            )
        })
}

/// Takes a value for an option: the rest of a short cluster (`-oFILE`) or the next word.
fn value_of(option: &str, rest: &str, args: &[String], i: &mut usize) -> Result<String, Refused> {
    if !rest.is_empty() {
        return Ok(rest.to_string());
    }
    *i += 1;
    args.get(*i).cloned().ok_or_else(|| {
        Refused(
            vec![
                format!("curl: option {option}: requires parameter"),
                TRY_HELP.into(),
            ],
            2,
        )
    })
}

fn apply(args: &mut Args, option: &str, value: String) -> Result<(), Refused> {
    match option {
        "-o" | "--output" => match value.as_str() {
            "-" => args.discard = false,
            "/dev/null" => args.discard = true,
            file => {
                return Err(Refused(
                    vec![format!(
                        "curl: (23) cannot write {file}: the sandbox's pods have no files; use -o /dev/null or -o -"
                    )],
                    23,
                ));
            }
        },
        "-w" | "--write-out" => args.write_out = Some(value),
        "-H" | "--header" => match value.split_once(':') {
            Some((name, v)) if !name.trim().is_empty() => {
                args.headers
                    .push((name.trim().to_string(), v.trim().to_string()));
            }
            _ => {
                return Err(Refused(
                    vec![
                        format!("curl: option -H: {value:?} is not NAME: VALUE"),
                        TRY_HELP.into(),
                    ],
                    2,
                ));
            }
        },
        "-m" | "--max-time" => args.max_time = Some(seconds(option, &value)?),
        "--connect-timeout" => args.connect_timeout = Some(seconds(option, &value)?),
        "-X" | "--request" => args.method = Some(value),
        _ => unknown_option(option)?,
    }
    Ok(())
}

fn unknown_option(option: &str) -> Result<(), Refused> {
    Err(Refused(
        vec![
            format!("curl: option {option}: is unknown"),
            TRY_HELP.into(),
        ],
        2,
    ))
}

/// Options real curl has that this one does not do: refused by name.
const UNSUPPORTED: &[&str] = &[
    "-v",
    "--verbose",
    "-k",
    "--insecure",
    "-L",
    "--location",
    "-d",
    "--data",
    "-I",
    "--head",
    "-i",
    "--include",
    "-u",
    "--user",
    "-x",
    "--proxy",
    "--http2",
    "-O",
    "--remote-name",
    "--resolve",
    "-b",
    "--cookie",
    "-c",
    "--cookie-jar",
    "-T",
    "--upload-file",
    "--retry",
    "-F",
    "--form",
    "-A",
    "--user-agent",
    "-e",
    "--referer",
];

fn parse(args: &[String]) -> Result<Args, Refused> {
    let mut out = Args::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if UNSUPPORTED.contains(&arg.as_str()) {
            return Err(Refused(
                vec![format!(
                    "curl: option {arg}: is not supported by the sandbox's curl (it knows {KNOWN})"
                )],
                2,
            ));
        }
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            match name.as_str() {
                "--silent" => out.silent = true,
                "--show-error" => out.show_error = true,
                "--fail" => out.fail = true,
                "--http1.1" => {}
                "--output" | "--write-out" | "--header" | "--max-time" | "--connect-timeout"
                | "--request" => {
                    let value = match inline {
                        Some(v) => v,
                        None => value_of(&name, "", args, &mut i)?,
                    };
                    apply(&mut out, &name, value)?;
                }
                _ => unknown_option(&name)?,
            }
        } else if arg.len() > 1 && arg.starts_with('-') {
            // A cluster of short options; one that takes a value ends it.
            let flags: Vec<char> = arg[1..].chars().collect();
            for (k, flag) in flags.iter().enumerate() {
                match flag {
                    's' => out.silent = true,
                    'S' => out.show_error = true,
                    'f' => out.fail = true,
                    'o' | 'w' | 'H' | 'm' | 'X' => {
                        let option = format!("-{flag}");
                        let rest: String = flags[k + 1..].iter().collect();
                        let value = value_of(&option, &rest, args, &mut i)?;
                        apply(&mut out, &option, value)?;
                        break;
                    }
                    other => {
                        let option = format!("-{other}");
                        if UNSUPPORTED.contains(&option.as_str()) {
                            return Err(Refused(
                                vec![format!(
                                    "curl: option {option}: is not supported by the sandbox's curl (it knows {KNOWN})"
                                )],
                                2,
                            ));
                        }
                        unknown_option(&option)?;
                    }
                }
            }
        } else {
            out.urls.push(arg.clone());
        }
        i += 1;
    }
    if out.urls.is_empty() {
        return Err(Refused(
            vec!["curl: no URL specified".into(), TRY_HELP.into()],
            2,
        ));
    }
    Ok(out)
}

/// An `http://` URL's host, port and path (with its query).
struct Url {
    host: String,
    port: u16,
    path: String,
}

fn parse_url(text: &str) -> Result<Url, (i32, String)> {
    let rest = match text.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            return Err((
                1,
                format!(
                    "Protocol \"{scheme}\" not supported (the sandbox's curl speaks http:// only)"
                ),
            ));
        }
        None => text,
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>().map_err(|_| {
                (
                    3,
                    "URL rejected: Port number was not a decimal number between 0 and 65535"
                        .to_string(),
                )
            })?,
        ),
        None => (authority, 80),
    };
    if host.is_empty() {
        return Err((3, "URL rejected: No host part in the URL".into()));
    }
    Ok(Url {
        host: host.to_string(),
        port,
        path,
    })
}

/// One kept-alive connection.
struct Connection {
    host: String,
    port: u16,
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

/// What one transfer came to, for `-w`.
#[derive(Default)]
struct Transfer {
    code: u16,
    size: usize,
    connects: u32,
    exit: i32,
    error: String,
    url: String,
    took: Duration,
}

fn write_out(format: &str, t: &Transfer, shell: &Shell) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            },
            '%' if chars.peek() == Some(&'{') => {
                chars.next();
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                match name.as_str() {
                    "http_code" | "response_code" => out.push_str(&format!("{:03}", t.code)),
                    "size_download" => out.push_str(&t.size.to_string()),
                    "num_connects" => out.push_str(&t.connects.to_string()),
                    "url_effective" | "url" => out.push_str(&t.url),
                    "exitcode" => out.push_str(&t.exit.to_string()),
                    "errormsg" => out.push_str(&t.error),
                    "time_total" => out.push_str(&format!("{:.6}", t.took.as_secs_f64())),
                    other => shell.error(&format!("curl: unknown --write-out variable: '{other}'")),
                }
            }
            '%' if chars.peek() == Some(&'%') => {
                chars.next();
                out.push('%');
            }
            c => out.push(c),
        }
    }
    out
}

/// `curl [OPTIONS] URL...`
pub(super) async fn curl(shell: &Shell, args: &[String], sink: &mut Sink) -> i32 {
    let args = match parse(args) {
        Ok(args) => args,
        Err(Refused(lines, code)) => {
            for line in lines {
                shell.error(&line);
            }
            return code;
        }
    };
    let mut connection: Option<Connection> = None;
    let mut status = 0;
    for text in &args.urls {
        let began = Instant::now();
        // `-m` bounds each transfer, as curl's --max-time does.
        let deadline = args.max_time.map(|m| began + m);
        let mut transfer = Transfer {
            url: text.clone(),
            ..Transfer::default()
        };
        let outcome = match parse_url(text) {
            Ok(url) => {
                let work = one(shell, &args, &url, &mut connection, &mut transfer);
                match deadline {
                    Some(at) => match tokio::time::timeout_at(at.into(), work).await {
                        Ok(r) => r,
                        Err(_) => {
                            connection = None;
                            Err((
                                28,
                                format!(
                                    "Operation timed out after {} milliseconds with {} bytes received",
                                    began.elapsed().as_millis(),
                                    transfer.size
                                ),
                            ))
                        }
                    },
                    None => work.await,
                }
            }
            Err(e) => Err(e),
        };
        transfer.took = began.elapsed();
        match outcome {
            Ok(body) => {
                if !args.discard {
                    shell.write(sink, &body);
                }
            }
            Err((code, message)) => {
                transfer.exit = code;
                transfer.error = message.clone();
                status = code;
                if !args.silent || args.show_error {
                    shell.error(&format!("curl: ({code}) {message}"));
                }
            }
        }
        if let Some(format) = &args.write_out {
            let text = write_out(format, &transfer, shell);
            shell.write(sink, text.as_bytes());
        }
    }
    status
}

/// One transfer over the kept connection (or a new one); the body, or curl's error.
async fn one(
    shell: &Shell,
    args: &Args,
    url: &Url,
    connection: &mut Option<Connection>,
    transfer: &mut Transfer,
) -> Result<Vec<u8>, (i32, String)> {
    let reuse = connection
        .as_ref()
        .is_some_and(|c| c.host == url.host && c.port == url.port);
    if !reuse {
        *connection = None;
        let connect = shell
            .env
            .network
            .connect(&shell.env.namespace, &url.host, url.port);
        let began = Instant::now();
        let stream: TcpStream = match args.connect_timeout {
            Some(limit) => tokio::time::timeout(limit, connect).await.map_err(|_| {
                (
                    28,
                    format!(
                        "Connection timed out after {} milliseconds",
                        limit.as_millis()
                    ),
                )
            })?,
            None => connect.await,
        }
        .map_err(|e| match e {
            ConnectError::BadAddress(host) => (6, format!("Could not resolve host: {host}")),
            ConnectError::Refused(_) => (
                7,
                format!(
                    "Failed to connect to {} port {} after {} ms: Couldn't connect to server",
                    url.host,
                    url.port,
                    began.elapsed().as_millis()
                ),
            ),
        })?;
        transfer.connects = 1;
        let (read, writer) = stream.into_split();
        *connection = Some(Connection {
            host: url.host.clone(),
            port: url.port,
            reader: BufReader::new(read),
            writer,
        });
    }
    let Some(conn) = connection.as_mut() else {
        return Err((7, "no connection".into()));
    };
    let host = if url.port == 80 {
        url.host.clone()
    } else {
        format!("{}:{}", url.host, url.port)
    };
    let mut headers = vec![
        ("Host".to_string(), host),
        ("User-Agent".to_string(), "curl/8.11.1".to_string()),
        ("Accept".to_string(), "*/*".to_string()),
    ];
    for (name, value) in &args.headers {
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(slot) => slot.1.clone_from(value),
            None => headers.push((name.clone(), value.clone())),
        }
    }
    let method = args.method.clone().unwrap_or_else(|| "GET".into());
    let request = Request {
        head: Head {
            start: format!("{method} {} HTTP/1.1", url.path),
            headers,
        },
        method,
        path: url.path.clone(),
        body: Vec::new(),
    };
    let sent = conn.writer.write_all(&request.to_bytes()).await;
    let response = match sent {
        Ok(()) => read_response(&mut conn.reader).await,
        Err(e) => Err(e),
    };
    let response = match response {
        Ok(r) => r,
        Err(e) => {
            *connection = None;
            return Err(if e.kind() == std::io::ErrorKind::UnexpectedEof {
                (52, "Empty reply from server".into())
            } else {
                (56, format!("Recv failure: {e}"))
            });
        }
    };
    transfer.code = response.status;
    transfer.size = response.body.len();
    if !response.head.keep_alive() || response.head.get("content-length").is_none() {
        *connection = None;
    }
    if args.fail && response.status >= 400 {
        return Err((
            22,
            format!("The requested URL returned error: {}", response.status),
        ));
    }
    Ok(response.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn reads_what_probe_loops_write() {
        let a = parse(&words("-sS -m 2 -H x-canary:yes -o /dev/null -w %{http_code} http://h:5000/hello http://h:5000/hello")).ok().unwrap();
        assert!(a.silent && a.show_error && a.discard);
        assert_eq!(a.max_time, Some(Duration::from_secs(2)));
        assert_eq!(a.headers, [("x-canary".to_string(), "yes".to_string())]);
        assert_eq!(a.urls.len(), 2);
        let joined = parse(&words("-sSw%{http_code} --max-time=1.5 h"))
            .ok()
            .unwrap();
        assert_eq!(joined.write_out.as_deref(), Some("%{http_code}"));
        assert_eq!(joined.max_time, Some(Duration::from_millis(1500)));
        for (line, want) in [
            ("-v http://h", "is not supported"),
            ("--frobnicate http://h", "is unknown"),
            ("-s", "no URL specified"),
            ("-o out.txt http://h", "no files"),
            ("-m soon http://h", "numerical"),
        ] {
            let Err(Refused(lines, _)) = parse(&words(line)) else {
                panic!("{line} was accepted");
            };
            assert!(lines[0].contains(want), "{line}: {lines:?}");
        }
        let url = parse_url("http://helloworld:5000/hello?x=1").ok().unwrap();
        assert_eq!(
            (url.host.as_str(), url.port, url.path.as_str()),
            ("helloworld", 5000, "/hello?x=1")
        );
        assert!(parse_url("https://h/").is_err());
        let bare = parse_url("helloworld").ok().unwrap();
        assert_eq!((bare.port, bare.path.as_str()), (80, "/"));
    }
}
