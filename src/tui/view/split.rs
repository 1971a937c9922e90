//! Split: since the regime began, a bar per backend with its share, its confidence
//! sequence and the configured weight; the odds each way; the window's shares (the
//! chart's smoothing); then the verdict in large letters.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::format::{duration, percent};
use crate::session::app::App;
use crate::split::{Share, Split, Verdict};
use crate::tui::theme::Theme;
use crate::verdict::odds;

/// A 3-row block font for the verdict words.
fn glyph(c: char) -> [&'static str; 3] {
    match c {
        'A' => ["█▀█", "█▀█", "█ █"],
        'B' => ["█▀▄", "█▀▄", "█▄▀"],
        'C' => ["█▀▀", "█  ", "█▄▄"],
        'D' => ["█▀▄", "█ █", "█▄▀"],
        'E' => ["█▀▀", "█▀▀", "█▄▄"],
        'G' => ["█▀▀", "█ ▄", "█▄█"],
        'H' => ["█ █", "█▀█", "█ █"],
        'I' => ["▀█▀", " █ ", "▄█▄"],
        'M' => ["█▄█", "█ █", "█ █"],
        'N' => ["█▀▄", "█ █", "█ █"],
        'O' => ["█▀█", "█ █", "█▄█"],
        'R' => ["█▀▄", "█▀▄", "█ █"],
        'S' => ["█▀▀", "▀▀█", "▄▄█"],
        'U' => ["█ █", "█ █", "█▄█"],
        _ => ["   ", "   ", "   "],
    }
}

