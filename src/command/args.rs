//! Typed readers over a command's arguments, returning Redis's exact errors, so handlers never
//! hand-roll parsing. [`Args`] is a cursor for option lists (`SET k v NX EX 10`); the free
//! functions parse one argument.

use bytes::Bytes;

use super::{errors, CmdError};
use crate::util::numbers::{string2d, string2ll};

/// Parse an integer argument ("value is not an integer or out of range").
#[inline]
pub fn parse_i64(b: &[u8]) -> Result<i64, CmdError> {
    string2ll(b).ok_or(errors::NOT_INTEGER)
}

/// Parse an integer with a custom error text (Redis's getLongLongFromObjectOrReply with msg).
pub fn parse_i64_msg(b: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    string2ll(b).ok_or(CmdError::Static(msg))
}

/// Parse a non-negative integer in range, with Redis's "must be positive"-style messages
/// supplied by the caller.
pub fn parse_range(b: &[u8], min: i64, max: i64, msg: &'static str) -> Result<i64, CmdError> {
    match string2ll(b) {
        Some(n) if n >= min && n <= max => Ok(n),
        _ => Err(CmdError::Static(msg)),
    }
}

/// Parse a float argument ("value is not a valid float").
pub fn parse_f64(b: &[u8]) -> Result<f64, CmdError> {
    string2d(b).ok_or(errors::NOT_FLOAT)
}

/// A cursor over arguments, for option parsing.
pub struct Args<'a> {
    argv: &'a [Bytes],
    pos: usize,
}

impl<'a> Args<'a> {
    /// Start at argument `pos`.
    pub fn new(argv: &'a [Bytes], pos: usize) -> Args<'a> {
        Args { argv, pos }
    }

    /// Arguments left.
    pub fn remaining(&self) -> usize {
        self.argv.len().saturating_sub(self.pos)
    }

    /// True when every argument was consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Position of the next argument.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Peek at the next argument.
    pub fn peek(&self) -> Option<&'a [u8]> {
        self.argv.get(self.pos).map(|b| &b[..])
    }

    /// Next argument, or a syntax error.
    pub fn next_bytes(&mut self) -> Result<&'a [u8], CmdError> {
        let b = self.argv.get(self.pos).ok_or(errors::SYNTAX)?;
        self.pos += 1;
        Ok(b)
    }

    /// Next argument as the shared `Bytes`.
    pub fn next_arg(&mut self) -> Result<&'a Bytes, CmdError> {
        let b = self.argv.get(self.pos).ok_or(errors::SYNTAX)?;
        self.pos += 1;
        Ok(b)
    }

    /// Next argument as an integer.
    pub fn next_i64(&mut self) -> Result<i64, CmdError> {
        parse_i64(self.next_bytes()?)
    }

    /// Next argument as a float.
    pub fn next_f64(&mut self) -> Result<f64, CmdError> {
        parse_f64(self.next_bytes()?)
    }

    /// Consume the next argument if it equals `word` (case-insensitive).
    pub fn eat(&mut self, word: &str) -> bool {
        match self.peek() {
            Some(b) if b.eq_ignore_ascii_case(word.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }
}

/// Case-insensitive comparison of an argument with an option name.
#[inline]
pub fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}
