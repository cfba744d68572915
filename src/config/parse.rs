//! Lexical helpers shared by the configuration subsystem and the rest of the
//! server: Redis-compatible argument splitting (`sdssplitargs`), quoting
//! (`sdscatrepr`), memory-unit parsing (`memtoull`), the strict and the
//! C-`strtoll`-style integer parsers Redis uses in different places, the
//! case-insensitive glob matcher used by `CONFIG GET`, and number formatters
//! (`bytes_to_human`, the `1gb`/`64mb` style used by `CONFIG REWRITE`).
//!
//! Everything here works on bytes, never panics, and mirrors the exact
//! acceptance rules of the corresponding Redis 7.0 C helpers, because those
//! rules are observable through `CONFIG SET` and configuration files.

use std::fmt;

/// Error returned by [`split_args`] when a quoted argument is not terminated
/// or a closing quote is not followed by whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnbalancedQuotes;

impl fmt::Display for UnbalancedQuotes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unbalanced quotes")
    }
}

impl std::error::Error for UnbalancedQuotes {}

/// C `isspace()` in the "C" locale.
#[inline]
pub(crate) fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Splits a line into arguments exactly like Redis's `sdssplitargs()`.
///
/// Arguments are separated by whitespace. Double-quoted arguments support the
/// escapes `\n \r \t \b \a \\ \"` and `\xHH`; single-quoted arguments only
/// support `\'`. A closing quote must be followed by whitespace or the end of
/// the line. As in C, input stops at the first NUL byte. This is used both for
/// configuration lines and for the inline protocol: `set "a b" 'c\'d'` gives
/// `["set", "a b", "c'd"]`.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
    let line = match line.iter().position(|&c| c == 0) {
        Some(nul) => &line[..nul],
        None => line,
    };
    // Reading past the end behaves like reading the C string terminator.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);
    let mut args = Vec::new();
    let mut p = 0usize;
    loop {
        while at(p) != 0 && is_c_space(at(p)) {
            p += 1;
        }
        if at(p) == 0 {
            return Ok(args);
        }
        let mut current = Vec::new();
        let (mut in_dq, mut in_sq) = (false, false);
        loop {
            let c = at(p);
            if in_dq {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(h), Some(l)) = (hex_val(at(p + 2)), hex_val(at(p + 3))) {
                        current.push(h * 16 + l);
                        p += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return Err(UnbalancedQuotes);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(UnbalancedQuotes);
                } else {
                    current.push(c);
                }
            } else if in_sq {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return Err(UnbalancedQuotes);
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return Err(UnbalancedQuotes);
                } else {
                    current.push(c);
                }
            } else {
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    _ => current.push(c),
                }
            }
            if at(p) != 0 {
                p += 1;
            }
        }
        args.push(current);
    }
}

/// Splits a `CONFIG SET` value of a multi-argument parameter on single spaces,
/// like `sdssplitlen(value, " ")`: an empty value yields no arguments, while
/// repeated, leading or trailing spaces yield empty arguments.
pub fn split_on_spaces(value: &[u8]) -> Vec<&[u8]> {
    if value.is_empty() {
        Vec::new()
    } else {
        value.split(|&c| c == b' ').collect()
    }
}

/// Appends `bytes` to `out` as a double-quoted, escaped string that
/// [`split_args`] parses back to the same bytes (Redis's `sdscatrepr`).
pub fn push_repr(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for &c in bytes {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(c as char),
            _ => {
                use fmt::Write;
                let _ = write!(out, "\\x{c:02x}");
            }
        }
    }
    out.push('"');
}

/// Returns `bytes` unchanged when [`split_args`] reads it back as one
/// argument, else quoted with [`push_repr`]. Redis writes `bind` addresses
/// and the `replicaof` host raw; quoting only the odd values keeps normal
/// output identical while keeping rewritten files loadable.
pub fn quote_if_needed(bytes: &[u8]) -> String {
    let plain = !bytes.is_empty()
        && bytes
            .iter()
            .all(|&c| c.is_ascii_graphic() && c != b'"' && c != b'\'' && c != b'\\');
    if plain {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        repr(bytes)
    }
}

