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
//!
//! A configured change (a patch toggle, a route edit) is placed in time by `landing`:
//! when the traffic moved from the split before it to the split it aims at, with the
//! interval the samples allow; the new regime's evidence starts there.

mod change;
mod engine;
mod judge;
pub mod landing;
mod outcome;
mod sequence;
pub mod simulate;

pub use engine::{Engine, Evidence, normalise};
pub use judge::{Judge, Regime, RegimeCause};
pub use landing::{Landing, Seen};
pub use outcome::{DEFAULT_ALPHA, Verdict, odds};
pub use sequence::{Interval, confidence_sequence};
