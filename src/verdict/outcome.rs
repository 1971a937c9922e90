//! The verdict's words and the odds as the screen writes them.

/// The level of every test: the most a verdict may be wrong, however long one watches.
pub const DEFAULT_ALPHA: f64 = 0.01;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Undecided,
    Honoured,
    Ignored,
    /// The weights are the mesh's default split: no sample can tell them apart.
    Ambiguous,
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Undecided => "UNDECIDED",
            Verdict::Honoured => "HONOURED",
            Verdict::Ignored => "IGNORED",
            Verdict::Ambiguous => "AMBIGUOUS",
        }
    }
}

/// `3.2:1`, `240:1`, `1:15`: how many times likelier one side is than the other.
pub fn odds(ratio: f64) -> String {
    let show = |x: f64| {
        if x >= 1e4 {
            ">9999".to_string()
        } else if x >= 10.0 {
            format!("{x:.0}")
        } else {
            format!("{x:.1}")
        }
    };
    if ratio >= 1.0 {
        format!("{}:1", show(ratio))
    } else if ratio > 0.0 {
        format!("1:{}", show(1.0 / ratio))
    } else {
        "1:>9999".into()
    }
}
