//! Set commands (Redis's t_set.c): SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS,
//! SRANDMEMBER, SPOP, SMOVE, SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF,
//! SDIFFSTORE, SSCAN. The value and its encodings live in `types::set`.

use bytes::Bytes;

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::commands::hash::reply_lp;
use crate::db::notify;
use crate::resp::reply::{Aggregate, ReplyBuf};
use crate::types::listpack::{LpValue, INT_BUF_SIZE};
use crate::types::object::{RObj, Value};
use crate::types::set::Set;

/// Read the set at `key`: `Ok(None)` when missing, WRONGTYPE for another type.
fn read_set<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c Set>, &'c mut ReplyBuf), CmdError> {
    match ctx.read(key) {
        (None, r) => Ok((None, r)),
        (
            Some(RObj {
                value: Value::Set(s),
                ..
            }),
            r,
        ) => Ok((Some(s), r)),
        (Some(_), _) => Err(errors::WRONGTYPE),
    }
}

/// The set at `key` for writing (lookupKeyWrite + type check).
fn write_set<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut Set>, CmdError> {
    match ctx.write(key) {
        Some(RObj {
            value: Value::Set(s),
            ..
        }) => Ok(Some(s)),
        Some(_) => Err(errors::WRONGTYPE),
        None => Ok(None),
    }
}

fn max_intset(ctx: &Ctx) -> usize {
    ctx.srv.config.set_max_intset_entries as usize
}

/// An element as an owned argument, for propagation.
fn lp_bytes(v: LpValue<'_>) -> Bytes {
    Bytes::from(v.to_vec())
}

fn sadd(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let max = max_intset(ctx);
    if write_set(ctx, key)?.is_none() {
        let lru = ctx.srv.lruclock;
        let db = ctx.client.db;
        ctx.srv.dbs[db].add(
            key,
            RObj::new(Value::Set(Box::new(Set::for_member(&argv[2]))), lru),
        );
    }
    let s = write_set(ctx, key)?.expect("created above");
    let added = argv[2..].iter().filter(|m| s.add(m, max)).count();
    if added > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::SET, "sadd", key);
    }
    ctx.dirty(added as u64);
    ctx.reply().int(added as i64);
    Ok(())
}

/// Delete `key` after its set became empty, with the `del` event.
fn delete_emptied(ctx: &mut Ctx, key: &[u8]) {
    let db = ctx.client.db;
    ctx.srv.dbs[db].delete(key);
    ctx.notify(notify::GENERIC, "del", key);
}

