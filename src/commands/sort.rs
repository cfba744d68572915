//! SORT and SORT_RO (Redis's sort.c): sort the elements of a list, set or sorted set
//! numerically or lexicographically, by themselves or by external keys (`BY weight_*`,
//! `BY obj_*->field`), return or STORE them, optionally fetching other keys per element (`GET`).

use bytes::Bytes;

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, BeginSearch, CmdError, CmdResult, CommandSpec, Ctx,
    FindKeys, Group, KeySpec,
};
use crate::db::notify;
use crate::types::object::{RObj, Value};
use crate::types::quicklist::Quicklist;

/// One GET/BY pattern lookup (lookupKeyByPattern): `#` is the element itself; otherwise the
/// first `*` is replaced by the element and the key read as a string, or, with `->field`, as a
/// hash field. `None` when there is no such value.
fn lookup_by_pattern(ctx: &mut Ctx, pattern: &[u8], elem: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(elem.to_vec());
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    let (postfix, field) = match after.windows(2).position(|w| w == b"->") {
        Some(i) if i + 2 < after.len() => (&after[..i], Some(&after[i + 2..])),
        _ => (after, None),
    };
    let mut key = Vec::with_capacity(pattern.len() + elem.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(elem);
    key.extend_from_slice(postfix);
    let (o, _) = ctx.read(&key);
    let o = o?;
    match field {
        None => match &o.value {
            Value::Str(s) => Some(s.to_vec()),
            _ => None,
        },
        Some(f) => hash_field(&o.value, f),
    }
}

/// A hash field of `v`, if `v` is a hash.
fn hash_field(v: &Value, field: &[u8]) -> Option<Vec<u8>> {
    match v {
        Value::Hash(h) => h.get(field).map(|v| v.to_vec()),
        _ => None,
    }
}

/// Which kind of collection is sorted.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Set,
    ZSet,
}

/// The elements of a sortable value in their native order (list order, set iteration order,
/// sorted set score order). `None` for values SORT refuses.
fn native_elements(v: &Value) -> Option<(Kind, Vec<Vec<u8>>)> {
    match v {
        Value::List(l) => {
            let mut v = Vec::with_capacity(l.len());
            l.visit(0, false, |e| {
                v.push(e.to_vec());
                true
            });
            Some((Kind::List, v))
        }
        Value::Set(s) => Some((Kind::Set, s.iter().map(|m| m.to_vec()).collect())),
        Value::ZSet(z) => Some((Kind::ZSet, z.iter(false).map(|(e, _)| e.to_vec()).collect())),
        _ => None,
    }
}

/// Build the list value STORE writes: a quicklist with the configured fill and compress
/// depth, every item pushed at the tail.
fn make_list(ctx: &Ctx, items: Vec<Vec<u8>>) -> Value {
    let mut ql = Quicklist::new(
        ctx.srv.config.list_max_listpack_size,
        ctx.srv.config.list_compress_depth,
    );
    for it in &items {
        ql.push(it, true);
    }
    Value::List(Box::new(ql))
}

