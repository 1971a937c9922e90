//! The terminal: raw mode and the alternate screen for as long as the guard lives, and
//! restored on every way out, panics included.

use std::io::{self, IsTerminal, Stdout};

use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub(crate) type Term = Terminal<CrosstermBackend<Stdout>>;

/// Puts the terminal back when dropped.
pub(crate) struct Guard(());

/// Puts the terminal back: leaves the alternate screen, shows the cursor, cooked mode.
pub(crate) fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, crossterm::cursor::Show);
}

impl Guard {
    /// Takes the terminal: raw mode, the alternate screen, a panic hook that gives it back.
    pub(crate) fn enter() -> io::Result<(Guard, Term)> {
        if !io::stdout().is_terminal() {
            return Err(io::Error::other(
                "the watch screen needs a terminal on stdout; run it in a terminal (not piped or redirected)",
            ));
        }
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            hook(info);
            // A panic in any task ends the program: a screen half alive on a restored
            // terminal would be worse. 101, as for a panic in main.
            std::process::exit(101);
        }));
        enable_raw_mode()?;
        let guard = Guard(());
        execute!(io::stdout(), EnterAlternateScreen)?;
        let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        let _ = terminal.hide_cursor();
        let _ = terminal.clear();
        Ok((guard, terminal))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
