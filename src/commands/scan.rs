//! The cursor machinery shared by SCAN, HSCAN, SSCAN and ZSCAN (Redis's db.c
//! `parseScanCursorOrReply` and `scanGenericCommand`).
//!
//! A collection that can be scanned implements [`ScanSource`]: hash-table encodings walk a few
//! buckets per call with [`crate::db::dict::Dict::scan`]'s reverse-binary cursor, compact
//! encodings (listpack, intset) hand back everything at once with cursor 0. [`scan_generic`]
//! parses COUNT / MATCH / TYPE, collects, filters and replies, for the keyspace or for the
//! value at one key.

use bytes::Bytes;

use crate::command::args::is;
use crate::command::{errors, CmdError, CmdResult, Ctx};
use crate::db::Sds;
use crate::types::object::{RObj, Value};
use crate::util::numbers::string2ll;

/// Something SCAN can walk.
pub trait ScanSource {
    /// True when every element is a (name, value) pair (HSCAN, ZSCAN): COUNT counts both,
    /// MATCH looks at names only, and each value follows its name in the reply.
    fn pairs(&self) -> bool;

    /// One step from `cursor`. A hash table pushes the elements of the buckets the cursor
    /// covers (names and values alternating when [`ScanSource::pairs`]) and returns
    /// `Some(next cursor)` (0 when done); a compact encoding pushes every element and returns
    /// `None`.
    fn scan_step(&self, cursor: u64, out: &mut Vec<Vec<u8>>) -> Option<u64>;
}

/// The keyspace itself: key names.
impl ScanSource for crate::db::dict::Dict<Sds, RObj> {
    fn pairs(&self) -> bool {
        false
    }

    fn scan_step(&self, cursor: u64, out: &mut Vec<Vec<u8>>) -> Option<u64> {
        Some(self.scan(cursor, |k, _| out.push(k.to_vec())))
    }
}

/// Parse a SCAN cursor as Redis does with C's strtoul (parseScanCursorOrReply): the text
/// ends at a NUL byte; no leading space; an optional sign (`-` negates modulo 2^64); decimal
/// digits up to the end; overflow and anything else is "ERR invalid cursor". An empty
/// string is cursor 0.
pub fn parse_scan_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    let invalid = CmdError::Static("ERR invalid cursor");
    let s = arg
        .iter()
        .position(|&b| b == 0)
        .map_or(arg, |nul| &arg[..nul]);
    let (negative, digits) = match s.first() {
        None => return Ok(0),
        Some(b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') => return Err(invalid),
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(invalid);
    }
    let mut v: u64 = 0;
    for &d in digits {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .ok_or(invalid.clone())?;
    }
    Ok(if negative { v.wrapping_neg() } else { v })
}

/// COUNT / MATCH / TYPE of a scan.
struct ScanOpts<'a> {
    count: usize,
    pattern: Option<&'a [u8]>,
    type_name: Option<&'a [u8]>,
}

fn parse_opts(argv: &[Bytes], mut i: usize, keyspace: bool) -> Result<ScanOpts<'_>, CmdError> {
    let mut o = ScanOpts {
        count: 10,
        pattern: None,
        type_name: None,
    };
    while i < argv.len() {
        let more = argv.len() - i >= 2;
        if is(&argv[i], "count") && more {
            let n = string2ll(&argv[i + 1]).ok_or(errors::NOT_INTEGER)?;
            if n < 1 {
                return Err(errors::SYNTAX);
            }
            o.count = n as usize;
        } else if is(&argv[i], "match") && more {
            let p = &argv[i + 1][..];
            // "*" matches everything: no filtering at all.
            o.pattern = (p != b"*").then_some(p);
        } else if is(&argv[i], "type") && keyspace && more {
            o.type_name = Some(&argv[i + 1]);
        } else {
            return Err(errors::SYNTAX);
        }
        i += 2;
    }
    Ok(o)
}