/// One element and what it sorts by.
struct Item {
    elem: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

/// SORT / SORT_RO (sortCommandGeneric).
/// May the user read any key? BY and GET patterns name keys no ACL check saw
/// (ACLUserCheckCmdWithUnrestrictedKeyAccess with CMD_KEY_ACCESS).
fn full_key_access(ctx: &Ctx) -> bool {
    let (Some(uid), Some(id)) = (ctx.client.user, ctx.client.last_cmd) else {
        return true;
    };
    let u = ctx.srv.acl.user(uid);
    u.unrestricted || u.check_command_all_keys(&ctx.srv.commands, id, ctx.argv, kf::ACCESS)
}

fn sort_generic(ctx: &mut Ctx, readonly: bool) -> CmdResult {
    let argv = ctx.argv;
    let key = &argv[1][..];
    let (mut desc, mut alpha, mut dontsort) = (false, false, false);
    let (mut limit_start, mut limit_count) = (0i64, -1i64);
    let mut sortby: Option<&[u8]> = None;
    let mut store: Option<&[u8]> = None;
    let mut gets: Vec<&[u8]> = Vec::new();
    let mut j = 2;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j];
        if is(a, "asc") {
            desc = false;
        } else if is(a, "desc") {
            desc = true;
        } else if is(a, "alpha") {
            alpha = true;
        } else if is(a, "limit") && left >= 2 {
            limit_start = parse_i64(&argv[j + 1])?;
            limit_count = parse_i64(&argv[j + 2])?;
            j += 2;
        } else if !readonly && is(a, "store") && left >= 1 {
            store = Some(&argv[j + 1]);
            j += 1;
        } else if is(a, "by") && left >= 1 {
            sortby = Some(&argv[j + 1]);
            dontsort = !argv[j + 1].contains(&b'*');
            if !dontsort && !full_key_access(ctx) {
                return Err(CmdError::err(
                    "BY option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            j += 1;
        } else if is(a, "get") && left >= 1 {
            if !full_key_access(ctx) {
                return Err(CmdError::err(
                    "GET option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            gets.push(&argv[j + 1]);
            j += 1;
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }

    // Sorted sets are sorted from their skiplist form, as Redis converts them in place.
    let (kind, mut elems) = match ctx.read(key) {
        (None, _) => (Kind::List, Vec::new()),
        (Some(o), _) => native_elements(&o.value).ok_or(errors::WRONGTYPE)?,
    };
    if kind == Kind::ZSet {
        let db = ctx.client.db;
        if let Some(RObj {
            value: Value::ZSet(z),
            ..
        }) = ctx.srv.dbs[db].keys.get_mut(key)
        {
            z.convert_to_skiplist();
        }
    }
    // A set has no order: stored or script results are made deterministic by sorting.
    if dontsort
        && kind == Kind::Set
        && (store.is_some() || ctx.client.has(crate::client::flags::SCRIPT))
    {
        dontsort = false;
        alpha = true;
        sortby = None;
    }

    let vectorlen = elems.len() as i64;
    let mut start = limit_start.max(0).min(vectorlen);
    let limit_count = limit_count.max(-1).min(vectorlen);
    let mut end = if limit_count < 0 {
        vectorlen - 1
    } else {
        start + limit_count - 1
    };
    if start >= vectorlen {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if end >= vectorlen {
        end = vectorlen - 1;
    }
    if dontsort && kind != Kind::Set {
        if desc {
            elems.reverse();
        }
        if end >= start {
            elems = elems.drain(start as usize..=end as usize).collect();
        } else {
            elems.clear();
        }
        end -= start;
        start = 0;
    }

    let mut items: Vec<Item> = elems
        .into_iter()
        .map(|elem| Item {
            elem,
            score: 0.0,
            cmp: None,
        })
        .collect();
    let mut conversion_error = false;
    if !dontsort {
        for it in items.iter_mut() {
            let byval = match sortby {
                Some(p) => match lookup_by_pattern(ctx, p, &it.elem) {
                    Some(v) => v,
                    None => continue,
                },
                None => it.elem.clone(),
            };
            if alpha {
                if sortby.is_some() {
                    it.cmp = Some(byval);
                }
            } else {
                let r = crate::util::numbers::strtod(&byval);
                let rest_ok = matches!(byval.get(r.consumed), None | Some(0));
                if !rest_ok || r.range_error || r.value.is_nan() {
                    conversion_error = true;
                }
                it.score = r.value;
            }
        }
        let by_pattern = sortby.is_some();
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then_with(|| a.elem.cmp(&b.elem))
            } else if by_pattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => x.cmp(y),
                }
            } else {
                a.elem.cmp(&b.elem)
            };
            if desc {
                c.reverse()
            } else {
                c
            }
        });
    }

    let count = (end - start + 1).max(0) as usize;
    let outputlen = if gets.is_empty() {
        count
    } else {
        gets.len() * count
    };
    if conversion_error {
        return Err(CmdError::Static(
            "ERR One or more scores can't be converted into double",
        ));
    }
    let window = if count > 0 {
        &items[start as usize..start as usize + count]
    } else {
        &items[..0]
    };
    match store {
        None => {
            ctx.reply().array_len(outputlen);
            for it in window {
                if gets.is_empty() {
                    ctx.reply().bulk(&it.elem);
                }
                for g in &gets {
                    match lookup_by_pattern(ctx, g, &it.elem) {
                        Some(v) => ctx.reply().bulk(&v),
                        None => ctx.reply().null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut out = Vec::with_capacity(outputlen);
            for it in window {
                if gets.is_empty() {
                    out.push(it.elem.clone());
                }
                for g in &gets {
                    out.push(lookup_by_pattern(ctx, g, &it.elem).unwrap_or_default());
                }
            }
            if outputlen > 0 {
                let list = make_list(ctx, out);
                ctx.set_key(dst, list, false);
                ctx.notify(notify::LIST, "sortstore", dst);
                ctx.dirty(outputlen as u64);
            } else if ctx.delete_key(dst) {
                ctx.notify(notify::GENERIC, "del", dst);
                ctx.dirty(1);
            }
            ctx.reply().int(outputlen as i64);
        }
    }
    Ok(())
}

fn sort(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, false)
}

fn sort_ro(ctx: &mut Ctx) -> CmdResult {
    sort_generic(ctx, true)
}

/// SORT's keys: the sorted key and the last STORE destination (sortGetKeys).
fn sort_getkeys(argv: &[Bytes]) -> Vec<(usize, u32)> {
    let mut keys = vec![(1, kf::RO | kf::ACCESS)];
    let mut store = None;
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i];
        if is(a, "limit") {
            i += 2;
        } else if is(a, "get") || is(a, "by") {
            i += 1;
        } else if is(a, "store") && i + 1 < argv.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    keys.extend(store.map(|i| (i, kf::OW | kf::UPDATE)));
    keys
}

/// SORT_RO's key: only the sorted key.
fn sort_ro_getkeys(_argv: &[Bytes]) -> Vec<(usize, u32)> {
    vec![(1, kf::RO | kf::ACCESS)]
}

/// The sorted key; the BY/GET pattern keys (unknown positions); the STORE destination.
const SORT_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RO | kf::ACCESS),
    KeySpec {
        flags: kf::RO | kf::ACCESS,
        begin: BeginSearch::Unknown,
        find: FindKeys::Unknown,
    },
    KeySpec {
        flags: kf::OW | kf::UPDATE,
        begin: BeginSearch::Unknown,
        find: FindKeys::Unknown,
    },
];
const SORT_RO_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RO | kf::ACCESS),
    KeySpec {
        flags: kf::RO | kf::ACCESS,
        begin: BeginSearch::Unknown,
        find: FindKeys::Unknown,
    },
];
const SORT_ACL: u64 = acl::SET | acl::SORTEDSET | acl::LIST | acl::DANGEROUS;
const SORT_SYNTAX: &str = "key:key [BY pattern:pattern] [LIMIT offset:integer count:integer] [GET pattern:pattern...] [order=ASC|DESC] [sorting=ALPHA] [STORE destination:key]";

