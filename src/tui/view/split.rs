//! Split: for the window and the whole run, a bar per backend with its share, its 95 %
//! interval and the configured weight; then the verdict in large letters.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::format::percent;
use crate::split::{Share, Verdict};
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// A 3-row block font for the verdict words.
fn glyph(c: char) -> [&'static str; 3] {
    match c {
        'C' => ["█▀▀", "█  ", "█▄▄"],
        'D' => ["█▀▄", "█ █", "█▄▀"],
        'E' => ["█▀▀", "█▀▀", "█▄▄"],
        'G' => ["█▀▀", "█ ▄", "█▄█"],
        'H' => ["█ █", "█▀█", "█ █"],
        'I' => ["▀█▀", " █ ", "▄█▄"],
        'N' => ["█▀▄", "█ █", "█ █"],
        'O' => ["█▀█", "█ █", "█▄█"],
        'R' => ["█▀▄", "█▀▄", "█ █"],
        'U' => ["█ █", "█ █", "█▄█"],
        _ => ["   ", "   ", "   "],
    }
}

/// The word in large letters when it fits `width`, else spaced capitals.
pub fn big_word(word: &str, width: usize) -> Vec<String> {
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
            } else if x >= share.interval.low && x <= share.interval.high {
                Span::styled("▒", color)
            } else {
                Span::styled("░", theme.dim())
            }
        })
        .collect()
}

fn section(
    title: String,
    shares: &[Share],
    app: &App,
    theme: &Theme,
    width: usize,
    lines: &mut Vec<Line<'static>>,
) {
    lines.push(Line::styled(title, theme.dim()));
    let names: Vec<String> = app
        .route
        .as_ref()
        .map(|r| r.backends.iter().map(|b| b.name.clone()).collect())
        .unwrap_or_default();
    let name_width = names
        .iter()
        .map(std::string::String::len)
        .max()
        .unwrap_or(4)
        .min(12);
    // name, bar, then " 52% [47–57]"
    let bar_width = width.saturating_sub(name_width + 1 + 14).max(4);
    for (i, share) in shares.iter().enumerate() {
        let color = theme.fg(theme.backend(i));
        let name: String = names
            .get(i)
            .map(|n| n.chars().take(name_width).collect())
            .unwrap_or_default();
        let mut spans = vec![Span::styled(format!("{name:<name_width$} "), color)];
        spans.extend(bar(share, bar_width, color, theme));
        let mark = if share.inside {
            theme.fg(theme.honoured)
        } else {
            theme.fg(theme.ignored)
        };
        spans.push(Span::styled(
            format!(" {:>4}", percent(share.share)),
            theme.strong(theme.text),
        ));
        spans.push(Span::styled(
            format!(
                " [{:.0}–{:.0}]",
                share.interval.low * 100.0,
                share.interval.high * 100.0
            ),
            mark,
        ));
        lines.push(Line::from(spans));
    }
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let split = app.shown_split();
    let inner_width = area.width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    section(
        format!("window: last {} · n={}", split.window(), split.window_len()),
        &split.window_shares(),
        app,
        theme,
        inner_width,
        &mut lines,
    );
    section(
        format!("whole run · n={}", split.total()),
        &split.total_shares(),
        app,
        theme,
        inner_width,
        &mut lines,
    );
    let (unmapped_window, unmapped_total) = split.unmapped();
    if unmapped_total > 0 {
        lines.push(Line::styled(
            format!("unmapped replies: {unmapped_window} in window, {unmapped_total} in all"),
            theme.fg(theme.unmapped),
        ));
    }
    for problem in &app.label_problems {
        lines.push(Line::styled(problem.clone(), theme.fg(theme.error)));
    }
    let verdict = split.verdict();
    let color = match verdict {
        Verdict::Honoured => theme.honoured,
        Verdict::Ignored => theme.ignored,
        Verdict::Undecided => theme.undecided,
    };
    let free = (area.height.saturating_sub(2) as usize).saturating_sub(lines.len());
    let word = big_word(verdict.word(), inner_width);
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
        .title(Span::styled(" split ", theme.dim()))
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