/// Collect one batch from `src` (scanGenericCommand steps 2 and 3, minus the keyspace-only
/// filters): returns the next cursor, with `items` holding the elements (and values)
/// that pass MATCH.
fn collect(
    src: &dyn ScanSource,
    mut cursor: u64,
    count: usize,
    pattern: Option<&[u8]>,
    items: &mut Vec<Vec<u8>>,
) -> u64 {
    let pairs = src.pairs();
    let count = if pairs {
        count.saturating_mul(2)
    } else {
        count
    };
    let mut max_iterations = count.saturating_mul(10);
    loop {
        match src.scan_step(cursor, items) {
            None => {
                cursor = 0;
                break;
            }
            Some(next) => {
                cursor = next;
                if cursor == 0 || max_iterations == 0 || items.len() >= count {
                    break;
                }
                max_iterations -= 1;
            }
        }
    }
    if let Some(pat) = pattern {
        let step = if pairs { 2 } else { 1 };
        let mut w = 0;
        for r in (0..items.len()).step_by(step) {
            if crate::util::glob::string_match(pat, &items[r], false) {
                for j in 0..step.min(items.len() - r) {
                    items.swap(w + j, r + j);
                }
                w += step;
            }
        }
        items.truncate(w);
    }
    cursor
}

/// SCAN / HSCAN / SSCAN / ZSCAN after the cursor was parsed (scanGenericCommand).
///
/// With `key == None` the keyspace of the client's db is walked, options start at argv[2]
/// and TYPE is allowed; keys that expired are skipped (and deleted). With `Some(key)` the
/// value at `key` is looked up for reading: a missing key replies an empty scan, and
/// `source` picks the scannable value out of the stored one (`None` means WRONGTYPE);
/// options start at argv[3].
pub fn scan_generic(
    ctx: &mut Ctx,
    key: Option<&[u8]>,
    cursor: u64,
    source: for<'v> fn(&'v Value) -> Option<&'v dyn ScanSource>,
) -> CmdResult {
    let argv = ctx.argv;
    let mut items = Vec::new();
    let next;
    let opts;
    match key {
        Some(key) => match ctx.read(key) {
            (None, r) => {
                r.array_len(2);
                r.bulk(b"0");
                r.array_len(0);
                return Ok(());
            }
            (Some(o), _) => {
                let src = source(&o.value).ok_or(errors::WRONGTYPE)?;
                opts = parse_opts(argv, 3, false)?;
                next = collect(src, cursor, opts.count, opts.pattern, &mut items);
            }
        },
        None => {
            opts = parse_opts(argv, 2, true)?;
            let db = ctx.client.db;
            next = collect(
                &ctx.srv.dbs[db].keys,
                cursor,
                opts.count,
                opts.pattern,
                &mut items,
            );
            // Keyspace-only filters: TYPE, then keys that are logically expired.
            let now = ctx.srv.cmd_time_ms;
            items.retain(|k| {
                let Some(t) = opts.type_name else { return true };
                let d = &ctx.srv.dbs[db];
                let name = match d.keys.get(&k[..]) {
                    Some(o) if !d.is_expired(k, now) => o.value.type_name(),
                    _ => "none",
                };
                t.eq_ignore_ascii_case(name.as_bytes())
            });
            items.retain(|k| !ctx.expire_if_needed(k));
        }
    }
    let r = ctx.reply();
    r.array_len(2);
    r.bulk_i64_unsigned(next);
    r.array_len(items.len());
    for it in &items {
        r.bulk(it);
    }
    Ok(())
}

/// Helpers for the reply of a cursor, which is unsigned.
trait BulkU64 {
    fn bulk_i64_unsigned(&mut self, n: u64);
}

impl BulkU64 for crate::resp::reply::ReplyBuf {
    fn bulk_i64_unsigned(&mut self, n: u64) {
        let mut f = itoa::Buffer::new();
        self.bulk(f.format(n).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_parsing_follows_strtoul() {
        assert_eq!(parse_scan_cursor(b"0"), Ok(0));
        assert_eq!(parse_scan_cursor(b""), Ok(0));
        assert_eq!(parse_scan_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_scan_cursor(b"007"), Ok(7));
        assert!(parse_scan_cursor(b"18446744073709551616").is_err());
        assert!(parse_scan_cursor(b" 1").is_err());
        assert!(parse_scan_cursor(b"1x").is_err());
        assert!(parse_scan_cursor(b"-").is_err());
        assert_eq!(parse_scan_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(parse_scan_cursor(b"+5"), Ok(5));
        assert_eq!(parse_scan_cursor(b"5\0junk"), Ok(5));
    }
}