fn srem(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let Some(s) = write_set(ctx, key)? else {
        ctx.reply().int(0);
        return Ok(());
    };
    let mut deleted = 0;
    let mut emptied = false;
    for m in &argv[2..] {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    if deleted > 0 {
        if emptied {
            let db = ctx.client.db;
            ctx.srv.dbs[db].delete(key);
        }
        ctx.signal_modified(key);
        ctx.notify(notify::SET, "srem", key);
        if emptied {
            ctx.notify(notify::GENERIC, "del", key);
        }
        ctx.dirty(deleted);
    }
    ctx.reply().int(deleted as i64);
    Ok(())
}

fn smove(ctx: &mut Ctx) -> CmdResult {
    let (src, dst, member) = (ctx.arg(1), ctx.arg(2), ctx.arg(3));
    let max = max_intset(ctx);
    if write_set(ctx, src)?.is_none() {
        ctx.reply().int(0);
        return Ok(());
    }
    let dst_exists = write_set(ctx, dst)?.is_some();
    // Same source and destination: only report whether the member is there.
    if src == dst {
        let there = write_set(ctx, src)?.is_some_and(|s| s.contains(member));
        ctx.reply().int(there as i64);
        return Ok(());
    }
    let s = write_set(ctx, src)?.expect("checked");
    if !s.remove(member) {
        ctx.reply().int(0);
        return Ok(());
    }
    let emptied = s.is_empty();
    ctx.notify(notify::SET, "srem", src);
    if emptied {
        delete_emptied(ctx, src);
    }
    if !dst_exists {
        let lru = ctx.srv.lruclock;
        let db = ctx.client.db;
        ctx.srv.dbs[db].add(
            dst,
            RObj::new(Value::Set(Box::new(Set::for_member(member))), lru),
        );
    }
    ctx.signal_modified(src);
    ctx.dirty(1);
    let d = write_set(ctx, dst)?.expect("exists or created");
    if d.add(member, max) {
        ctx.dirty(1);
        ctx.signal_modified(dst);
        ctx.notify(notify::SET, "sadd", dst);
    }
    ctx.reply().int(1);
    Ok(())
}

fn sismember(ctx: &mut Ctx) -> CmdResult {
    let (key, m) = (ctx.arg(1), ctx.arg(2));
    let (s, r) = read_set(ctx, key)?;
    r.int(s.is_some_and(|s| s.contains(m)) as i64);
    Ok(())
}

fn smismember(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let argv = ctx.argv;
    let (s, r) = read_set(ctx, key)?;
    r.array_len(argv.len() - 2);
    for m in &argv[2..] {
        r.int(s.is_some_and(|s| s.contains(m)) as i64);
    }
    Ok(())
}

fn scard(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let (s, r) = read_set(ctx, key)?;
    r.int(s.map_or(0, |s| s.len() as i64));
    Ok(())
}

/// Above `count * this` remaining members, SPOP removes random members one by one.
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;
/// Above `count * this` members, SRANDMEMBER picks random members instead of removing some.
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;

fn spop(ctx: &mut Ctx) -> CmdResult {
    match ctx.argv.len() {
        3 => return spop_with_count(ctx),
        n if n > 3 => return Err(errors::SYNTAX),
        _ => {}
    }
    let key = ctx.arg(1);
    let Some(s) = write_set(ctx, key)? else {
        ctx.reply().null();
        return Ok(());
    };
    let member = s.random().expect("stored sets are not empty").to_vec();
    s.remove(&member);
    let emptied = s.is_empty();
    ctx.notify(notify::SET, "spop", key);
    ctx.reply().bulk(&member);
    ctx.propagate_as(vec![
        Bytes::from_static(b"SREM"),
        ctx.argv[1].clone(),
        Bytes::from(member),
    ]);
    if emptied {
        delete_emptied(ctx, key);
    }
    ctx.signal_modified(key);
    ctx.dirty(1);
    Ok(())
}

/// SPOP with a count (spopWithCountCommand), propagated as SREMs (or a DEL when the whole
/// set goes).
fn spop_with_count(ctx: &mut Ctx) -> CmdResult {
    let l = parse_i64(ctx.arg(2))?;
    if l < 0 {
        return Err(CmdError::err("value is out of range, must be positive"));
    }
    let count = l as u64;
    let key = ctx.arg(1);
    let max = max_intset(ctx);
    let db = ctx.client.db;
    let Some(s) = write_set(ctx, key)? else {
        ctx.reply().set_len(0);
        return Ok(());
    };
    if count == 0 {
        ctx.reply().set_len(0);
        return Ok(());
    }
    let size = s.len() as u64;

    // CASE 1: the whole set.
    if count >= size {
        let Some(RObj {
            value: Value::Set(s),
            ..
        }) = ctx.srv.dbs[db].keys.remove(key).map(|(_, o)| o)
        else {
            unreachable!("checked above")
        };
        ctx.srv.dbs[db].remove_expire(key);
        ctx.notify(notify::SET, "spop", key);
        ctx.dirty(size);
        let r = ctx.reply();
        r.set_len(s.len());
        for m in s.iter() {
            reply_lp(r, m);
        }
        ctx.notify(notify::GENERIC, "del", key);
        ctx.propagate_as(vec![Bytes::from_static(b"DEL"), ctx.argv[1].clone()]);
        ctx.signal_modified(key);
        return Ok(());
    }

    let mut popped: Vec<Bytes> = Vec::with_capacity(count as usize);
    let remaining = size - count;
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        // CASE 2: few compared to the size: remove random members one at a time.
        for _ in 0..count {
            let m = s.random().expect("not empty").to_vec();
            s.remove(&m);
            popped.push(Bytes::from(m));
        }
    } else {
        // CASE 3: most of the set: move the members that stay into a new set, and
        // return what is left in the old one.
        let mut kept: Option<Set> = None;
        for _ in 0..remaining {
            let m = s.random().expect("not empty").to_vec();
            kept.get_or_insert_with(|| Set::for_member(&m)).add(&m, max);
            s.remove(&m);
        }
        popped.extend(s.iter().map(lp_bytes));
        *s = kept.expect("remaining > 0 in this case");
    }
    ctx.notify(notify::SET, "spop", key);
    ctx.dirty(count);
    let r = ctx.reply();
    r.set_len(popped.len());
    for m in &popped {
        r.bulk(m);
    }
    for m in popped {
        ctx.also_propagate(
            db,
            vec![Bytes::from_static(b"SREM"), ctx.argv[1].clone(), m],
        );
    }
    ctx.prop.prevent = true;
    ctx.signal_modified(key);
    Ok(())
}

