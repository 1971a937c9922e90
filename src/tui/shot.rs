//! Pictures of the screen, from the same buffer the terminal is drawn from: SVG (one
//! `<text>` per run of one style, so the text stays selectable and greppable), HTML (a
//! `<pre>` with styled spans) and plain text.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use super::theme::Theme;

/// The picture formats `s` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShotFormat {
    Svg,
    Html,
    Txt,
}

impl ShotFormat {
    pub(crate) fn extension(self) -> &'static str {
        match self {
            ShotFormat::Svg => "svg",
            ShotFormat::Html => "html",
            ShotFormat::Txt => "txt",
        }
    }

    /// `svg`, `html` or `txt`, as in `--shot-format` and a tape's file names.
    pub fn parse(text: &str) -> Option<ShotFormat> {
        match text.trim().to_ascii_lowercase().as_str() {
            "svg" => Some(ShotFormat::Svg),
            "html" | "htm" => Some(ShotFormat::Html),
            "txt" | "text" => Some(ShotFormat::Txt),
            _ => None,
        }
    }

    pub fn render(self, buffer: &Buffer, theme: &Theme) -> String {
        match self {
            ShotFormat::Svg => svg(buffer, theme),
            ShotFormat::Html => html(buffer, theme),
            ShotFormat::Txt => text(buffer),
        }
    }
}

const FONT: &str =
    "ui-monospace, 'SF Mono', 'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";
const CELL_W: f64 = 8.4;
const CELL_H: f64 = 17.0;
const FONT_PX: f64 = 14.0;

/// The screen's text, row by row, trailing spaces trimmed.
pub fn text(buffer: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let row: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol())
            .collect();
        out.push_str(row.trim_end());
        out.push('\n');
    }
    out
}

/// A colour as CSS, `None` for the terminal's own.
fn css(color: Color) -> Option<String> {
    let (r, g, b) = match color {
        Color::Reset => return None,
        Color::Black => (0, 0, 0),
        Color::Red => (205, 49, 49),
        Color::Green => (13, 188, 121),
        Color::Yellow => (229, 229, 16),
        Color::Blue => (36, 114, 200),
        Color::Magenta => (188, 63, 188),
        Color::Cyan => (17, 168, 205),
        Color::Gray => (204, 204, 204),
        Color::DarkGray => (118, 118, 118),
        Color::LightRed => (241, 76, 76),
        Color::LightGreen => (35, 209, 139),
        Color::LightYellow => (245, 245, 67),
        Color::LightBlue => (59, 142, 234),
        Color::LightMagenta => (214, 112, 214),
        Color::LightCyan => (41, 184, 219),
        Color::White => (229, 229, 229),
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(_) => return None,
    };
    Some(format!("#{r:02x}{g:02x}{b:02x}"))
}

/// One run of cells of one style on one row.
struct Run {
    x: u16,
    cells: u16,
    text: String,
    fg: String,
    bg: Option<String>,
    bold: bool,
    dim: bool,
}