/// SORT and SORT_RO.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sort", -2, sort).flags(WRITE | DENYOOM).acl(SORT_ACL).keys(SORT_KEYS).getkeys(sort_getkeys).group(Group::Generic).since("1.0.0").doc("Sorts the elements in a list, a set, or a sorted set, optionally storing the result.", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).").syntax(SORT_SYNTAX),
    CommandSpec::new("sort_ro", -2, sort_ro).flags(READONLY).acl(SORT_ACL).keys(SORT_RO_KEYS).getkeys(sort_ro_getkeys).group(Group::Generic).since("7.0.0").doc("Returns the sorted elements of a list, a set, or a sorted set.", "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).").syntax("key:key [BY pattern:pattern] [LIMIT offset:integer count:integer] [GET pattern:pattern...] [order=ASC|DESC] [sorting=ALPHA]"),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn positions(keys: Vec<(usize, u32)>) -> Vec<usize> {
        keys.into_iter().map(|(i, _)| i).collect()
    }

    fn argv(s: &str) -> Vec<Bytes> {
        s.split(' ')
            .map(|w| Bytes::copy_from_slice(w.as_bytes()))
            .collect()
    }

    #[test]
    fn getkeys_finds_last_store() {
        assert_eq!(
            positions(sort_getkeys(&argv("sort abc store def"))),
            vec![1, 3]
        );
        assert_eq!(
            positions(sort_getkeys(&argv(
                "sort abc store invalid store stillbad store def"
            ))),
            vec![1, 7]
        );
        assert_eq!(
            positions(sort_getkeys(&argv("sort abc get store"))),
            vec![1]
        );
        assert_eq!(
            positions(sort_getkeys(&argv("sort abc limit store 1 store x"))),
            vec![1, 6]
        );
    }
}