/// Let a set that is sampled make progress on its rehash, as Redis's sampling does: every
/// fair random pick (dictGetFairRandomKey) runs 15 rehash steps in dictGetSomeKeys.
fn rehash_on_sample(ctx: &mut Ctx, key: &[u8], samples: u64) {
    let db = ctx.client.db;
    if let Some(RObj {
        value: Value::Set(s),
        ..
    }) = ctx.srv.dbs[db].keys.get_mut(key)
    {
        s.rehash_steps(samples.clamp(1, 1000) as usize * 15);
    }
}

fn srandmember(ctx: &mut Ctx) -> CmdResult {
    match ctx.argv.len() {
        3 => return srandmember_with_count(ctx),
        n if n > 3 => return Err(errors::SYNTAX),
        _ => {}
    }
    let key = ctx.arg(1);
    rehash_on_sample(ctx, key, 1);
    match read_set(ctx, key)? {
        (Some(s), r) => reply_lp(r, s.random().expect("stored sets are not empty")),
        (None, r) => r.null(),
    }
    Ok(())
}

/// SRANDMEMBER with a count (srandmemberWithCountCommand) and its four strategies.
fn srandmember_with_count(ctx: &mut Ctx) -> CmdResult {
    let l = parse_i64(ctx.arg(2))?;
    if l < -i64::MAX {
        return Err(CmdError::err(format!(
            "value is out of range, value must between {} and {}",
            -i64::MAX,
            i64::MAX
        )));
    }
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    let key = ctx.arg(1);
    rehash_on_sample(ctx, key, count);
    let stop = ctx.srv.reply_stop_bytes(ctx.client);
    let (s, r) = read_set(ctx, key)?;
    let Some(s) = s else {
        r.array_len(0);
        return Ok(());
    };
    if count == 0 {
        r.array_len(0);
        return Ok(());
    }
    let size = s.len() as u64;

    // CASE 1: a negative count: repetitions allowed, in random order.
    if !uniq || count == 1 {
        r.array_len(count as usize);
        for _ in 0..count {
            reply_lp(r, s.random().expect("not empty"));
            if r.pending() > stop {
                break;
            }
        }
        return Ok(());
    }

    // CASE 2: at least as many as there are: the whole set.
    if count >= size {
        r.array_len(size as usize);
        for m in s.iter() {
            reply_lp(r, m);
        }
        return Ok(());
    }

    let mut d: crate::db::dict::Dict<Vec<u8>, ()> =
        crate::db::dict::Dict::with_capacity(count as usize);
    if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        // CASE 3: close to the size: copy everything, then remove random members.
        for m in s.iter() {
            d.insert(m.to_vec(), ());
        }
        let mut left = size;
        while left > count {
            let k = d.fair_random_entry().expect("not empty").0.clone();
            d.remove(&k);
            left -= 1;
        }
    } else {
        // CASE 4: few out of many: pick random members until enough distinct ones.
        while (d.len() as u64) < count {
            let m = s.random().expect("not empty").to_vec();
            if !d.contains_key(&m) {
                d.insert(m, ());
            }
        }
    }
    r.array_len(count as usize);
    for (m, _) in d.iter() {
        r.bulk(m);
    }
    Ok(())
}

fn smembers(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let (s, r) = read_set(ctx, key)?;
    match s {
        Some(s) => {
            r.set_len(s.len());
            for m in s.iter() {
                reply_lp(r, m);
            }
        }
        None => r.set_len(0),
    }
    Ok(())
}

/// Look up every set of `keys` for reading (lookupKeyRead + checkType, in order); a missing
/// key is `None`. The first non-set is WRONGTYPE.
fn lookup_sets(ctx: &mut Ctx, keys: &[Bytes]) -> Result<Vec<Option<usize>>, CmdError> {
    // Indices into `keys` of the keys that hold sets; the borrow of the db is taken again
    // afterwards, once every lookup (with its expiry side effects) is done.
    let mut found = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        match ctx.read(k).0 {
            None => found.push(None),
            Some(RObj {
                value: Value::Set(_),
                ..
            }) => found.push(Some(i)),
            Some(_) => return Err(errors::WRONGTYPE),
        }
    }
    Ok(found)
}

