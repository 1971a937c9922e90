//! Colours as data: `themes/default.yaml` is built in; `--theme FILE` reads another. A
//! broken theme file gives a warning and the built-in theme, never a crash. `NO_COLOR`
//! turns colour off and leaves emphasis (bold, reverse) to carry the meaning.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

pub const DEFAULT_THEME: &str = include_str!("../../themes/default.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    backends: Vec<String>,
    unmapped: String,
    weight: String,
    honoured: String,
    ignored: String,
    undecided: String,
    error: String,
    unparsable: String,
    note: String,
    accent: String,
    muted: String,
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub backends: Vec<Color>,
    pub unmapped: Color,
    pub weight: Color,
    pub honoured: Color,
    pub ignored: Color,
    pub undecided: Color,
    pub error: Color,
    pub unparsable: Color,
    pub note: Color,
    pub accent: Color,
    pub muted: Color,
    pub text: Color,
    /// No colour at all (NO_COLOR): styles use emphasis only.
    pub monochrome: bool,
}

fn color(name: &str) -> Result<Color, String> {
    Ok(
        match name
            .trim()
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "black" => Color::Black,
            "red" => Color::Red,
            "green" => Color::Green,
            "yellow" => Color::Yellow,
            "blue" => Color::Blue,
            "magenta" => Color::Magenta,
            "cyan" => Color::Cyan,
            "gray" | "grey" => Color::Gray,
            "darkgray" | "darkgrey" => Color::DarkGray,
            "lightred" => Color::LightRed,
            "lightgreen" => Color::LightGreen,
            "lightyellow" => Color::LightYellow,
            "lightblue" => Color::LightBlue,
            "lightmagenta" => Color::LightMagenta,
            "lightcyan" => Color::LightCyan,
            "white" => Color::White,
            "reset" | "default" => Color::Reset,
            other => return Err(format!("{other:?} is not one of the 16 ANSI colour names")),
        },
    )
}

impl Theme {
    /// Parses a theme file's text.
    pub fn parse(text: &str) -> Result<Theme, String> {
        let file: ThemeFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
        if file.backends.is_empty() {
            return Err("backends needs at least one colour".into());
        }
        Ok(Theme {
            backends: file
                .backends
                .iter()
                .map(|c| color(c))
                .collect::<Result<_, _>>()?,
            unmapped: color(&file.unmapped)?,
            weight: color(&file.weight)?,
            honoured: color(&file.honoured)?,
            ignored: color(&file.ignored)?,
            undecided: color(&file.undecided)?,
            error: color(&file.error)?,
            unparsable: color(&file.unparsable)?,
            note: color(&file.note)?,
            accent: color(&file.accent)?,
            muted: color(&file.muted)?,
            text: color(&file.text)?,
            monochrome: false,
        })
    }

    pub fn builtin() -> Theme {
        // The built-in theme is tested to parse; should it ever fail, plain text still works.
        Theme::parse(DEFAULT_THEME).unwrap_or_else(|_| Theme::plain())
    }

    /// No colours, for NO_COLOR and as the last resort.
    pub fn plain() -> Theme {
        Theme {
            backends: vec![Color::Reset],
            unmapped: Color::Reset,
            weight: Color::Reset,
            honoured: Color::Reset,
            ignored: Color::Reset,
            undecided: Color::Reset,
            error: Color::Reset,
            unparsable: Color::Reset,
            note: Color::Reset,
            accent: Color::Reset,
            muted: Color::Reset,
            text: Color::Reset,
            monochrome: true,
        }
    }

    /// The theme to use: `path` if given and valid (else the built-in one and a
    /// warning), and none of it when `no_color`.
    pub fn load(path: Option<&std::path::Path>, no_color: bool) -> (Theme, Option<String>) {
        if no_color {
            return (Theme::plain(), None);
        }
        let Some(path) = path else {
            return (Theme::builtin(), None);
        };
        match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| Theme::parse(&t))
        {
            Ok(theme) => (theme, None),
            Err(e) => (
                Theme::builtin(),
                Some(format!(
                    "theme {} not used ({e}); using the built-in theme",
                    path.display()
                )),
            ),
        }
    }

    pub fn backend(&self, index: usize) -> Color {
        self.backends[index % self.backends.len()]
    }

    pub fn fg(&self, color: Color) -> Style {
        Style::default().fg(color)
    }

    /// Emphasis that survives without colour.
    pub fn strong(&self, color: Color) -> Style {
        Style::default().fg(color).add_modifier(Modifier::BOLD)
    }

    pub fn dim(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.muted)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_theme_parses() {
        let theme = Theme::parse(DEFAULT_THEME).expect("themes/default.yaml parses");
        assert_eq!(theme.backend(0), Color::Green);
        assert_eq!(theme.backend(6), Color::Green);
        assert_eq!(theme.ignored, Color::Red);
    }

    #[test]
    fn broken_themes_fall_back_with_a_warning() {
        assert!(Theme::parse("backends: [green]\n").is_err());
        assert!(
            Theme::parse(&DEFAULT_THEME.replace("unmapped: gray", "unmapped: chartreuse"))
                .unwrap_err()
                .contains("chartreuse")
        );
        assert!(Theme::parse(&format!("{DEFAULT_THEME}\nsparkle: true\n")).is_err());
        assert!(Theme::parse("::: not yaml").is_err());
        let dir = std::env::temp_dir().join(format!("splitscope-theme-{}", std::process::id()));
        std::fs::write(&dir, "backends: [").unwrap();
        let (theme, warning) = Theme::load(Some(&dir), false);
        let _ = std::fs::remove_file(&dir);
        assert_eq!(theme, Theme::builtin());
        assert!(warning.unwrap().contains("using the built-in theme"));
        let (missing, warning) =
            Theme::load(Some(std::path::Path::new("/nonexistent/theme.yaml")), false);
        assert_eq!(missing, Theme::builtin());
        assert!(warning.is_some());
    }

    #[test]
    fn no_color_means_no_colour() {
        let (theme, _) = Theme::load(None, true);
        assert!(theme.monochrome);
        assert!(theme.backends.iter().all(|c| *c == Color::Reset));
    }
}
