//! DUMP and RESTORE: a value serialized in the RDB object format, followed by the RDB version
//! (2 bytes, little endian) and a CRC64 of everything before (8 bytes, little endian), so
//! values move between Redis and Redust servers byte for byte. Payloads from clients are
//! untrusted: the RDB loaders validate them, and a bad payload is an error, never a crash.

use bytes::Bytes;

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;
use crate::persistence::rdb::{read_value, write_value, RdbReader, RdbWriter, CRC64, RDB_VERSION};

/// Serialize a value as DUMP does.
pub fn dump_payload(v: &crate::types::object::Value, compress: bool) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new()).compressed(compress);
    write_value(&mut w, v).expect("writing to memory cannot fail");
    let mut out = w.into_inner();
    append_dump_footer(&mut out);
    out
}

/// End a DUMP payload (values, or FUNCTION DUMP's libraries) with the RDB version and the
/// CRC64 of everything before.
pub fn append_dump_footer(out: &mut Vec<u8>) {
    out.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = CRC64.checksum(out);
    out.extend_from_slice(&crc.to_le_bytes());
}

/// Check the footer of a DUMP payload (Redis's verifyDumpPayload); the body before it.
pub fn verify_dump_payload(p: &[u8], skip_checksum: bool) -> Option<&[u8]> {
    if p.len() < 10 {
        return None;
    }
    let footer = &p[p.len() - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    if ver as u32 > RDB_VERSION {
        return None;
    }
    if !skip_checksum && CRC64.checksum(&p[..p.len() - 8]).to_le_bytes() != footer[2..] {
        return None;
    }
    Some(&p[..p.len() - 10])
}

fn dump(ctx: &mut Ctx) -> CmdResult {
    let key = ctx.arg(1);
    let compress = ctx.srv.config.rdbcompression;
    match ctx.read(key) {
        (Some(o), r) => {
            let payload = dump_payload(&o.value, compress);
            r.bulk(&payload);
        }
        (None, r) => r.null(),
    }
    Ok(())
}

fn restore(ctx: &mut Ctx) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < ctx.argv.len() {
        let a = ctx.arg(j);
        let more = ctx.argv.len() - j - 1;
        if is(a, "replace") {
            replace = true;
        } else if is(a, "absttl") {
            absttl = true;
        } else if is(a, "idletime") && more >= 1 && freq.is_none() {
            let v = parse_i64(ctx.arg(j + 1))?;
            if v < 0 {
                return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
            }
            idle = Some(v);
            j += 1;
        } else if is(a, "freq") && more >= 1 && idle.is_none() {
            let v = parse_i64(ctx.arg(j + 1))?;
            if !(0..=255).contains(&v) {
                return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
            }
            freq = Some(v);
            j += 1;
        } else {
            return Err(crate::command::errors::SYNTAX);
        }
        j += 1;
    }
    let key = ctx.arg(1);
    if !replace && ctx.write(key).is_some() {
        return Err(CmdError::Static("BUSYKEY Target key name already exists."));
    }
    let mut ttl = parse_i64(ctx.arg(2))?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let payload = ctx.arg(3);
    let Some(body) = verify_dump_payload(payload, ctx.srv.skip_checksum_validation) else {
        return Err(CmdError::err("DUMP payload version or checksum are wrong"));
    };
    let mut r = RdbReader::new(body);
    let value = r
        .u8()
        .and_then(|t| read_value(t, &mut r, ctx.srv))
        .map_err(|e| {
            // Like rdbReportCorruptRDB, say what was wrong in the log.
            if !crate::persistence::rdb::is_empty_key(&e) {
                log::warn!("Internal error in RDB reading offset 0, function at rdb.c:0 -> {e}");
            }
            CmdError::err("Bad data format")
        })?;
    let deleted = replace && ctx.delete_key(key);
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(ctx.now_ms());
    }
    if ttl != 0 && ttl < ctx.now_ms() && !ctx.srv.is_replica() && !ctx.srv.persistence.loading {
        // Already expired: the key is not created (and a replaced one is gone).
        if deleted {
            ctx.propagate_as(vec![Bytes::from_static(b"DEL"), ctx.argv[1].clone()]);
            ctx.notify(notify::GENERIC, "del", key);
            ctx.dirty(1);
        }
        ctx.reply().ok();
        return Ok(());
    }
    ctx.set_key(key, value, false);
    let db = ctx.client.db;
    if ttl != 0 {
        ctx.set_expire(db, key, ttl);
        if !absttl {
            // Propagate the absolute time, so replicas and the AOF expire it at the same moment.
            let mut argv = ctx.argv.to_vec();
            argv[2] = Bytes::from(ttl.to_string());
            argv.push(Bytes::from_static(b"ABSTTL"));
            ctx.propagate_as(argv);
        }
    }
    // objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME under the others.
    let lfu = ctx.srv.lfu_enabled();
    let (lruclock, now_ms) = (ctx.srv.lruclock, ctx.srv.now_ms);
    if let Some(o) = ctx.srv.dbs[db].keys.get_mut(key) {
        match (lfu, freq, idle) {
            (true, Some(f), _) => {
                o.lru = (crate::db::access::lfu_minutes(now_ms) << 8) | f as u32;
            }
            (false, _, Some(secs)) => {
                o.lru = lruclock.wrapping_sub(secs as u32) & crate::server::LRU_CLOCK_MAX;
            }
            _ => {}
        }
    }
    ctx.notify(notify::GENERIC, "restore", key);
    ctx.dirty(1);
    ctx.reply().ok();
    Ok(())
}

const DUMP_KEY: &[KeySpec] = &[KeySpec::one(1, kf::RO | kf::ACCESS)];
const RESTORE_KEY: &[KeySpec] = &[KeySpec::one(1, kf::OW | kf::UPDATE)];

/// DUMP and RESTORE.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("dump", 2, dump).flags(READONLY).acl(acl::KEYSPACE).keys(DUMP_KEY).group(Group::Generic).since("2.6.0").doc("Returns a serialized representation of the value stored at a key.", "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).").syntax("key:key").tips(&["nondeterministic_output"]),
    CommandSpec::new("restore", -4, restore).flags(WRITE | DENYOOM).acl(acl::KEYSPACE | acl::DANGEROUS).keys(RESTORE_KEY).group(Group::Generic).since("2.6.0").doc("Creates a key from the serialized representation of a value.", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).").syntax("key:key ttl:integer serialized-value:string [REPLACE] [ABSTTL] [IDLETIME seconds:integer] [FREQ frequency:integer]"),
    CommandSpec::new("restore-asking", -4, restore).flags(WRITE | DENYOOM | ASKING).acl(acl::KEYSPACE | acl::DANGEROUS).keys(RESTORE_KEY).group(Group::Generic).since("3.0.0").doc("An internal command for migrating keys in a cluster.", "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).").syntax("key:key ttl:integer serialized-value:string [REPLACE] [ABSTTL] [IDLETIME seconds:integer] [FREQ frequency:integer]"),
];
