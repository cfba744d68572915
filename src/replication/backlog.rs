//! The replication stream buffer, shared by the backlog and every replica (Redis 7.0's
//! `repl_buffer_blocks` + `repl_backlog`): the stream is appended once, into blocks of at
//! least 16 KiB, and each replica only keeps the offset of the next byte it has to send. A
//! block is released from the front when the backlog holds more than `repl-backlog-size`
//! without it and no replica still has to send any of its bytes, so a slow replica makes the
//! backlog temporarily larger instead of costing a copy of the stream.
//!
//! Offsets are Redis's: the first byte ever fed has offset 1, `master_repl_offset` is the
//! offset of the last byte fed, and the backlog holds `[master - histlen + 1, master]`.

use std::collections::VecDeque;

/// Smallest block (PROTO_REPLY_CHUNK_BYTES).
pub const BLOCK_MIN: usize = 16 * 1024;
/// Blocks released per trim call (REPL_BACKLOG_TRIM_BLOCKS_PER_CALL).
pub const TRIM_BLOCKS_PER_CALL: usize = 64;
/// Per-block bookkeeping Redis counts in mem_total_replication_buffers (listNode +
/// replBufBlock header).
const BLOCK_OVERHEAD: usize = 24 + 40;

#[derive(Debug)]
struct Block {
    /// Offset of the block's first byte.
    offset: i64,
    data: Vec<u8>,
    /// Bytes the block may hold.
    size: usize,
}

impl Block {
    fn end(&self) -> i64 {
        self.offset + self.data.len() as i64
    }
}

/// The backlog and the stream not yet sent to replicas.
#[derive(Debug, Default)]
pub struct Backlog {
    blocks: VecDeque<Block>,
    /// Bytes held (from the first block's start to the end).
    histlen: i64,
    /// Memory held by blocks (INFO mem_total_replication_buffers).
    mem: usize,
}

impl Backlog {
    /// An empty backlog.
    pub fn new() -> Backlog {
        Backlog::default()
    }

    /// Shift every block's offset by `base`.
    pub fn rebase(&mut self, base: i64) {
        for b in self.blocks.iter_mut() {
            b.offset += base;
        }
    }

    /// Bytes of history held (INFO repl_backlog_histlen).
    pub fn histlen(&self) -> i64 {
        self.histlen
    }

    /// Offset of the first byte held (INFO repl_backlog_first_byte_offset), given the master
    /// offset.
    pub fn first_offset(&self, master_offset: i64) -> i64 {
        master_offset - self.histlen + 1
    }

    /// Memory used by the stream blocks.
    pub fn mem(&self) -> usize {
        self.mem
    }

    /// Append `data` to the stream, advancing `master_offset` by its length. `backlog_size`
    /// bounds the size of a new block (a sixteenth of the backlog, at least 16 KiB). Returns
    /// true when a new block was added (when Redis checks replica output limits).
    pub fn feed(&mut self, mut data: &[u8], master_offset: &mut i64, backlog_size: i64) -> bool {
        let mut added = false;
        while !data.is_empty() {
            if let Some(tail) = self.blocks.back_mut() {
                let avail = tail.size - tail.data.len();
                if avail > 0 {
                    let n = avail.min(data.len());
                    tail.data.extend_from_slice(&data[..n]);
                    data = &data[n..];
                    *master_offset += n as i64;
                    self.histlen += n as i64;
                    continue;
                }
            }
            let limit = ((backlog_size / 16) as usize).max(BLOCK_MIN);
            let size = data.len().max(BLOCK_MIN).min(limit);
            let n = size.min(data.len());
            let mut buf = Vec::with_capacity(size);
            buf.extend_from_slice(&data[..n]);
            self.blocks.push_back(Block {
                offset: *master_offset + 1,
                data: buf,
                size,
            });
            self.mem += size + BLOCK_OVERHEAD;
            data = &data[n..];
            *master_offset += n as i64;
            self.histlen += n as i64;
            added = true;
        }
        added
    }

    /// Release front blocks the backlog does not need to stay within `backlog_size` and that
    /// no replica still has to send: `oldest_reader` is the smallest next-offset of any
    /// replica (None when no replica reads the stream). At most `max_blocks` are released;
    /// the last block is always kept (Redis's incrementalTrimReplicationBacklog).
    pub fn trim(&mut self, backlog_size: i64, oldest_reader: Option<i64>, max_blocks: usize) {
        let mut trimmed = 0;
        while self.histlen > backlog_size && trimmed < max_blocks && self.blocks.len() > 1 {
            let first = &self.blocks[0];
            if oldest_reader.is_some_and(|r| r < first.end()) {
                break;
            }
            if self.histlen - (first.data.len() as i64) <= backlog_size {
                break;
            }
            let first = self.blocks.pop_front().expect("checked non-empty");
            self.histlen -= first.data.len() as i64;
            self.mem -= first.size + BLOCK_OVERHEAD;
            trimmed += 1;
        }
        // Once a slow replica's backlog is released, give back the block list too: it is
        // memory `maxmemory` counts (only the blocks themselves are "not counted").
        if trimmed > 0
            && self.blocks.capacity() > 16
            && self.blocks.capacity() > 4 * self.blocks.len()
        {
            self.blocks.shrink_to(2 * self.blocks.len());
        }
    }

