//! Glob-style matching with the exact semantics of Redis 7.0's
//! `stringmatchlen` (used by KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET,
//! ACL key/channel patterns, ...).
//!
//! Supported syntax: `*` (any run, consecutive stars collapse), `?` (one
//! byte), `[...]` classes with `^` negation, `a-z` ranges (reversed ranges
//! are swapped; bounds compare as C `signed char`), `\` escapes inside and
//! outside classes, and an unterminated `[` that behaves like a class closed
//! at the end of the pattern. Matching is byte-wise; `nocase` folds ASCII
//! letters, and inside ranges also reproduces glibc `tolower` on negative
//! `char` values (bytes 0x80..=0xfe become 128..=254).
//!
//! Redis's recursive matcher gives up on further `*` alternatives once the
//! rest of the pattern failed at every later position (`skipLongerMatches`)
//! and returns "no match" past 1000 nested stars. Both behaviours are kept
//! here with an iterative backtracking loop, which only ever returns to the
//! most recent star: worst case O(pattern × string) time, O(1) space, and no
//! recursion, so arbitrarily long patterns are safe.
//!
//! Redis quirk kept on purpose: an empty subject only matches an empty
//! pattern (even `*` does not match it; KEYS/SCAN special-case a lone `*`
//! before calling the matcher).

/// Redis stops following stars nested deeper than this (`nesting > 1000`).
const MAX_STAR_NESTING: u32 = 1000;

/// glibc `tolower` in the C locale applied to a (signed) `char` value:
/// `A-Z` map to `a-z`, and negative values other than `EOF` (-1) map to
/// their unsigned byte value (the table is indexed from -128).
fn lower(c: i32) -> i32 {
    match c {
        65..=90 => c + 32,
        -128..=-2 => c + 256,
        _ => c,
    }
}

fn bytes_eq(a: u8, b: u8, nocase: bool) -> bool {
    a == b || (nocase && a.eq_ignore_ascii_case(&b))
}

/// Matches the bracket expression starting at `pattern[open] == b'['`
/// against `c`. Returns whether it matched and the index just past it.
fn match_class(pattern: &[u8], open: usize, c: u8, nocase: bool) -> (bool, usize) {
    let at = |i: usize| pattern.get(i).copied();
    let mut i = open + 1;
    let negate = at(i) == Some(b'^');
    if negate {
        i += 1;
    }
    let mut matched = false;
    loop {
        let remaining = pattern.len() - i;
        if at(i) == Some(b'\\') && remaining >= 2 {
            // Escaped byte: compared exactly, even with nocase.
            i += 1;
            matched |= pattern[i] == c;
        } else if at(i) == Some(b']') {
            break;
        } else if remaining == 0 {
            // Unterminated class: it ends with the pattern.
            i -= 1;
            break;
        } else if remaining >= 3 && pattern[i + 1] == b'-' {
            // C `char` is signed on x86-64, so bytes >= 0x80 sort first.
            let (mut start, mut end) =
                (i32::from(pattern[i] as i8), i32::from(pattern[i + 2] as i8));
            let mut ch = i32::from(c as i8);
            if start > end {
                std::mem::swap(&mut start, &mut end);
            }
            if nocase {
                (start, end, ch) = (lower(start), lower(end), lower(ch));
            }
            i += 2;
            matched |= (start..=end).contains(&ch);
        } else {
            matched |= bytes_eq(pattern[i], c, nocase);
        }
        i += 1;
    }
    (matched != negate, i + 1)
}

/// Matches the single-byte token (anything but `*`) at `pattern[p]`
/// against `c`; returns whether it matched and the index after the token.
fn match_token(pattern: &[u8], p: usize, c: u8, nocase: bool) -> (bool, usize) {
    match pattern[p] {
        b'?' => (true, p + 1),
        b'[' => match_class(pattern, p, c, nocase),
        b'\\' if pattern.len() - p >= 2 => (bytes_eq(pattern[p + 1], c, nocase), p + 2),
        lit => (bytes_eq(lit, c, nocase), p + 1),
    }
}

