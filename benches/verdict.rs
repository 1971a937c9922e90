//! The simulation table: 10,000 runs per scenario through the real engine, at alpha 0.01.
//! `cargo bench --bench verdict` prints it.

#![allow(clippy::print_stdout,
    // A test reads best as the story it tells, however long.
    clippy::too_many_lines
)]

use splitscope::verdict::DEFAULT_ALPHA;
use splitscope::verdict::simulate::{scenarios, simulate};

fn main() {
    // `cargo test --benches` runs this too; a few runs are enough to show it works.
    let runs = if std::env::args().any(|a| a == "--bench") {
        10_000
    } else {
        100
    };
    let show = |n: Option<usize>| n.map_or_else(|| "never".to_string(), |n| n.to_string());
    println!(
        "{:<48} {:>7} {:>6} {:>5} {:>12} {:>13} {:>12}",
        "scenario (alpha 0.01)",
        "runs",
        "median",
        "p90",
        "first wrong",
        "ever IGNORED",
        "right at end"
    );
    for scenario in scenarios() {
        let stats = simulate(&scenario, runs, 2026, DEFAULT_ALPHA);
        println!(
            "{:<48} {:>7} {:>6} {:>5} {:>11.2}% {:>12.2}% {:>11.2}%",
            scenario.name,
            stats.runs,
            show(stats.median),
            show(stats.p90),
            stats.first_wrong * 100.0,
            stats.ever_ignored * 100.0,
            stats.right_by_end * 100.0
        );
    }
}