    /// The bytes from offset `from` to the end of the block holding it (empty when `from` is
    /// past the end). `from` must not be before the first byte held.
    pub fn chunk_at(&self, from: i64) -> &[u8] {
        let i = self.blocks.partition_point(|b| b.end() <= from);
        match self.blocks.get(i) {
            Some(b) if from >= b.offset => &b.data[(from - b.offset) as usize..],
            _ => &[],
        }
    }

    /// Bytes a replica at `next` still has to send, and the blocks it keeps alive (for its
    /// output buffer accounting, Redis's getClientOutputBufferMemoryUsage for replicas).
    pub fn pending_from(&self, next: i64) -> (usize, usize) {
        let i = self.blocks.partition_point(|b| b.end() <= next);
        let Some(first) = self.blocks.get(i) else {
            // Caught up: the replica still references the tail block.
            return match self.blocks.back() {
                Some(b) => (b.size + BLOCK_OVERHEAD, 1),
                None => (0, 0),
            };
        };
        let last = self.blocks.back().expect("non-empty");
        let nodes = self.blocks.len() - i;
        (
            (last.offset + last.size as i64 - first.offset) as usize + nodes * BLOCK_OVERHEAD,
            nodes,
        )
    }

    /// Does the backlog hold the byte at `offset` (or is `offset` right after the end)?
    pub fn can_serve_from(&self, offset: i64, master_offset: i64) -> bool {
        let first = self.first_offset(master_offset);
        offset >= first && offset <= first + self.histlen
    }

    /// The last `n` bytes of the stream, for the crash report / debugging.
    pub fn tail_bytes(&self, n: usize) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        for b in self.blocks.iter().rev() {
            if out.len() >= n {
                break;
            }
            let take = (n - out.len()).min(b.data.len());
            let mut part = b.data[b.data.len() - take..].to_vec();
            part.extend_from_slice(&out);
            out = part;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_advances_offset_and_fills_blocks() {
        let mut b = Backlog::new();
        let mut off = 0i64;
        assert!(b.feed(b"hello", &mut off, 1 << 20));
        assert_eq!(off, 5);
        assert_eq!(b.histlen(), 5);
        assert_eq!(b.first_offset(off), 1);
        assert!(!b.feed(b" world", &mut off, 1 << 20));
        assert_eq!(b.chunk_at(1), b"hello world");
        assert_eq!(b.chunk_at(7), b"world");
        assert_eq!(b.chunk_at(12), b"");
    }

    #[test]
    fn big_feeds_span_blocks() {
        let mut b = Backlog::new();
        let mut off = 100i64;
        let data: Vec<u8> = (0..40_000u32).map(|i| i as u8).collect();
        b.feed(&data, &mut off, 1 << 20);
        assert_eq!(off, 40_100);
        // Reassemble the stream from the chunks.
        let mut got = Vec::new();
        let mut at = 101;
        loop {
            let c = b.chunk_at(at);
            if c.is_empty() {
                break;
            }
            got.extend_from_slice(c);
            at += c.len() as i64;
        }
        assert_eq!(got, data);
    }

    #[test]
    fn trim_keeps_backlog_size_and_readers() {
        let mut b = Backlog::new();
        let mut off = 0i64;
        let size = 20_000;
        for _ in 0..10 {
            b.feed(&[b'x'; 16 * 1024], &mut off, size);
        }
        // A reader at offset 1 pins everything.
        b.trim(size, Some(1), 100);
        assert_eq!(b.histlen(), 10 * 16 * 1024);
        b.trim(size, None, 100);
        assert!(b.histlen() > size);
        assert!(b.histlen() - 16 * 1024 <= size);
        assert!(b.can_serve_from(off, off));
        assert!(b.can_serve_from(off + 1, off));
        assert!(!b.can_serve_from(1, off));
        assert!(!b.can_serve_from(off + 2, off));
    }

    #[test]
    fn pending_counts_blocks_up_to_the_tail() {
        let mut b = Backlog::new();
        let mut off = 0i64;
        // A 256 KiB backlog caps blocks at 16 KiB: 20000 bytes take two.
        b.feed(&[1; 20_000], &mut off, 1 << 18);
        let (bytes, nodes) = b.pending_from(1);
        assert_eq!(nodes, 2);
        assert!(bytes >= 20_000);
        let (_, nodes) = b.pending_from(off + 1);
        assert_eq!(nodes, 1);
        assert_eq!(b.tail_bytes(3), vec![1, 1, 1]);
    }
}
