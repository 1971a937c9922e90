//! Tapes: a script that drives the screen without a terminal, for pictures and shows that
//! come out the same every time. One command a line; `#` starts a comment.
//!
//! ```text
//! wait ignored 60s        # or honoured, undecided, ambiguous; the timeout is optional
//! wait /patch on since/   # a regular expression on the screen's text
//! press p                 # keys: characters, or space, esc, enter
//! sleep 2s
//! shot assets/honoured.svg  # the format from the extension: svg, html, txt
//! resize 80x24
//! quit
//! ```

use std::time::Duration;

use regex::Regex;

use crate::units::{BadValue, bad};

use super::shot::ShotFormat;
use crate::split::Verdict;

/// How long a `wait` waits when the tape says nothing.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub(crate) enum Step {
    WaitVerdict(Verdict, Duration),
    WaitText(Regex, Duration),
    Press(Vec<crate::session::Key>),
    Sleep(Duration),
    Shot(std::path::PathBuf, ShotFormat),
    Resize(u16, u16),
    Quit,
}

/// A parsed tape: each step with its line number, for messages.
#[derive(Debug, Clone)]
pub(crate) struct Tape {
    pub steps: Vec<(usize, Step)>,
}

fn keys(text: &str) -> Result<Vec<crate::session::Key>, BadValue> {
    use crate::session::Key;
    text.split_whitespace()
        .flat_map(|word| match word {
            "space" => vec![Ok(Key::Space)],
            "esc" | "escape" => vec![Ok(Key::Esc)],
            "ctrl-c" => vec![Ok(Key::CtrlC)],
            "enter" => vec![Ok(Key::Enter)],
            "up" => vec![Ok(Key::Up)],
            "down" => vec![Ok(Key::Down)],
            chars => chars.chars().map(|c| Ok(Key::Char(c))).collect(),
        })
        .collect()
}

fn wait(rest: &str) -> Result<Step, BadValue> {
    let (target, timeout) = match rest.rsplit_once(' ') {
        Some((target, t)) if !t.ends_with('/') && target.trim_end().len() > 1 => {
            (target.trim(), crate::units::parse_duration(t)?)
        }
        _ => (rest.trim(), DEFAULT_WAIT),
    };
    if let Some(pattern) = target.strip_prefix('/').and_then(|p| p.strip_suffix('/')) {
        let regex = Regex::new(pattern).map_err(|e| bad!("/{pattern}/: {e}"))?;
        return Ok(Step::WaitText(regex, timeout));
    }
    let verdict = match target.to_ascii_lowercase().as_str() {
        "ignored" => Verdict::Ignored,
        "honoured" | "honored" => Verdict::Honoured,
        "undecided" => Verdict::Undecided,
        "ambiguous" => Verdict::Ambiguous,
        other => {
            return Err(bad!(
                "wait {other}: wait for ignored, honoured, undecided, ambiguous or /REGEX/"
            ));
        }
    };
    Ok(Step::WaitVerdict(verdict, timeout))
}

impl Tape {
    pub fn parse(text: &str) -> Result<Tape, BadValue> {
        let mut steps = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let number = i + 1;
            // A `#` starts a comment, except inside a /regex/.
            let line = match raw.find(" #").or_else(|| raw.starts_with('#').then_some(0)) {
                Some(at) if !raw[..at].contains('/') || raw[..at].matches('/').count() % 2 == 0 => {
                    &raw[..at]
                }
                _ => raw,
            }
            .trim();
            if line.is_empty() {
                continue;
            }
            let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            let step = match command {
                "wait" => wait(rest),
                "press" => keys(rest).map(Step::Press),
                "sleep" => crate::units::parse_duration(rest).map(Step::Sleep),
                "shot" => {
                    let path = std::path::PathBuf::from(rest);
                    path.extension()
                        .and_then(|e| ShotFormat::parse(&e.to_string_lossy()))
                        .map(|f| Step::Shot(path.clone(), f))
                        .ok_or_else(|| bad!("shot {rest}: name a .svg, .html or .txt file"))
                }
                "resize" => crate::units::parse_size(rest).map(|(w, h)| Step::Resize(w, h)),
                "quit" => Ok(Step::Quit),
                other => Err(bad!(
                    "{other:?} is not a tape command (wait, press, sleep, shot, resize, quit)"
                )),
            }
            .map_err(|e| bad!("line {number}: {e}"))?;
            steps.push((number, step));
        }
        Ok(Tape { steps })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_command_and_says_which_line_is_wrong() {
        let tape = Tape::parse(
            "# the bug, then the patch\nwait ignored 30s\nwait /patch on since/ # a comment\npress p\nsleep 1.5s\nshot a/b.svg\nresize 80x24\nquit\n",
        )
        .unwrap();
        assert_eq!(tape.steps.len(), 7);
        assert!(
            matches!(tape.steps[0], (2, Step::WaitVerdict(Verdict::Ignored, d)) if d == Duration::from_secs(30))
        );
        assert!(
            matches!(&tape.steps[1], (3, Step::WaitText(r, d)) if r.as_str() == "patch on since" && *d == DEFAULT_WAIT)
        );
        assert!(matches!(tape.steps[5], (7, Step::Resize(80, 24))));
        let err = Tape::parse("press p\nwait maybe\n").unwrap_err();
        assert!(err.0.starts_with("line 2:"), "{err}");
        assert!(Tape::parse("shot x.png").unwrap_err().0.contains(".svg"));
        assert!(
            Tape::parse("dance")
                .unwrap_err()
                .0
                .contains("not a tape command")
        );
        assert_eq!(crate::units::parse_size("100x30"), Ok((100, 30)));
        assert!(crate::units::parse_size("1x1").is_err());
    }
}
