//! The commands a busybox pod offers that people use in probe loops: `date`, `nc`,
//! `sleep`, `echo`, `cat`, `test`/`[`, `true`, `false`, `exit`, `sh`, `timeout`, `hostname`;
//! `curl` and `tr` in files of their own.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::process::{ExitNow, Flow, Shell, Sink};

const KNOWN: &[&str] = &[
    "date", "nc", "sleep", "echo", "cat", "test", "[", "true", "false", ":", "exit", "sh",
    "timeout", "hostname", "curl", "tr",
];

fn base(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

pub(crate) fn is_known(program: &str) -> bool {
    KNOWN.contains(&base(program))
}

pub fn run<'a>(
    shell: &'a mut Shell,
    argv: Vec<String>,
    stdin: Vec<u8>,
    sink: &'a mut Sink,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Flow> + Send + 'a>> {
    Box::pin(async move {
        let name = base(&argv[0]).to_string();
        let args = &argv[1..];
        Ok(match name.as_str() {
            "true" | ":" => 0,
            "false" => 1,
            "exit" => {
                let code = args
                    .first()
                    .and_then(|a| a.parse().ok())
                    .unwrap_or(shell.status);
                return Err(ExitNow(code));
            }
            "echo" => {
                let (newline, words) = match args.first().map(String::as_str) {
                    Some("-n") => (false, &args[1..]),
                    _ => (true, args),
                };
                let mut text = words.join(" ");
                if newline {
                    text.push('\n');
                }
                shell.write(sink, text.as_bytes());
                0
            }
            "cat" => {
                shell.write(sink, &stdin);
                0
            }
            "hostname" => {
                let text = format!("{}\n", shell.env.pod);
                shell.write(sink, text.as_bytes());
                0
            }
            "date" => date(shell, args, sink),
            "sleep" => sleep(shell, args).await,
            "test" => test(shell, args),
            "[" => match args.split_last() {
                Some((last, rest)) if last == "]" => test(shell, rest),
                _ => {
                    shell.error("sh: missing ]");
                    2
                }
            },
            "nc" => nc(shell, args, stdin, sink).await,
            "curl" => super::curl::curl(shell, args, sink).await,
            "tr" => super::tr::tr(shell, args, &stdin, sink),
            "sh" => sh(shell, args, stdin, sink).await?,
            "timeout" => timeout(shell, args, stdin, sink).await?,
            _ => {
                shell.error(&format!("sh: {}: not found", argv[0]));
                127
            }
        })
    })
}

/// busybox `date`: `%a %b %e %H:%M:%S %Z %Y` in UTC, or `+FORMAT`.
fn date(shell: &Shell, args: &[String], sink: &mut Sink) -> i32 {
    let mut format = "%a %b %e %H:%M:%S %Z %Y".to_string();
    for arg in args {
        match arg.as_str() {
            "-u" | "--utc" => {}
            a if a.starts_with('+') => format = a[1..].to_string(),
            a => {
                shell.error(&format!("date: invalid date '{a}'"));
                return 1;
            }
        }
    }
    let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
    let text = if format == "%s" {
        now.timestamp().as_second().to_string()
    } else {
        match jiff::fmt::strtime::format(&format, &now) {
            Ok(s) => s,
            Err(_) => {
                shell.error(&format!("date: invalid format '{format}'"));
                return 1;
            }
        }
    };
    shell.write(sink, format!("{text}\n").as_bytes());
    0
}

fn parse_duration(text: &str) -> Option<Duration> {
    let (number, scale) = match text.char_indices().last()? {
        (i, 's') => (&text[..i], 1.0),
        (i, 'm') => (&text[..i], 60.0),
        (i, 'h') => (&text[..i], 3600.0),
        (i, 'd') => (&text[..i], 86400.0),
        _ => (text, 1.0),
    };
    let secs: f64 = number.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs * scale))
}

async fn sleep(shell: &Shell, args: &[String]) -> i32 {
    if args.is_empty() {
        shell.error("sleep: missing operand");
        return 1;
    }
    let mut total = Duration::ZERO;
    for arg in args {
        match parse_duration(arg) {
            Some(d) => total += d,
            None => {
                shell.error(&format!("sleep: invalid number '{arg}'"));
                return 1;
            }
        }
    }
    tokio::time::sleep(total).await;
    0
}

fn test(shell: &Shell, args: &[String]) -> i32 {
    let int = |s: &str| -> Result<i64, i32> {
        s.trim().parse().map_err(|_| {
            shell.error(&format!("sh: {s}: bad number"));
            2
        })
    };
    let result = match args {
        [] => Ok(false),
        [a] => Ok(!a.is_empty()),
        [op, a] if op == "-n" => Ok(!a.is_empty()),
        [op, a] if op == "-z" => Ok(a.is_empty()),
        [not, rest @ ..] if not == "!" => return (test(shell, rest) == 0) as i32,
        [a, op, b] => match op.as_str() {
            "=" | "==" => Ok(a == b),
            "!=" => Ok(a != b),
            "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge" => match (int(a), int(b)) {
                (Ok(x), Ok(y)) => Ok(match op.as_str() {
                    "-eq" => x == y,
                    "-ne" => x != y,
                    "-lt" => x < y,
                    "-le" => x <= y,
                    "-gt" => x > y,
                    _ => x >= y,
                }),
                (Err(code), _) | (_, Err(code)) => Err(code),
            },
            _ => {
                shell.error(&format!("sh: {op}: unknown operand"));
                Err(2)
            }
        },
        _ => {
            shell.error("sh: syntax error in test");
            Err(2)
        }
    };
    match result {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(code) => code,
    }
}

