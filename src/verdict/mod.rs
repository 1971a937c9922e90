//! The verdict, valid however long one watches.
//!
//! Within a regime (the samples since the last change: the start, `r`, a patch toggle, a
//! route edit, or a change detected in the stream) three sequential tests run on the
//! counts per backend:
//!
//! - against the weights (`mixture`): a Dirichlet-multinomial mixture e-process for
//!   "the mesh splits by the route's weights" (Lindon & Malek, 2022), and Wald's
//!   likelihood ratio of the bug's split over the weights. Either reaching 2/alpha says
//!   IGNORED; under a mesh that honours the weights the chance of that ever happening in
//!   a regime is at most alpha (Ville's inequality, split between the two).
//! - for the weights (`sprt`): Wald's likelihood ratio of the weights over the mesh's
//!   default split (the bug's signature) reaching 1/alpha says HONOURED, unless the
//!   weights have been rejected. Under the bug, the chance of that is at most alpha.
//! - a decision stands for the rest of the regime: nothing flickers on noise.
//!
//! A regime also ends by itself when the stream changes (`change`): after IGNORED, when
//! the samples since some point favour the weights over the bug's split by 1000/alpha to
//! one (and the other way round after HONOURED); the new regime starts at that point.

mod change;
mod engine;
mod judge;
mod sequence;

pub use engine::{Engine, Evidence};
pub use judge::{Judge, Regime, RegimeCause};
pub use sequence::confidence_sequence;

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

/// Weights as shares that sum to 1 (all zero stays all zero).
pub fn normalise(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    weights
        .iter()
        .map(|w| if total > 0.0 { w / total } else { 0.0 })
        .collect()
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
