//! Bringing the screen up from the command line: the app with its reply parser and
//! themes, then the terminal or a tape, with the recordings asked for. Watch, demo and
//! replay all come through here.

use anyhow::anyhow;
use jiff::Timestamp;

use super::app::report::RunReport;
use super::app::{App, Settings};
use super::cast::Cast;
use super::runtime::Runtime;
use super::tape::Tape;
use super::theme::{self, Themes};
use crate::cli::ScreenArgs;
use crate::sample::LineParser;

/// The app for `settings`, reading replies as `--line-regex` says, in the theme asked for
/// (a theme that cannot be read falls back, and the notice says so).
pub fn app(settings: Settings, args: &ScreenArgs, now: Timestamp) -> anyhow::Result<App> {
    let parser = LineParser::new(args.line_regex.as_deref()).map_err(anyhow::Error::msg)?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (themes, warning) = Themes::load(
        args.theme.as_deref(),
        no_color,
        theme::truecolor_from_env(),
        theme::user_theme_dir().as_deref(),
    );
    let mut app = App::new(settings, parser, now);
    app.notice = warning;
    app.themes = themes;
    Ok(app)
}

/// Runs the screen until it quits: in the terminal, or following `--tape` without one.
/// `--record` and `--record-cast` start here.
pub async fn show(app: App, mut runtime: Runtime, args: &ScreenArgs) -> anyhow::Result<RunReport> {
    if let Some(path) = &args.record {
        let file = std::fs::File::create(path)
            .map_err(|e| anyhow!("cannot record to {}: {e}", path.display()))?;
        runtime.record_to(file);
    }
    if let Some(path) = &args.record_cast {
        let size = match &args.tape {
            Some(_) => args.size,
            None => crossterm::terminal::size().unwrap_or(args.size),
        };
        let title = format!(
            "splitscope · {} · {}",
            app.settings.context, app.settings.namespace
        );
        let cast = std::fs::File::create(path)
            .and_then(|file| Cast::create(file, size, &title, Timestamp::now()))
            .map_err(|e| anyhow!("cannot record the screen to {}: {e}", path.display()))?;
        runtime.record_cast_to(cast);
    }
    if let Some(path) = &args.tape {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read the tape {}: {e}", path.display()))?;
        let tape = Tape::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        return Ok(super::headless::play(app, runtime, &tape, args.size).await?);
    }
    Ok(super::run(app, runtime).await?)
}