/// Glob match of `s` against `pattern` with Redis `stringmatchlen`
/// semantics; `nocase` compares ASCII letters case-insensitively.
pub fn string_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    if s.is_empty() {
        return pattern.is_empty();
    }
    let skip_stars = |mut p: usize| {
        while pattern.get(p) == Some(&b'*') {
            p += 1;
        }
        p
    };
    let (mut p, mut i) = (0usize, 0usize);
    // Most recent star: (pattern index after it, subject index its current
    // attempt started at). Earlier stars are never revisited.
    let mut star: Option<(usize, usize)> = None;
    let mut star_groups = 0u32;
    loop {
        // Invariant: i < s.len().
        let advanced = if p == pattern.len() {
            None
        } else if pattern[p] == b'*' {
            let after = skip_stars(p);
            if after == pattern.len() {
                return true;
            }
            star_groups += 1;
            if star_groups > MAX_STAR_NESTING {
                return false;
            }
            star = Some((after, i));
            p = after;
            continue;
        } else {
            let (ok, next) = match_token(pattern, p, s[i], nocase);
            ok.then_some(next)
        };
        if let Some(next) = advanced {
            p = next;
            i += 1;
            if i < s.len() {
                continue;
            }
            // Subject consumed: only trailing stars may remain.
            if skip_stars(p) == pattern.len() {
                return true;
            }
        }
        // Mismatch: retry the rest after the last star one byte later.
        match star {
            Some((after, start)) if start + 1 < s.len() => {
                star = Some((after, start + 1));
                p = after;
                i = start + 1;
            }
            _ => return false,
        }
    }
}

