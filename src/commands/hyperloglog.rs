//! HyperLogLog commands (Redis's hyperloglog.c): PFADD, PFCOUNT (with the cardinality cached
//! in the value's header), PFMERGE, and the PFDEBUG / PFSELFTEST internals. An HLL is a string
//! value in the layout of `types::hyperloglog`; these commands check that a string is one,
//! make it `raw` before changing it in place (dbUnshareStringValue), and count, notify and
//! propagate like Redis.

use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;
use crate::server::Server;
use crate::types::hyperloglog::{self as hll, REGISTERS};
use crate::types::object::{RObj, RString, Value};

/// A string that is not an HLL.
const NOT_HLL: CmdError =
    CmdError::Static("WRONGTYPE Key is not a valid HyperLogLog string value.");
/// An HLL whose registers do not add up.
const INVALID: CmdError = CmdError::Static("INVALIDOBJ Corrupted HLL object detected");

/// Check that `o` holds an HLL (isHLLObjectOrReply): WRONGTYPE for other types, the HLL
/// WRONGTYPE text for strings that are not HLLs (integer-encoded ones included).
fn check_hll(o: &RObj) -> Result<&[u8], CmdError> {
    let bytes = match &o.value {
        Value::Str(RString::Emb(b)) => &b[..],
        Value::Str(RString::Raw(v)) => &v[..],
        Value::Str(RString::Int(_)) => return Err(NOT_HLL),
        #[allow(unreachable_patterns)]
        _ => return Err(errors::WRONGTYPE),
    };
    if hll::is_valid(bytes) {
        Ok(bytes)
    } else {
        Err(NOT_HLL)
    }
}

/// The bytes of the HLL at `key`, made `raw` for editing in place. The key must exist and
/// hold a string (checked by the caller).
fn hll_mut<'s>(srv: &'s mut Server, db: usize, key: &[u8]) -> &'s mut Vec<u8> {
    match srv.dbs[db].keys.get_mut(key) {
        Some(RObj {
            value: Value::Str(s),
            ..
        }) => s.make_raw(),
        _ => unreachable!("the HLL was just looked up or created"),
    }
}

/// `hll-sparse-max-bytes`.
fn sparse_max(ctx: &Ctx) -> usize {
    usize::try_from(ctx.srv.config.hll_sparse_max_bytes).unwrap_or(usize::MAX)
}

/// PFADD key [element ...]: 1 when the HLL was created or a register changed.
fn pfadd(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key = ctx.arg(1);
    let max = sparse_max(ctx);
    let mut updated = 0u64;
    match ctx.write(key) {
        Some(o) => {
            check_hll(o)?;
        }
        None => {
            ctx.set_key(key, Value::Str(RString::raw(hll::new_sparse())), false);
            updated += 1;
        }
    }
    let h = hll_mut(ctx.srv, ctx.client.db, key);
    for ele in &argv[2..] {
        match hll::add(h, ele, max) {
            Ok(true) => updated += 1,
            Ok(false) => {}
            Err(hll::Corrupt) => return Err(INVALID),
        }
    }
    if updated > 0 {
        hll::invalidate_cache(h);
        ctx.signal_modified(key);
        ctx.notify(notify::STRING, "pfadd", key);
        ctx.dirty(updated);
    }
    ctx.reply().int(i64::from(updated > 0));
    Ok(())
}