const NC_USAGE: &str =
    "BusyBox v1.36.1 multi-call binary.\n\nUsage: nc [OPTIONS] HOST PORT  - connect";

/// What `nc`'s arguments ask for.
struct NcArgs {
    wait: Option<Duration>,
    host: String,
    port: u16,
}

/// Reads `[-w SECS] HOST PORT` as busybox does; an error is what it prints.
fn nc_args(args: &[String]) -> Result<NcArgs, Vec<String>> {
    let mut wait: Option<Duration> = None;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "-w" {
            i += 1;
            let n = args.get(i).map_or("", String::as_str);
            let secs = n
                .parse::<u64>()
                .map_err(|_| vec![format!("nc: invalid number '{n}'")])?;
            wait = Some(Duration::from_secs(secs));
        } else if let Some(n) = a.strip_prefix("-w") {
            let secs = n
                .parse::<u64>()
                .map_err(|_| vec![format!("nc: invalid number '{n}'")])?;
            wait = Some(Duration::from_secs(secs));
        } else if a.starts_with("-q") {
            // busybox nc has no -q.
            return Err(vec!["nc: unrecognized option: q".into(), NC_USAGE.into()]);
        } else if a != "-v" {
            rest.push(a.clone());
        }
        i += 1;
    }
    let [host, port] = rest.as_slice() else {
        return Err(vec![NC_USAGE.into()]);
    };
    let port = port
        .parse::<u16>()
        .map_err(|_| vec![format!("nc: bad port '{port}'")])?;
    Ok(NcArgs {
        wait,
        host: host.clone(),
        port,
    })
}

/// busybox `nc [-w SECS] HOST PORT`: sends stdin, half-closes, prints the reply.
async fn nc(shell: &Shell, args: &[String], stdin: Vec<u8>, sink: &mut Sink) -> i32 {
    let NcArgs { wait, host, port } = match nc_args(args) {
        Ok(a) => a,
        Err(lines) => {
            for line in lines {
                shell.error(&line);
            }
            return 1;
        }
    };
    let connect = shell.env.network.connect(&shell.env.namespace, &host, port);
    let stream = match wait {
        Some(w) => match tokio::time::timeout(w, connect).await {
            Ok(r) => r,
            Err(_) => {
                shell.error("nc: timeout");
                return 1;
            }
        },
        None => connect.await,
    };
    let mut stream = match stream {
        Ok(s) => s,
        Err(e) => {
            shell.error(&e.to_string());
            return 1;
        }
    };
    let (mut read, mut write) = stream.split();
    let send = async {
        let _ = write.write_all(&stdin).await;
        let _ = write.shutdown().await;
    };
    let mut buf = vec![0u8; 4096];
    let receive = async {
        loop {
            let read = read.read(&mut buf);
            let n = match wait {
                Some(w) => match tokio::time::timeout(w, read).await {
                    Ok(Ok(n)) => n,
                    _ => break,
                },
                None => match read.await {
                    Ok(n) => n,
                    Err(_) => break,
                },
            };
            if n == 0 {
                break;
            }
            shell.write(sink, &buf[..n]);
        }
    };
    tokio::join!(send, receive);
    0
}

/// `sh -c SCRIPT` or `sh` reading its script from stdin.
async fn sh(shell: &mut Shell, args: &[String], stdin: Vec<u8>, sink: &mut Sink) -> Flow {
    let script = match args {
        [c, script, ..] if c == "-c" => script.clone(),
        [] => String::from_utf8_lossy(&stdin).to_string(),
        [c] if c == "-c" => {
            shell.error("sh: -c requires an argument");
            return Ok(2);
        }
        [file, ..] => {
            shell.error(&format!(
                "sh: can't open '{file}': No such file or directory"
            ));
            return Ok(2);
        }
    };
    let Some(mut sub) = shell.child() else {
        shell.error("sh: shells nested too deeply");
        return Ok(2);
    };
    Ok(match sub.script(&script, Vec::new(), sink).await {
        Ok(code) | Err(ExitNow(code)) => code,
    })
}

/// busybox `timeout SECS PROG ARGS`: ends the program at the deadline (status 143).
async fn timeout(shell: &mut Shell, args: &[String], stdin: Vec<u8>, sink: &mut Sink) -> Flow {
    let mut args = args;
    if args.first().is_some_and(|a| a == "-s") {
        args = args.get(2..).unwrap_or(&[]);
    }
    let Some((secs, argv)) = args.split_first() else {
        shell.error("BusyBox v1.36.1 multi-call binary.\n\nUsage: timeout [-s SIG] SECS PROG ARGS");
        return Ok(1);
    };
    let Some(limit) = parse_duration(secs) else {
        shell.error(&format!("timeout: invalid number '{secs}'"));
        return Ok(1);
    };
    if argv.is_empty() {
        shell.error("BusyBox v1.36.1 multi-call binary.\n\nUsage: timeout [-s SIG] SECS PROG ARGS");
        return Ok(1);
    }
    let Some(mut sub) = shell.child() else {
        shell.error("timeout: shells nested too deeply");
        return Ok(2);
    };
    match tokio::time::timeout(limit, run(&mut sub, argv.to_vec(), stdin, sink)).await {
        Ok(Ok(code)) | Ok(Err(ExitNow(code))) => Ok(code),
        Err(_) => Ok(143),
    }
}
