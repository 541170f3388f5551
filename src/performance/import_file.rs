//! `channeldesk import performance|costs|partners FILE`: a CSV file of any size, read as a
//! stream and written in chunks (`--chunk-rows`, default 5,000). Each chunk is parsed, checked
//! and written by the same code as the HTTP import ([`import::run`]), in one transaction with its
//! audit record and its `performance.imported` event: one event per committed chunk, so what the
//! outbox announces is exactly what was written.
//!
//! A bad chunk stops the import: its transaction is rolled back, the chunks before it stay
//! written, and the failure names every bad row of it (numbered through the whole file) and the
//! `--skip` that resumes after the rows already written. `--dry-run` checks every chunk on a
//! read connection, reports every bad row of the file and writes nothing. A dry run checks each
//! chunk against the database as it is, so a row that repeats a row of an earlier chunk is
//! found only by the real import (insert mode: a bad row; upsert: the later row wins).

use std::io::Read;

use super::import::{self, CsvRows, ImportMode, ImportResult, Kind};
use crate::access::Actor;
use crate::db::Db;
use crate::error::{ApiError, FieldError};

/// Rows per chunk unless `--chunk-rows` says otherwise.
pub const DEFAULT_CHUNK_ROWS: usize = 5_000;

/// Bad rows a failure keeps (a dry run of a wholly wrong file would otherwise hold them all);
/// the count goes on.
pub const MAX_REPORTED_ERRORS: usize = 1_000;

#[derive(Debug, Clone)]
pub struct FileOptions {
    pub kind: Kind,
    pub mode: ImportMode,
    pub dry_run: bool,
    /// Rows per chunk and transaction (at least 1).
    pub chunk_rows: usize,
    /// Data rows at the start of the file to pass over (already written by an earlier run).
    pub skip: u64,
}

impl FileOptions {
    pub fn new(kind: Kind) -> Self {
        FileOptions { kind, mode: ImportMode::Insert, dry_run: false, chunk_rows: DEFAULT_CHUNK_ROWS, skip: 0 }
    }
}

/// How far an import has come, after each chunk: for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows read in this run (skipped rows not counted).
    pub rows: u64,
    /// Bytes of the file read, skipped rows included.
    pub bytes: u64,
}

/// What an import did (a dry run: what it would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Rows read in this run, after the skipped ones.
    pub rows: u64,
    /// Rows passed over (`--skip`; fewer if the file is shorter).
    pub skipped: u64,
    /// Chunks committed (a dry run: checked).
    pub chunks: u64,
    pub result: ImportResult,
}

/// An import that stopped (or a dry run that found bad rows).
#[derive(Debug, Clone)]
pub struct FileFailure {
    /// What was committed before the failure (a dry run: what the good chunks would write).
    pub done: FileReport,
    /// The bad rows (row 0 is the header), at most [`MAX_REPORTED_ERRORS`]; a failure that is
    /// not about a row (the database went away) has one error without a row.
    pub errors: Vec<FieldError>,
    /// How many errors there were in all.
    pub error_count: u64,
    /// For an import stopped at a bad chunk: `--skip` this many rows to resume right after the
    /// rows already written (they are this run's skip plus its committed rows).
    pub resume_skip: Option<u64>,
}

impl FileFailure {
    fn new(done: FileReport, errors: Vec<FieldError>, resume_skip: Option<u64>) -> Self {
        let error_count = errors.len() as u64;
        let mut errors = errors;
        errors.truncate(MAX_REPORTED_ERRORS);
        FileFailure { done, errors, error_count, resume_skip }
    }
}

fn errors_of(e: ApiError) -> Vec<FieldError> {
    if e.errors.is_empty() {
        vec![FieldError::new("database", e.to_string())]
    } else {
        e.errors
    }
}

/// Imports (or with `dry_run` checks) the CSV `input` chunk by chunk; `progress` is called after
/// every chunk.
pub fn import_file<R: Read>(
    db: &Db,
    actor: &Actor,
    input: R,
    options: &FileOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<FileReport, FileFailure> {
    let mut done = FileReport::default();
    let mut reader = CsvRows::new(options.kind, input).map_err(|e| FileFailure::new(done, e, None))?;
    reader.skip(options.skip).map_err(|e| FileFailure::new(done, vec![e], None))?;
    done.skipped = reader.next_row() - 1;
    let mut bad: Vec<FieldError> = Vec::new();
    let mut bad_count = 0u64;
    loop {
        let first = reader.next_row();
        let (rows, unread) = reader.chunk(options.chunk_rows.max(1));
        let read = reader.next_row() - first;
        if read == 0 {
            break;
        }
        if options.dry_run {
            let checked = db
                .conn()
                .map_err(errors_of)
                .and_then(|mut conn| import::check(&mut conn, options.kind, (&rows, unread), options.mode));
            match checked {
                Ok(r) => add(&mut done.result, r),
                Err(errors) => {
                    bad_count += errors.len() as u64;
                    let room = MAX_REPORTED_ERRORS.saturating_sub(bad.len());
                    bad.extend(errors.into_iter().take(room));
                }
            }
        } else {
            let written =
                db.write_blocking(|conn| import::run(conn, actor, options.kind, (&rows, unread), options.mode));
            match written {
                Ok(r) => add(&mut done.result, r),
                Err(e) => return Err(FileFailure::new(done, errors_of(e), Some(first - 1))),
            }
        }
        done.rows += read;
        done.chunks += 1;
        progress(Progress { rows: done.rows, bytes: reader.bytes_read() });
    }
    if bad_count == 0 {
        Ok(done)
    } else {
        let mut failure = FileFailure::new(done, bad, None);
        failure.error_count = bad_count;
        Err(failure)
    }
}

fn add(total: &mut ImportResult, r: ImportResult) {
    total.created += r.created;
    total.updated += r.updated;
}
