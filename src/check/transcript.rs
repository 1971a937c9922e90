//! `check --from`: a transcript instead of a cluster. Lines as the probe prints them are
//! read as they come (nothing loads the file whole), mapped to backends by prefix, and
//! judged by the same engine as the screen.

use std::collections::HashMap;
use std::io::BufRead;

use super::CheckError;
use super::report::{CheckReport, RunFacts};
use crate::route::Route;
use crate::sample::{LineError, LineParser};
use crate::verdict::{Judge, Verdict};

/// What the transcript is judged against.
pub struct Plan {
    /// Backend names, in order (prefixes, or the route's backends).
    pub names: Vec<String>,
    pub weights: Vec<u32>,
    /// Ready endpoints per backend (the bug's split); uniform when empty.
    pub default: Vec<u32>,
    /// Prefix -> backend index.
    pub prefixes: HashMap<String, usize>,
}

impl Plan {
    /// `--weights one=90,two=10`: each prefix is a backend.
    pub fn from_weights(
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
        let plan = Plan {
            weights: weights.iter().map(|(_, w)| *w).collect(),
            default: Vec::new(),
            prefixes,
            names,
        };
        plan.with_default(default)
    }

    /// `--route-file route.yaml --label one=tcp-echo-v1 …`.
    pub fn from_route(
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
        let plan = Plan {
            weights: route.backends.iter().map(|b| b.weight).collect(),
            default: Vec::new(),
            prefixes,
            names,
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

/// Reads `input` line by line and judges it.
pub fn check(
    mut input: impl BufRead,
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
    let mut line = Vec::with_capacity(128);
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|error| CheckError::Read {
                path: "the transcript".into(),
                error,
            })?;
        if read == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let reply = match parser.parse(&text) {
            Ok(reply) => reply,
            Err(LineError::Empty) => continue,
            Err(_) => {
                unparsable += 1;
                continue;
            }
        };
        let Some(&backend) = plan.prefixes.get(&reply.label) else {
            unmapped += 1;
            continue;
        };
        samples += 1;
        judge.record(backend, samples as f64);
        let decided = matches!(judge.verdict(), Verdict::Honoured | Verdict::Ignored);
        if (decided && !limits.all) || limits.samples.is_some_and(|n| samples >= n) {
            break;
        }
    }
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
