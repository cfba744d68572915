//! The request parser: turns bytes from a client's query buffer into argument vectors.
//!
//! Two grammars, chosen by the first byte as Redis does: RESP multibulk (`*<n>\r\n$<len>\r\n...`)
//! and the inline protocol (a line split like `redis.conf`, with quotes and escapes). Parsing is
//! incremental: a partially received command leaves its state in [`ParseState`] and the bytes
//! that follow are parsed when they arrive. Bulk arguments are split off the query buffer as
//! `Bytes` without copying. Errors carry Redis's exact protocol error text; the caller replies
//! with it and closes the connection after the reply.

use bytes::{Buf, Bytes, BytesMut};

use crate::util::numbers::string2ll;

/// Longest inline request, or multibulk/bulk header line, accepted (Redis's PROTO_INLINE_MAX_SIZE).
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
/// Bulk arguments at least this big are read into a buffer of their own (PROTO_MBULK_BIG_ARG).
pub const PROTO_MBULK_BIG_ARG: usize = 32 * 1024;

/// Where the parser is inside a command that has not fully arrived yet.
#[derive(Debug, Default)]
pub struct ParseState {
    /// Bulk arguments still expected for the current multibulk command (0: none started).
    multibulk_len: usize,
    /// Length of the bulk being read, once its `$<len>` header was seen.
    bulk_len: Option<usize>,
}

impl ParseState {
    /// True when a command has started but not completed.
    pub fn in_progress(&self) -> bool {
        self.multibulk_len > 0
    }

    /// Remaining bulk length being waited on, for read sizing of big arguments.
    pub fn pending_bulk(&self) -> Option<usize> {
        self.bulk_len
    }
}

/// Limits and flags the parser needs from the server and the client.
pub struct ParseLimits {
    /// `proto-max-bulk-len`.
    pub max_bulk_len: u64,
    /// The client is not authenticated yet: Redis caps multibulk and bulk sizes.
    pub unauthenticated: bool,
    /// The client is our master: no bulk length limit.
    pub is_master: bool,
}

/// A protocol error: the reply text (without "-ERR ") and the short reason Redis logs.
#[derive(Debug, PartialEq, Eq)]
pub struct ProtocolError {
    pub reply: String,
    pub reason: &'static str,
}

fn proto_err(reply: impl Into<String>, reason: &'static str) -> ProtocolError {
    ProtocolError {
        reply: reply.into(),
        reason,
    }
}

/// Outcome of one parse attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// `argv` holds a complete command (possibly empty: an empty line or `*0`).
    Command,
    /// More bytes are needed.
    Incomplete,
}

/// Parse at most one command from `buf` into `argv`. On `Parsed::Command` the consumed bytes
/// have been removed from `buf`. `argv` must be empty when a new command starts.
pub fn parse_command(
    buf: &mut BytesMut,
    state: &mut ParseState,
    argv: &mut Vec<Bytes>,
    limits: &ParseLimits,
) -> Result<Parsed, ProtocolError> {
    if state.multibulk_len == 0 {
        match buf.first() {
            None => return Ok(Parsed::Incomplete),
            Some(b'*') => {}
            Some(_) => return parse_inline(buf, argv, limits),
        }
    }
    parse_multibulk(buf, state, argv, limits)
}

fn parse_inline(
    buf: &mut BytesMut,
    argv: &mut Vec<Bytes>,
    limits: &ParseLimits,
) -> Result<Parsed, ProtocolError> {
    let Some(nl) = memchr(b'\n', buf) else {
        if buf.len() > PROTO_INLINE_MAX_SIZE {
            return Err(proto_err(
                "Protocol error: too big inline request",
                "too big inline request",
            ));
        }
        return Ok(Parsed::Incomplete);
    };
    let line_end = if nl > 0 && buf[nl - 1] == b'\r' {
        nl - 1
    } else {
        nl
    };
    let args = crate::config::parse::split_args(&buf[..line_end]).map_err(|_| {
        proto_err(
            "Protocol error: unbalanced quotes in request",
            "unbalanced quotes in inline request",
        )
    })?;
    if line_end != 0 && limits.is_master {
        return Err(proto_err(
            "Protocol error: Master using the inline protocol. Desync?",
            "Master using the inline protocol. Desync?",
        ));
    }
    buf.advance(nl + 1);
    argv.extend(args.into_iter().map(Bytes::from));
    Ok(Parsed::Command)
}