/// The set stored at `key` in db `db` (known to exist and be a set).
fn set_at<'s>(srv: &'s crate::server::Server, db: usize, key: &[u8]) -> &'s Set {
    match srv.dbs[db].keys.get(key) {
        Some(RObj {
            value: Value::Set(s),
            ..
        }) => s,
        _ => unreachable!("looked up as a set"),
    }
}

/// Store `result` at `dst` for the STORE variants, or delete `dst` when it is empty, with
/// the notification `event`; replies the cardinality.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Set, event: &str) {
    let n = result.len();
    if n > 0 {
        ctx.set_key(dst, Value::Set(Box::new(result)), false);
        ctx.reply().int(n as i64);
        ctx.notify(notify::SET, event, dst);
        ctx.dirty(1);
    } else {
        ctx.reply().int(0);
        if ctx.delete_key(dst) {
            ctx.dirty(1);
            ctx.notify(notify::GENERIC, "del", dst);
        }
    }
}

/// SINTER / SINTERSTORE / SINTERCARD (sinterGenericCommand).
fn sinter_generic(
    ctx: &mut Ctx,
    keys: &[Bytes],
    dst: Option<&[u8]>,
    card_only: bool,
    limit: u64,
) -> CmdResult {
    let found = lookup_sets(ctx, keys)?;
    if found.iter().any(|f| f.is_none()) {
        // An intersection with an empty set is empty.
        if let Some(dst) = dst {
            if ctx.delete_key(dst) {
                ctx.notify(notify::GENERIC, "del", dst);
                ctx.dirty(1);
            }
            ctx.reply().int(0);
        } else if card_only {
            ctx.reply().int(0);
        } else {
            ctx.reply().set_len(0);
        }
        return Ok(());
    }
    let db = ctx.client.db;
    let max = max_intset(ctx);
    let srv = &*ctx.srv;
    let mut sets: Vec<(&[u8], &Set)> = keys.iter().map(|k| (&k[..], set_at(srv, db, k))).collect();
    // Smallest first: fewer candidates to test.
    sets.sort_by_key(|(_, s)| s.len());
    let (first_key, first) = sets[0];
    let mut result = dst.map(|_| Set::new_intset());
    let r = &mut ctx.client.reply;
    let mark = (dst.is_none() && !card_only).then(|| r.defer());
    let mut card: u64 = 0;
    let mut buf = [0u8; INT_BUF_SIZE];
    for m in first.iter() {
        let in_all = sets[1..]
            .iter()
            .all(|(k, s)| *k == first_key || s.contains_value(m));
        if !in_all {
            continue;
        }
        if card_only {
            card += 1;
            if limit > 0 && card >= limit {
                break;
            }
        } else if let Some(res) = result.as_mut() {
            res.add(m.as_bytes(&mut buf), max);
        } else {
            reply_lp(r, m);
            card += 1;
        }
    }
    if let Some(mark) = mark {
        r.set_deferred(mark, Aggregate::Set, card as usize);
    } else if card_only {
        r.int(card as i64);
    }
    if let (Some(dst), Some(result)) = (dst, result) {
        store_result(ctx, dst, result, "sinterstore");
    }
    Ok(())
}

fn sinter(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    sinter_generic(ctx, &argv[1..], None, false, 0)
}

fn sinterstore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    sinter_generic(ctx, &argv[2..], Some(&argv[1]), false, 0)
}

