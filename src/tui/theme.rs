//! Colours as data: the themes in themes/*.yaml are built in, user themes come from
//! `$XDG_CONFIG_HOME/splitscope/themes/`, and `--theme NAME|FILE` picks one. Colours are
//! ANSI names or `#RRGGBB` (the nearest of the 16 where the terminal lacks truecolor). A
//! broken theme gives a notice and the default theme, never a crash. `NO_COLOR` turns
//! colour off and leaves emphasis (bold, reverse) to carry the meaning.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

pub(crate) const DEFAULT_THEME: &str = include_str!("../../themes/default.yaml");

/// The built-in themes, by name, in the order `t` cycles through them.
pub const BUILTIN: [(&str, &str); 5] = [
    ("default", DEFAULT_THEME),
    ("light", include_str!("../../themes/light.yaml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.yaml"),
    ),
    (
        "colour-blind",
        include_str!("../../themes/colour-blind.yaml"),
    ),
    ("monochrome", include_str!("../../themes/monochrome.yaml")),
];

/// The page behind pictures when a theme names none.
const DARK_PAPER: &str = "#1e1e1e";

/// The 16 ANSI colours as xterm draws them, for the nearest-colour fallback.
const ANSI_RGB: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// Whether the terminal says it shows 24-bit colour.
pub(crate) fn truecolor_from_env() -> bool {
    std::env::var("COLORTERM").is_ok_and(|v| v == "truecolor" || v == "24bit")
}

/// `#RRGGBB` as itself, or as the nearest ANSI colour without truecolor.
fn hex(text: &str, truecolor: bool) -> Option<Color> {
    let digits = text.strip_prefix('#')?;
    if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
    let (r, g, b) = (channel(0)?, channel(2)?, channel(4)?);
    if truecolor {
        return Some(Color::Rgb(r, g, b));
    }
    let distance = |(cr, cg, cb): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(r, cr) + d(g, cg) + d(b, cb)
    };
    ANSI_RGB
        .iter()
        .min_by_key(|(_, rgb)| distance(*rgb))
        .map(|(c, _)| *c)
}

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
    /// The page behind pictures of the screen (`s`): `#RRGGBB`; dark when absent.
    #[serde(default)]
    background: Option<String>,
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
    /// Pictures of the screen: the page and the text drawn in the terminal's own colour.
    pub paper: String,
}

/// Why a theme cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("{0:?} is not a colour: write #RRGGBB, like #0072b2")]
    Hex(String),
    #[error("{0:?} is not one of the 16 ANSI colour names, nor #RRGGBB")]
    Name(String),
    #[error("background {0:?}: write #RRGGBB")]
    Background(String),
    #[error("backends needs at least one colour")]
    NoBackends,
    #[error("{0}")]
    Yaml(#[from] serde_saphyr::Error),
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn color(name: &str, truecolor: bool) -> Result<Color, ThemeError> {
    if name.trim().starts_with('#') {
        return hex(name.trim(), truecolor).ok_or_else(|| ThemeError::Hex(name.to_string()));
    }
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
            other => return Err(ThemeError::Name(other.to_string())),
        },
    )
}

impl Theme {
    /// Parses a theme file's text, for a terminal with 16 colours.
    pub fn parse(text: &str) -> Result<Theme, ThemeError> {
        Theme::parse_for(text, false)
    }

    /// Parses a theme file's text; `truecolor` keeps `#RRGGBB` as it is.
    pub fn parse_for(text: &str, truecolor: bool) -> Result<Theme, ThemeError> {
        let color = |name: &str| color(name, truecolor);
        let file: ThemeFile = serde_saphyr::from_str(text)?;
        if file.backends.is_empty() {
            return Err(ThemeError::NoBackends);
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
            paper: match &file.background {
                Some(bg) if hex(bg, true).is_some() => bg.clone(),
                Some(bg) => return Err(ThemeError::Background(bg.clone())),
                None => DARK_PAPER.into(),
            },
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
            paper: DARK_PAPER.into(),
        }
    }

    /// The page and ink of a picture: the ink is for text in the terminal's own colour.
    pub fn page(&self) -> (&str, &str) {
        let light = hex(&self.paper, true).is_some_and(|c| match c {
            Color::Rgb(r, g, b) => u32::from(r) + u32::from(g) + u32::from(b) > 384,
            _ => false,
        });
        (&self.paper, if light { "#1c1c1c" } else { "#d4d4d4" })
    }

    pub fn backend(&self, index: usize) -> Color {
        self.backends[index % self.backends.len()]
    }

    pub fn fg(&self, color: Color) -> Style {
        Style::default().fg(color)
    }

    /// Emphasis that survives without colour.
    pub(crate) fn strong(&self, color: Color) -> Style {
        Style::default().fg(color).add_modifier(Modifier::BOLD)
    }

    pub(crate) fn dim(&self) -> Style {
        if self.monochrome {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.muted)
        }
    }
}

/// The themes one can cycle through with `t`, and the one in use.
#[derive(Debug, Clone)]
pub struct Themes {
    list: Vec<(String, Theme)>,
    current: usize,
}

impl Default for Themes {
    fn default() -> Self {
        Themes {
            list: vec![("default".into(), Theme::builtin())],
            current: 0,
        }
    }
}

/// Where user themes live: `$XDG_CONFIG_HOME/splitscope/themes`, else
/// `~/.config/splitscope/themes`.
pub(crate) fn user_theme_dir() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".config")))?;
    Some(base.join("splitscope").join("themes"))
}

