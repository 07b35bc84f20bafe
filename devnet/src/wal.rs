//! The write-ahead log: one file of length-prefixed BCS [`Record`]s.
//!
//! A record is written (one `write` call, no fsync: a killed process loses
//! nothing the kernel has, and a dev chain does not survive power loss)
//! before it is applied. On open, a torn last record (a crash mid-write) is cut
//! off: it was never applied, so nothing that was acknowledged is lost.

use std::{
    fs::{File, OpenOptions},
    io::{BufReader, Read, Seek, SeekFrom, Write},
    path::{Path, PathBuf},
};

use crate::chain::Record;

/// Why the log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WalError {
    /// Filesystem error.
    #[error("chain log {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A complete record that does not decode: the file is not ours or is damaged.
    #[error("chain log {path}: record at byte {offset} does not decode: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the record starts.
        offset: u64,
        /// What the decoder said.
        reason: String,
    },
}

/// An open log, positioned at its end.
pub struct Wal {
    file: File,
    path: PathBuf,
}

/// Largest record accepted when reading (a transaction is at most 128 KiB on Sui).
const MAX_RECORD_BYTES: u32 = 16 << 20;

impl Wal {
    /// Opens (or creates) the log and returns it with every complete record in it.
    pub fn open(path: &Path) -> Result<(Self, Vec<Record>), WalError> {
        let io = |source| WalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let mut records = Vec::new();
        let mut reader = BufReader::new(&mut file);
        let mut offset = 0u64;
        loop {
            let mut len = [0u8; 4];
            match read_full(&mut reader, &mut len).map_err(io)? {
                0 => break,
                4 => {}
                _ => break, // torn length
            }
            let n = u32::from_le_bytes(len);
            if n > MAX_RECORD_BYTES {
                return Err(WalError::Corrupt {
                    path: path.to_path_buf(),
                    offset,
                    reason: format!("length {n} exceeds {MAX_RECORD_BYTES}"),
                });
            }
            let mut buf = vec![0u8; n as usize];
            if read_full(&mut reader, &mut buf).map_err(io)? < buf.len() {
                break; // torn body
            }
            let record = bcs::from_bytes(&buf).map_err(|e| WalError::Corrupt {
                path: path.to_path_buf(),
                offset,
                reason: e.to_string(),
            })?;
            records.push(record);
            offset += 4 + u64::from(n);
        }
        drop(reader);
        // Cut a torn tail so the next append starts on a record boundary.
        file.set_len(offset).map_err(io)?;
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok((
            Self {
                file,
                path: path.to_path_buf(),
            },
            records,
        ))
    }

    /// Appends one record.
    pub fn append(&mut self, record: &Record) -> Result<(), WalError> {
        let body = bcs::to_bytes(record).map_err(|e| WalError::Corrupt {
            path: self.path.clone(),
            offset: 0,
            reason: format!("encoding: {e}"),
        })?;
        let mut framed = Vec::with_capacity(4 + body.len());
        framed.extend((body.len() as u32).to_le_bytes());
        framed.extend(body);
        self.file.write_all(&framed).map_err(|source| WalError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::Record;

    #[test]
    fn a_torn_tail_is_cut_and_complete_records_survive() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("chain.wal");
        {
            let (mut wal, records) = Wal::open(&path).expect("open");
            assert!(records.is_empty());
            wal.append(&Record::Seal { timestamp_ms: 1 })
                .expect("append");
            wal.append(&Record::Seal { timestamp_ms: 2 })
                .expect("append");
        }
        let full = std::fs::metadata(&path).expect("meta").len();
        // Simulate a crash in the middle of a third record.
        let mut f = OpenOptions::new().append(true).open(&path).expect("reopen");
        f.write_all(&[200, 0, 0, 0, 1, 2]).expect("torn write");
        drop(f);
        let (mut wal, records) = Wal::open(&path).expect("open after crash");
        assert_eq!(records.len(), 2);
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), full);
        wal.append(&Record::Seal { timestamp_ms: 3 })
            .expect("append after cut");
        drop(wal);
        let (_, records) = Wal::open(&path).expect("reopen");
        assert!(matches!(
            records.last(),
            Some(Record::Seal { timestamp_ms: 3 })
        ));
    }
}
