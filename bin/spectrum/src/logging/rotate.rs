//! `--log.file`: a log file rotated by size. When a write would take the file past its limit,
//! FILE becomes FILE.1 (FILE.1 becomes FILE.2, …, the oldest beyond `keep` is removed) and a
//! new FILE is started. Rotation happens under the writer's lock, so lines are never split.

use std::{
    fs::File,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
};

use eyre::WrapErr;

struct State {
    file: File,
    written: u64,
}

/// A size-rotated log file; cheap to clone.
#[derive(Clone)]
pub struct RotatingFile {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    state: Arc<Mutex<State>>,
}

impl RotatingFile {
    /// Opens (appends to) `path`.
    pub fn open(path: &Path, max_bytes: u64, keep: u32) -> eyre::Result<Self> {
        let file = append(path)
            .wrap_err_with(|| format!("cannot open the log file {}", path.display()))?;
        let written = file.metadata().map_or(0, |m| m.len());
        Ok(Self {
            path: path.to_owned(),
            max_bytes,
            keep,
            state: Arc::new(Mutex::new(State { file, written })),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn rotate(&self, state: &mut State) -> io::Result<()> {
        let numbered = |n: u32| PathBuf::from(format!("{}.{n}", self.path.display()));
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(numbered(self.keep));
            for n in (1..self.keep).rev() {
                let _ = std::fs::rename(numbered(n), numbered(n.saturating_add(1)));
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        state.file = append(&self.path)?;
        state.written = 0;
        Ok(())
    }
}

fn append(path: &Path) -> io::Result<File> {
    File::options().create(true).append(true).open(path)
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut state = self.lock();
        let len = u64::try_from(buf.len()).unwrap_or(u64::MAX);
        if state.written > 0 && state.written.saturating_add(len) > self.max_bytes {
            // A failed rotation keeps writing to the current file rather than losing logs.
            let _ = self.rotate(&mut state);
        }
        state.file.write_all(buf)?;
        state.written = state.written.saturating_add(len);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.lock().file.flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RotatingFile {
    type Writer = RotatingFile;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.log");
        let mut log = RotatingFile::open(&path, 10, 2).unwrap();
        for line in ["aaaaaaaa\n", "bbbbbbbb\n", "cccccccc\n", "dddddddd\n"] {
            log.write_all(line.as_bytes()).unwrap();
        }
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(&path), "dddddddd\n");
        assert_eq!(read(&dir.path().join("node.log.1")), "cccccccc\n");
        assert_eq!(read(&dir.path().join("node.log.2")), "bbbbbbbb\n");
        assert!(
            !dir.path().join("node.log.3").exists(),
            "only two old files are kept"
        );
    }
}