/// [`string_match`] on `&str` arguments (Redis `stringmatch`).
pub fn string_match_str(pattern: &str, s: &str, nocase: bool) -> bool {
    string_match(pattern.as_bytes(), s.as_bytes(), nocase)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Literal port of Redis 7.0 `stringmatchlen_impl` (recursive), used as
    /// the reference. Out-of-range reads see the C string terminator `0`.
    fn reference(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
        fn imp(
            pat: &[u8],
            mut p: usize,
            s: &[u8],
            mut i: usize,
            nocase: bool,
            skip: &mut bool,
            nesting: u32,
        ) -> bool {
            let at = |k: usize| pat.get(k).copied().unwrap_or(0);
            let low = |c: u8| i32::from(c as i8);
            let tl = |c: i32| match c {
                65..=90 => c + 32,
                -128..=-2 => c + 256,
                _ => c,
            };
            if nesting > 1000 {
                return false;
            }
            while p < pat.len() && i < s.len() {
                match pat[p] {
                    b'*' => {
                        while p < pat.len() && at(p + 1) == b'*' {
                            p += 1;
                        }
                        if pat.len() - p == 1 {
                            return true;
                        }
                        while i < s.len() {
                            if imp(pat, p + 1, s, i, nocase, skip, nesting + 1) {
                                return true;
                            }
                            if *skip {
                                return false;
                            }
                            i += 1;
                        }
                        *skip = true;
                        return false;
                    }
                    b'?' => i += 1,
                    b'[' => {
                        p += 1;
                        let not = at(p) == b'^';
                        if not {
                            p += 1;
                        }
                        let mut m = false;
                        loop {
                            let len = pat.len() - p;
                            if at(p) == b'\\' && len >= 2 {
                                p += 1;
                                if pat[p] == s[i] {
                                    m = true;
                                }
                            } else if at(p) == b']' {
                                break;
                            } else if len == 0 {
                                p -= 1;
                                break;
                            } else if len >= 3 && pat[p + 1] == b'-' {
                                let (mut a, mut b) = (low(pat[p]), low(pat[p + 2]));
                                let mut c = low(s[i]);
                                if a > b {
                                    std::mem::swap(&mut a, &mut b);
                                }
                                if nocase {
                                    a = tl(a);
                                    b = tl(b);
                                    c = tl(c);
                                }
                                p += 2;
                                if c >= a && c <= b {
                                    m = true;
                                }
                            } else if !nocase {
                                if pat[p] == s[i] {
                                    m = true;
                                }
                            } else if tl(low(pat[p])) == tl(low(s[i])) {
                                m = true;
                            }
                            p += 1;
                        }
                        if not {
                            m = !m;
                        }
                        if !m {
                            return false;
                        }
                        i += 1;
                    }
                    c => {
                        let c = if c == b'\\' && pat.len() - p >= 2 {
                            p += 1;
                            pat[p]
                        } else {
                            c
                        };
                        let eq = if nocase {
                            tl(low(c)) == tl(low(s[i]))
                        } else {
                            c == s[i]
                        };
                        if !eq {
                            return false;
                        }
                        i += 1;
                    }
                }
                p += 1;
                if i == s.len() {
                    while at(p) == b'*' && p < pat.len() {
                        p += 1;
                    }
                    break;
                }
            }
            p == pat.len() && i == s.len()
        }
        let mut skip = false;
        imp(pattern, 0, s, 0, nocase, &mut skip, 0)
    }

    fn m(p: &str, s: &str) -> bool {
        string_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn basics() {
        assert!(m("*", "hello"));
        assert!(m("h?llo", "hello"));
        assert!(m("h*o", "hello"));
        assert!(m("h**o", "ho"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("[\\]]", "]"));
        assert!(m("[\\-]", "-"));
        assert!(m("a\\", "a\\"), "trailing backslash is literal");
        assert!(m("*a*", "banana"));
        assert!(!m("*x*", "banana"));
        assert!(m("user:*:name", "user:1000:name"));
    }

    #[test]
    fn redis_quirks() {
        // Empty subject matches only the empty pattern.
        assert!(m("", ""));
        assert!(!m("*", ""));
        assert!(!m("", "a"));
        // Unterminated classes.
        assert!(m("[abc", "b"));
        assert!(!m("[", "a"));
        assert!(m("[^", "x"));
        assert!(!m("a[", "a["), "lone [ matches nothing");
        // Empty class matches nothing; negated empty matches anything.
        assert!(!m("[]", "a"));
        assert!(m("[^]", "a"));
        // "[a-]" is the range a..']' (swapped) and the class runs on.
        assert!(m("[a-]x]", "_"));
        // nocase lowers range bounds after swapping: [Z-a] becomes [z-a].
        assert!(!string_match(b"[Z-a]", b"_", true));
        assert!(string_match(b"[Z-a]", b"_", false));
        // Escapes inside classes ignore nocase, plain members do not.
        assert!(!string_match(b"[\\A]", b"a", true));
        assert!(string_match(b"[A]", b"a", true));
        assert!(string_match(b"\\A", b"a", true));
        // Signed char ranges: [a-\xff] is [-1, 97].
        assert!(string_match(b"[a-\xff]", b"\xff", false));
        assert!(!string_match(b"[a-\xff]", b"\x80", false));
        assert!(string_match(b"[a-\xff]", b"0", false));
        assert!(!string_match(b"[a-\xff]", b"z", false));
    }

    #[test]
    fn nocase() {
        assert!(string_match(b"HeLLo*", b"hello world", true));
        assert!(!string_match(b"HeLLo*", b"hello world", false));
        assert!(string_match(b"[A-C]x", b"bX", true));
    }

    #[test]
    fn long_nested_patterns_are_fast() {
        // tests/unit/keyspace.tcl regressions.
        let subject = vec![b'a'; 40];
        assert!(!string_match(
            b"a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
            &subject,
            false
        ));
        let subject = vec![b'a'; 50_000];
        assert!(!string_match(
            "*?".repeat(50_000).as_bytes(),
            &subject,
            false
        ));
        let pattern = format!("{}b", "a*".repeat(5_000));
        assert!(!string_match(
            pattern.as_bytes(),
            &vec![b'a'; 20_000],
            false
        ));
        // Deep patterns never recurse.
        assert!(string_match("*".repeat(100_000).as_bytes(), b"x", false));
        assert!(!string_match("[".repeat(100_000).as_bytes(), b"x", false));
    }

    #[test]
    fn star_nesting_limit() {
        // Matching through 1000 stars works, 1001 gives up like Redis.
        let subject = vec![b'a'; 1001];
        let p1000 = "*a".repeat(1000);
        assert!(string_match(p1000.as_bytes(), &subject[..1000], false));
        let p1001 = "*a".repeat(1001);
        assert!(!string_match(p1001.as_bytes(), &subject, false));
        assert!(!reference(p1001.as_bytes(), &subject, false));
        // A trailing star group is not counted.
        let p = format!("{}*", "a*".repeat(1000));
        assert!(string_match(p.as_bytes(), &subject, false));
    }

    /// Small xorshift generator so the tests need no dependencies.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn differential_against_recursive_reference() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let pat_alpha = b"ab*?[]^-\\A";
        let str_alpha = b"abAB-]^*";
        for _ in 0..300_000 {
            let plen = rng.below(9);
            let slen = rng.below(7);
            let p: Vec<u8> = (0..plen)
                .map(|_| pat_alpha[rng.below(pat_alpha.len())])
                .collect();
            let s: Vec<u8> = (0..slen)
                .map(|_| str_alpha[rng.below(str_alpha.len())])
                .collect();
            let nocase = rng.below(2) == 1;
            assert_eq!(
                string_match(&p, &s, nocase),
                reference(&p, &s, nocase),
                "pattern {:?} subject {:?} nocase {nocase}",
                String::from_utf8_lossy(&p),
                String::from_utf8_lossy(&s)
            );
        }
    }

    #[test]
    fn fuzz_random_bytes_like_debug_stringmatch_test() {
        // DEBUG STRINGMATCH-TEST feeds random 7-bit bytes; must not panic.
        let mut rng = Rng(42);
        for _ in 0..200_000 {
            let p: Vec<u8> = (0..rng.below(32))
                .map(|_| (rng.next() % 128) as u8)
                .collect();
            let s: Vec<u8> = (0..rng.below(32))
                .map(|_| (rng.next() % 128) as u8)
                .collect();
            assert_eq!(string_match(&p, &s, false), reference(&p, &s, false));
        }
    }
}
