//! Reading what a replay plays: `--record` files (one JSON record a line) and transcripts
//! (reply lines as the probe prints them), or a mix. A thread reads, so a slow pipe never
//! stalls the screen; each line becomes an `Item` with the time it happened.

use std::io::BufRead;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::sample::LineParser;
use crate::session::app::ClusterInfo;
use crate::session::app::record::Record;

/// One thing that happened, and when.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Item {
    pub at: Timestamp,
    pub what: What,
}

#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// A reply from a recording, with the pod and the backend it was mapped to then.
    Sample {
        pod: Option<String>,
        prefix: String,
        backend: Option<String>,
        line: String,
    },
    /// A line of a transcript: a reply, normally.
    Line(String),
    Route {
        kind: crate::route::RouteKind,
        rule: usize,
        refused: Vec<String>,
        name: String,
        namespace: String,
        weights: Vec<(String, u32)>,
    },
    Patch {
        on: bool,
        observed: bool,
        settle: Option<std::time::Duration>,
    },
    Endpoints(Vec<(String, u32)>),
    Cluster(ClusterInfo),
    /// A line that could not be read, and why.
    Skipped(String),
    /// The input ended after `lines` lines; `error` when reading it failed.
    End {
        lines: u64,
        error: Option<String>,
    },
}

/// Whether a line is one of `--record`'s: a JSON object.
pub(crate) fn is_record(line: &str) -> bool {
    line.trim_start().starts_with('{')
}

/// Turns lines into items, keeping time in order.
pub(crate) struct Reader {
    parser: LineParser,
    /// The time between transcript lines that carry none.
    untimed: Duration,
    last: Option<Timestamp>,
    lines: u64,
}

impl Reader {
    pub fn new(parser: LineParser, untimed: Duration) -> Reader {
        Reader {
            parser,
            untimed,
            last: None,
            lines: 0,
        }
    }

    /// The item for one line; None for a blank one.
    pub(crate) fn item(&mut self, line: &str) -> Option<Item> {
        self.lines += 1;
        let text = line.trim_end_matches(['\r', '\n']);
        if text.trim().is_empty() {
            return None;
        }
        let (at, what) = if is_record(text) {
            match serde_json::from_str::<Record>(text) {
                Ok(record) => match record.at().parse::<Timestamp>() {
                    Ok(at) => (Some(at), what_of(record)?),
                    Err(e) => (None, self.skipped(&format!("its time: {e}"))),
                },
                Err(e) => (None, self.skipped(&e.to_string())),
            }
        } else {
            let at = self.parser.parse(text).ok().and_then(|reply| reply.sent_at);
            let at = at.or_else(|| self.last.map(|t| self.after(t)));
            (at, What::Line(text.to_string()))
        };
        // Several pods' clocks can disagree a little: time never runs back in a replay.
        let at = match (at, self.last) {
            (Some(at), Some(last)) => at.max(last),
            (Some(at), None) => at,
            (None, Some(last)) => last,
            (None, None) => Timestamp::now(),
        };
        self.last = Some(at);
        Some(Item { at, what })
    }

    fn after(&self, t: Timestamp) -> Timestamp {
        let step = jiff::SignedDuration::try_from(self.untimed).unwrap_or_default();
        t.checked_add(step).unwrap_or(t)
    }

    fn skipped(&self, why: &str) -> What {
        What::Skipped(format!("line {} skipped: {why}", self.lines))
    }

    /// The last item: the end, and why if early.
    pub fn end(&self, error: Option<String>) -> Item {
        Item {
            at: self.last.unwrap_or_else(Timestamp::now),
            what: What::End {
                lines: self.lines,
                error,
            },
        }
    }

    /// Reads `input` to its end on this thread, sending each item; stops early when
    /// nobody listens any more.
    pub fn run(mut self, mut input: impl BufRead, tx: &mpsc::Sender<Item>) {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match input.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {
                    let line = String::from_utf8_lossy(&buf);
                    if let Some(item) = self.item(&line)
                        && tx.blocking_send(item).is_err()
                    {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.blocking_send(self.end(Some(e.to_string())));
                    return;
                }
            }
        }
        let _ = tx.blocking_send(self.end(None));
    }
}

/// What a record replays as; None for what the replay works out again itself (when a
/// change landed).
fn what_of(record: Record) -> Option<What> {
    Some(match record {
        Record::Sample {
            pod,
            prefix,
            backend,
            line,
            ..
        } => What::Sample {
            pod,
            prefix,
            backend,
            line,
        },
        Record::Route {
            route_kind: kind,
            rule,
            refused,
            name,
            namespace,
            weights,
            ..
        } => What::Route {
            kind: crate::route::RouteKind::parse(&kind).unwrap_or_default(),
            rule: rule.saturating_sub(1),
            refused,
            name,
            namespace,
            weights,
        },
        Record::Patch {
            on,
            observed,
            settle,
            ..
        } => What::Patch {
            on,
            observed,
            settle: settle.and_then(|s| std::time::Duration::try_from_secs_f64(s).ok()),
        },
        Record::Endpoints { ready, .. } => What::Endpoints(ready),
        cluster @ Record::Cluster { .. } => {
            What::Cluster(cluster.cluster_info().unwrap_or_default())
        }
        Record::Change { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> Reader {
        Reader::new(LineParser::default(), Duration::from_secs(1))
    }

    #[test]
    fn records_and_transcript_lines_carry_their_times() {
        let mut r = reader();
        let item = r
            .item(r#"{"kind":"patch","at":"2024-12-05T10:00:00Z","on":true}"#)
            .unwrap();
        assert_eq!(item.at, "2024-12-05T10:00:00Z".parse().unwrap());
        assert_eq!(
            item.what,
            What::Patch {
                on: true,
                observed: false,
                settle: None
            }
        );
        let item = r.item("one Thu Dec  5 10:00:07 UTC 2024\n").unwrap();
        assert_eq!(item.at, "2024-12-05T10:00:07Z".parse().unwrap());
        // A line with no time of its own comes one interval after the last.
        let item = r.item("nc: bad address 'tcp-echo'").unwrap();
        assert_eq!(item.at, "2024-12-05T10:00:08Z".parse().unwrap());
        // Time never runs back.
        let item = r.item("two Thu Dec  5 10:00:01 UTC 2024").unwrap();
        assert_eq!(item.at, "2024-12-05T10:00:08Z".parse().unwrap());
        assert!(r.item("   \r\n").is_none());
    }

    #[test]
    fn a_broken_record_is_skipped_with_its_line() {
        let mut r = reader();
        r.item("one Thu Dec  5 10:00:07 UTC 2024");
        let item = r.item(r#"{"kind":"sample","at":"#).unwrap();
        let What::Skipped(why) = item.what else {
            panic!("{item:?}")
        };
        assert!(why.starts_with("line 2 skipped"), "{why}");
        let item = r
            .item(r#"{"kind":"patch","at":"yesterday","on":true}"#)
            .unwrap();
        assert!(matches!(item.what, What::Skipped(ref w) if w.contains("its time")));
    }
}