/// PFCOUNT key [key ...]: the estimated cardinality of one HLL (cached in its header, which
/// makes a recount a change to propagate), or of the union of several.
fn pfcount(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    if argv.len() > 2 {
        let mut max = [0u8; REGISTERS];
        for key in &argv[1..] {
            let (o, _) = ctx.read(key);
            let Some(o) = o else { continue };
            hll::merge_into(&mut max, check_hll(o)?).map_err(|_| INVALID)?;
        }
        ctx.reply().int(hll::count_registers(&max) as i64);
        return Ok(());
    }
    let key = ctx.arg(1);
    match ctx.read(key) {
        (None, r) => {
            r.int(0);
            return Ok(());
        }
        (Some(o), _) => {
            check_hll(o)?;
        }
    }
    let h = hll_mut(ctx.srv, ctx.client.db, key);
    let card = match hll::cached_card(h) {
        Some(card) => card,
        None => {
            let card = hll::count(h).map_err(|_| INVALID)?;
            hll::set_cached_card(h, card);
            ctx.signal_modified(key);
            ctx.dirty(1);
            card
        }
    };
    ctx.reply().int(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...]: the destination (itself an input) becomes the union.
fn pfmerge(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let mut max = [0u8; REGISTERS];
    let mut use_dense = false;
    for key in &argv[1..] {
        let (o, _) = ctx.read(key);
        let Some(o) = o else { continue };
        let h = check_hll(o)?;
        use_dense |= hll::encoding(h) == hll::DENSE;
        hll::merge_into(&mut max, h).map_err(|_| INVALID)?;
    }
    let dst = ctx.arg(1);
    if ctx.write(dst).is_none() {
        ctx.set_key(dst, Value::Str(RString::raw(hll::new_sparse())), false);
    }
    let sparse_max = sparse_max(ctx);
    let h = hll_mut(ctx.srv, ctx.client.db, dst);
    // With a dense input the result is dense anyway: convert once, up front.
    if use_dense {
        hll::sparse_to_dense(h).map_err(|_| INVALID)?;
    }
    for (i, &m) in max.iter().enumerate() {
        if m != 0 {
            // The destination was validated as an input; like Redis, a sparse edit that finds
            // it corrupted is not an error here.
            let _ = hll::raise_register(h, i, m, sparse_max);
        }
    }
    hll::invalidate_cache(h);
    ctx.signal_modified(dst);
    ctx.notify(notify::STRING, "pfadd", dst);
    ctx.dirty(1);
    ctx.reply().ok();
    Ok(())
}

/// PFSELFTEST: the register and estimator self test.
fn pfselftest(ctx: &mut Ctx) -> CmdResult {
    let max = sparse_max(ctx);
    hll::selftest(max, crate::types::zset::rand_u64).map_err(CmdError::err)?;
    ctx.reply().ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key.
fn pfdebug(ctx: &mut Ctx) -> CmdResult {
    let sub = ctx.arg(1);
    let key = ctx.arg(2);
    match ctx.write(key) {
        None => return Err(CmdError::Static("ERR The specified key does not exist")),
        Some(o) => {
            check_hll(o)?;
        }
    }
    let h = hll_mut(ctx.srv, ctx.client.db, key);
    let sparse = hll::encoding(h) == hll::SPARSE;
    if sub.eq_ignore_ascii_case(b"getreg") {
        if sparse {
            hll::sparse_to_dense(h).map_err(|_| INVALID)?;
        }
        let r = &mut ctx.client.reply;
        r.array_len(REGISTERS);
        let regs = &h[hll::HDR_SIZE..];
        for i in 0..REGISTERS {
            r.int(i64::from(hll::dense_get(regs, i)));
        }
        if sparse {
            // The encoding changed: propagate it.
            ctx.dirty(1);
        }
    } else if sub.eq_ignore_ascii_case(b"decode") {
        if !sparse {
            return Err(CmdError::Static("ERR HLL encoding is not sparse"));
        }
        let text = hll::decode_sparse(h);
        ctx.reply().bulk(text.as_bytes());
    } else if sub.eq_ignore_ascii_case(b"encoding") {
        let name: &[u8] = if sparse { b"sparse" } else { b"dense" };
        ctx.reply().simple(name);
    } else if sub.eq_ignore_ascii_case(b"todense") {
        if sparse {
            hll::sparse_to_dense(h).map_err(|_| INVALID)?;
            ctx.dirty(1);
        }
        ctx.reply().int(i64::from(sparse));
    } else {
        return Err(CmdError::err(format_args!(
            "Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(sub)
        )));
    }
    Ok(())
}

const H: u64 = acl::HYPERLOGLOG;
const PFADD_KEYS: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::INSERT)];
/// RW because counting may rewrite the cached cardinality (and propagates then).
const PFCOUNT_KEYS: &[KeySpec] = &[KeySpec::range(1, -1, 1, kf::RW | kf::ACCESS)];
const PFMERGE_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RW | kf::ACCESS | kf::INSERT),
    KeySpec::range(2, -1, 1, kf::RO | kf::ACCESS),
];
const PFDEBUG_KEYS: &[KeySpec] = &[KeySpec::one(2, kf::RW | kf::ACCESS)];

/// HyperLogLog commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("pfadd", -2, pfadd).flags(WRITE | DENYOOM | FAST).acl(H).keys(PFADD_KEYS).group(Group::HyperLogLog).since("2.8.9").doc("Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.", "O(1) to add every element.").syntax("key:key [element:string...]"),
    CommandSpec::new("pfcount", -2, pfcount).flags(READONLY | MAY_REPLICATE).acl(H).keys(PFCOUNT_KEYS).group(Group::HyperLogLog).since("2.8.9").doc("Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).", "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.").syntax("key:key..."),
    CommandSpec::new("pfmerge", -2, pfmerge).flags(WRITE | DENYOOM).acl(H).keys(PFMERGE_KEYS).group(Group::HyperLogLog).since("2.8.9").doc("Merges one or more HyperLogLog values into a single key.", "O(N) to merge N HyperLogLogs, but with high constant times.").syntax("destkey:key [sourcekey:key...]"),
    CommandSpec::new("pfdebug", 3, pfdebug).flags(WRITE | DENYOOM | ADMIN).acl(H).keys(PFDEBUG_KEYS).group(Group::HyperLogLog).since("2.8.9").doc("Internal commands for debugging HyperLogLog values.", "N/A").syntax("subcommand:string key:key"),
    CommandSpec::new("pfselftest", 1, pfselftest).flags(ADMIN).acl(H).group(Group::HyperLogLog).since("2.8.9").doc("An internal command for testing HyperLogLog values.", "N/A"),
];
