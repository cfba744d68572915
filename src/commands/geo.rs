//! GEO commands (Redis's geo.c): a geospatial index is a sorted set whose scores are 52-bit
//! geohashes (`util::geohash`), so GEOADD is a ZADD with computed scores and every other GEO
//! command reads the sorted set through the `types::zset` API. Searches (GEORADIUS and
//! GEOSEARCH, with their STORE forms) scan the score ranges of the nine geohash boxes around
//! the centre, keep the members inside the shape, then sort, trim and reply or store.
//!
//! Distances are replied with four decimals and coordinates as Redis's "human" long doubles,
//! exactly as Redis formats them.

use bytes::Bytes;

use crate::command::args::{is, parse_f64, parse_i64};
use crate::command::{
    acl, errors, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;
use crate::resp::reply::ReplyBuf;
use crate::types::listpack::LpValue;
use crate::types::object::{RObj, Value};
use crate::types::zset::{with_member, AddFlags, AddOutcome, ScoreRange, ZSet};
use crate::util::geohash::{self, HashBits, Shape, ShapeKind};
use crate::util::longdouble::LongDouble;
use crate::util::numbers::{fixedpoint_d2string, ll2string};

const BAD_UNIT: CmdError =
    CmdError::Static("ERR unsupported unit provided. please use M, KM, FT, MI");
const BAD_MEMBER: CmdError = CmdError::Static("ERR could not decode requested zset member");
const NEED_RADIUS: CmdError = CmdError::Static("ERR need numeric radius");
const NEED_WIDTH: CmdError = CmdError::Static("ERR need numeric width");
const NEED_HEIGHT: CmdError = CmdError::Static("ERR need numeric height");
const NEG_RADIUS: CmdError = CmdError::Static("ERR radius cannot be negative");
const NEG_BOX: CmdError = CmdError::Static("ERR height or width cannot be negative");
const COUNT_POSITIVE: CmdError = CmdError::Static("ERR COUNT must be > 0");
const ANY_NEEDS_COUNT: CmdError = CmdError::Static("ERR the ANY argument requires COUNT argument");

// ---------------------------------------------------------------------------------------------
// Argument helpers
// ---------------------------------------------------------------------------------------------

/// Parse a longitude and a latitude (extractLongLatOrReply).
fn parse_lonlat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let xy = [parse_f64(lon)?, parse_f64(lat)?];
    if !(geohash::LONG_MIN..=geohash::LONG_MAX).contains(&xy[0])
        || !(geohash::LAT_MIN..=geohash::LAT_MAX).contains(&xy[1])
    {
        return Err(CmdError::err(format_args!(
            "invalid longitude,latitude pair {:.6},{:.6}",
            xy[0], xy[1]
        )));
    }
    Ok(xy)
}

/// A unit's size in meters (extractUnitOrReply).
fn parse_unit(u: &[u8]) -> Result<f64, CmdError> {
    if is(u, "m") {
        Ok(1.0)
    } else if is(u, "km") {
        Ok(1000.0)
    } else if is(u, "ft") {
        Ok(0.3048)
    } else if is(u, "mi") {
        Ok(1609.34)
    } else {
        Err(BAD_UNIT)
    }
}

/// A radius and its unit: (radius, meters per unit) (extractDistanceOrReply).
fn parse_radius(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = crate::util::numbers::string2d(radius).ok_or(NEED_RADIUS)?;
    if r < 0.0 {
        return Err(NEG_RADIUS);
    }
    Ok((r, parse_unit(unit)?))
}

/// A box's width, height and unit (extractBoxOrReply).
fn parse_box(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = crate::util::numbers::string2d(width).ok_or(NEED_WIDTH)?;
    let h = crate::util::numbers::string2d(height).ok_or(NEED_HEIGHT)?;
    if h < 0.0 || w < 0.0 {
        return Err(NEG_BOX);
    }
    Ok((w, h, parse_unit(unit)?))
}

/// The position stored for `member` (longLatFromMember).
fn member_position(z: &ZSet, member: &[u8]) -> Option<[f64; 2]> {
    geohash::decode_score(z.score(member)?)
}

// ---------------------------------------------------------------------------------------------
// Reply helpers
// ---------------------------------------------------------------------------------------------