fn runs(buffer: &Buffer, y: u16, theme: &Theme) -> Vec<Run> {
    let (paper, ink) = theme.page();
    let mut out: Vec<Run> = Vec::new();
    for x in 0..buffer.area.width {
        let cell = &buffer[(x, y)];
        let mut fg = css(cell.fg).unwrap_or_else(|| ink.to_string());
        let mut bg = css(cell.bg);
        if cell.modifier.contains(Modifier::REVERSED) {
            let old_fg = fg;
            fg = bg.unwrap_or_else(|| paper.to_string());
            bg = Some(old_fg);
        }
        let bold = cell.modifier.contains(Modifier::BOLD);
        let dim = cell.modifier.contains(Modifier::DIM);
        match out.last_mut() {
            Some(run) if run.fg == fg && run.bg == bg && run.bold == bold && run.dim == dim => {
                run.text.push_str(cell.symbol());
                run.cells += 1;
            }
            _ => out.push(Run {
                x,
                cells: 1,
                text: cell.symbol().to_string(),
                fg,
                bg,
                bold,
                dim,
            }),
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub fn svg(buffer: &Buffer, theme: &Theme) -> String {
    let (paper, _) = theme.page();
    let (w, h) = (
        f64::from(buffer.area.width) * CELL_W,
        f64::from(buffer.area.height) * CELL_H,
    );
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.1} {h:.1}\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"{paper}\"/>\n\
         <g font-family=\"{FONT}\" font-size=\"{FONT_PX}\" xml:space=\"preserve\">\n"
    );
    for y in 0..buffer.area.height {
        let top = f64::from(y) * CELL_H;
        for run in runs(buffer, y, theme) {
            let left = f64::from(run.x) * CELL_W;
            let width = f64::from(run.cells) * CELL_W;
            if let Some(bg) = &run.bg {
                out.push_str(&format!(
                    "<rect x=\"{left:.1}\" y=\"{top:.1}\" width=\"{width:.1}\" height=\"{CELL_H:.1}\" fill=\"{bg}\"/>\n"
                ));
            }
            if run.text.trim().is_empty() {
                continue;
            }
            let weight = if run.bold {
                " font-weight=\"bold\""
            } else {
                ""
            };
            let opacity = if run.dim { " opacity=\"0.7\"" } else { "" };
            out.push_str(&format!(
                "<text x=\"{left:.1}\" y=\"{:.1}\" fill=\"{}\" textLength=\"{width:.1}\" lengthAdjust=\"spacingAndGlyphs\"{weight}{opacity}>{}</text>\n",
                top + CELL_H * 0.78,
                run.fg,
                escape(&run.text)
            ));
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}

pub fn html(buffer: &Buffer, theme: &Theme) -> String {
    let (paper, ink) = theme.page();
    let mut out = format!(
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/><title>splitscope</title></head>\n\
         <body style=\"margin:0;background:{paper}\">\n\
         <pre style=\"margin:0;padding:8px;font-family:{FONT};font-size:{FONT_PX}px;line-height:{CELL_H}px;color:{ink};background:{paper}\">"
    );
    for y in 0..buffer.area.height {
        for run in runs(buffer, y, theme) {
            let mut style = format!("color:{}", run.fg);
            if let Some(bg) = &run.bg {
                style.push_str(&format!(";background:{bg}"));
            }
            if run.bold {
                style.push_str(";font-weight:bold");
            }
            if run.dim {
                style.push_str(";opacity:0.7");
            }
            out.push_str(&format!(
                "<span style=\"{style}\">{}</span>",
                escape(&run.text)
            ));
        }
        out.push('\n');
    }
    out.push_str("</pre>\n</body></html>\n");
    out
}

/// Why a picture was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ShotError {
    #[error("cannot create {path}: {source}")]
    Create {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("too many pictures in {0} this second")]
    TooMany(String),
}

/// Writes the screen in each format to `dir`, named by the time; returns the paths
/// written, or why not.
pub(crate) fn save(
    buffer: &Buffer,
    theme: &Theme,
    dir: &std::path::Path,
    formats: &[ShotFormat],
    now: jiff::Timestamp,
) -> Result<Vec<String>, ShotError> {
    std::fs::create_dir_all(dir).map_err(|source| ShotError::Create {
        path: dir.display().to_string(),
        source,
    })?;
    let stamp = now.strftime("%Y%m%d-%H%M%S").to_string();
    // Two pictures in one second get their own names.
    let stem = (1..100)
        .map(|n| {
            if n == 1 {
                format!("splitscope-{stamp}")
            } else {
                format!("splitscope-{stamp}-{n}")
            }
        })
        .find(|stem| {
            formats
                .iter()
                .all(|f| !dir.join(format!("{stem}.{}", f.extension())).exists())
        })
        .ok_or_else(|| ShotError::TooMany(dir.display().to_string()))?;
    let mut written = Vec::new();
    for format in formats {
        let path = dir.join(format!("{stem}.{}", format.extension()));
        std::fs::write(&path, format.render(buffer, theme)).map_err(|source| ShotError::Write {
            path: path.display().to_string(),
            source,
        })?;
        written.push(path.display().to_string());
    }
    Ok(written)
}