/// Returns `bytes` quoted with [`push_repr`].
pub fn repr(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    push_repr(&mut s, bytes);
    s
}

/// Parses a memory amount like Redis's `memtoull()`: digits optionally
/// followed by a case-insensitive unit `b`, `k` (1000), `kb` (1024), `m`,
/// `mb`, `g` or `gb`. Returns `None` when the value is not valid.
///
/// Bug-compatible details: an empty digit part counts as 0 (`"kb"` is 0),
/// an overflowing number saturates to `u64::MAX` before the unit is applied
/// and the multiplication wraps.
pub fn parse_memory(value: &[u8]) -> Option<u64> {
    if value.first() == Some(&b'-') {
        return None;
    }
    let digits = value.iter().take_while(|c| c.is_ascii_digit()).count();
    let unit = value[digits..].to_ascii_lowercase();
    let mul: u64 = match unit.as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let mut val: u64 = 0;
    for &c in &value[..digits] {
        val = val
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .unwrap_or(u64::MAX);
        if val == u64::MAX {
            break;
        }
    }
    Some(val.wrapping_mul(mul))
}

/// Strict integer parsing like Redis's `string2ll()`: no whitespace, no `+`,
/// no leading zeros (except `"0"` itself), at most 20 characters, and the
/// value must fit in an `i64`.
pub fn parse_i64_strict(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() >= 21 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
    }
    if negative {
        if v > (i64::MAX as u64) + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Result of [`c_strtoll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StrToLl {
    /// The parsed (possibly saturated) value.
    pub value: i64,
    /// Index of the first unparsed byte (0 when no digits were found).
    pub end: usize,
    /// True when the value overflowed (`errno == ERANGE`).
    pub overflow: bool,
}

/// C `strtoll()` semantics: optional leading whitespace and sign, digits in
/// `radix`, saturation on overflow. When no digits are found the end index is
/// 0, like C's `endptr == nptr`.
pub(crate) fn c_strtoll(s: &[u8], radix: u32) -> StrToLl {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let start = i;
    let mut acc: u64 = 0;
    let mut overflow = false;
    while i < s.len() {
        let d = match (s[i] as char).to_digit(radix) {
            Some(d) => d,
            None => break,
        };
        match acc
            .checked_mul(u64::from(radix))
            .and_then(|a| a.checked_add(u64::from(d)))
        {
            Some(a) => acc = a,
            None => overflow = true,
        }
        i += 1;
    }
    if i == start {
        return StrToLl {
            value: 0,
            end: 0,
            overflow: false,
        };
    }
    let value = if negative {
        if overflow || acc > (i64::MAX as u64) + 1 {
            overflow = true;
            i64::MIN
        } else {
            (acc as i64).wrapping_neg()
        }
    } else if overflow || acc > i64::MAX as u64 {
        overflow = true;
        i64::MAX
    } else {
        acc as i64
    };
    StrToLl {
        value,
        end: i,
        overflow,
    }
}

/// `strtoll(s, &end, 10)` followed by the usual Redis check `*end == '\0'`
/// (overflow is *not* an error here, matching the callers in config.c).
/// Note that, as in C, an empty string parses as 0.
pub(crate) fn c_strtoll_full(s: &[u8]) -> Option<i64> {
    let r = c_strtoll(s, 10);
    (r.end == s.len()).then_some(r.value)
}

/// Parses a double like Redis's `string2d()` (`strtod` consuming the whole
/// input, no leading space, no NaN, no overflow to infinity, no underflow to
/// zero). C99 hexadecimal floats (`0x1p4`) are accepted like `strtod` does.
pub(crate) fn parse_f64_strict(s: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(s).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let unsigned = s.trim_start_matches(['+', '-']);
    if unsigned.len() + 1 < s.len() {
        return None;
    }
    let v = match unsigned.get(..2) {
        Some("0x" | "0X") => {
            let v = parse_hex_float(&unsigned[2..])?;
            if s.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => s.parse().ok()?,
    };
    let lower = unsigned.to_ascii_lowercase();
    if v.is_nan() || (v.is_infinite() && !lower.starts_with("inf")) {
        return None;
    }
    // Underflow to zero is a range error for strtod.
    let mantissa = lower.split(['e', 'p']).next().unwrap_or("");
    let mantissa = mantissa.strip_prefix("0x").unwrap_or(mantissa);
    if v == 0.0 && mantissa.bytes().any(|c| c.is_ascii_hexdigit() && c != b'0') {
        return None;
    }
    Some(v)
}

/// The part of a hexadecimal float after `0x`: `hex[.hex][p[+-]dec]`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mantissa, exp) = match s.find(['p', 'P']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + f64::from(c.to_digit(16)?);
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += f64::from(c.to_digit(16)?) * scale;
        scale /= 16.0;
    }
    if let Some(exp) = exp {
        let digits = exp.trim_start_matches(['+', '-']);
        if digits.is_empty()
            || !digits.bytes().all(|c| c.is_ascii_digit())
            || exp.len() > digits.len() + 1
        {
            return None;
        }
        let e: i32 = exp.parse().unwrap_or(if exp.starts_with('-') {
            i32::MIN
        } else {
            i32::MAX
        });
        v *= 2f64.powi(e.clamp(-2000, 2000));
    }
    Some(v)
}

/// Formats a double like C's `"%f"` followed by Redis's `trimDoubleString()`
/// (trailing zeros and a trailing dot removed): `99.9`, `50`, `0.5`.
pub fn format_f64_trimmed(v: f64) -> String {
    let mut s = format!("{v:.6}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// Formats a byte count for a configuration file the way `CONFIG REWRITE`
/// does: `1gb`, `64mb`, `4kb` when evenly divisible, plain bytes otherwise.
pub fn format_memory_for_config(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    const GB: u64 = 1024 * 1024 * 1024;
    if bytes != 0 && bytes.is_multiple_of(GB) {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes.is_multiple_of(MB) {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes.is_multiple_of(KB) {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

/// Human readable byte counts as printed by `INFO` (`used_memory_human` and
/// friends): `1023B`, `1.00K`, `1.50M`, `2.00G`, ... (Redis's `bytesToHuman`).
pub fn bytes_to_human(n: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (1 << 10, "K"),
        (1 << 20, "M"),
        (1 << 30, "G"),
        (1 << 40, "T"),
        (1 << 50, "P"),
    ];
    if n < 1024 {
        return format!("{n}B");
    }
    for (div, unit) in UNITS {
        if n < div.saturating_mul(1024) {
            return format!("{:.2}{unit}", n as f64 / div as f64);
        }
    }
    format!("{n}B")
}

/// Glob-style matching with Redis's `stringmatchlen()` semantics (`*`, `?`,
/// `[abc]`, `[^a-z]`, `\` escapes), optionally ASCII case-insensitive.
/// Pathological patterns are bounded like in Redis (nesting limit and early
/// termination), so this is safe on untrusted input.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    glob_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn glob_impl(pat: &[u8], s: &[u8], nocase: bool, skip_longer: &mut bool, nesting: u32) -> bool {
    if nesting > 1000 {
        return false;
    }
    let lower = |c: u8| if nocase { c.to_ascii_lowercase() } else { c };
    let pget = |i: usize| pat.get(i).copied().unwrap_or(0);
    let (mut p, mut si) = (0usize, 0usize);
    while p < pat.len() && si < s.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                while si < s.len() {
                    if glob_impl(&pat[p + 1..], &s[si..], nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    si += 1;
                }
                *skip_longer = true;
                return false;
            }
            b'?' => si += 1,
            b'[' => {
                p += 1;
                let not = pget(p) == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                let c = s[si];
                loop {
                    if pget(p) == b'\\' && pat.len().saturating_sub(p) >= 2 {
                        p += 1;
                        if pat[p] == c {
                            matched = true;
                        }
                    } else if pget(p) == b']' {
                        break;
                    } else if p >= pat.len() {
                        p -= 1;
                        break;
                    } else if pat.len() - p >= 3 && pat[p + 1] == b'-' {
                        let (mut start, mut end) = (pat[p], pat[p + 2]);
                        if start > end {
                            std::mem::swap(&mut start, &mut end);
                        }
                        let (start, end, ch) = (lower(start), lower(end), lower(c));
                        p += 2;
                        if ch >= start && ch <= end {
                            matched = true;
                        }
                    } else if lower(pat[p]) == lower(c) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                si += 1;
            }
            b => {
                let b = if b == b'\\' && pat.len() - p >= 2 {
                    p += 1;
                    pat[p]
                } else {
                    b
                };
                if lower(b) != lower(s[si]) {
                    return false;
                }
                si += 1;
            }
        }
        p += 1;
        if si == s.len() {
            while p < pat.len() && pat[p] == b'*' {
                p += 1;
            }
            break;
        }
    }
    p >= pat.len() && si == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> Vec<String> {
        split_args(s.as_bytes())
            .unwrap()
            .into_iter()
            .map(|a| String::from_utf8(a).unwrap())
            .collect()
    }

    #[test]
    fn split_args_basic() {
        assert_eq!(sa("set foo bar"), ["set", "foo", "bar"]);
        assert_eq!(sa("  set   foo  "), ["set", "foo"]);
        assert!(sa("").is_empty());
        assert!(sa(" \t\r\n ").is_empty());
        assert_eq!(sa("\x0bset"), ["set"]);
        assert_eq!(sa("a\tb\rc\nd"), ["a", "b", "c", "d"]);
    }

    #[test]
    fn split_args_double_quotes() {
        assert_eq!(sa(r#""foo bar" baz"#), ["foo bar", "baz"]);
        assert_eq!(sa(r#""""#), [""]);
        assert_eq!(sa(r#"save """#), ["save", ""]);
        assert_eq!(sa(r#""\n\r\t\b\a\\\"\q""#), ["\n\r\t\x08\x07\\\"q"]);
        assert_eq!(sa(r#""\x41\x4a\x4B""#), ["AJK"]);
        assert_eq!(
            split_args(br#""\xff\x00""#).unwrap(),
            vec![vec![0xff, 0x00]]
        );
        // An incomplete hex escape is a plain escaped 'x'.
        assert_eq!(sa(r#""\x4""#), ["x4"]);
        assert_eq!(sa(r#""\xzz""#), ["xzz"]);
        // Quotes may start in the middle of a token.
        assert_eq!(sa(r#"ab"c d""#), ["abc d"]);
    }

    #[test]
    fn split_args_single_quotes() {
        assert_eq!(sa(r"'foo bar'"), ["foo bar"]);
        assert_eq!(sa(r"'it\'s'"), ["it's"]);
        assert_eq!(sa(r"'a\nb'"), ["a\\nb"]);
        assert_eq!(sa(r"''"), [""]);
    }

    #[test]
    fn split_args_errors() {
        for bad in [
            r#""foo"#,
            r#""foo"bar"#,
            "'foo",
            "'foo'bar",
            r#""\"#,
            r#"a "b"c"#,
            "\"",
            "'",
        ] {
            assert_eq!(split_args(bad.as_bytes()), Err(UnbalancedQuotes), "{bad}");
        }
        assert_eq!(sa(r#""foo"  bar"#), ["foo", "bar"]);
        assert_eq!(sa("\"foo\"\tbar"), ["foo", "bar"]);
        assert_eq!(UnbalancedQuotes.to_string(), "unbalanced quotes");
    }

    #[test]
    fn split_args_stops_at_nul() {
        assert_eq!(
            split_args(b"a b\0c d").unwrap(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(split_args(b"\"ab\0cd\"").unwrap_err(), UnbalancedQuotes);
    }

    #[test]
    fn split_args_fuzz_never_panics_and_roundtrips_repr() {
        // Small deterministic xorshift generator: no external crates.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b" \t\r\n\"'\\xabAF09\0\x0b\x7f\xff";
        for _ in 0..20000 {
            let len = (next() % 24) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 3 == 0 {
                        (r >> 8) as u8
                    } else {
                        alphabet[(r >> 8) as usize % alphabet.len()]
                    }
                })
                .collect();
            let _ = split_args(&line);
            // Every byte string survives repr + split_args unchanged (except
            // that NUL terminates input, as in C).
            let arg: Vec<u8> = line.iter().copied().filter(|&c| c != 0).collect();
            let quoted = repr(&arg);
            assert_eq!(split_args(quoted.as_bytes()).unwrap(), vec![arg]);
            let _ = glob_match(&line, b"some-config-name", true);
            let _ = glob_match(b"*a*", &line, false);
            let _ = parse_memory(&line);
            let _ = parse_i64_strict(&line);
            let _ = c_strtoll(&line, 8);
            let _ = parse_f64_strict(&line);
        }
    }

    #[test]
    fn split_on_spaces_like_sdssplitlen() {
        assert!(split_on_spaces(b"").is_empty());
        assert_eq!(split_on_spaces(b"a b"), vec![&b"a"[..], b"b"]);
        assert_eq!(
            split_on_spaces(b" a  b "),
            vec![&b""[..], b"a", b"", b"b", b""]
        );
    }

    #[test]
    fn repr_matches_sdscatrepr() {
        assert_eq!(repr(b"foo bar"), "\"foo bar\"");
        assert_eq!(repr(b"a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(repr(b"\n\r\t\x07\x08\x01\xff"), r#""\n\r\t\a\b\x01\xff""#);
        assert_eq!(repr(b""), "\"\"");
    }

    #[test]
    fn memory_values() {
        assert_eq!(parse_memory(b"0"), Some(0));
        assert_eq!(parse_memory(b"100"), Some(100));
        assert_eq!(parse_memory(b"100b"), Some(100));
        assert_eq!(parse_memory(b"1k"), Some(1000));
        assert_eq!(parse_memory(b"1KB"), Some(1024));
        assert_eq!(parse_memory(b"2m"), Some(2_000_000));
        assert_eq!(parse_memory(b"700mb"), Some(734_003_200));
        assert_eq!(parse_memory(b"1g"), Some(1_000_000_000));
        assert_eq!(parse_memory(b"1Gb"), Some(1 << 30));
        assert_eq!(parse_memory(b"kb"), Some(0));
        assert_eq!(parse_memory(b""), Some(0));
        assert_eq!(parse_memory(b"99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_memory(b"18446744073709551615"), Some(u64::MAX));
        for bad in [
            &b"-1"[..],
            b"1tb",
            b" 1",
            b"+1",
            b"1.5mb",
            b"1 mb",
            b"abc",
            b"1kbb",
        ] {
            assert_eq!(
                parse_memory(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long = vec![b'1'; 128];
        assert_eq!(parse_memory(&long), None);
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_i64_strict(b"0"), Some(0));
        assert_eq!(parse_i64_strict(b"-1"), Some(-1));
        assert_eq!(parse_i64_strict(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64_strict(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"9223372036854775808",
            b"-0",
            b"1a",
        ] {
            assert_eq!(
                parse_i64_strict(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn c_style_integers() {
        assert_eq!(c_strtoll_full(b"42"), Some(42));
        assert_eq!(c_strtoll_full(b" +42"), Some(42));
        assert_eq!(c_strtoll_full(b"-7"), Some(-7));
        assert_eq!(c_strtoll_full(b""), Some(0));
        assert_eq!(c_strtoll_full(b" "), None);
        assert_eq!(c_strtoll_full(b"-"), None);
        assert_eq!(c_strtoll_full(b"1x"), None);
        assert_eq!(c_strtoll_full(b"99999999999999999999"), Some(i64::MAX));
        let r = c_strtoll(b"777", 8);
        assert_eq!((r.value, r.end, r.overflow), (0o777, 3, false));
        assert_eq!(c_strtoll(b"8", 8).end, 0);
        assert!(c_strtoll(b"7777777777777777777777777", 8).overflow);
    }

    #[test]
    fn doubles() {
        assert_eq!(parse_f64_strict(b"99.9"), Some(99.9));
        assert_eq!(parse_f64_strict(b"1e1"), Some(10.0));
        assert_eq!(parse_f64_strict(b"a"), None);
        assert_eq!(parse_f64_strict(b" 1"), None);
        assert_eq!(parse_f64_strict(b"nan"), None);
        assert_eq!(parse_f64_strict(b"1e999"), None);
        assert_eq!(parse_f64_strict(b"1e-400"), None);
        assert_eq!(parse_f64_strict(b"0e-400"), Some(0.0));
        assert_eq!(parse_f64_strict(b"0x10"), Some(16.0));
        assert_eq!(parse_f64_strict(b"0x1.8p1"), Some(3.0));
        assert_eq!(parse_f64_strict(b"-0x1p-2"), Some(-0.25));
        assert_eq!(parse_f64_strict(b"0x"), None);
        assert_eq!(parse_f64_strict(b"0xg"), None);
        assert_eq!(parse_f64_strict(b"+-1"), None);
        assert_eq!(parse_f64_strict(b"inf"), Some(f64::INFINITY));
        assert_eq!(format_f64_trimmed(99.9), "99.9");
        assert_eq!(format_f64_trimmed(50.0), "50");
        assert_eq!(format_f64_trimmed(0.0), "0");
        assert_eq!(format_f64_trimmed(99.99), "99.99");
    }

    #[test]
    fn memory_formatting() {
        assert_eq!(format_memory_for_config(0), "0");
        assert_eq!(format_memory_for_config(1000), "1000");
        assert_eq!(format_memory_for_config(4096), "4kb");
        assert_eq!(format_memory_for_config(64 << 20), "64mb");
        assert_eq!(format_memory_for_config(1 << 30), "1gb");
        assert_eq!(format_memory_for_config(3 << 30), "3gb");
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1024), "1.00K");
        assert_eq!(bytes_to_human(1536), "1.50K");
        assert_eq!(bytes_to_human(866_848), "846.53K");
        assert_eq!(bytes_to_human(1 << 20), "1.00M");
        assert_eq!(bytes_to_human(5 << 30), "5.00G");
        assert_eq!(bytes_to_human(1 << 40), "1.00T");
        assert_eq!(bytes_to_human(1 << 50), "1.00P");
        assert_eq!(bytes_to_human(u64::MAX), "18446744073709551615B");
    }

    #[test]
    fn globbing() {
        assert!(glob_match(b"*", b"anything", true));
        // Like Redis 7.0, an empty string never matches (loop never entered).
        assert!(!glob_match(b"*", b"", true));
        assert!(glob_match(b"max*", b"maxmemory", true));
        assert!(glob_match(b"MAX*", b"maxmemory", true));
        assert!(!glob_match(b"MAX*", b"maxmemory", false));
        assert!(glob_match(b"*of", b"replicaof", true));
        assert!(glob_match(b"h?llo", b"hello", false));
        assert!(glob_match(b"h[ae]llo", b"hallo", false));
        assert!(!glob_match(b"h[^e]llo", b"hello", false));
        assert!(glob_match(b"h[a-b]llo", b"hbllo", false));
        assert!(glob_match(b"h[b-a]llo", b"hallo", false));
        assert!(glob_match(b"h\\*llo", b"h*llo", false));
        assert!(!glob_match(b"h\\*llo", b"hello", false));
        assert!(!glob_match(b"a[", b"a[", false));
        assert!(glob_match(b"a[b", b"ab", false));
        assert!(!glob_match(b"a*b", b"acd", false));
        assert!(glob_match(b"a**", b"a", false));
        assert!(!glob_match(b"", b"a", false));
        // Pathological pattern terminates quickly.
        let pat = b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
        assert!(!glob_match(pat, &[b'a'; 200], false));
    }
}
