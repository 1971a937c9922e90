//! Speed and memory: parsing, the statistics update, one frame, and the memory that one
//! million samples leave behind. `cargo bench` prints the figures.

// Tests and benchmarks may panic and print: a failed unwrap there is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::print_stderr,
    // A test reads best as the story it tells, however long.
    clippy::too_many_lines
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use splitscope::cluster::probe::ProbeEvent;
use splitscope::sample::LineParser;
use splitscope::session::{App, Msg};
use splitscope::split::Split;

#[path = "../tests/support/mod.rs"]
mod support;
use splitscope::tui::theme::Theme;

/// Counts live and peak heap bytes, so the memory figures are measured, not guessed.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// A global allocator is unsafe by nature; this one only forwards to the system's.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MILLION: usize = 1_000_000;

fn busybox_lines(n: usize) -> Vec<String> {
    let start = support::t(0);
    (0..n)
        .map(|i| {
            let at = start
                .checked_add(jiff::SignedDuration::from_secs(2 * i as i64))
                .unwrap();
            let stamp = at
                .to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%a %b %e %H:%M:%S %Z %Y");
            format!("{} {stamp}", if i % 10 == 3 { "two" } else { "one" })
        })
        .collect()
}

fn app_with(lines: &[String]) -> App {
    let start = support::t(0);
    let mut app = support::ready_app(support::settings(), support::route(90, 10));
    for (i, line) in lines.iter().enumerate() {
        let at = start
            .checked_add(jiff::SignedDuration::from_millis(500 * i as i64))
            .unwrap();
        app.update(Msg::Probe(ProbeEvent::Stdout(line.clone()), at));
    }
    app
}

fn parsing(c: &mut Criterion) {
    let lines = busybox_lines(MILLION);
    let parser = LineParser::default();
    let mut group = c.benchmark_group("parse");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(MILLION as u64));
    group.bench_function("one million busybox lines", |b| {
        b.iter(|| {
            for line in &lines {
                black_box(parser.parse(black_box(line)).ok());
            }
        });
    });
    group.finish();
}

fn statistics(c: &mut Criterion) {
    let mut split = Split::new(&[90, 10], 20);
    let mut i = 0usize;
    c.bench_function("record one sample (window 20)", |b| {
        b.iter(|| {
            i += 1;
            split.record(black_box(Some(usize::from(i % 10 == 3))), i as f64);
        });
    });
    let mut wide = Split::new(&[90, 10], 1000);
    c.bench_function("record one sample (window 1000)", |b| {
        b.iter(|| {
            i += 1;
            wide.record(black_box(Some(usize::from(i % 10 == 3))), i as f64);
        });
    });
}

fn rendering(c: &mut Criterion) {
    let app = app_with(&busybox_lines(MILLION));
    let theme = Theme::builtin();
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap();
    c.bench_function("render one 200x60 frame after one million samples", |b| {
        b.iter(|| {
            terminal
                .draw(|f| splitscope::tui::view::render(f, black_box(&app), &theme))
                .unwrap();
        });
    });
}

fn memory(_c: &mut Criterion) {
    let lines = busybox_lines(MILLION);
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let app = app_with(&lines);
    let retained = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    let points = app.split().history().points().len();
    println!(
        "memory: one million samples leave {:.1} KiB in the app (peak {:.1} KiB while counting); chart history {points} points, log {} lines",
        retained as f64 / 1024.0,
        peak as f64 / 1024.0,
        app.log().len()
    );
    // Bounded: nothing grows with the number of samples.
    assert!(
        retained < 4 << 20,
        "the app retains {retained} bytes after a million samples"
    );
    black_box(app);
}

criterion_group!(benches, parsing, statistics, rendering, memory);
criterion_main!(benches);