/// Find a complete `<prefix><number>\r\n` header line at the start of `buf`. Returns the line
/// content between the prefix byte and `\r`, and the full length to consume.
fn header_line(buf: &[u8]) -> Option<(usize, usize)> {
    let cr = memchr(b'\r', buf)?;
    // Redis requires the byte after '\r' to be present (it assumes '\n' without checking).
    if cr + 1 >= buf.len() {
        return None;
    }
    Some((cr, cr + 2))
}

fn parse_multibulk(
    buf: &mut BytesMut,
    state: &mut ParseState,
    argv: &mut Vec<Bytes>,
    limits: &ParseLimits,
) -> Result<Parsed, ProtocolError> {
    if state.multibulk_len == 0 {
        let Some((cr, consumed)) = header_line(buf) else {
            if buf.len() > PROTO_INLINE_MAX_SIZE {
                return Err(proto_err(
                    "Protocol error: too big mbulk count string",
                    "too big mbulk count string",
                ));
            }
            return Ok(Parsed::Incomplete);
        };
        let n = match string2ll(&buf[1..cr]) {
            Some(n) if n <= i32::MAX as i64 => n,
            _ => {
                return Err(proto_err(
                    "Protocol error: invalid multibulk length",
                    "invalid mbulk count",
                ))
            }
        };
        if n > 10 && limits.unauthenticated {
            return Err(proto_err(
                "Protocol error: unauthenticated multibulk length",
                "unauth mbulk count",
            ));
        }
        buf.advance(consumed);
        if n <= 0 {
            return Ok(Parsed::Command);
        }
        state.multibulk_len = n as usize;
        argv.reserve(state.multibulk_len.min(1024));
    }

    while state.multibulk_len > 0 {
        let bulk_len = match state.bulk_len {
            Some(len) => len,
            None => {
                let Some((cr, consumed)) = header_line(buf) else {
                    if buf.len() > PROTO_INLINE_MAX_SIZE {
                        return Err(proto_err(
                            "Protocol error: too big bulk count string",
                            "too big bulk count string",
                        ));
                    }
                    return Ok(Parsed::Incomplete);
                };
                if buf[0] != b'$' {
                    return Err(proto_err(
                        format!("Protocol error: expected '$', got '{}'", buf[0] as char),
                        "expected $ but got something else",
                    ));
                }
                let len = match string2ll(&buf[1..cr]) {
                    Some(n) if n >= 0 && (limits.is_master || n as u64 <= limits.max_bulk_len) => {
                        n as usize
                    }
                    _ => {
                        return Err(proto_err(
                            "Protocol error: invalid bulk length",
                            "invalid bulk length",
                        ))
                    }
                };
                if len > 16384 && limits.unauthenticated {
                    return Err(proto_err(
                        "Protocol error: unauthenticated bulk length",
                        "unauth bulk length",
                    ));
                }
                buf.advance(consumed);
                if len >= PROTO_MBULK_BIG_ARG && buf.len() < len + 2 {
                    // Make room for the whole argument at once so it arrives in one buffer.
                    buf.reserve(len + 2 - buf.len());
                }
                state.bulk_len = Some(len);
                len
            }
        };
        if buf.len() < bulk_len + 2 {
            return Ok(Parsed::Incomplete);
        }
        let arg = buf.split_to(bulk_len).freeze();
        buf.advance(2);
        argv.push(arg);
        state.bulk_len = None;
        state.multibulk_len -= 1;
    }
    Ok(Parsed::Command)
}

