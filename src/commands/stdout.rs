//! Writing a command's output to stdout. `print!` panics when stdout fails: a reader that has
//! gone (`kvchain codes | head -1`) or a full device would end in a backtrace. A closed pipe is
//! the reader's choice and ends quietly; any other write error is a clear error (exit 2).

use std::io::{ErrorKind, Write};

/// Writes `text` to stdout and flushes it (see the module).
pub fn print(text: impl AsRef<[u8]>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    done(out.write_all(text.as_ref()).and_then(|()| out.flush()))
}

/// The outcome of writing to stdout: a closed pipe is no error, another failure is one.
pub fn done(written: std::io::Result<()>) -> anyhow::Result<()> {
    match written {
        Err(e) if e.kind() != ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write to stdout: {e}"))
        }
        _ => Ok(()),
    }
}
