//! Key extraction from key specs (Redis's getKeysUsingKeySpecs), used by COMMAND GETKEYS,
//! GETKEYSANDFLAGS ([`get_keys`]) and by ACL key checks ([`keys_for_acl`], Redis's
//! getKeysFromCommandWithSpecs: specs when they are complete, else the command's own
//! extraction).

use bytes::Bytes;

use super::{keyflags, BeginSearch, CommandSpec, FindKeys};

/// Positions of the keys in `argv` with each key's spec flags, or an error text.
pub fn get_keys(spec: &CommandSpec, argv: &[Bytes]) -> Vec<(usize, u32)> {
    if let Some(f) = spec.getkeys {
        return f(argv);
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
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit <= 1 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, step)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
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

/// Whether a command may name keys at all (Redis's doesCommandHaveKeys).
pub fn has_keys(spec: &CommandSpec) -> bool {
    spec.getkeys.is_some() || spec.keys.iter().any(|k| k.flags & keyflags::NOT_KEY == 0)
}

/// The keys of `argv` with their flags as Redis's ACL checks see them
/// (getKeysFromCommandWithSpecs with GET_KEYSPEC_DEFAULT): the key specs when every one of
/// them resolves and none has variable flags, otherwise the command's own extraction.
pub fn keys_for_acl(spec: &CommandSpec, argv: &[Bytes]) -> Vec<(usize, u32)> {
    let has_keyspec = spec.keys.iter().any(|k| k.flags & keyflags::NOT_KEY == 0);
    let has_varflags = spec
        .keys
        .iter()
        .any(|k| k.flags & keyflags::VARIABLE_FLAGS != 0);
    if has_keyspec && !has_varflags {
        if let Some(keys) = keys_using_specs(spec, argv) {
            return keys;
        }
    }
    match spec.getkeys {
        Some(f) => f(argv),
        None => Vec::new(),
    }
}

/// Redis's getKeysUsingKeySpecs without partial results: `None` when a spec cannot be
/// resolved (unknown search, bad key count, out of range, or incomplete).
fn keys_using_specs(spec: &CommandSpec, argv: &[Bytes]) -> Option<Vec<(usize, u32)>> {
    let argc = argv.len() as i32;
    let mut out = Vec::new();
    for ks in spec.keys {
        if ks.flags & keyflags::NOT_KEY != 0 {
            continue;
        }
        let mut first = match ks.begin {
            BeginSearch::Index(i) => i,
            BeginSearch::Keyword { keyword, startfrom } => {
                let start = if startfrom > 0 {
                    startfrom
                } else {
                    argc + startfrom
                };
                let end = if startfrom > 0 { argc - 1 } else { 1 };
                let mut i = start;
                let mut found = 0;
                while i != end {
                    if i >= argc || i < 1 {
                        break;
                    }
                    if argv[i as usize].eq_ignore_ascii_case(keyword.as_bytes()) {
                        found = i + 1;
                        break;
                    }
                    i = if start <= end { i + 1 } else { i - 1 };
                }
                if found == 0 {
                    continue;
                }
                found
            }
            BeginSearch::Unknown => return None,
        };
        let (last, step) = match ks.find {
            FindKeys::Range {
                lastkey,
                step,
                limit,
            } => {
                let last = if lastkey >= 0 {
                    first + lastkey
                } else if limit == 0 {
                    argc + lastkey
                } else {
                    first + ((argc - first) / limit + lastkey)
                };
                (last, step)
            }
            FindKeys::Keynum {
                keynumidx,
                firstkey,
                step,
            } => {
                if keynumidx >= argc || first + keynumidx >= argc {
                    return None;
                }
                let n = crate::util::numbers::string2ll(&argv[(first + keynumidx) as usize])
                    .filter(|&n| n >= 0)?;
                first += firstkey;
                (first + n as i32 - 1, step)
            }
            FindKeys::Unknown => return None,
        };
        if last >= argc || last < first || first >= argc {
            return None;
        }
        let mut i = first;
        while i <= last {
            out.push((i as usize, ks.flags));
            i += step.max(1);
        }
        if ks.flags & keyflags::INCOMPLETE != 0 {
            return None;
        }
    }
    Some(out)
}
