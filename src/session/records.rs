//! The `--record` file: the app's records, one JSON object a line, written straight to
//! the file with no buffer of our own, so what was written survives a `kill -9`.

use std::io::Write;

use super::app::record::Record;

pub(super) struct RecordFile {
    file: std::fs::File,
}

impl RecordFile {
    pub(super) fn new(file: std::fs::File) -> RecordFile {
        RecordFile { file }
    }

    /// Writes `records` in one call: a reader (`tail -f`) never sees half a batch's
    /// line for long, and a batch costs one system call.
    pub(super) fn write(&mut self, records: &[Record]) -> std::io::Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        for record in records {
            text.push_str(&record.json());
            text.push('\n');
        }
        self.file.write_all(text.as_bytes())
    }
}