impl Themes {
    /// The built-in themes, the user's, and `choice` (a name or a file) selected. Returns
    /// a notice for whatever could not be used.
    pub fn load(
        choice: Option<&str>,
        no_color: bool,
        truecolor: bool,
        user_dir: Option<&std::path::Path>,
    ) -> (Themes, Option<String>) {
        if no_color {
            let list = vec![("no colour (NO_COLOR)".to_string(), Theme::plain())];
            return (Themes { list, current: 0 }, None);
        }
        let mut notices = Vec::new();
        let mut list: Vec<(String, Theme)> = BUILTIN
            .iter()
            .map(|(name, text)| {
                let theme = Theme::parse_for(text, truecolor).unwrap_or_else(|_| Theme::plain());
                (name.to_string(), theme)
            })
            .collect();
        if let Some(dir) = user_dir {
            list.extend(user_themes(dir, truecolor, &mut notices));
        }
        let mut current = 0;
        if let Some(choice) = choice {
            match list.iter().position(|(n, _)| n == choice) {
                Some(i) => current = i,
                None => match read_theme(std::path::Path::new(choice), truecolor) {
                    Ok(theme) => {
                        list.push((choice.to_string(), theme));
                        current = list.len() - 1;
                    }
                    Err(e) => notices.push(format!(
                        "theme {choice} not used ({e}); using the default theme"
                    )),
                },
            }
        }
        let notice = (!notices.is_empty()).then(|| notices.join("; "));
        (Themes { list, current }, notice)
    }

    pub fn current(&self) -> &Theme {
        &self.list[self.current % self.list.len()].1
    }

    pub fn name(&self) -> &str {
        &self.list[self.current % self.list.len()].0
    }

    /// Whether there is another theme to move to.
    pub fn several(&self) -> bool {
        self.list.len() > 1
    }

    /// Moves to the next theme; returns its name.
    pub(crate) fn advance(&mut self) -> &str {
        self.current = (self.current + 1) % self.list.len();
        self.name()
    }
}

fn read_theme(path: &std::path::Path, truecolor: bool) -> Result<Theme, ThemeError> {
    let text = std::fs::read_to_string(path).map_err(|source| ThemeError::Read {
        path: path.display().to_string(),
        source,
    })?;
    Theme::parse_for(&text, truecolor)
}

/// The `*.yaml` themes in `dir`, by file name; a broken one is left out with a notice.
fn user_themes(
    dir: &std::path::Path,
    truecolor: bool,
    notices: &mut Vec<String>,
) -> Vec<(String, Theme)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let name = path.file_stem()?.to_string_lossy().into_owned();
            match read_theme(&path, truecolor) {
                Ok(theme) => Some((name, theme)),
                Err(e) => {
                    notices.push(format!("theme {} left out ({e})", path.display()));
                    None
                }
            }
        })
        .collect()
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
                .to_string()
                .contains("chartreuse")
        );
        assert!(Theme::parse(&format!("{DEFAULT_THEME}\nsparkle: true\n")).is_err());
        assert!(Theme::parse("::: not yaml").is_err());
        let dir = std::env::temp_dir().join(format!("splitscope-theme-{}", std::process::id()));
        std::fs::write(&dir, "backends: [").unwrap();
        let (themes, warning) = Themes::load(dir.to_str(), false, false, None);
        let _ = std::fs::remove_file(&dir);
        assert_eq!(themes.current(), &Theme::builtin());
        assert!(warning.unwrap().contains("using the default theme"));
        let (missing, warning) = Themes::load(Some("/nonexistent/theme.yaml"), false, false, None);
        assert_eq!(missing.current(), &Theme::builtin());
        assert!(warning.is_some());
    }

    #[test]
    fn no_color_means_no_colour() {
        let (themes, _) = Themes::load(Some("light"), true, true, None);
        assert!(themes.current().monochrome);
        assert!(themes.current().backends.iter().all(|c| *c == Color::Reset));
        assert_eq!(themes.list.len(), 1);
    }

    #[test]
    fn every_builtin_theme_parses_both_ways() {
        for (name, text) in BUILTIN {
            Theme::parse_for(text, true).unwrap_or_else(|e| panic!("{name}: {e}"));
            Theme::parse_for(text, false).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // The colour-blind theme pairs no red with green.
        let cb = Theme::parse_for(BUILTIN[3].1, true).unwrap();
        assert_eq!(cb.honoured, Color::Rgb(0x00, 0x72, 0xb2));
        assert_eq!(cb.ignored, Color::Rgb(0xe6, 0x9f, 0x00));
    }

    #[test]
    fn hex_colours_fall_back_to_the_nearest_ansi_one() {
        assert_eq!(hex("#ff0000", true), Some(Color::Rgb(255, 0, 0)));
        assert_eq!(hex("#fe0101", false), Some(Color::LightRed));
        assert_eq!(hex("#000010", false), Some(Color::Black));
        assert_eq!(hex("#12345", false), None);
        assert!(
            color("#zzzzzz", true)
                .unwrap_err()
                .to_string()
                .contains("#RRGGBB")
        );
    }

    #[test]
    fn names_files_and_user_themes_are_found_and_cycled() {
        let dir = std::env::temp_dir().join(format!("splitscope-themes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("stage.yaml"),
            DEFAULT_THEME.replace("green", "\"#00ff00\""),
        )
        .unwrap();
        std::fs::write(dir.join("broken.yaml"), "backends: [").unwrap();
        let (mut themes, notice) = Themes::load(Some("stage"), false, true, Some(&dir));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(themes.name(), "stage");
        assert_eq!(themes.current().honoured, Color::Rgb(0, 255, 0));
        assert!(notice.unwrap().contains("broken.yaml left out"));
        assert_eq!(themes.list.len(), 6);
        assert_eq!(themes.advance(), "default");
        assert_eq!(themes.advance(), "light");
        let (light, _) = Themes::load(Some("light"), false, false, None);
        assert_eq!(light.name(), "light");
    }
}