/// The word in large letters when it fits `width`, else spaced capitals.
pub(crate) fn big_word(word: &str, width: usize) -> Vec<String> {
    let big_width = word.chars().count() * 4 - 1;
    if big_width > width {
        let spaced: String = word
            .chars()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        return vec![spaced];
    }
    (0..3)
        .map(|row| {
            word.chars()
                .map(|c| glyph(c)[row])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn bar(share: &Share, width: usize, color: Style, theme: &Theme) -> Vec<Span<'static>> {
    let cell_of = |p: f64| ((p * width as f64).floor() as usize).min(width.saturating_sub(1));
    let weight_cell = cell_of(share.expected);
    (0..width)
        .map(|i| {
            let x = (i as f64 + 0.5) / width as f64;
            if i == weight_cell {
                Span::styled("│", theme.strong(theme.weight))
            } else if x < share.share {
                Span::styled("█", color)
            } else if share.interval.is_some_and(|i| x >= i.low && x <= i.high) {
                Span::styled("▒", color)
            } else {
                Span::styled("░", theme.dim())
            }
        })
        .collect()
}

fn bars(shares: &[Share], app: &App, theme: &Theme, width: usize, lines: &mut Vec<Line<'static>>) {
    let names: Vec<String> = app
        .route()
        .as_ref()
        .map(|r| r.backends.iter().map(|b| b.name.clone()).collect())
        .unwrap_or_default();
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(4);
    let name_width = longest.min(16).min(width / 3).max(4);
    // name, bar, then " 52% [47–57]"
    let bar_width = width.saturating_sub(name_width + 1 + 14).max(4);
    for (i, share) in shares.iter().enumerate() {
        let color = theme.fg(theme.backend(i));
        // Backends are told apart by their ends (helloworld-v1, helloworld-v2): a name
        // too long keeps its tail.
        let name: String = names
            .get(i)
            .map(|n| {
                let count = n.chars().count();
                if count <= name_width {
                    n.clone()
                } else {
                    let tail: String = n.chars().skip(count + 1 - name_width).collect();
                    format!("…{tail}")
                }
            })
            .unwrap_or_default();
        let mut spans = vec![Span::styled(format!("{name:<name_width$} "), color)];
        spans.extend(bar(share, bar_width, color, theme));
        let mark = if share.inside() {
            theme.fg(theme.honoured)
        } else {
            theme.fg(theme.ignored)
        };
        spans.push(Span::styled(
            format!(" {:>4}", percent(share.share)),
            theme.strong(theme.text),
        ));
        if let Some(interval) = share.interval {
            spans.push(Span::styled(
                format!(
                    " [{:.0}–{:.0}]",
                    interval.low * 100.0,
                    interval.high * 100.0
                ),
                mark,
            ));
        }
        lines.push(Line::from(spans));
    }
}

/// The mesh's default split, as whole percents: `75/25`.
fn bug_split(split: &Split) -> String {
    let default = split.default_split();
    let total: f64 = default.iter().sum();
    if total <= 0.0 {
        return "unknown".into();
    }
    default
        .iter()
        .map(|d| format!("{:.0}", d / total * 100.0))
        .collect::<Vec<_>>()
        .join("/")
}

/// The odds each way and how far a decision is.
fn evidence_lines(split: &Split, theme: &Theme, lines: &mut Vec<Line<'static>>) {
    let e = split.evidence();
    let alpha = split.alpha();
    let verdict = split.verdict();
    if verdict != Verdict::Ambiguous {
        lines.push(Line::styled(
            format!(
                "route/bug {}, need {}",
                odds(e.route_over_bug),
                odds(1.0 / alpha)
            ),
            theme.dim(),
        ));
    }
    lines.push(Line::styled(
        format!(
            "against weights {}, need {}",
            odds(e.against_weights),
            odds(2.0 / alpha)
        ),
        theme.dim(),
    ));
    let status = match (verdict, split.decided_after(), e.samples_to_decide) {
        (Verdict::Ambiguous, _, _) => "weights = the bug's split: cannot tell".to_string(),
        (Verdict::Honoured | Verdict::Ignored, Some(n), _) => format!("decided after {n} samples"),
        (_, _, Some(n)) => format!("about {n} more samples to decide"),
        _ => "no decision in sight at these shares".to_string(),
    };
    lines.push(Line::styled(status, theme.dim()));
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let split = app.shown_split();
    let inner_width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    let regime = split.regime();
    lines.push(Line::styled(
        format!(
            "since {} · {} · n={}",
            duration(regime.started),
            regime.cause.label(),
            split.regime_len()
        ),
        theme.dim(),
    ));
    bars(&split.regime_shares(), app, theme, inner_width, &mut lines);
    evidence_lines(split, theme, &mut lines);
    let window: Vec<String> = split
        .window_shares()
        .iter()
        .map(|s| percent(s.share))
        .collect();
    lines.push(Line::styled(
        format!(
            "window {}: {} · run {}",
            split.window(),
            window.join(" "),
            split.total()
        ),
        theme.dim(),
    ));
    let (unmapped_window, unmapped_total) = split.unmapped();
    if unmapped_total > 0 {
        lines.push(Line::styled(
            format!("unmapped replies: {unmapped_window} in window, {unmapped_total} in all"),
            theme.fg(theme.unmapped),
        ));
    }
    for problem in app.label_problems() {
        lines.push(Line::styled(problem.clone(), theme.fg(theme.error)));
    }
    let verdict = split.verdict();
    let color = match verdict {
        Verdict::Honoured => theme.honoured,
        Verdict::Ignored => theme.ignored,
        Verdict::Undecided | Verdict::Ambiguous => theme.undecided,
    };
    let word = big_word(verdict.word(), inner_width);
    let room =
        |lines: &Vec<Line>| (area.height.saturating_sub(2) as usize).saturating_sub(lines.len());
    // What the bug gives, where there is room for it beside the verdict.
    if room(&lines) > word.len() {
        lines.push(Line::styled(
            format!("bug's split {} (endpoints)", bug_split(split)),
            theme.dim(),
        ));
    }
    let free = room(&lines);
    if free > word.len() {
        lines.push(Line::raw(""));
    }
    for row in word {
        lines.push(Line::styled(
            format!("{row:^inner_width$}"),
            theme.strong(color),
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(
            format!(" split · {} ", verdict.word().to_lowercase()),
            theme.dim(),
        ))
        .border_style(theme.dim());
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::big_word;

    #[test]
    fn verdict_words_are_large_when_they_fit() {
        let rows = big_word("HONOURED", 40);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.chars().count() == 31));
        assert_eq!(
            big_word("UNDECIDED", 20),
            vec!["U N D E C I D E D".to_string()]
        );
    }
}