/// A distance with four decimals, always a bulk string (addReplyDoubleDistance).
fn reply_distance(r: &mut ReplyBuf, d: f64) {
    match fixedpoint_d2string(d, 4) {
        Some(s) => r.bulk(s.as_bytes()),
        None => r.bulk(b""),
    }
}

/// A coordinate as Redis's human long double: `%.17Lf` without trailing zeros; a bulk string in
/// RESP2, a double in RESP3 (addReplyHumanLongDouble). `scratch` is reused between calls.
fn reply_coord(r: &mut ReplyBuf, x: f64, scratch: &mut Vec<u8>) {
    scratch.clear();
    let v = LongDouble::from_f64(x);
    if v.is_infinite() {
        scratch.extend_from_slice(if x > 0.0 { b"inf" } else { b"-inf" });
    } else {
        v.fmt_fixed(17, scratch);
        if scratch.contains(&b'.') {
            while scratch.last() == Some(&b'0') {
                scratch.pop();
            }
            if scratch.last() == Some(&b'.') {
                scratch.pop();
            }
        }
        if scratch[..] == b"-0"[..] {
            scratch.remove(0);
        }
    }
    if r.resp == 2 {
        r.bulk(scratch);
    } else {
        r.raw(b",");
        r.raw(scratch);
        r.raw(b"\r\n");
    }
}

/// Reply with a sorted set member.
#[inline]
fn reply_member(r: &mut ReplyBuf, e: LpValue<'_>) {
    match e {
        LpValue::Int(n) => r.bulk_i64(n),
        LpValue::Str(s) => r.bulk(s),
    }
}

/// Look a sorted set up for reading; WRONGTYPE for other types.
fn read_zset<'c>(
    ctx: &'c mut Ctx,
    key: &[u8],
) -> Result<(Option<&'c ZSet>, &'c mut ReplyBuf), CmdError> {
    match ctx.read(key) {
        (None, r) => Ok((None, r)),
        (
            Some(RObj {
                value: Value::ZSet(z),
                ..
            }),
            r,
        ) => Ok((Some(z), r)),
        (Some(_), _) => Err(errors::WRONGTYPE),
    }
}

// ---------------------------------------------------------------------------------------------
// GEOADD
// ---------------------------------------------------------------------------------------------

/// GEOADD key [NX|XX] [CH] longitude latitude member ...: a ZADD of the members with their
/// geohash scores, replicated as that ZADD.
fn geoadd(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let key = ctx.arg(1);
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut longidx = 2;
    while longidx < argv.len() {
        let opt = &argv[longidx];
        if is(opt, "nx") {
            nx = true;
        } else if is(opt, "xx") {
            xx = true;
        } else if is(opt, "ch") {
            ch = true;
        } else {
            break;
        }
        longidx += 1;
    }
    let rest = argv.len() - longidx;
    if rest == 0 || !rest.is_multiple_of(3) || (xx && nx) {
        return Err(errors::SYNTAX);
    }
    let elements = rest / 3;
    let mut scores = Vec::with_capacity(elements);
    for e in argv[longidx..].chunks_exact(3) {
        let [lon, lat] = parse_lonlat(&e[0], &e[1])?;
        scores.push(geohash::score_of(lon, lat));
    }

    let lim = super::zset::limits(ctx.srv);
    let exists = match ctx.write(key) {
        None => false,
        Some(RObj {
            value: Value::ZSet(_),
            ..
        }) => true,
        Some(_) => return Err(errors::WRONGTYPE),
    };
    let (mut added, mut updated) = (0u64, 0u64);
    if exists || !xx {
        if !exists {
            let first = &argv[longidx + 2];
            let z = if lim.max_entries == 0 || lim.max_value < first.len() {
                ZSet::new_skiplist()
            } else {
                ZSet::new_listpack()
            };
            ctx.set_key(key, Value::ZSet(z), false);
        }
        let db = ctx.client.db;
        let Some(RObj {
            value: Value::ZSet(z),
            ..
        }) = ctx.srv.dbs[db].keys.get_mut(key)
        else {
            unreachable!("the sorted set was just looked up or created");
        };
        let f = AddFlags {
            nx,
            xx,
            ..AddFlags::default()
        };
        for (e, &score) in argv[longidx..].chunks_exact(3).zip(&scores) {
            match z.add(score as f64, &e[2], f, lim) {
                AddOutcome::Added(_) => added += 1,
                AddOutcome::Updated(_) => updated += 1,
                _ => {}
            }
        }
    }
    if added + updated > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::ZSET, "zadd", key);
        ctx.dirty(added + updated);
        // Replicas and the AOF get the ZADD this GEOADD stands for.
        let mut zadd = Vec::with_capacity(longidx + elements * 2);
        zadd.push(Bytes::from_static(b"zadd"));
        zadd.extend(argv[1..longidx].iter().cloned());
        for (e, &score) in argv[longidx..].chunks_exact(3).zip(&scores) {
            zadd.push(Bytes::copy_from_slice(ll2string(score as i64).as_bytes()));
            zadd.push(e[2].clone());
        }
        ctx.propagate_as(zadd);
    }
    ctx.reply()
        .int((if ch { added + updated } else { added }) as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// GEORADIUS, GEORADIUSBYMEMBER, GEOSEARCH and their variants
// ---------------------------------------------------------------------------------------------

/// Which command of the search family runs (georadiusGeneric's flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// GEORADIUS / GEORADIUS_RO: centre and radius as positional arguments.
    Coords,
    /// GEORADIUSBYMEMBER / _RO: centre member and radius as positional arguments.
    Member,
    /// GEOSEARCH: FROM*/BY* options.
    Search,
    /// GEOSEARCHSTORE: GEOSEARCH into a destination key.
    SearchStore,
}

