//! `check --from`: a transcript instead of a cluster. Lines as the probe prints them are
//! read as they come (nothing loads the file whole), mapped to backends by prefix, and
//! judged by the same engine as the screen.

use std::collections::HashMap;
use std::io::Read;

use super::CheckError;
use super::ingest::{Classify, UNMAPPED, UNPARSABLE, ingest};
use super::report::{CheckReport, RunFacts};
use crate::route::Route;
use crate::sample::{DateCache, LineError, LineParser, busybox_utc_cached};
use crate::verdict::{Judge, Verdict};

/// What the transcript is judged against.
pub struct Plan {
    /// The route's name, or how the weights were given.
    pub route: String,
    /// Backend names, in order (prefixes, or the route's backends).
    pub names: Vec<String>,
    pub weights: Vec<u32>,
    /// Ready endpoints per backend (the bug's split); uniform when empty.
    pub default: Vec<u32>,
    /// Prefix -> backend index.
    pub prefixes: HashMap<String, usize>,
    /// The same, as bytes, for the hot path, and as numbers for prefixes of up to 8 bytes.
    by_bytes: Vec<(Vec<u8>, usize)>,
    by_key: Vec<(u64, usize)>,
}

/// A prefix of up to 8 bytes as one number (its length in the top byte keeps "a" and
/// "a\0" apart).
fn short_key(label: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    bytes[..label.len()].copy_from_slice(label);
    u64::from_le_bytes(bytes) ^ ((label.len() as u64) << 59)
}

impl Plan {
    /// The plan the flags give: `--route-file` (with `--label`), else `--weights`.
    pub fn from_flags(
        flags: &crate::cli::PlanArgs,
        labels: &[(String, String)],
    ) -> Result<Plan, CheckError> {
        let Some(file) = &flags.route_file else {
            return Plan::from_weights(&flags.weights, &flags.default_split);
        };
        let text = std::fs::read_to_string(file).map_err(|error| CheckError::Read {
            path: file.display().to_string(),
            error,
        })?;
        let obj: serde_json::Value = serde_saphyr::from_str(&text).map_err(|e| {
            CheckError::Usage(format!("{} is not a YAML manifest: {e}", file.display()))
        })?;
        let route = Route::from_object(&obj).map_err(|e| CheckError::Usage(e.to_string()))?;
        Plan::from_route(&route, labels, &flags.default_split)
    }

    /// `--weights one=90,two=10`: each prefix is a backend.
    pub(crate) fn from_weights(
        weights: &[(String, u32)],
        default: &[(String, u32)],
    ) -> Result<Plan, CheckError> {
        if weights.iter().all(|(_, w)| *w == 0) {
            return Err(CheckError::Usage(
                "give the weights as --weights one=90,two=10 (at least one above 0), or --route-file".into(),
            ));
        }
        let names: Vec<String> = weights.iter().map(|(p, _)| p.clone()).collect();
        let prefixes = names
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, p)| (p, i))
            .collect();
        let weights = weights.iter().map(|(_, w)| *w).collect();
        Plan::build(names, weights, prefixes, default)
    }

    /// `--route-file route.yaml --label one=tcp-echo-v1 …`.
    pub(crate) fn from_route(
        route: &Route,
        labels: &[(String, String)],
        default: &[(String, u32)],
    ) -> Result<Plan, CheckError> {
        let names: Vec<String> = route.backends.iter().map(|b| b.name.clone()).collect();
        let mut prefixes = HashMap::new();
        for (prefix, backend) in labels {
            let index = names.iter().position(|n| n == backend).ok_or_else(|| {
                CheckError::Usage(format!(
                    "--label {prefix}={backend}: the route has no backend {backend} (it has {})",
                    names.join(", ")
                ))
            })?;
            prefixes.insert(prefix.clone(), index);
        }
        if prefixes.is_empty() {
            return Err(CheckError::Usage(format!(
                "map each reply prefix to a backend of the route with --label PREFIX=BACKEND (backends: {})",
                names.join(", ")
            )));
        }
        let weights = route.backends.iter().map(|b| b.weight).collect();
        let mut plan = Plan::build(names, weights, prefixes, default)?;
        plan.route.clone_from(&route.name);
        Ok(plan)
    }

    /// A plan from its backends and prefixes, with the hot path's look-up tables and the
    /// `--default-split` per backend.
    fn build(
        names: Vec<String>,
        weights: Vec<u32>,
        prefixes: HashMap<String, usize>,
        default: &[(String, u32)],
    ) -> Result<Plan, CheckError> {
        let by_bytes = prefixes
            .iter()
            .map(|(p, i)| (p.as_bytes().to_vec(), *i))
            .collect();
        let by_key = prefixes
            .iter()
            .filter(|(p, _)| p.len() <= 8)
            .map(|(p, i)| (short_key(p.as_bytes()), *i))
            .collect();
        let plan = Plan {
            route: "(--weights)".into(),
            names,
            weights,
            default: Vec::new(),
            prefixes,
            by_bytes,
            by_key,
        };
        plan.with_default(default)
    }

    fn with_default(mut self, default: &[(String, u32)]) -> Result<Plan, CheckError> {
        if default.is_empty() {
            return Ok(self);
        }
        let mut split = vec![0u32; self.names.len()];
        for (prefix, n) in default {
            let index = self.prefixes.get(prefix).copied().ok_or_else(|| {
                CheckError::Usage(format!(
                    "--default-split {prefix}={n}: no backend has the prefix {prefix}"
                ))
            })?;
            split[index] += n;
        }
        self.default = split;
        Ok(self)
    }
}

