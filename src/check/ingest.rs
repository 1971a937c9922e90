//! Reading a transcript fast: one thread reads the input in large line-aligned chunks,
//! two threads parse them into one code per line, and the caller judges the codes in
//! order. Memory stays bounded (a few chunks in flight); nothing holds the whole input.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// A line's code: a backend index, or one of these.
pub(crate) const UNMAPPED: u8 = 254;
pub(crate) const UNPARSABLE: u8 = 255;

const CHUNK: usize = 1 << 20;
const PARSERS: usize = 2;
const IN_FLIGHT: usize = 4;

/// Turns one line (without its newline) into its code; None for a line to skip. Each
/// parsing thread keeps its own `State` across the lines it reads.
pub(crate) trait Classify: Sync {
    type State: Default;
    fn classify(&self, state: &mut Self::State, line: &[u8]) -> Option<u8>;
}

/// Reads `input` and calls `judge` with each line's code, in order, until it returns
/// true (enough read) or the input ends.
pub(crate) fn ingest(
    input: impl Read + Send,
    classify: &impl Classify,
    mut judge: impl FnMut(u8) -> bool,
) -> std::io::Result<()> {
    let (work_tx, work_rx) = sync_channel::<Chunk>(IN_FLIGHT);
    let (done_tx, done_rx) = sync_channel::<(u64, Vec<u8>)>(IN_FLIGHT);
    // Buffers come back for reuse: no fresh pages per chunk.
    let (free_tx, free_rx) = sync_channel::<Vec<u8>>(IN_FLIGHT + PARSERS);
    let work_rx = Arc::new(Mutex::new(work_rx));
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_chunks(input, &work_tx, &free_rx));
        for _ in 0..PARSERS {
            let (work_rx, done_tx, free_tx) = (work_rx.clone(), done_tx.clone(), free_tx.clone());
            scope.spawn(move || parse_chunks(&work_rx, &done_tx, &free_tx, classify));
        }
        drop(free_tx);
        drop(done_tx);
        judge_in_order(&done_rx, &mut judge);
        // Stop the others early: they see their channels closed.
        drop(done_rx);
        drop(work_rx);
        reader.join().unwrap_or(Ok(()))
    })
}

/// A numbered buffer whose first `len` bytes are whole lines.
struct Chunk {
    seq: u64,
    buf: Vec<u8>,
    len: usize,
}

/// Sends line-aligned chunks, numbered, until the input ends or nobody listens.
fn read_chunks(
    mut input: impl Read,
    work: &SyncSender<Chunk>,
    free: &Receiver<Vec<u8>>,
) -> std::io::Result<()> {
    let mut carry: Vec<u8> = Vec::new();
    for seq in 0u64.. {
        let mut buf = free.try_recv().unwrap_or_default();
        if buf.len() < carry.len() + CHUNK / 2 {
            buf.resize(carry.len() + CHUNK, 0);
        }
        buf[..carry.len()].copy_from_slice(&carry);
        let mut end = carry.len();
        carry.clear();
        // Fill the buffer, or reach the end of the input.
        while end < buf.len() {
            match input.read(&mut buf[end..]) {
                Ok(0) => break,
                Ok(n) => end += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let at_end = end < buf.len();
        let len = if at_end {
            end
        } else {
            // Keep the partial last line for the next chunk; a line longer than the
            // buffer goes whole.
            memchr::memrchr(b'\n', &buf[..end]).map_or(end, |i| i + 1)
        };
        carry.extend_from_slice(&buf[len..end]);
        if len > 0 && work.send(Chunk { seq, buf, len }).is_err() {
            return Ok(());
        }
        if at_end {
            return Ok(());
        }
    }
    Ok(())
}

fn parse_chunks<C: Classify>(
    work: &Mutex<Receiver<Chunk>>,
    done: &SyncSender<(u64, Vec<u8>)>,
    free: &SyncSender<Vec<u8>>,
    classify: &C,
) {
    let mut state = C::State::default();
    loop {
        let next = match work.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(Chunk { seq, buf, len }) = next else {
            return;
        };
        let mut codes = Vec::with_capacity(len / 24);
        let text = &buf[..len];
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', text).chain(std::iter::once(len)) {
            if end >= start
                && let Some(code) = classify.classify(&mut state, &text[start..end])
            {
                codes.push(code);
            }
            start = end + 1;
        }
        let _ = free.try_send(buf);
        if done.send((seq, codes)).is_err() {
            return;
        }
    }
}

fn judge_in_order(done: &Receiver<(u64, Vec<u8>)>, judge: &mut impl FnMut(u8) -> bool) {
    let mut waiting: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut next = 0u64;
    while let Ok((seq, codes)) = done.recv() {
        waiting.insert(seq, codes);
        while let Some(codes) = waiting.remove(&next) {
            next += 1;
            for code in codes {
                if judge(code) {
                    return;
                }
            }
        }
    }
}
