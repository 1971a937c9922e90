//! Reply lines from the probe: `PREFIX TIMESTAMP`, as the tcp-echo server answers the
//! `date` line the client sent. The timestamp may be busybox's or GNU's `date`, RFC 3339
//! / ISO 8601, or epoch seconds; `--line-regex` reads anything else.

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::civil::DateTime;
use regex::Regex;

mod busybox;
pub use busybox::{DateCache, busybox_utc, busybox_utc_cached};

/// One parsed reply: which backend answered and, when the line says so, when the
/// client sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub label: String,
    /// None when the time has no zone we can place (e.g. an unknown abbreviation).
    pub sent_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineError {
    #[error("empty line")]
    Empty,
    #[error("no timestamp after the prefix")]
    NoTimestamp,
    #[error("does not match --line-regex")]
    NoMatch,
}

/// Removes CR, terminal escape sequences and other control characters, which a
/// pod's output can carry and a terminal must never receive.
pub fn clean(raw: &str) -> Cow<'_, str> {
    if !raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.peek() {
                // CSI: parameters, then one final byte in @..~
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC: up to BEL or ESC \
                Some(']') => {
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\x07' || (c == '\x1b' && chars.peek() == Some(&'\\')) {
                            if c == '\x1b' {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

fn month(token: &str) -> Option<i8> {
    MONTHS
        .iter()
        .position(|m| token.eq_ignore_ascii_case(m))
        .map(|i| i as i8 + 1)
}

fn clock(token: &str) -> Option<(i8, i8, i8)> {
    let mut parts = token.split(':');
    let h = parts.next()?.parse().ok()?;
    let m = parts.next()?.parse().ok()?;
    let s = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((h, m, s))
}

/// The `date` output of busybox (`Thu Dec  5 00:14:09 UTC 2024`) and GNU date in
/// common locales (`Sat Dec  7 01:47:37 AM UTC 2024`, `Sat  7 Dec 01:47:37 UTC 2024`).
/// Outer None: not a date. Inner None: a date whose zone we cannot place.
fn unix_date(text: &str) -> Option<Option<Timestamp>> {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let (weekday, rest) = tokens.split_first()?;
    if !WEEKDAYS.iter().any(|w| weekday.eq_ignore_ascii_case(w)) {
        return None;
    }
    let (month_no, day, rest) = match rest {
        [m, d, rest @ ..] if month(m).is_some() => (month(m)?, d.parse::<i8>().ok()?, rest),
        [d, m, rest @ ..] if month(m).is_some() => (month(m)?, d.parse::<i8>().ok()?, rest),
        _ => return None,
    };
    let (time, rest) = rest.split_first()?;
    let (mut h, mi, s) = clock(time)?;
    let rest = match rest.split_first() {
        Some((ampm, tail))
            if ampm.eq_ignore_ascii_case("AM") || ampm.eq_ignore_ascii_case("PM") =>
        {
            if !(1..=12).contains(&h) {
                return None;
            }
            h = (h % 12)
                + if ampm.eq_ignore_ascii_case("PM") {
                    12
                } else {
                    0
                };
            tail
        }
        _ => rest,
    };
    let (zone, year) = match rest {
        [zone, year] => (Some(*zone), year),
        [year] => (None, year),
        _ => return None,
    };
    let year: i16 = year.parse().ok()?;
    let civil = DateTime::new(year, month_no, day, h, mi, s, 0).ok()?;
    Some(match zone {
        Some("UTC" | "GMT" | "Z" | "UCT") => civil
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp()),
        Some(offset) if offset.starts_with(['+', '-']) => {
            let text = format!("{}{}", civil.strftime("%Y-%m-%dT%H:%M:%S"), offset);
            jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%z", &text)
                .ok()
                .and_then(|t| t.to_timestamp().ok())
        }
        _ => None,
    })
}

fn epoch(text: &str) -> Option<Timestamp> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if int.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = match int.len() {
        9..=11 => int.parse().ok()?,
        13 if frac.is_empty() => return Timestamp::from_millisecond(int.parse().ok()?).ok(),
        _ => return None,
    };
    let nanos: i32 = if frac.is_empty() {
        0
    } else {
        format!("{:0<9}", &frac[..frac.len().min(9)]).parse().ok()?
    };
    Timestamp::new(secs, nanos).ok()
}

/// Any timestamp format we read. Outer None: not a timestamp.
pub fn parse_timestamp(text: &str) -> Option<Option<Timestamp>> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(t) = unix_date(text) {
        return Some(t);
    }
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(Some(t));
    }
    if let Some(t) = epoch(text) {
        return Some(Some(t));
    }
    // ISO 8601 without an offset is a local time of unknown zone.
    if text.parse::<DateTime>().is_ok() {
        return Some(None);
    }
    None
}