fn sintercard(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let numkeys = match crate::util::numbers::string2ll(&argv[1]) {
        Some(n) if n >= 1 => n as usize,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    if numkeys > argv.len() - 2 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let mut limit = 0u64;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if is(&argv[j], "limit") && j + 1 < argv.len() {
            j += 1;
            match crate::util::numbers::string2ll(&argv[j]) {
                Some(n) if n >= 0 => limit = n as u64,
                _ => return Err(CmdError::err("LIMIT can't be negative")),
            }
        } else {
            return Err(errors::SYNTAX);
        }
        j += 1;
    }
    sinter_generic(ctx, &argv[2..2 + numkeys], None, true, limit)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// SUNION / SDIFF and their STORE forms (sunionDiffGenericCommand).
fn sunion_diff_generic(ctx: &mut Ctx, keys: &[Bytes], dst: Option<&[u8]>, op: SetOp) -> CmdResult {
    let found = lookup_sets(ctx, keys)?;
    let db = ctx.client.db;
    let max = max_intset(ctx);
    let srv = &*ctx.srv;
    let mut sets: Vec<Option<(&[u8], &Set)>> = found
        .iter()
        .map(|f| f.map(|i| (&keys[i][..], set_at(srv, db, &keys[i]))))
        .collect();
    let same_set = sets[0].is_some()
        && sets[1..]
            .iter()
            .flatten()
            .any(|(k, _)| Some(*k) == sets[0].map(|(k0, _)| k0));

    // Pick the DIFF algorithm as Redis does: 1 is O(N*M) over the first set, 2 is O(total).
    let mut algo_one = true;
    if op == SetOp::Diff && sets[0].is_some() && !same_set {
        let first_len = sets[0].map_or(0, |(_, s)| s.len()) as u64;
        let (mut one, mut two) = (0u64, 0u64);
        for (_, s) in sets.iter().flatten() {
            one += first_len;
            two += s.len() as u64;
        }
        algo_one = one / 2 <= two;
        if algo_one && sets.len() > 1 {
            // Subtract the biggest sets first: duplicates are found sooner.
            sets[1..].sort_by_key(|s| std::cmp::Reverse(s.map_or(0, |(_, s)| s.len())));
        }
    }

    let mut result = Set::new_intset();
    let mut buf = [0u8; INT_BUF_SIZE];
    match op {
        SetOp::Union => {
            for (_, s) in sets.iter().flatten() {
                for m in s.iter() {
                    result.add(m.as_bytes(&mut buf), max);
                }
            }
        }
        SetOp::Diff if same_set => {}
        SetOp::Diff => {
            if let Some((k0, first)) = sets[0] {
                if algo_one {
                    for m in first.iter() {
                        let elsewhere = sets[1..]
                            .iter()
                            .flatten()
                            .any(|(k, s)| *k == k0 || s.contains_value(m));
                        if !elsewhere {
                            result.add(m.as_bytes(&mut buf), max);
                        }
                    }
                } else {
                    for m in first.iter() {
                        result.add(m.as_bytes(&mut buf), max);
                    }
                    for (_, s) in sets[1..].iter().flatten() {
                        for m in s.iter() {
                            result.remove(m.as_bytes(&mut buf));
                        }
                        if result.is_empty() {
                            break;
                        }
                    }
                }
            }
        }
    }

    match dst {
        None => {
            let r = &mut ctx.client.reply;
            r.set_len(result.len());
            for m in result.iter() {
                reply_lp(r, m);
            }
        }
        Some(dst) => store_result(
            ctx,
            dst,
            result,
            if op == SetOp::Union {
                "sunionstore"
            } else {
                "sdiffstore"
            },
        ),
    }
    Ok(())
}

fn sunion(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    sunion_diff_generic(ctx, &argv[1..], None, SetOp::Union)
}
fn sunionstore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    sunion_diff_generic(ctx, &argv[2..], Some(&argv[1]), SetOp::Union)
}
fn sdiff(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    sunion_diff_generic(ctx, &argv[1..], None, SetOp::Diff)
}
fn sdiffstore(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    sunion_diff_generic(ctx, &argv[2..], Some(&argv[1]), SetOp::Diff)
}

fn sscan(ctx: &mut Ctx) -> CmdResult {
    let cursor = crate::commands::scan::parse_scan_cursor(ctx.arg(2))?;
    let key = ctx.arg(1);
    crate::commands::scan::scan_generic(ctx, Some(key), cursor, |v| match v {
        Value::Set(s) => Some(&**s),
        _ => None,
    })
}

const S: u64 = acl::SET;
const RW_INSERT: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::INSERT)];
const RW_DELETE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::DELETE)];
const RW_ACCESS_DELETE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::ACCESS | kf::DELETE)];
const RO: &[KeySpec] = &[KeySpec::one(1, kf::RO)];
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
const RO_ACCESS_ALL: &[KeySpec] = &[KeySpec::range(1, -1, 1, kf::RO | kf::ACCESS)];
const SMOVE_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RW | kf::ACCESS | kf::DELETE),
    KeySpec::one(2, kf::RW | kf::INSERT),
];
const SINTERCARD_KEYS: &[KeySpec] = &[KeySpec::keynum(1, 0, 1, 1, kf::RO | kf::ACCESS)];
const SINTERSTORE_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RW | kf::UPDATE),
    KeySpec::range(2, -1, 1, kf::RO | kf::ACCESS),
];
const STORE_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::OW | kf::UPDATE),
    KeySpec::range(2, -1, 1, kf::RO | kf::ACCESS),
];

