//! Bringing a session up from the command line: the app with its reply parser, the
//! screen's look (themes, pictures, the screen's recording), `--record`, then the
//! terminal or a tape. Watch, demo and replay all come through here.

use anyhow::anyhow;
use jiff::Timestamp;

use super::ScreenArgs;
use crate::sample::LineParser;
use crate::session::{App, RunReport, Runtime, Session, Settings};
use crate::tui::cast::Cast;
use crate::tui::display::{Look, Shots};
use crate::tui::tape::Tape;
use crate::tui::theme::{self, Themes};

/// The app for `settings`, reading replies as `--line-regex` says, and the themes asked
/// for (a theme that cannot be read falls back, and the app's notice says so).
pub fn app(settings: Settings, args: &ScreenArgs, now: Timestamp) -> anyhow::Result<(App, Themes)> {
    let parser = LineParser::new(args.line_regex.as_deref())?;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let (themes, warning) = Themes::load(
        args.theme.as_deref(),
        no_color,
        theme::truecolor_from_env(),
        theme::user_theme_dir().as_deref(),
    );
    Ok((App::new(settings, parser, now).with_notice(warning), themes))
}

/// Runs the session until it quits: in the terminal, or following `--tape` without one.
/// `--record` and `--record-cast` start here.
pub async fn show(
    app: App,
    themes: Themes,
    runtime: Runtime,
    args: &ScreenArgs,
) -> anyhow::Result<RunReport> {
    let mut session = Session::new(app, runtime);
    if let Some(path) = &args.record {
        let file = std::fs::File::create(path)
            .map_err(|e| anyhow!("cannot record to {}: {e}", path.display()))?;
        session.record_to(file);
    }
    let cast = match &args.record_cast {
        Some(path) => {
            let size = match &args.tape {
                Some(_) => args.size,
                None => crossterm::terminal::size().unwrap_or(args.size),
            };
            let settings = session.app().settings();
            let title = format!("splitscope · {} · {}", settings.context, settings.namespace);
            let cast = std::fs::File::create(path)
                .and_then(|file| Cast::create(file, size, &title, Timestamp::now()))
                .map_err(|e| anyhow!("cannot record the screen to {}: {e}", path.display()))?;
            Some(cast)
        }
        None => None,
    };
    let look = Look {
        themes,
        shots: Shots {
            dir: args.shots_dir.clone(),
            formats: args.shot_format.clone(),
        },
        cast,
    };
    if let Some(path) = &args.tape {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read the tape {}: {e}", path.display()))?;
        let tape = Tape::parse(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        return Ok(crate::tui::headless::play(session, look, &tape, args.size).await?);
    }
    Ok(crate::tui::run(session, look).await?)
}
