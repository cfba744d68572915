//! Key extraction from key specs (Redis's getKeysUsingKeySpecs), used by COMMAND GETKEYS,
//! GETKEYSANDFLAGS, and later by ACL key checks and cluster slot checks.

use bytes::Bytes;

use super::{BeginSearch, CommandSpec, FindKeys};

/// Positions of the keys in `argv` with each key's spec flags, or an error text.
pub fn get_keys(spec: &CommandSpec, argv: &[Bytes]) -> Vec<(usize, u32)> {
    if let Some(f) = spec.getkeys {
        // Custom extraction: flags from the first spec that covers the position.
        let flags = spec.keys.first().map(|k| k.flags).unwrap_or(0);
        return f(argv).into_iter().map(|i| (i, flags)).collect();
    }
    let argc = argv.len() as i32;
    let mut out = Vec::new();
    for ks in spec.keys {
        let first = match ks.begin {
            BeginSearch::Index(i) => i,
            BeginSearch::Keyword { keyword, startfrom } => {
                let (mut i, end, step) = if startfrom >= 0 {
                    (startfrom, argc, 1)
                } else {
                    (argc + startfrom, 0, -1)
                };
                let mut found = None;
                while (step > 0 && i < end) || (step < 0 && i > end) {
                    if i < 0 || i >= argc {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                        found = Some(i + 1);
                        break;
                    }
                    i += step;
                }
                match found {
                    Some(i) => i,
                    None => continue,
                }
            }
            BeginSearch::Unknown => continue,
        };
        if first >= argc {
            continue;
        }
        let (last, step) = match ks.find {
            FindKeys::Range { lastkey, step, limit } => {
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit <= 1 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, step)
            }
            FindKeys::Keynum { keynumidx, firstkey, step } => {
                let idx = first + keynumidx;
                if idx >= argc {
                    continue;
                }
                let Some(n) = crate::util::numbers::string2ll(&argv[idx as usize]) else {
                    continue;
                };
                if n <= 0 {
                    continue;
                }
                let start = first + firstkey;
                let last = start + (n as i32 - 1) * step;
                out_range(&mut out, start, last, step, argc, ks.flags);
                continue;
            }
            FindKeys::Unknown => continue,
        };
        out_range(&mut out, first, last, step, argc, ks.flags);
    }
    out
}

fn out_range(out: &mut Vec<(usize, u32)>, first: i32, last: i32, step: i32, argc: i32, flags: u32) {
    let mut i = first;
    while i <= last && i < argc && step > 0 {
        out.push((i as usize, flags));
        i += step;
    }
}
