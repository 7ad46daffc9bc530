//! Copying chosen CSV records byte for byte.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::path::Path;
use std::rc::Rc;

use csv::ByteRecord;

use super::csv_read::open_maybe_gzip;
use super::TableError;

/// A reader that keeps a copy of everything read through it, so the raw
/// text of each record can be recovered from its start offset.
struct Tee<R> {
    inner: R,
    seen: Rc<RefCell<Vec<u8>>>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.seen.borrow_mut().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// Writes the header line and every record `i` with `keep[i]` of the CSV
/// file `path` to `out`, as the bytes they have in the file (decompressed),
/// each ending with the file's line terminator. Returns the records written.
///
/// Blank lines are dropped; a last line without terminator gets one.
pub fn copy_csv_records(
    path: &Path,
    keep: &[bool],
    out: &mut dyn Write,
) -> Result<usize, TableError> {
    let io_err = |source| TableError::Io {
        path: path.to_path_buf(),
        source,
    };
    let seen = Rc::new(RefCell::new(Vec::new()));
    let tee = Tee {
        inner: open_maybe_gzip(path)?,
        seen: Rc::clone(&seen),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(tee);

    // `seen[0]` is at file offset `base`; a record spans from its start to
    // the next record's start.
    let mut base = 0u64;
    let mut pending: Option<(u64, bool)> = None; // (start, write it?)
    let mut record = ByteRecord::new();
    let mut index: Option<usize> = None; // None while at the header
    let mut written = 0usize;
    // The terminator is the header line's: the csv reader ends a record at
    // a lone `\r`, so a CRLF record's span holds its `\r`, and the `\n`
    // opens the next span.
    let mut crlf: Option<bool> = None;
    let mut emit = |span: &[u8], out: &mut dyn Write| -> std::io::Result<()> {
        let start = span
            .iter()
            .position(|&b| b != b'\n' && b != b'\r')
            .unwrap_or(span.len());
        let end = span
            .iter()
            .rposition(|&b| b != b'\n' && b != b'\r')
            .map_or(start, |i| i + 1);
        if start >= end {
            return Ok(());
        }
        let crlf = *crlf.get_or_insert_with(|| span[end..].starts_with(b"\r"));
        out.write_all(&span[start..end])?;
        out.write_all(if crlf { b"\r\n" } else { b"\n" })
    };
    loop {
        let more = reader
            .read_byte_record(&mut record)
            .map_err(|e| TableError::Csv {
                path: path.to_path_buf(),
                line: e.position().map_or(0, |p| p.line()),
                message: e.to_string(),
            })?;
        let start = if more {
            record.position().expect("has a position").byte()
        } else {
            u64::MAX
        };
        if let Some((prev, write)) = pending.take() {
            let mut buf = seen.borrow_mut();
            let end = if more {
                (start - base) as usize
            } else {
                buf.len()
            };
            if write {
                emit(&buf[(prev - base) as usize..end], out).map_err(io_err)?;
            }
            buf.drain(..end);
            base += end as u64;
        }
        if !more {
            break;
        }
        let blank = record.len() == 1 && record[0].is_empty();
        let write = match index {
            None => true,
            Some(i) if !blank => keep.get(i).copied().unwrap_or(false),
            Some(_) => false,
        };
        if let (Some(i), false) = (index, blank) {
            if keep.get(i).copied().unwrap_or(false) {
                written += 1;
            }
        }
        index = Some(match index {
            None => 0,
            Some(i) if !blank => i + 1,
            Some(i) => i,
        });
        pending = Some((start, write));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(text: &[u8], keep: &[bool]) -> (String, usize) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.csv");
        std::fs::write(&p, text).unwrap();
        let mut out = Vec::new();
        let n = copy_csv_records(&p, keep, &mut out).unwrap();
        (String::from_utf8(out).unwrap(), n)
    }

    #[test]
    fn copies_chosen_records_verbatim() {
        let text = b"a,b\n1,\"x,y\"\n2.50,z\n\n3,\"multi\nline\"\n4,w";
        let (out, n) = copy(text, &[true, false, true, true]);
        assert_eq!(out, "a,b\n1,\"x,y\"\n3,\"multi\nline\"\n4,w\n");
        assert_eq!(n, 3);
        let (out, _) = copy(text, &[false, true, false, false]);
        assert_eq!(out, "a,b\n2.50,z\n");
    }

    #[test]
    fn keeps_crlf_terminators() {
        let (out, _) = copy(b"a\r\n1\r\n2\r\n", &[false, true]);
        assert_eq!(out, "a\r\n2\r\n");
    }
}