/// Position of the first `needle` byte in `hay`.
#[inline]
pub fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ParseLimits {
        ParseLimits {
            max_bulk_len: 512 * 1024 * 1024,
            unauthenticated: false,
            is_master: false,
        }
    }

    fn parse_all(input: &[u8]) -> Result<Vec<Vec<Vec<u8>>>, ProtocolError> {
        let mut buf = BytesMut::from(input);
        let mut st = ParseState::default();
        let mut out = Vec::new();
        loop {
            let mut argv = Vec::new();
            match parse_command(&mut buf, &mut st, &mut argv, &limits())? {
                Parsed::Command => out.push(argv.iter().map(|a| a.to_vec()).collect()),
                Parsed::Incomplete => return Ok(out),
            }
        }
    }

    #[test]
    fn multibulk_and_inline() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\nset a \"b c\"\r\n").unwrap();
        assert_eq!(cmds.len(), 3);
        assert_eq!(cmds[0], vec![b"GET".to_vec(), b"k".to_vec()]);
        assert_eq!(cmds[1], vec![b"PING".to_vec()]);
        assert_eq!(cmds[2], vec![b"set".to_vec(), b"a".to_vec(), b"b c".to_vec()]);
    }

    #[test]
    fn incremental_byte_by_byte() {
        let input = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
        let mut buf = BytesMut::new();
        let mut st = ParseState::default();
        let mut argv = Vec::new();
        for (i, b) in input.iter().enumerate() {
            buf.extend_from_slice(&[*b]);
            let r = parse_command(&mut buf, &mut st, &mut argv, &limits()).unwrap();
            if i + 1 < input.len() {
                assert_eq!(r, Parsed::Incomplete, "at byte {i}");
            } else {
                assert_eq!(r, Parsed::Command);
            }
        }
        assert_eq!(argv.len(), 3);
        assert_eq!(&argv[2][..], b"value");
    }

    #[test]
    fn protocol_errors() {
        let e = |s: &[u8]| parse_all(s).unwrap_err().reply;
        assert_eq!(e(b"*3000000000\r\n"), "Protocol error: invalid multibulk length");
        assert_eq!(
            e(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
            "Protocol error: expected '$', got 'f'"
        );
        assert_eq!(e(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(e(b"*1\r\n$blabla\r\n"), "Protocol error: invalid bulk length");
        assert_eq!(e(b"set \"\"\"a\"\"\" b\r\n"), "Protocol error: unbalanced quotes in request");
        let big = vec![b'a'; PROTO_INLINE_MAX_SIZE + 1];
        assert_eq!(e(&big), "Protocol error: too big inline request");
        let mut big = b"*".to_vec();
        big.extend(vec![b'1'; PROTO_INLINE_MAX_SIZE + 1]);
        assert_eq!(e(&big), "Protocol error: too big mbulk count string");
    }

    #[test]
    fn empty_and_negative_counts_are_no_ops() {
        assert_eq!(parse_all(b"\r\n").unwrap(), vec![Vec::<Vec<u8>>::new()]);
        assert_eq!(parse_all(b"*-10\r\n").unwrap(), vec![Vec::<Vec<u8>>::new()]);
        assert_eq!(parse_all(b"*0\r\n").unwrap(), vec![Vec::<Vec<u8>>::new()]);
    }

    #[test]
    fn unauthenticated_limits() {
        let l = ParseLimits {
            unauthenticated: true,
            ..limits()
        };
        let mut buf = BytesMut::from(&b"*11\r\n"[..]);
        let err = parse_command(&mut buf, &mut ParseState::default(), &mut Vec::new(), &l)
            .unwrap_err();
        assert_eq!(err.reply, "Protocol error: unauthenticated multibulk length");
        let mut buf = BytesMut::from(&b"*1\r\n$16385\r\n"[..]);
        let err = parse_command(&mut buf, &mut ParseState::default(), &mut Vec::new(), &l)
            .unwrap_err();
        assert_eq!(err.reply, "Protocol error: unauthenticated bulk length");
    }

    #[test]
    fn random_garbage_never_panics() {
        let mut seed = 0x9e3779b97f4a7c15u64;
        for _ in 0..20000 {
            let mut v = Vec::new();
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            for i in 0..len {
                let x = seed.rotate_left(i as u32 * 7);
                v.push(b"*$\r\n0123-abc\"'\\ "[(x % 16) as usize]);
            }
            let _ = parse_all(&v);
        }
    }
}