/// Reads reply lines; `--line-regex` with named groups `label` (and optionally `ts`)
/// replaces the default `PREFIX TIMESTAMP` shape.
#[derive(Debug, Clone, Default)]
pub struct LineParser {
    regex: Option<Regex>,
}

/// A `--line-regex` that cannot read replies.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LineRegexError {
    #[error("--line-regex is not a valid regular expression: {0}")]
    Invalid(#[from] regex::Error),
    #[error("--line-regex needs a named group `label`, e.g. '^(?P<label>\\S+) (?P<ts>.*)$'")]
    NoLabel,
}

impl LineParser {
    pub fn new(line_regex: Option<&str>) -> Result<Self, LineRegexError> {
        let Some(pattern) = line_regex else {
            return Ok(LineParser { regex: None });
        };
        let regex = Regex::new(pattern)?;
        if !regex.capture_names().any(|n| n == Some("label")) {
            return Err(LineRegexError::NoLabel);
        }
        Ok(LineParser { regex: Some(regex) })
    }

    /// Whether replies have the default `PREFIX TIMESTAMP` shape (no `--line-regex`).
    pub(crate) fn is_default(&self) -> bool {
        self.regex.is_none()
    }

    /// A reply of any shape (an HTTP body, a command's output): `--line-regex` reads
    /// it where given; otherwise the backend is the longest of `labels` (pod names,
    /// versions, prefixes) it names. One that names none has itself as its label.
    pub fn find<'a>(
        &self,
        raw: &str,
        labels: impl IntoIterator<Item = &'a str>,
    ) -> Result<Reply, LineError> {
        if self.regex.is_some() {
            return self.parse(raw);
        }
        let line = clean(raw);
        let line = line.trim();
        if line.is_empty() {
            return Err(LineError::Empty);
        }
        Ok(Reply {
            label: find_label(line, labels).unwrap_or(line).to_string(),
            sent_at: None,
        })
    }

    pub fn parse(&self, raw: &str) -> Result<Reply, LineError> {
        let line = clean(raw);
        let line = line.trim();
        if line.is_empty() {
            return Err(LineError::Empty);
        }
        if let Some(regex) = &self.regex {
            let caps = regex.captures(line).ok_or(LineError::NoMatch)?;
            let label = caps
                .name("label")
                .map(|m| m.as_str())
                .filter(|l| !l.is_empty())
                .ok_or(LineError::NoMatch)?;
            let sent_at = match caps.name("ts") {
                Some(ts) => parse_timestamp(ts.as_str()).ok_or(LineError::NoTimestamp)?,
                None => None,
            };
            return Ok(Reply {
                label: label.to_string(),
                sent_at,
            });
        }
        let (label, rest) = line.split_once(' ').ok_or(LineError::NoTimestamp)?;
        let sent_at = parse_timestamp(rest).ok_or(LineError::NoTimestamp)?;
        Ok(Reply {
            label: label.to_string(),
            sent_at,
        })
    }
}

/// An HTTP probe's line: the reply, then the status code curl printed after it. A line
/// that does not end in a code is a reply without one.
pub fn split_status(line: &str) -> (&str, Option<u16>) {
    let line = line.trim();
    match line
        .rsplit_once(' ')
        .map_or(("", line), |(body, code)| (body, code))
    {
        (body, code) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) => {
            (body.trim_end(), code.parse().ok())
        }
        _ => (line, None),
    }
}