impl Variant {
    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// A member found by a search.
struct Point<'a> {
    member: LpValue<'a>,
    xy: [f64; 2],
    dist: f64,
    score: f64,
}

/// Append the members of `z` with scores in [min, max) that are inside `shape`, stopping once
/// `limit` (when non-zero) points are collected (geoGetPointsInRange).
fn points_in_range<'a>(
    z: &'a ZSet,
    min: f64,
    max: f64,
    shape: &Shape,
    out: &mut Vec<Point<'a>>,
    limit: usize,
) {
    let range = ScoreRange {
        min,
        max,
        minex: false,
        maxex: true,
    };
    for (member, score) in z.iter_score(&range, false) {
        if let Some(xy) = geohash::decode_score(score) {
            if let Some(dist) = shape.distance_if_within(xy) {
                out.push(Point {
                    member,
                    xy,
                    dist,
                    score,
                });
            }
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
    }
}

/// Collect the points of the nine search boxes (membersOfAllNeighbors). With huge radiuses
/// adjacent boxes can be the same box; a box equal to the last one scanned is skipped.
fn search<'a>(z: &'a ZSet, shape: &Shape, limit: usize) -> Vec<Point<'a>> {
    let boxes = shape.search_boxes();
    let mut out = Vec::new();
    let mut last_processed = 0;
    for (i, b) in boxes.iter().enumerate() {
        if b.is_zero() {
            continue;
        }
        if last_processed != 0 && *b == boxes[last_processed] {
            continue;
        }
        if limit > 0 && out.len() >= limit {
            break;
        }
        let (min, max) = box_scores(*b);
        points_in_range(z, min as f64, max as f64, shape, &mut out, limit);
        last_processed = i;
    }
    out
}

/// The score interval [min, max) of the members inside a geohash box (scoresOfGeoHashBox).
fn box_scores(hash: HashBits) -> (u64, u64) {
    let next = HashBits {
        bits: hash.bits + 1,
        step: hash.step,
    };
    (hash.align52(), next.align52())
}

/// The parsed options of a search.
struct Query {
    shape: Shape,
    /// Argument index of the destination key.
    store: Option<usize>,
    storedist: bool,
    withdist: bool,
    withhash: bool,
    withcoord: bool,
    sort: Sort,
    any: bool,
    count: usize,
}