/// When to stop reading.
pub struct Limits {
    /// Stop once this many samples were counted.
    pub samples: Option<u64>,
    /// Read to the end and report the last regime, rather than stop at the first decision.
    pub all: bool,
}

impl Plan {
    fn backend_of(&self, label: &[u8]) -> Option<usize> {
        // Replies alternate between prefixes at random, so the common short ones are
        // matched without branching on which one it is.
        if label.len() <= 8 {
            let key = short_key(label);
            let found = self
                .by_key
                .iter()
                .fold(0, |acc, (k, i)| acc | (usize::from(*k == key) * (i + 1)));
            return found.checked_sub(1);
        }
        self.by_bytes
            .iter()
            .find(|(p, _)| p.as_slice() == label)
            .map(|(_, i)| *i)
    }
}

/// Lines to codes: the fast path for busybox replies, the general parser for the rest.
struct Classifier<'a> {
    plan: &'a Plan,
    parser: &'a LineParser,
}

impl Classify for Classifier<'_> {
    type State = DateCache;

    fn classify(&self, cache: &mut DateCache, line: &[u8]) -> Option<u8> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let fast = if self.parser.is_default() {
            busybox_utc_cached(line, cache)
        } else {
            None
        };
        let backend = match fast {
            Some((label, _)) => self.plan.backend_of(label),
            None => match self.parser.parse(&String::from_utf8_lossy(line)) {
                Ok(reply) => self.plan.backend_of(reply.label.as_bytes()),
                Err(LineError::Empty) => return None,
                Err(_) => return Some(UNPARSABLE),
            },
        };
        Some(backend.map_or(UNMAPPED, |b| b as u8))
    }
}

/// Reads `input` in large chunks, line by line, and judges it; nothing holds the whole
/// transcript.
pub fn check(
    input: impl Read + Send,
    plan: &Plan,
    parser: &LineParser,
    alpha: f64,
    limits: &Limits,
) -> Result<CheckReport, CheckError> {
    let default: Vec<f64> = if plan.default.is_empty() {
        vec![1.0; plan.names.len()]
    } else {
        plan.default.iter().map(|n| f64::from(*n)).collect()
    };
    let weights: Vec<f64> = plan.weights.iter().map(|w| f64::from(*w)).collect();
    let mut judge = Judge::new(&weights, &default, alpha, 0.0);
    let (mut samples, mut unmapped, mut unparsable) = (0u64, 0u64, 0u64);
    let classifier = Classifier { plan, parser };
    ingest(input, &classifier, |code| {
        match code {
            UNMAPPED => unmapped += 1,
            UNPARSABLE => unparsable += 1,
            backend => {
                samples += 1;
                judge.record(usize::from(backend), samples as f64);
                let decided = matches!(judge.verdict(), Verdict::Honoured | Verdict::Ignored);
                return (decided && !limits.all) || limits.samples.is_some_and(|n| samples >= n);
            }
        }
        false
    })
    .map_err(|error| CheckError::Read {
        path: "the transcript".into(),
        error,
    })?;
    Ok(CheckReport::new(
        &judge,
        &RunFacts {
            names: &plan.names,
            weights: &plan.weights,
            samples,
            unmapped,
            unparsable,
            errors: 0,
            unit: "sample",
        },
    ))
}