/// Set commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("sadd", -3, sadd).flags(WRITE | DENYOOM | FAST).acl(S).keys(RW_INSERT).group(Group::Set).doc("Adds one or more members to a set. Creates the key if it doesn't exist.", "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.").syntax("key:key member:string..."),
    CommandSpec::new("srem", -3, srem).flags(WRITE | FAST).acl(S).keys(RW_DELETE).group(Group::Set).doc("Removes one or more members from a set. Deletes the set if the last member was removed.", "O(N) where N is the number of members to be removed.").syntax("key:key member:string..."),
    CommandSpec::new("scard", 2, scard).flags(READONLY | FAST).acl(S).keys(RO).group(Group::Set).doc("Returns the number of members in a set.", "O(1)").syntax("key:key"),
    CommandSpec::new("sismember", 3, sismember).flags(READONLY | FAST).acl(S).keys(RO).group(Group::Set).doc("Determines whether a member belongs to a set.", "O(1)").syntax("key:key member:string"),
    CommandSpec::new("smismember", -3, smismember).flags(READONLY | FAST).acl(S).keys(RO_ACCESS).group(Group::Set).since("6.2.0").doc("Determines whether multiple members belong to a set.", "O(N) where N is the number of elements being checked for membership").syntax("key:key member:string..."),
    CommandSpec::new("smembers", 2, smembers).flags(READONLY).acl(S).keys(RO_ACCESS).group(Group::Set).doc("Returns all members of a set.", "O(N) where N is the set cardinality.").syntax("key:key").tips(&["nondeterministic_output_order"]),
    CommandSpec::new("srandmember", -2, srandmember).flags(READONLY).acl(S).keys(RO_ACCESS).group(Group::Set).doc("Get one or multiple random members from a set", "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.").syntax("key:key [count:integer]").tips(&["nondeterministic_output"]),
    CommandSpec::new("spop", -2, spop).flags(WRITE | FAST).acl(S).keys(RW_ACCESS_DELETE).group(Group::Set).doc("Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.").syntax("key:key [count:integer]").tips(&["nondeterministic_output"]),
    CommandSpec::new("smove", 4, smove).flags(WRITE | FAST).acl(S).keys(SMOVE_KEYS).group(Group::Set).doc("Moves a member from one set to another.", "O(1)").syntax("source:key destination:key member:string"),
    CommandSpec::new("sinter", -2, sinter).flags(READONLY).acl(S).keys(RO_ACCESS_ALL).group(Group::Set).doc("Returns the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.").syntax("key:key...").tips(&["nondeterministic_output_order"]),
    CommandSpec::new("sintercard", -3, sintercard).flags(READONLY).acl(S).keys(SINTERCARD_KEYS).group(Group::Set).since("7.0.0").doc("Returns the number of members of the intersect of multiple sets.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.").syntax("numkeys:integer key:key... [LIMIT limit:integer]"),
    CommandSpec::new("sinterstore", -3, sinterstore).flags(WRITE | DENYOOM).acl(S).keys(SINTERSTORE_KEYS).group(Group::Set).doc("Stores the intersect of multiple sets in a key.", "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.").syntax("destination:key key:key..."),
    CommandSpec::new("sunion", -2, sunion).flags(READONLY).acl(S).keys(RO_ACCESS_ALL).group(Group::Set).doc("Returns the union of multiple sets.", "O(N) where N is the total number of elements in all given sets.").syntax("key:key...").tips(&["nondeterministic_output_order"]),
    CommandSpec::new("sunionstore", -3, sunionstore).flags(WRITE | DENYOOM).acl(S).keys(STORE_KEYS).group(Group::Set).doc("Stores the union of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets.").syntax("destination:key key:key..."),
    CommandSpec::new("sdiff", -2, sdiff).flags(READONLY).acl(S).keys(RO_ACCESS_ALL).group(Group::Set).doc("Returns the difference of multiple sets.", "O(N) where N is the total number of elements in all given sets.").syntax("key:key...").tips(&["nondeterministic_output_order"]),
    CommandSpec::new("sdiffstore", -3, sdiffstore).flags(WRITE | DENYOOM).acl(S).keys(STORE_KEYS).group(Group::Set).doc("Stores the difference of multiple sets in a key.", "O(N) where N is the total number of elements in all given sets.").syntax("destination:key key:key..."),
    CommandSpec::new("sscan", -3, sscan).flags(READONLY).acl(S).keys(RO_ACCESS).group(Group::Set).since("2.8.0").doc("Iterates over members of a set.", "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.").syntax("key:key cursor:integer [MATCH pattern:pattern] [COUNT count:integer]").tips(&["nondeterministic_output"]),
];