/// Parse a search's arguments (the first half of georadiusGeneric), in Redis's order so errors
/// come out the same. `z` is the source set, when it exists: member positions are looked up
/// while parsing.
fn parse_query(
    argv: &[Bytes],
    z: Option<&ZSet>,
    variant: Variant,
    nostore: bool,
) -> Result<Query, CmdError> {
    let mut q = Query {
        shape: Shape {
            kind: ShapeKind::Radius(0.0),
            xy: [0.0, 0.0],
            conversion: 0.0,
        },
        store: None,
        storedist: false,
        withdist: false,
        withhash: false,
        withcoord: false,
        sort: Sort::None,
        any: false,
        count: 0,
    };
    let base = match variant {
        Variant::Coords => {
            q.shape.xy = parse_lonlat(&argv[2], &argv[3])?;
            let (r, conv) = parse_radius(&argv[4], &argv[5])?;
            q.shape.kind = ShapeKind::Radius(r);
            q.shape.conversion = conv;
            6
        }
        Variant::Member => {
            // Without a source key the reply is empty anyway; parse the options only.
            if let Some(z) = z {
                q.shape.xy = member_position(z, &argv[2]).ok_or(BAD_MEMBER)?;
                let (r, conv) = parse_radius(&argv[3], &argv[4])?;
                q.shape.kind = ShapeKind::Radius(r);
                q.shape.conversion = conv;
            }
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            q.store = Some(1);
            3
        }
    };
    let search = variant.is_search();
    let (mut frommember, mut fromloc, mut byradius, mut bybox) = (false, false, false, false);
    let remaining = argv.len().saturating_sub(base);
    let mut i = 0;
    while i < remaining {
        let at = base + i;
        let arg = &argv[at][..];
        let has = |n: usize| i + n < remaining;
        if is(arg, "withdist") {
            q.withdist = true;
        } else if is(arg, "withhash") {
            q.withhash = true;
        } else if is(arg, "withcoord") {
            q.withcoord = true;
        } else if is(arg, "any") {
            q.any = true;
        } else if is(arg, "asc") {
            q.sort = Sort::Asc;
        } else if is(arg, "desc") {
            q.sort = Sort::Desc;
        } else if is(arg, "count") && has(1) {
            let n = parse_i64(&argv[at + 1])?;
            if n <= 0 {
                return Err(COUNT_POSITIVE);
            }
            q.count = usize::try_from(n).unwrap_or(usize::MAX);
            i += 1;
        } else if (is(arg, "store") || is(arg, "storedist")) && has(1) && !nostore && !search {
            q.store = Some(at + 1);
            q.storedist = is(arg, "storedist");
            i += 1;
        } else if is(arg, "storedist") && variant == Variant::SearchStore {
            q.storedist = true;
        } else if is(arg, "frommember") && has(1) && search && !fromloc {
            if let Some(z) = z {
                q.shape.xy = member_position(z, &argv[at + 1]).ok_or(BAD_MEMBER)?;
            }
            frommember = true;
            i += 1;
        } else if is(arg, "fromlonlat") && has(2) && search && !frommember {
            q.shape.xy = parse_lonlat(&argv[at + 1], &argv[at + 2])?;
            fromloc = true;
            i += 2;
        } else if is(arg, "byradius") && has(2) && search && !bybox {
            let (r, conv) = parse_radius(&argv[at + 1], &argv[at + 2])?;
            q.shape.kind = ShapeKind::Radius(r);
            q.shape.conversion = conv;
            byradius = true;
            i += 2;
        } else if is(arg, "bybox") && has(3) && search && !byradius {
            let (width, height, conv) = parse_box(&argv[at + 1], &argv[at + 2], &argv[at + 3])?;
            q.shape.kind = ShapeKind::Box { width, height };
            q.shape.conversion = conv;
            bybox = true;
            i += 3;
        } else {
            return Err(errors::SYNTAX);
        }
        i += 1;
    }

    if q.store.is_some() && (q.withdist || q.withhash || q.withcoord) {
        let what = if variant == Variant::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(CmdError::err(format_args!(
            "{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    if search && !(frommember || fromloc) {
        return Err(CmdError::err(format_args!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {}",
            String::from_utf8_lossy(&argv[0])
        )));
    }
    if search && !(byradius || bybox) {
        return Err(CmdError::err(format_args!(
            "exactly one of BYRADIUS and BYBOX can be specified for {}",
            String::from_utf8_lossy(&argv[0])
        )));
    }
    if q.any && q.count == 0 {
        return Err(ANY_NEEDS_COUNT);
    }
    Ok(q)
}

/// Sort the points by distance; only the first `n` need to be in order.
fn sort_points(points: &mut [Point<'_>], sort: Sort, n: usize) {
    let asc = |a: &Point<'_>, b: &Point<'_>| a.dist.total_cmp(&b.dist);
    let desc = |a: &Point<'_>, b: &Point<'_>| b.dist.total_cmp(&a.dist);
    let cmp: &dyn Fn(&Point<'_>, &Point<'_>) -> std::cmp::Ordering = match sort {
        Sort::None => return,
        Sort::Asc => &asc,
        Sort::Desc => &desc,
    };
    if n > 0 && n < points.len() {
        points.select_nth_unstable_by(n - 1, cmp);
        points[..n].sort_by(cmp);
    } else {
        points.sort_by(cmp);
    }
}

/// The shared body of the search commands (georadiusGeneric).
fn georadius_generic(ctx: &mut Ctx, src_idx: usize, variant: Variant, nostore: bool) -> CmdResult {
    let argv = ctx.argv;
    let lim = super::zset::limits(ctx.srv);
    // What a STORE form writes, computed while the source is borrowed: the destination index
    // and the result set (`None` when empty).
    let (dst, result, event) = 'borrowed: {
        let (z, r) = read_zset(ctx, &argv[src_idx])?;
        let q = parse_query(argv, z, variant, nostore)?;
        let Some(z) = z else {
            match q.store {
                Some(dst) => break 'borrowed (dst, None, ""),
                None => {
                    r.array_len(0);
                    return Ok(());
                }
            }
        };
        // COUNT without an order (and without ANY) means the nearest ones.
        let sort = if q.count != 0 && q.sort == Sort::None && !q.any {
            Sort::Asc
        } else {
            q.sort
        };
        let mut points = search(z, &q.shape, if q.any { q.count } else { 0 });
        let returned = if q.count == 0 {
            points.len()
        } else {
            points.len().min(q.count)
        };
        sort_points(&mut points, sort, returned);
        let conversion = q.shape.conversion;
        match q.store {
            None => {
                if points.is_empty() {
                    r.array_len(0);
                    return Ok(());
                }
                let options = q.withdist as usize + q.withhash as usize + q.withcoord as usize;
                let mut scratch = Vec::new();
                r.array_len(returned);
                for p in &points[..returned] {
                    if options > 0 {
                        r.array_len(options + 1);
                    }
                    reply_member(r, p.member);
                    if q.withdist {
                        reply_distance(r, p.dist / conversion);
                    }
                    if q.withhash {
                        r.int(geohash::c_double_to_i64(p.score));
                    }
                    if q.withcoord {
                        r.array_len(2);
                        reply_coord(r, p.xy[0], &mut scratch);
                        reply_coord(r, p.xy[1], &mut scratch);
                    }
                }
                return Ok(());
            }
            Some(dst) => {
                let result = (returned > 0).then(|| {
                    let mut out = ZSet::new_skiplist();
                    let (mut maxelelen, mut totelelen) = (0, 0);
                    for p in &points[..returned] {
                        let score = if q.storedist {
                            p.dist / conversion
                        } else {
                            p.score
                        };
                        with_member(p.member, |m| {
                            maxelelen = maxelelen.max(m.len());
                            totelelen += m.len();
                            out.add(score, m, AddFlags::default(), lim);
                        });
                    }
                    out.convert_to_listpack_if_needed(maxelelen, totelelen, lim);
                    out
                });
                let event = if variant.is_search() {
                    "geosearchstore"
                } else {
                    "georadiusstore"
                };
                (dst, result, event)
            }
        }
    };
    store_result(ctx, &argv[dst], result, event);
    Ok(())
}

/// Write a search's result to the destination: set it, or delete the destination when the
/// result is empty; reply with the number of members stored.
fn store_result(ctx: &mut Ctx, dst: &[u8], result: Option<ZSet>, event: &str) {
    match result {
        Some(z) => {
            let n = z.len();
            ctx.set_key(dst, Value::ZSet(z), false);
            ctx.notify(notify::ZSET, event, dst);
            ctx.dirty(n as u64);
            ctx.reply().int(n as i64);
        }
        None => {
            if ctx.delete_key(dst) {
                ctx.notify(notify::GENERIC, "del", dst);
                ctx.dirty(1);
            }
            ctx.reply().int(0);
        }
    }
}

fn georadius(ctx: &mut Ctx) -> CmdResult {
    georadius_generic(ctx, 1, Variant::Coords, false)
}
fn georadius_ro(ctx: &mut Ctx) -> CmdResult {
    georadius_generic(ctx, 1, Variant::Coords, true)
}
fn georadiusbymember(ctx: &mut Ctx) -> CmdResult {
    georadius_generic(ctx, 1, Variant::Member, false)
}
fn georadiusbymember_ro(ctx: &mut Ctx) -> CmdResult {
    georadius_generic(ctx, 1, Variant::Member, true)
}
fn geosearch(ctx: &mut Ctx) -> CmdResult {
    georadius_generic(ctx, 1, Variant::Search, true)
}
fn geosearchstore(ctx: &mut Ctx) -> CmdResult {
    georadius_generic(ctx, 2, Variant::SearchStore, true)
}

// ---------------------------------------------------------------------------------------------
// GEOHASH, GEOPOS, GEODIST
// ---------------------------------------------------------------------------------------------

/// GEOHASH key member ...: standard 11-character geohashes, null for missing members.
fn geohash_cmd(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (z, r) = read_zset(ctx, &argv[1])?;
    r.array_len(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| member_position(z, m)) {
            Some(xy) => r.bulk(&geohash::standard_geohash(xy)),
            None => r.null(),
        }
    }
    Ok(())
}

/// GEOPOS key member ...: [longitude, latitude] pairs, null arrays for missing members.
fn geopos(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let (z, r) = read_zset(ctx, &argv[1])?;
    let mut scratch = Vec::new();
    r.array_len(argv.len() - 2);
    for m in &argv[2..] {
        match z.and_then(|z| member_position(z, m)) {
            Some(xy) => {
                r.array_len(2);
                reply_coord(r, xy[0], &mut scratch);
                reply_coord(r, xy[1], &mut scratch);
            }
            None => r.null_array(),
        }
    }
    Ok(())
}

/// GEODIST key member1 member2 [unit]: the distance, null when a member is missing.
fn geodist(ctx: &mut Ctx) -> CmdResult {
    let argv = ctx.argv;
    let to_meter = match argv.len() {
        5 => parse_unit(&argv[4])?,
        n if n > 5 => return Err(errors::SYNTAX),
        _ => 1.0,
    };
    let (z, r) = read_zset(ctx, &argv[1])?;
    let Some(z) = z else {
        r.null();
        return Ok(());
    };
    let (Some(s1), Some(s2)) = (z.score(&argv[2]), z.score(&argv[3])) else {
        r.null();
        return Ok(());
    };
    match (geohash::decode_score(s1), geohash::decode_score(s2)) {
        (Some(a), Some(b)) => {
            reply_distance(r, geohash::distance(a[0], a[1], b[0], b[1]) / to_meter)
        }
        _ => r.null(),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------

const G: u64 = acl::GEO;
const RO_ACCESS: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
const RW_UPDATE: &[KeySpec] = &[KeySpec::one(1, kf::RW | kf::UPDATE)];
/// The source, then the STORE and STOREDIST destinations found by keyword after the
/// positional arguments (which end at 6 for GEORADIUS, 5 for GEORADIUSBYMEMBER).
const GEORADIUS_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RO | kf::ACCESS),
    KeySpec::keyword("STORE", 6, 0, 1, 0, kf::OW | kf::UPDATE),
    KeySpec::keyword("STOREDIST", 6, 0, 1, 0, kf::OW | kf::UPDATE),
];
const GEORADIUSBYMEMBER_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::RO | kf::ACCESS),
    KeySpec::keyword("STORE", 5, 0, 1, 0, kf::OW | kf::UPDATE),
    KeySpec::keyword("STOREDIST", 5, 0, 1, 0, kf::OW | kf::UPDATE),
];
const GEOSEARCHSTORE_KEYS: &[KeySpec] = &[
    KeySpec::one(1, kf::OW | kf::UPDATE),
    KeySpec::one(2, kf::RO | kf::ACCESS),
];

