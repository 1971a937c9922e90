//! `splitscope replay`: a `--record` file or a transcript of reply lines, played into the
//! same screen and verdict as a live run, at the recorded pace, faster, or at once.

pub(crate) mod feed;
pub mod read;

use std::io::{BufRead, BufReader, Read};

use anyhow::{anyhow, bail};
use tokio::sync::mpsc;

use crate::check::transcript::Plan;
use crate::cli::ReplayArgs;
use crate::cli::launch;
use crate::sample::LineParser;
use crate::session::{RunReport, Runtime, Settings};
use feed::{Feed, Pace};
use read::Reader;

/// Items read ahead of the screen: enough to keep a quick replay busy, and a bound on
/// memory however long the input.
const READ_AHEAD: usize = 4096;

/// Plays `args.from` on the screen (or a tape) until it quits.
pub async fn run(args: &ReplayArgs) -> anyhow::Result<RunReport> {
    let parser = LineParser::new(args.screen.line_regex.as_deref())?;
    let source = source_name(&args.from);
    let (first, input) = open(&args.from)?;
    let Some(first) = first else {
        bail!("{source} is empty: there is nothing to replay");
    };
    if !read::is_record(&first) && !args.plan.is_given() {
        bail!(
            "{source} holds reply lines, not a --record file, so it says nothing of the route: \
             give the weights with --weights one=90,two=10, or --route-file ROUTE.yaml with --label PREFIX=BACKEND"
        );
    }
    let plan = if args.plan.is_given() {
        Some(Plan::from_flags(&args.plan, &args.screen.labels)?)
    } else {
        None
    };
    let pace = if args.instant {
        Pace::Instant
    } else {
        Pace::Speed(args.speed)
    };
    let (tx, rx) = mpsc::channel(READ_AHEAD);
    let reader = Reader::new(parser, args.interval);
    std::thread::spawn(move || reader.run(input, &tx));
    let feed = Feed::new(rx, pace, plan, source.clone());
    // The header has room for the file's name, not its whole path.
    let name = std::path::Path::new(&source)
        .file_name()
        .map_or_else(|| source.clone(), |n| n.to_string_lossy().into_owned());
    let settings = Settings {
        replay: Some(pace.to_string()),
        ..args.screen.settings(format!("replay ({pace})"), name)
    };
    let (app, themes) = launch::app(settings, &args.screen, jiff::Timestamp::now())?;
    launch::show(app, themes, Runtime::replay(Box::new(feed)), &args.screen).await
}

fn source_name(path: &std::path::Path) -> String {
    if path.as_os_str() == "-" {
        "stdin".into()
    } else {
        path.display().to_string()
    }
}

type Input = Box<dyn BufRead + Send>;

/// Opens the input and reads up to its first line that is not blank, which says what it
/// holds; the input given back starts at the beginning again.
fn open(path: &std::path::Path) -> anyhow::Result<(Option<String>, Input)> {
    let name = source_name(path);
    let mut input: Input = if path.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(path).map_err(|e| anyhow!("cannot read {name}: {e}"))?;
        Box::new(BufReader::new(file))
    };
    let mut head = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = input
            .read_until(b'\n', &mut line)
            .map_err(|e| anyhow!("cannot read {name}: {e}"))?;
        head.extend_from_slice(&line);
        if n == 0 {
            return Ok((None, Box::new(std::io::Cursor::new(head).chain(input))));
        }
        let text = String::from_utf8_lossy(&line).trim().to_string();
        if !text.is_empty() {
            return Ok((
                Some(text),
                Box::new(std::io::Cursor::new(head).chain(input)),
            ));
        }
    }
}