/// Whether a byte can be part of a name: a label is found only as a whole word.
fn in_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The longest of `labels` that `text` holds as a whole word (`v2` in `version: v2,` but
/// not in `helloworld-v2-abc`), the earliest on a tie.
pub fn find_label<'a>(text: &str, labels: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let bytes = text.as_bytes();
    let mut best: Option<(&str, usize)> = None;
    for label in labels {
        if label.is_empty() || best.is_some_and(|(b, _)| b.len() > label.len()) {
            continue;
        }
        let found = text.match_indices(label).map(|(i, _)| i).find(|&i| {
            let end = i + label.len();
            (i == 0 || !in_word(bytes[i - 1])) && (end == bytes.len() || !in_word(bytes[end]))
        });
        if let Some(at) = found
            && best.is_none_or(|(b, i)| label.len() > b.len() || at < i)
        {
            best = Some((label, at));
        }
    }
    best.map(|(label, _)| label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Option<Timestamp> {
        Some(s.parse().unwrap())
    }

    fn parse(line: &str) -> Result<Reply, LineError> {
        LineParser::default().parse(line)
    }

    #[test]
    fn labels_are_found_as_whole_words_longest_first() {
        let labels = ["v1", "v2", "helloworld-v2-7d9f", "one"];
        let body = "Hello version: v2, instance: helloworld-v2-7d9f";
        assert_eq!(find_label(body, labels), Some("helloworld-v2-7d9f"));
        assert_eq!(
            find_label("Hello version: v1, instance: helloworld-v1-x", labels),
            Some("v1"),
            "v2 inside no word, v1 as a word"
        );
        assert_eq!(find_label("v10 and v22", labels), None);
        assert_eq!(find_label("one Thu Dec  5", labels), Some("one"));
        assert_eq!(
            split_status("Hello version: v2  200"),
            ("Hello version: v2", Some(200))
        );
        assert_eq!(split_status(" 000"), ("", Some(0)));
        assert_eq!(split_status("no code here"), ("no code here", None));
        let reply = LineParser::default()
            .find("upstream connect error", labels)
            .unwrap();
        assert_eq!(reply.label, "upstream connect error");
    }

    #[test]
    fn the_fast_path_agrees_with_the_parser() {
        let lines = [
            "one Thu Dec  5 00:14:09 UTC 2024",
            "two Sat Dec 14 23:59:59 UTC 2024",
            "one Thu Feb 29 12:00:00 UTC 2024",
            "one Thu Feb 29 12:00:00 UTC 2023",
            "one Thu Dec  5 24:14:09 UTC 2024",
            "one Thu Dec 32 00:14:09 UTC 2024",
            "one Thu Dec  5 00:14:09 CET 2024",
            "one Thu Dex  5 00:14:09 UTC 2024",
            "one Thu Dec 5 00:14:09 UTC 2024",
            " one Thu Dec  5 00:14:09 UTC 2024",
            "one  Thu Dec  5 00:14:09 UTC 2024",
            "one Thu Dec  5 00:14:09 UTC 2024 extra",
        ];
        for line in lines {
            let fast = busybox_utc(line.as_bytes());
            let slow = parse(line);
            if let Some((label, secs)) = fast {
                let reply =
                    slow.unwrap_or_else(|e| panic!("{line:?}: fast path read it, parser said {e}"));
                assert_eq!(label, reply.label.as_bytes());
                assert_eq!(
                    Some(secs),
                    reply.sent_at.map(jiff::Timestamp::as_second),
                    "{line:?}"
                );
            }
        }
        // The common shapes take the fast path; the rest is left to the parser.
        let fast: Vec<bool> = lines
            .iter()
            .map(|l| busybox_utc(l.as_bytes()).is_some())
            .collect();
        assert_eq!(&fast[..3], &[true, true, true]);
        assert!(fast[3..].iter().all(|f| !f));
        assert_eq!(
            busybox_utc(b"one Thu Dec  5 00:14:09 UTC 2024"),
            Some((&b"one"[..], 1_733_357_649))
        );
        // The cached reader gives the same answers, line after line, whatever came before.
        let mut cache = DateCache::default();
        for line in lines.iter().chain(&lines).chain(
            [
                "two Thu Dec  5 00:14:10 UTC 2024",
                "two Thu Dec  5 00:61:10 UTC 2024",
                "t\u{7f} Thu Dec  5 00:14:10 UTC 2024",
            ]
            .iter(),
        ) {
            assert_eq!(
                busybox_utc_cached(line.as_bytes(), &mut cache),
                busybox_utc(line.as_bytes()),
                "{line:?}"
            );
        }
    }

    #[test]
    fn busybox_date_with_a_double_space_day() {
        let r = parse("two Thu Dec  5 00:14:09 UTC 2024").unwrap();
        assert_eq!(
            r,
            Reply {
                label: "two".into(),
                sent_at: ts("2024-12-05T00:14:09Z")
            }
        );
        let r = parse("one Sat Dec 14 01:47:39 UTC 2024").unwrap();
        assert_eq!(r.sent_at, ts("2024-12-14T01:47:39Z"));
    }

    #[test]
    fn gnu_date_in_common_locales() {
        assert_eq!(
            parse("one Sat Dec  7 01:47:37 PM UTC 2024")
                .unwrap()
                .sent_at,
            ts("2024-12-07T13:47:37Z")
        );
        assert_eq!(
            parse("one Sat Dec  7 12:05:00 AM UTC 2024")
                .unwrap()
                .sent_at,
            ts("2024-12-07T00:05:00Z")
        );
        assert_eq!(
            parse("one Sat  7 Dec 01:47:37 GMT 2024").unwrap().sent_at,
            ts("2024-12-07T01:47:37Z")
        );
        // A zone we cannot place is still a reply, without a send time.
        assert_eq!(
            parse("one Sat Dec  7 02:47:37 +0100 2024").unwrap().sent_at,
            ts("2024-12-07T01:47:37Z")
        );
        assert_eq!(
            parse("one Sat Dec  7 01:47:37 CET 2024").unwrap(),
            Reply {
                label: "one".into(),
                sent_at: None
            }
        );
    }

    #[test]
    fn rfc3339_iso8601_and_epoch() {
        assert_eq!(
            parse("one 2024-12-07T01:47:37Z").unwrap().sent_at,
            ts("2024-12-07T01:47:37Z")
        );
        assert_eq!(
            parse("one 2024-12-07T02:47:37.250+01:00").unwrap().sent_at,
            ts("2024-12-07T01:47:37.25Z")
        );
        assert_eq!(parse("one 2024-12-07 01:47:37").unwrap().sent_at, None);
        assert_eq!(
            parse("two 1733536057").unwrap().sent_at,
            ts("2024-12-07T01:47:37Z")
        );
        assert_eq!(
            parse("two 1733536057.5").unwrap().sent_at,
            ts("2024-12-07T01:47:37.5Z")
        );
        assert_eq!(
            parse("two 1733536057500").unwrap().sent_at,
            ts("2024-12-07T01:47:37.5Z")
        );
    }

    #[test]
    fn crlf_and_terminal_escapes_are_tolerated() {
        let r = parse("\x1b[32mone\x1b[0m Thu Dec  5 00:14:09 UTC 2024\r").unwrap();
        assert_eq!(r.label, "one");
        assert_eq!(r.sent_at, ts("2024-12-05T00:14:09Z"));
        assert_eq!(clean("a\x1b]0;title\x07b\tc"), "ab c");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for line in [
            "",
            "   ",
            "one",
            "one two three",
            "nc: bad address 'tcp-echo'",
            "one Thu Foo  5 00:14:09 UTC 2024",
            "one Thu Dec 45 00:14:09 UTC 2024",
            "one Thu Dec  5 25:14:09 UTC 2024",
            "one 12345",
            "\u{0}\u{1}",
            "one Thu Dec  5 13:00:00 PM UTC 2024",
        ] {
            assert!(parse(line).is_err(), "{line:?} parsed");
        }
    }

    #[test]
    fn line_regex_reads_other_shapes() {
        let p = LineParser::new(Some(r"^\[(?P<ts>[^\]]+)\] served-by=(?P<label>\w+)$")).unwrap();
        let r = p.parse("[2024-12-07T01:47:37Z] served-by=v2").unwrap();
        assert_eq!(
            r,
            Reply {
                label: "v2".into(),
                sent_at: ts("2024-12-07T01:47:37Z")
            }
        );
        assert_eq!(p.parse("something else"), Err(LineError::NoMatch));
        let labels_only = LineParser::new(Some(r"^from (?P<label>\w+)")).unwrap();
        assert_eq!(labels_only.parse("from one, hi").unwrap().label, "one");
        assert!(LineParser::new(Some(r"^(?P<ts>.*)$")).is_err());
        assert!(LineParser::new(Some(r"^(unclosed")).is_err());
    }
}