/// GEO commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("geoadd", -5, geoadd).flags(WRITE | DENYOOM).acl(G).keys(RW_UPDATE).group(Group::Geo).since("3.2.0").doc("Adds one or more members to a geospatial index. The key is created if it doesn't exist.", "O(log(N)) for each item added, where N is the number of elements in the sorted set.").syntax("key:key [condition=NX|XX] [CH] longitude_latitude_member=(longitude:double latitude:double member:string)..."),
    CommandSpec::new("geodist", -4, geodist).flags(READONLY).acl(G).keys(RO_ACCESS).group(Group::Geo).since("3.2.0").doc("Returns the distance between two members of a geospatial index.", "O(log(N))").syntax("key:key member1:string member2:string [unit=m|km|ft|mi]"),
    CommandSpec::new("geohash", -2, geohash_cmd).flags(READONLY).acl(G).keys(RO_ACCESS).group(Group::Geo).since("3.2.0").doc("Returns members from a geospatial index as geohash strings.", "O(log(N)) for each member requested, where N is the number of elements in the sorted set.").syntax("key:key member:string..."),
    CommandSpec::new("geopos", -2, geopos).flags(READONLY).acl(G).keys(RO_ACCESS).group(Group::Geo).since("3.2.0").doc("Returns the longitude and latitude of members from a geospatial index.", "O(N) where N is the number of members requested.").syntax("key:key member:string..."),
    CommandSpec::new("georadius", -6, georadius).flags(WRITE | DENYOOM | MOVABLE_KEYS).acl(G).keys(GEORADIUS_KEYS).group(Group::Geo).since("3.2.0").doc("Queries a geospatial index for members within a distance from a coordinate, optionally stores the result.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.").syntax("key:key longitude:double latitude:double radius:double unit=m|km|ft|mi [WITHCOORD] [WITHDIST] [WITHHASH] [count=(COUNT count:integer [ANY])] [order=ASC|DESC] [STORE key:key] [STOREDIST key:key]"),
    CommandSpec::new("georadius_ro", -6, georadius_ro).flags(READONLY).acl(G).keys(RO_ACCESS).group(Group::Geo).since("3.2.10").doc("Returns members from a geospatial index that are within a distance from a coordinate.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.").syntax("key:key longitude:double latitude:double radius:double unit=m|km|ft|mi [WITHCOORD] [WITHDIST] [WITHHASH] [count=(COUNT count:integer [ANY])] [order=ASC|DESC]"),
    CommandSpec::new("georadiusbymember", -5, georadiusbymember).flags(WRITE | DENYOOM | MOVABLE_KEYS).acl(G).keys(GEORADIUSBYMEMBER_KEYS).group(Group::Geo).since("3.2.0").doc("Queries a geospatial index for members within a distance from a member, optionally stores the result.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.").syntax("key:key member:string radius:double unit=m|km|ft|mi [WITHCOORD] [WITHDIST] [WITHHASH] [count=(COUNT count:integer [ANY])] [order=ASC|DESC] [STORE key:key] [STOREDIST key:key]"),
    CommandSpec::new("georadiusbymember_ro", -5, georadiusbymember_ro).flags(READONLY).acl(G).keys(RO_ACCESS).group(Group::Geo).since("3.2.10").doc("Returns members from a geospatial index that are within a distance from a member.", "O(N+log(M)) where N is the number of elements inside the bounding box of the circular area delimited by center and radius and M is the number of items inside the index.").syntax("key:key member:string radius:double unit=m|km|ft|mi [WITHCOORD] [WITHDIST] [WITHHASH] [count=(COUNT count:integer [ANY])] [order=ASC|DESC]"),
    CommandSpec::new("geosearch", -7, geosearch).flags(READONLY).acl(G).keys(RO_ACCESS).group(Group::Geo).since("6.2.0").doc("Queries a geospatial index for members inside an area of a box or a circle.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape").syntax("key:key from=(FROMMEMBER member:string|FROMLONLAT longitude:double latitude:double) by=(BYRADIUS radius:double unit=m|km|ft|mi|BYBOX width:double height:double unit=m|km|ft|mi) [order=ASC|DESC] [count=(COUNT count:integer [ANY])] [WITHCOORD] [WITHDIST] [WITHHASH]"),
    CommandSpec::new("geosearchstore", -8, geosearchstore).flags(WRITE | DENYOOM).acl(G).keys(GEOSEARCHSTORE_KEYS).group(Group::Geo).since("6.2.0").doc("Queries a geospatial index for members inside an area of a box or a circle, optionally stores the result.", "O(N+log(M)) where N is the number of elements in the grid-aligned bounding box area around the shape provided as the filter and M is the number of items inside the shape").syntax("destination:key source:key from=(FROMMEMBER member:string|FROMLONLAT longitude:double latitude:double) by=(BYRADIUS radius:double unit=m|km|ft|mi|BYBOX width:double height:double unit=m|km|ft|mi) [order=ASC|DESC] [count=(COUNT count:integer [ANY])] [STOREDIST]"),
];
