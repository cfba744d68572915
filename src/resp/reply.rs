//! The reply writer: every reply a command sends goes through [`ReplyBuf`], which appends RESP
//! straight into the client's output buffer and knows the client's protocol (RESP2 or RESP3), so
//! command code says *what* it replies (a map, a double, a null) and never builds frames itself.
//!
//! Error replies are not written here directly: they go through the command context, which
//! counts them for `INFO errorstats` as Redis does (see `command::Ctx::error`).

/// Size of Redis's per-client static reply buffer; output beyond it goes to Redis's reply
/// list, which is what CLIENT LIST `oll`/`omem` and output buffer limits measure.
pub const REPLY_CHUNK_BYTES: usize = 16 * 1024;
/// The smallest a client's reply buffer is shrunk to (Redis's PROTO_REPLY_MIN_BYTES).
pub const REPLY_MIN_BYTES: usize = 1024;

/// A client's pending output plus the protocol version it speaks.
#[derive(Debug)]
pub struct ReplyBuf {
    /// Bytes not yet written to the socket start at `sent`.
    pub buf: Vec<u8>,
    /// How much of `buf` the socket already took.
    pub sent: usize,
    /// 2 or 3.
    pub resp: u8,
    /// Largest pending output seen since the peak was last reset (CLIENT LIST `rbp`), which
    /// the reply buffer is resized to from cron.
    pub peak: usize,
}

/// A placeholder for an aggregate length not known when the aggregate starts.
#[derive(Debug, Clone, Copy)]
pub struct Deferred(usize);

/// Which aggregate a deferred length belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Aggregate {
    Array,
    Map,
    Set,
    Attribute,
}

impl Default for ReplyBuf {
    fn default() -> Self {
        ReplyBuf {
            buf: Vec::with_capacity(REPLY_MIN_BYTES),
            sent: 0,
            resp: 2,
            peak: 0,
        }
    }
}

impl ReplyBuf {
    /// Resize an empty buffer toward its recent peak (Redis's clientsCronResizeOutputBuffer):
    /// halve-or-better down to what the peak needs (at least [`REPLY_MIN_BYTES`]), or double
    /// when the peak filled it, up to [`REPLY_CHUNK_BYTES`]. Returns whether it changed.
    pub fn resize_to_peak(&mut self) -> bool {
        if self.pending() != 0 {
            return false;
        }
        let cap = self.buf.capacity();
        let peak = self.peak.min(REPLY_CHUNK_BYTES);
        let target = if cap / 2 >= REPLY_MIN_BYTES && peak < cap / 2 {
            REPLY_MIN_BYTES.max(peak + 1)
        } else if cap < REPLY_CHUNK_BYTES && peak >= cap {
            REPLY_CHUNK_BYTES.min((cap * 2).max(REPLY_MIN_BYTES))
        } else {
            return false;
        };
        self.buf = Vec::with_capacity(target);
        self.sent = 0;
        true
    }

    /// Bytes still waiting to be written.
    #[inline]
    pub fn pending(&self) -> usize {
        self.buf.len() - self.sent
    }

    /// Drop what the socket took; keeps the allocation for the next replies.
    pub fn consume(&mut self, n: usize) {
        let pending = self.pending();
        if pending > self.peak {
            self.peak = pending;
        }
        self.sent += n;
        if self.sent == self.buf.len() {
            self.buf.clear();
            self.sent = 0;
            // What a big reply needed past the chunk size goes once written, as Redis
            // frees its reply list and keeps only the client's buffer.
            if self.buf.capacity() > REPLY_CHUNK_BYTES {
                self.buf.shrink_to(REPLY_CHUNK_BYTES);
            }
        }
    }

