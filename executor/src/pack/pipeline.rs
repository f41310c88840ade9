//! Reading the tree and feeding zstd on different threads.
//!
//! A multi-threaded zstd stream blocks its caller whenever every worker is busy. If the same
//! thread also walked and read the rootfs, reading would stop each time; `tar | zstd -T0`
//! avoids that with two processes and a pipe. Here the walking thread fills large chunks and
//! hands them over a short bounded queue to a thread that only feeds the encoder; emptied chunks
//! come back for reuse, so steady state allocates nothing.

use std::io::{self, Write};
use std::mem;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

/// Size of one hand-over chunk.
pub(super) const CHUNK: usize = 4 << 20;
/// Chunks in flight between the threads.
const QUEUE: usize = 4;

/// The walking side: a `Write` that ships full chunks to the feeder.
pub(super) struct ChunkSender {
    buf: Vec<u8>,
    full: SyncSender<Vec<u8>>,
    empty: Receiver<Vec<u8>>,
}

/// The feeding side: receives chunks in order.
pub(super) struct ChunkReceiver {
    full: Receiver<Vec<u8>>,
    empty: Sender<Vec<u8>>,
}

pub(super) fn chunk_channel() -> (ChunkSender, ChunkReceiver) {
    let (full_tx, full_rx) = sync_channel(QUEUE);
    let (empty_tx, empty_rx) = channel();
    (
        ChunkSender {
            buf: Vec::with_capacity(CHUNK),
            full: full_tx,
            empty: empty_rx,
        },
        ChunkReceiver {
            full: full_rx,
            empty: empty_tx,
        },
    )
}

impl ChunkSender {
    fn ship(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let next = self
            .empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        let chunk = mem::replace(&mut self.buf, next);
        self.full.send(chunk).map_err(|_| {
            io::Error::new(io::ErrorKind::BrokenPipe, "the compressing thread stopped")
        })
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK.saturating_sub(self.buf.len());
        let take = data.len().min(room);
        self.buf
            .extend_from_slice(data.get(..take).unwrap_or_default());
        if self.buf.len() >= CHUNK {
            self.ship()?;
        }
        Ok(take)
    }

    /// Ships what is buffered (the end of the archive).
    fn flush(&mut self) -> io::Result<()> {
        self.ship()
    }
}

impl ChunkReceiver {
    /// Writes every chunk to `out` until the sender is dropped.
    pub fn drain_into<W: Write>(self, out: &mut W) -> io::Result<()> {
        for mut chunk in self.full {
            out.write_all(&chunk)?;
            chunk.clear();
            // The sender may be gone already; then the buffer is simply freed.
            let _ = self.empty.send(chunk);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_arrive_in_order_across_chunk_boundaries() {
        let (mut tx, rx) = chunk_channel();
        let feeder = std::thread::spawn(move || {
            let mut out = Vec::new();
            rx.drain_into(&mut out).map(|()| out)
        });
        let mut expect = Vec::new();
        for i in 0..3000u32 {
            let piece: Vec<u8> = (0..(i * 7 % 20000)).map(|j| (i ^ j) as u8).collect();
            tx.write_all(&piece).unwrap();
            expect.extend_from_slice(&piece);
        }
        tx.flush().unwrap();
        drop(tx);
        let got = feeder.join().unwrap().unwrap();
        assert!(expect.len() > 3 * CHUNK);
        assert_eq!(got, expect);
    }

    #[test]
    fn a_dead_feeder_is_a_write_error() {
        let (mut tx, rx) = chunk_channel();
        drop(rx);
        let err = tx.write_all(&vec![0; CHUNK]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