    /// Append bytes that are already RESP.
    #[inline]
    pub fn raw(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    #[inline]
    fn header(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        let mut f = itoa::Buffer::new();
        self.buf.extend_from_slice(f.format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`-style status reply. `s` must not contain CR or LF.
    #[inline]
    pub fn simple(&mut self, s: &[u8]) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`.
    #[inline]
    pub fn ok(&mut self) {
        self.raw(b"+OK\r\n");
    }

    /// An error line; `msg` is the full text after `-` (e.g. `ERR syntax error`). Callers go
    /// through `Ctx::error` so the error is counted; this only writes it.
    pub fn error_line(&mut self, msg: &[u8]) {
        self.buf.push(b'-');
        // Protocol safety: an error must stay on one line.
        self.buf.extend(
            msg.iter()
                .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// Integer reply.
    #[inline]
    pub fn int(&mut self, n: i64) {
        match n {
            0 => self.raw(b":0\r\n"),
            1 => self.raw(b":1\r\n"),
            _ => self.header(b':', n),
        }
    }

    /// Bulk string reply.
    #[inline]
    pub fn bulk(&mut self, b: &[u8]) {
        self.header(b'$', b.len() as i64);
        self.buf.extend_from_slice(b);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (e.g. GET of an int-encoded value).
    pub fn bulk_i64(&mut self, n: i64) {
        let mut f = itoa::Buffer::new();
        self.bulk(f.format(n).as_bytes());
    }

    /// The null bulk (`$-1` in RESP2, `_` in RESP3).
    #[inline]
    pub fn null(&mut self) {
        if self.resp == 2 {
            self.raw(b"$-1\r\n")
        } else {
            self.raw(b"_\r\n")
        }
    }

    /// The null array (`*-1` in RESP2, `_` in RESP3).
    pub fn null_array(&mut self) {
        if self.resp == 2 {
            self.raw(b"*-1\r\n")
        } else {
            self.raw(b"_\r\n")
        }
    }

    /// Start an array of `n` elements.
    #[inline]
    pub fn array_len(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// Start a map of `n` key/value pairs (a flat array of 2n in RESP2).
    pub fn map_len(&mut self, n: usize) {
        if self.resp == 2 {
            self.header(b'*', 2 * n as i64)
        } else {
            self.header(b'%', n as i64)
        }
    }

    /// Start a set of `n` elements (an array in RESP2).
    pub fn set_len(&mut self, n: usize) {
        if self.resp == 2 {
            self.header(b'*', n as i64)
        } else {
            self.header(b'~', n as i64)
        }
    }

    /// Start an attribute map (RESP3 only; RESP2 clients get nothing).
    pub fn attribute_len(&mut self, n: usize) {
        if self.resp == 3 {
            self.header(b'|', n as i64)
        }
    }

    /// Start a push message (an array in RESP2).
    pub fn push_len(&mut self, n: usize) {
        if self.resp == 2 {
            self.header(b'*', n as i64)
        } else {
            self.header(b'>', n as i64)
        }
    }

    /// Boolean (`:1`/`:0` in RESP2).
    pub fn bool(&mut self, v: bool) {
        match (self.resp, v) {
            (2, true) => self.raw(b":1\r\n"),
            (2, false) => self.raw(b":0\r\n"),
            (_, true) => self.raw(b"#t\r\n"),
            (_, false) => self.raw(b"#f\r\n"),
        }
    }

    /// A double as Redis 7.0 prints it (`%.17g`; a bulk string in RESP2).
    pub fn double(&mut self, d: f64) {
        if d.is_infinite() {
            let s: &[u8] = if d > 0.0 { b"inf" } else { b"-inf" };
            if self.resp == 2 {
                self.bulk(s)
            } else {
                self.buf.push(b',');
                self.raw(s);
                self.raw(b"\r\n");
            }
            return;
        }
        let num = crate::util::numbers::fmt_g17(d);
        let s = num.as_bytes();
        if self.resp == 2 {
            self.bulk(s)
        } else {
            self.buf.push(b',');
            self.raw(s);
            self.raw(b"\r\n");
        }
    }

    /// A big number (a bulk string in RESP2).
    pub fn big_number(&mut self, digits: &[u8]) {
        if self.resp == 2 {
            self.bulk(digits)
        } else {
            self.buf.push(b'(');
            self.raw(digits);
            self.raw(b"\r\n");
        }
    }

    /// A verbatim string with a 3-letter format such as `txt` (a bulk string in RESP2).
    pub fn verbatim(&mut self, text: &[u8], format: &str) {
        if self.resp == 2 {
            self.bulk(text)
        } else {
            self.header(b'=', (text.len() + 4) as i64);
            self.raw(format.as_bytes());
            self.buf.push(b':');
            self.raw(text);
            self.raw(b"\r\n");
        }
    }

    /// Reserve room for an aggregate header whose length comes later.
    pub fn defer(&mut self) -> Deferred {
        Deferred(self.buf.len())
    }

    /// Fill a deferred aggregate length.
    pub fn set_deferred(&mut self, d: Deferred, kind: Aggregate, n: usize) {
        let (prefix, n) = match (kind, self.resp) {
            (Aggregate::Array, _) => (b'*', n),
            (Aggregate::Map, 2) => (b'*', n * 2),
            (Aggregate::Map, _) => (b'%', n),
            (Aggregate::Set, 2) => (b'*', n),
            (Aggregate::Set, _) => (b'~', n),
            (Aggregate::Attribute, 2) => return,
            (Aggregate::Attribute, _) => (b'|', n),
        };
        let mut hdr = [0u8; 24];
        hdr[0] = prefix;
        let mut f = itoa::Buffer::new();
        let digits = f.format(n).as_bytes();
        hdr[1..1 + digits.len()].copy_from_slice(digits);
        hdr[1 + digits.len()..3 + digits.len()].copy_from_slice(b"\r\n");
        let len = 3 + digits.len();
        self.buf.splice(d.0..d.0, hdr[..len].iter().copied());
    }

    /// Bytes of output currently held (for CLIENT LIST `omem`, buffer limits).
    pub fn memory(&self) -> usize {
        self.buf.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_and_resp3_shapes() {
        let mut r = ReplyBuf::default();
        r.map_len(1);
        r.bulk(b"a");
        r.double(1.5);
        r.null();
        r.bool(true);
        assert_eq!(r.buf, b"*2\r\n$1\r\na\r\n$3\r\n1.5\r\n$-1\r\n:1\r\n");
        let mut r = ReplyBuf {
            resp: 3,
            ..Default::default()
        };
        r.map_len(1);
        r.bulk(b"a");
        r.double(1.5);
        r.null();
        r.bool(false);
        r.double(f64::INFINITY);
        assert_eq!(r.buf, b"%1\r\n$1\r\na\r\n,1.5\r\n_\r\n#f\r\n,inf\r\n");
    }

    #[test]
    fn deferred_lengths() {
        let mut r = ReplyBuf::default();
        r.int(7);
        let d = r.defer();
        r.bulk(b"x");
        r.bulk(b"y");
        r.set_deferred(d, Aggregate::Map, 1);
        assert_eq!(r.buf, b":7\r\n*2\r\n$1\r\nx\r\n$1\r\ny\r\n");
    }

    #[test]
    fn errors_stay_on_one_line() {
        let mut r = ReplyBuf::default();
        r.error_line(b"ERR bad\r\nthing");
        assert_eq!(r.buf, b"-ERR bad  thing\r\n");
    }
}
