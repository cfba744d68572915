//! The RDB format, version 10 (Redis 7.0): writing a snapshot of every database and loading one
//! at start-up. Files are byte-compatible with Redis's: header `REDIS0010`, aux fields,
//! SELECTDB/RESIZEDB, per-key EXPIRETIME_MS, typed values, EOF opcode and a CRC64 (Jones)
//! trailer.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};

use crate::server::Server;
use crate::types::object::{RObj, RString, Value};
use crate::types::zset;

pub const RDB_VERSION: u32 = 10;

const OPCODE_AUX: u8 = 250;
const OPCODE_RESIZEDB: u8 = 251;
const OPCODE_EXPIRETIME_MS: u8 = 252;
const OPCODE_EXPIRETIME: u8 = 253;
const OPCODE_SELECTDB: u8 = 254;
const OPCODE_EOF: u8 = 255;
const OPCODE_IDLE: u8 = 248;
const OPCODE_FREQ: u8 = 249;
pub const OPCODE_FUNCTION2: u8 = 245;

const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_LIST_QUICKLIST_2: u8 = 18;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Redis's CRC-64 (Jones polynomial, reflected), as used for RDB and DUMP payloads.
pub const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// A writer that checksums everything written, with the RDB primitives (lengths, strings,
/// doubles) that each type's serializer uses.
pub struct RdbWriter<W: Write> {
    w: W,
    digest: crc::Digest<'static, u64>,
    /// `rdbcompression`: strings over 20 bytes are LZF-compressed when that saves space.
    compress: bool,
}

impl<W: Write> RdbWriter<W> {
    /// A writer over `w`.
    pub fn new(w: W) -> Self {
        RdbWriter {
            w,
            digest: CRC64.digest(),
            compress: false,
        }
    }

    /// With `rdbcompression` on or off (off by default).
    pub fn compressed(mut self, on: bool) -> Self {
        self.compress = on;
        self
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.w
    }

    /// Raw bytes.
    pub fn raw(&mut self, b: &[u8]) -> io::Result<()> {
        self.digest.update(b);
        self.w.write_all(b)
    }

    /// A length (rdbSaveLen).
    pub fn len(&mut self, n: u64) -> io::Result<()> {
        if n < 1 << 6 {
            self.raw(&[n as u8])
        } else if n < 1 << 14 {
            self.raw(&[0x40 | (n >> 8) as u8, n as u8])
        } else if n <= u32::MAX as u64 {
            self.raw(&[0x80])?;
            self.raw(&(n as u32).to_be_bytes())
        } else {
            self.raw(&[0x81])?;
            self.raw(&n.to_be_bytes())
        }
    }

    fn int_encoded(&mut self, v: i64) -> io::Result<bool> {
        if (-(1 << 7)..1 << 7).contains(&v) {
            self.raw(&[0xC0 | ENC_INT8, v as i8 as u8])?;
        } else if (-(1 << 15)..1 << 15).contains(&v) {
            self.raw(&[0xC0 | ENC_INT16])?;
            self.raw(&(v as i16).to_le_bytes())?;
        } else if (-(1i64 << 31)..1i64 << 31).contains(&v) {
            self.raw(&[0xC0 | ENC_INT32])?;
            self.raw(&(v as i32).to_le_bytes())?;
        } else {
            return Ok(false);
        }
        Ok(true)
    }

    /// A double in binary form (rdbSaveBinaryDoubleValue).
    pub fn binary_double(&mut self, d: f64) -> io::Result<()> {
        self.raw(&d.to_le_bytes())
    }

    /// A string, integer-encoded when it is a small canonical integer (rdbSaveRawString).
    pub fn string(&mut self, b: &[u8]) -> io::Result<()> {
        if b.len() <= 11 {
            if let Some(v) = crate::util::numbers::string2ll(b) {
                if self.int_encoded(v)? {
                    return Ok(());
                }
            }
        }
        if self.compress && b.len() > 20 && self.lzf_string(b)? {
            return Ok(());
        }
        self.len(b.len() as u64)?;
        self.raw(b)
    }

    /// An LZF-compressed string (rdbSaveLzfStringObject), when it saves at least four bytes.
    fn lzf_string(&mut self, b: &[u8]) -> io::Result<bool> {
        let Some(c) = crate::util::lzf::compress(b, b.len() - 4) else {
            return Ok(false);
        };
        self.lzf_blob(&c, b.len())?;
        Ok(true)
    }

    /// An already-compressed LZF blob of `raw_len` bytes (rdbSaveLzfBlob).
    pub fn lzf_blob(&mut self, c: &[u8], raw_len: usize) -> io::Result<()> {
        self.raw(&[0xC0 | ENC_LZF])?;
        self.len(c.len() as u64)?;
        self.len(raw_len as u64)?;
        self.raw(c)
    }

    /// An integer as a string object (rdbSaveLongLongAsStringObject).
    pub fn i64_string(&mut self, v: i64) -> io::Result<()> {
        if self.int_encoded(v)? {
            return Ok(());
        }
        let d = crate::util::numbers::ll2string(v);
        self.len(d.len() as u64)?;
        self.raw(d.as_bytes())
    }

    fn aux(&mut self, k: &str, v: &[u8]) -> io::Result<()> {
        self.raw(&[OPCODE_AUX])?;
        self.string(k.as_bytes())?;
        self.string(v)
    }
}

/// Bytes the value would take in an RDB file (DEBUG OBJECT serializedlength).
pub fn serialized_len(v: &Value, compress: bool) -> usize {
    let mut counter = Counter(0);
    {
        let mut w = RdbWriter::new(&mut counter).compressed(compress);
        let _ = write_value(&mut w, v);
    }
    // Without the type byte, as Redis's rdbSavedObjectLen.
    counter.0.saturating_sub(1)
}

struct Counter(usize);
impl Write for Counter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The RDB type byte of a value (rdbSaveObjectType).
pub fn value_type(v: &Value) -> u8 {
    match v {
        Value::Str(_) => TYPE_STRING,
        Value::List(_) => TYPE_LIST_QUICKLIST_2,
        Value::ZSet(z) => z.rdb_type(),
        Value::Set(s) => s.rdb_type(),
        Value::Hash(h) => h.rdb_type(),
        Value::Stream(_) => crate::types::stream::RDB_TYPE_STREAM_LISTPACKS_2,
    }
}

/// Write a value's payload, without its type byte (rdbSaveObject).
pub fn write_payload<W: Write>(r: &mut RdbWriter<W>, v: &Value) -> io::Result<()> {
    match v {
        Value::Str(s) => match s {
            RString::Int(n) => r.i64_string(*n),
            RString::Emb(b) => r.string(b),
            RString::Raw(b) => r.string(b),
        },
        Value::List(l) => l.rdb_save(r),
        Value::ZSet(z) => z.rdb_save(r),
        Value::Set(s) => s.rdb_save(r),
        Value::Hash(h) => h.rdb_save(r),
        Value::Stream(s) => s.rdb_save(r),
    }
}

/// Write a value: its type byte, then its payload (the DUMP layout; in a file the key goes
/// between the two).
pub fn write_value<W: Write>(r: &mut RdbWriter<W>, v: &Value) -> io::Result<()> {
    r.raw(&[value_type(v)])?;
    write_payload(r, v)
}

/// Replication information saved in (and loaded from) an RDB's aux fields (Redis's
/// rdbSaveInfo): the db the replication stream had selected, and the replication id and
/// offset the snapshot corresponds to.
#[derive(Debug, Clone, Default)]
pub struct RdbSaveInfo {
    pub repl_stream_db: i64,
    pub repl_id: Option<String>,
    pub repl_offset: i64,
}

impl Server {
    /// The replication info to save with a snapshot, when there is any (Redis's
    /// rdbPopulateSaveInfo): a master with a backlog, or a replica with a (cached) master.
    pub fn rdb_save_info(&self) -> Option<RdbSaveInfo> {
        let db = if !self.is_replica() && self.repl.backlog.is_some() {
            if self.repl.slaveseldb == -1 {
                0
            } else {
                self.repl.slaveseldb
            }
        } else if let Some(c) = self
            .repl
            .link
            .master_key
            .and_then(|k| self.clients.get(k))
            .and_then(|s| s.as_deref())
        {
            c.db as i64
        } else if let Some(cm) = &self.repl.link.cached {
            cm.db as i64
        } else {
            return None;
        };
        Some(RdbSaveInfo {
            repl_stream_db: db,
            repl_id: Some(self.repl.replid.clone()),
            repl_offset: self.repl.master_repl_offset,
        })
    }
}

/// Write the whole dataset in RDB format to `w`, with the replication aux fields of `rsi`.
/// `rdb-key-save-delay` slows it down per key (for tests of children in progress).
pub fn write_rdb<W: Write>(srv: &Server, w: W, rsi: Option<&RdbSaveInfo>) -> io::Result<W> {
    write_rdb_ext(srv, w, rsi, false, 0)
}

/// [`write_rdb`], for an AOF base file when `aof_base` (the `aof-base` aux field says so).
pub fn write_rdb_ext<W: Write>(
    srv: &Server,
    w: W,
    rsi: Option<&RdbSaveInfo>,
    aof_base: bool,
    filter: u8,
) -> io::Result<W> {
    use crate::replication::rdb_filter;
    let delay = srv.config.rdb_key_save_delay;
    let mut r = RdbWriter::new(w).compressed(srv.config.rdbcompression);
    r.raw(format!("REDIS{:04}", RDB_VERSION).as_bytes())?;
    r.aux("redis-ver", crate::REDIS_VERSION.as_bytes())?;
    r.aux("redis-bits", b"64")?;
    r.aux(
        "ctime",
        (crate::server::mstime() / 1000).to_string().as_bytes(),
    )?;
    r.aux(
        "used-mem",
        crate::alloc::used_memory().to_string().as_bytes(),
    )?;
    if let Some(rsi) = rsi {
        r.aux("repl-stream-db", rsi.repl_stream_db.to_string().as_bytes())?;
        r.aux(
            "repl-id",
            rsi.repl_id.as_deref().unwrap_or_default().as_bytes(),
        )?;
        r.aux("repl-offset", rsi.repl_offset.to_string().as_bytes())?;
    }
    r.aux("aof-base", if aof_base { b"1" } else { b"0" })?;
    if filter & rdb_filter::EXCLUDE_FUNCTIONS == 0 {
        crate::scripting::function::write_functions(srv, &mut r)?;
    }
    let dbs = if filter & rdb_filter::EXCLUDE_DATA == 0 {
        &srv.dbs[..]
    } else {
        &[]
    };
    let mut keys = 0u64;
    for (i, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        r.raw(&[OPCODE_SELECTDB])?;
        r.len(i as u64)?;
        r.raw(&[OPCODE_RESIZEDB])?;
        r.len(db.len() as u64)?;
        r.len(db.expires.len() as u64)?;
        for (k, o) in db.keys.iter() {
            if let Some(when) = db.expire_of(k) {
                r.raw(&[OPCODE_EXPIRETIME_MS])?;
                r.raw(&when.to_le_bytes())?;
            }
            r.raw(&[value_type(&o.value)])?;
            r.string(k)?;
            write_payload(&mut r, &o.value)?;
            keys += 1;
            if let Some(rep) = &srv.child_reporter {
                rep.progress(keys);
            }
            if delay != 0 {
                debug_delay(delay);
            }
        }
    }
    r.raw(&[OPCODE_EOF])?;
    let crc = r.digest.finalize();
    r.w.write_all(&crc.to_le_bytes())?;
    Ok(r.w)
}

/// SAVE: write the snapshot to `dir/dbfilename` through a temp file, fsync, rename.
pub fn save(srv: &mut Server) -> io::Result<()> {
    let tmp = format!("temp-{}.rdb", std::process::id());
    let res = (|| {
        let f = File::create(&tmp)?;
        let rsi = srv.rdb_save_info();
        let w = write_rdb(srv, BufWriter::new(f), rsi.as_ref())?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &srv.config.dbfilename)?;
        Ok(())
    })();
    match &res {
        Ok(()) => {
            log::info!("DB saved on disk");
            srv.dirty = 0;
            srv.lastsave = crate::server::mstime() / 1000;
            srv.persistence.last_save_ok = true;
            srv.persistence.saves += 1;
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            log::warn!(
                "Failed opening the temp RDB file {} (in server root dir {}) for saving: {}",
                tmp,
                std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
                e
            );
            // Like rdbSave, a failed foreground save leaves lastbgsave_status alone.
        }
    }
    res
}

/// A cursor over an RDB byte buffer, with the primitives each type's loader uses. Every read
/// is bounds-checked: corrupt input is an error, never a panic.
pub struct RdbReader<'a> {
    b: &'a [u8],
    pos: usize,
}

/// An error for corrupt or unsupported RDB content.
pub fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

/// Is `e` the [`empty_key`] error (a collection that loaded empty)?
pub fn is_empty_key(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|x| x.is::<EmptyKey>())
}

impl<'a> RdbReader<'a> {
    /// A reader over `b`.
    pub fn new(b: &'a [u8]) -> Self {
        RdbReader { b, pos: 0 }
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.pos + n > self.b.len() {
            return Err(bad("Unexpected EOF reading RDB file"));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// One byte.
    pub fn u8(&mut self) -> io::Result<u8> {
        Ok(self.take(1)?[0])
    }

    /// A length, or `Err(Some(enc))` for a special string encoding.
    fn len_or_enc(&mut self) -> io::Result<(u64, bool)> {
        let b = self.u8()?;
        match b >> 6 {
            0 => Ok(((b & 0x3f) as u64, false)),
            1 => Ok(((((b & 0x3f) as u64) << 8) | self.u8()? as u64, false)),
            2 => match b {
                0x80 => Ok((
                    u32::from_be_bytes(self.take(4)?.try_into().unwrap()) as u64,
                    false,
                )),
                0x81 => Ok((u64::from_be_bytes(self.take(8)?.try_into().unwrap()), false)),
                _ => Err(bad("Unknown length encoding in rdbLoadLen()")),
            },
            _ => Ok(((b & 0x3f) as u64, true)),
        }
    }

    /// True when every byte was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.b.len()
    }

    /// A binary double (rdbLoadBinaryDoubleValue).
    pub fn binary_double(&mut self) -> io::Result<f64> {
        Ok(f64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// A length (rdbLoadLen).
    pub fn len(&mut self) -> io::Result<u64> {
        match self.len_or_enc()? {
            (n, false) => Ok(n),
            _ => Err(bad("Unexpected encoded length")),
        }
    }

    /// A string in any encoding (rdbGenericLoadStringObject).
    pub fn string(&mut self) -> io::Result<Vec<u8>> {
        let (n, enc) = self.len_or_enc()?;
        if !enc {
            return Ok(self.take(n as usize)?.to_vec());
        }
        match n as u8 {
            ENC_INT8 => Ok((self.u8()? as i8).to_string().into_bytes()),
            ENC_INT16 => Ok(i16::from_le_bytes(self.take(2)?.try_into().unwrap())
                .to_string()
                .into_bytes()),
            ENC_INT32 => Ok(i32::from_le_bytes(self.take(4)?.try_into().unwrap())
                .to_string()
                .into_bytes()),
            ENC_LZF => {
                let clen = self.len()? as usize;
                let ulen = self.len()? as usize;
                let c = self.take(clen)?;
                crate::util::lzf::decompress(c, ulen)
                    .ok_or_else(|| bad("Invalid LZF compressed string"))
            }
            _ => Err(bad("Unknown RDB string encoding type")),
        }
    }
}

/// Marker error of a collection that loaded empty (Redis's RDB_LOAD_ERR_EMPTY_KEY).
#[derive(Debug)]
pub struct EmptyKey;

impl std::fmt::Display for EmptyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("empty key")
    }
}

impl std::error::Error for EmptyKey {}

/// The error a type loader returns for an empty collection; the key is skipped.
pub fn empty_key() -> io::Error {
    io::Error::other(EmptyKey)
}

/// Read a value of RDB type `t` (rdbLoadObject). Each type's loader converts to the encoding
/// Redis would choose for the loaded size. An empty collection is skipped with a warning, as
/// Redis does: loaders report it with [`empty_key`].
pub fn read_value(t: u8, r: &mut RdbReader, srv: &Server) -> io::Result<Value> {
    use crate::types::quicklist::Quicklist;
    use crate::types::{hash, set};
    let (fill, depth) = (
        srv.config.list_max_listpack_size,
        srv.config.list_compress_depth,
    );
    let list = |q: Option<Quicklist>| q.map(|q| Value::List(Box::new(q))).ok_or_else(empty_key);
    match t {
        TYPE_STRING => Ok(Value::Str(RString::from_bytes(&r.string()?))),
        TYPE_LIST => list(Quicklist::rdb_load_linked(r, fill, depth)?),
        TYPE_LIST_ZIPLIST => list(Quicklist::rdb_load_ziplist(r, fill, depth)?),
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => list(Quicklist::rdb_load(
            r,
            t == TYPE_LIST_QUICKLIST_2,
            fill,
            depth,
        )?),
        zset::RDB_TYPE_ZSET
        | zset::RDB_TYPE_ZSET_2
        | zset::RDB_TYPE_ZSET_ZIPLIST
        | zset::RDB_TYPE_ZSET_LISTPACK => {
            let z = zset::ZSet::rdb_load(t, r, crate::commands::zset::limits(srv))?;
            if z.is_empty() {
                Err(empty_key())
            } else {
                Ok(Value::ZSet(z))
            }
        }
        set::RDB_TYPE_SET | set::RDB_TYPE_SET_INTSET => Ok(Value::Set(Box::new(
            set::Set::rdb_load(t, r, srv.config.set_max_intset_entries as usize)?,
        ))),
        hash::RDB_TYPE_HASH
        | hash::RDB_TYPE_HASH_LISTPACK
        | hash::RDB_TYPE_HASH_ZIPLIST
        | hash::RDB_TYPE_HASH_ZIPMAP => Ok(Value::Hash(hash::Hash::rdb_load(
            t,
            r,
            hash::Limits::of(&srv.config),
        )?)),
        crate::types::stream::RDB_TYPE_STREAM_LISTPACKS
        | crate::types::stream::RDB_TYPE_STREAM_LISTPACKS_2 => Ok(Value::Stream(Box::new(
            crate::types::stream::Stream::rdb_load(t, r)?,
        ))),
        other => Err(bad(&format!("Unknown RDB encoding type {}", other))),
    }
}

/// Load an RDB file into the (empty) databases. Returns the number of keys loaded.
pub fn load(srv: &mut Server, path: &str) -> io::Result<u64> {
    load_file(srv, path, false)
}

/// Load the RDB file at `path`; with `allow_dup` (DEBUG RELOAD MERGE) its keys and function
/// libraries replace those already present, else a duplicate fails the load.
pub fn load_file(srv: &mut Server, path: &str, allow_dup: bool) -> io::Result<u64> {
    let mut data = Vec::new();
    File::open(path)?.read_to_end(&mut data)?;
    load_bytes_ext(srv, &data, allow_dup)
}

/// Load an RDB image from memory, serving clients (with LOADING errors) every
/// `loading-process-events-interval-bytes` of input, as Redis does.
pub fn load_bytes(srv: &mut Server, data: &[u8]) -> io::Result<u64> {
    load_bytes_ext(srv, data, false)
}

fn load_bytes_ext(srv: &mut Server, data: &[u8], allow_dup: bool) -> io::Result<u64> {
    let p = &mut srv.persistence;
    p.loading = true;
    p.loading_start_time = crate::server::mstime() / 1000;
    p.loading_total_bytes = data.len() as u64;
    p.loading_loaded_bytes = 0;
    let res = load_records(srv, data, false, allow_dup).map(|(n, _)| n);
    srv.persistence.loading = false;
    res
}

/// Load an RDB image that starts `data` (an AOF base file or RDB preamble), with the loading
/// state managed by the caller. Keys already expired are kept, as Redis does for AOF
/// preambles (their deletion is in the AOF tail). Returns the bytes the image took.
pub fn load_preamble(srv: &mut Server, data: &[u8]) -> io::Result<usize> {
    load_records(srv, data, true, false).map(|(_, used)| used)
}

/// Sleep like Redis's debugDelay: `usec` microseconds, or for a negative value sleep 1 µs with
/// probability 1/-usec.
pub fn debug_delay(usec: i64) {
    let us = if usec < 0 {
        let r = crate::server::ustime() as u64 ^ 0x9e37_79b9_7f4a_7c15;
        u64::from(r.is_multiple_of((-usec) as u64))
    } else {
        usec as u64
    };
    if us > 0 {
        std::thread::sleep(std::time::Duration::from_micros(us));
    }
}

/// A load error and the input offset where it was detected.
#[derive(Debug)]
struct AtOffset {
    offset: usize,
    inner: io::Error,
}

impl std::fmt::Display for AtOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl std::error::Error for AtOffset {}

/// Where in the input a load error was detected, if known.
pub fn error_offset(e: &io::Error) -> Option<usize> {
    e.get_ref()
        .and_then(|x| x.downcast_ref::<AtOffset>())
        .map(|a| a.offset)
}

/// Log a corrupt RDB file found at start-up the way Redis's rdbReportError does: the error,
/// what redis-check-rdb finds in the file, and that the server terminates (the caller
/// exits). The file itself is left as it is.
pub fn report_corrupt_file(srv: &Server, path: &str, e: &io::Error) {
    let msg = format!(
        "Internal error in RDB reading offset {}, function at rdb.c:0 -> {}",
        srv.persistence.loading_loaded_bytes, e
    );
    log::warn!("{}", msg);
    log::warn!("[offset 0] Checking RDB file {}", path);
    log::warn!("--- RDB ERROR DETECTED ---");
    log::warn!("[offset {}] {}", error_offset(e).unwrap_or(0), msg);
    log::warn!("Terminating server after rdb file reading failure.");
}

fn load_records(
    srv: &mut Server,
    data: &[u8],
    aof_preamble: bool,
    allow_dup: bool,
) -> io::Result<(u64, usize)> {
    let mut r = RdbReader::new(data);
    load_records_from(srv, &mut r, data, aof_preamble, allow_dup).map_err(|e| {
        let kind = e.kind();
        io::Error::new(
            kind,
            AtOffset {
                offset: r.pos,
                inner: e,
            },
        )
    })
}

fn load_records_from(
    srv: &mut Server,
    r: &mut RdbReader,
    data: &[u8],
    aof_preamble: bool,
    allow_dup: bool,
) -> io::Result<(u64, usize)> {
    let interval = srv.config.loading_process_events_interval_bytes.max(1) as usize;
    let mut next_events_at = interval;
    let magic = r.take(9)?;
    if &magic[..5] != b"REDIS" {
        return Err(bad("Wrong signature trying to load DB from file"));
    }
    let ver: u32 = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("Wrong signature"))?;
    if !(1..=RDB_VERSION).contains(&ver) {
        return Err(bad(&format!("Can't handle RDB format version {}", ver)));
    }
    let mut db = 0usize;
    let mut expire: Option<i64> = None;
    let now = crate::server::mstime();
    let mut loaded = 0u64;
    let mut expired = 0u64;
    let mut empty_keys_skipped = 0u64;
    let mut rsi = RdbSaveInfo {
        repl_stream_db: -1,
        repl_id: None,
        repl_offset: -1,
    };
    loop {
        if r.pos >= next_events_at {
            srv.persistence.loading_loaded_bytes = r.pos as u64;
            srv.process_events_while_blocked();
            next_events_at = r.pos + interval;
        }
        let t = r.u8()?;
        match t {
            OPCODE_EOF => break,
            OPCODE_SELECTDB => {
                db = r.len()? as usize;
                if db >= srv.dbs.len() {
                    return Err(bad(&format!("FATAL: Data file was created with a Redis server configured to handle more than {} databases. Exiting\n", srv.dbs.len())));
                }
            }
            OPCODE_RESIZEDB => {
                let n = r.len()? as usize;
                let _ = r.len()?;
                srv.dbs[db].keys.expand(n);
            }
            OPCODE_EXPIRETIME_MS => {
                expire = Some(i64::from_le_bytes(r.take(8)?.try_into().unwrap()))
            }
            OPCODE_EXPIRETIME => {
                expire = Some(i32::from_le_bytes(r.take(4)?.try_into().unwrap()) as i64 * 1000)
            }
            OPCODE_AUX => {
                let k = r.string()?;
                let v = r.string()?;
                let num = || {
                    std::str::from_utf8(&v)
                        .ok()
                        .and_then(|s| s.parse::<i64>().ok())
                };
                match &k[..] {
                    b"repl-stream-db" => {
                        rsi.repl_stream_db = num().unwrap_or(-1);
                    }
                    b"repl-id" if v.len() == 40 => {
                        rsi.repl_id = Some(String::from_utf8_lossy(&v).into_owned());
                    }
                    b"repl-offset" => rsi.repl_offset = num().unwrap_or(-1),
                    _ => {}
                }
            }
            OPCODE_IDLE => {
                r.len()?;
            }
            OPCODE_FREQ => {
                r.u8()?;
            }
            OPCODE_FUNCTION2 => {
                let code = bytes::Bytes::from(r.string()?);
                if let Err(e) = srv.scripting.functions.create(&code, allow_dup, false) {
                    return Err(bad(&format!("Failed loading library, {}", e)));
                }
            }
            t => {
                let key = r.string()?;
                let value = match read_value(t, r, srv) {
                    Ok(v) => v,
                    Err(e) if is_empty_key(&e) => {
                        if empty_keys_skipped < 10 {
                            log::warn!(
                                "rdbLoadObject skipping empty key: {}",
                                String::from_utf8_lossy(&key)
                            );
                        }
                        empty_keys_skipped += 1;
                        expire = None;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let expire_at = expire.take();
                // Keys already expired are skipped when loading as a master (rdbLoad).
                if expire_at.is_some_and(|w| w < now) && !srv.is_replica() && !aof_preamble {
                    expired += 1;
                    // A master restarting with a backlog puts the deletion in the stream.
                    if srv.repl.backlog.is_some() {
                        let cmd: &'static [u8] = if srv.config.lazyfree_lazy_expire {
                            b"UNLINK"
                        } else {
                            b"DEL"
                        };
                        srv.feed_replicas(
                            db as i64,
                            &[bytes::Bytes::from_static(cmd), bytes::Bytes::from(key)],
                        );
                    }
                    continue;
                }
                if srv.dbs[db].keys.contains_key(&key[..]) {
                    if allow_dup {
                        srv.dbs[db].delete(&key);
                    } else {
                        return Err(bad(&format!(
                            "Duplicate key '{}' found in RDB file",
                            String::from_utf8_lossy(&key)
                        )));
                    }
                }
                srv.dbs[db].add(&key, RObj::new(value, srv.lruclock));
                if let Some(when) = expire_at {
                    srv.dbs[db].set_expire(&key, when);
                }
                loaded += 1;
                if srv.config.key_load_delay != 0 {
                    debug_delay(srv.config.key_load_delay);
                }
            }
        }
    }
    if ver >= 5 {
        let sum = r.take(8)?;
        let expected = u64::from_le_bytes(sum.try_into().unwrap());
        let got = CRC64.checksum(&data[..r.pos - 8]);
        if expected != 0 && expected != got {
            log::warn!(
                "Wrong RDB checksum expected: ({:016x}) got: ({:016x}). Aborting now.",
                expected,
                got
            );
            return Err(bad("RDB CRC error"));
        }
    }
    if empty_keys_skipped > 0 {
        log::warn!(
            "Done loading RDB, keys loaded: {}, keys expired: {}, empty keys skipped: {}.",
            loaded,
            expired,
            empty_keys_skipped
        );
    } else {
        log::info!(
            "Done loading RDB, keys loaded: {}, keys expired: {}.",
            loaded,
            expired
        );
    }
    srv.persistence.loaded_rsi = Some(rsi);
    srv.persistence.last_load_keys_loaded = loaded;
    srv.persistence.last_load_keys_expired = expired;
    Ok((loaded, r.pos))
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc64_matches_redis_test_vector() {
        // crc64.c's test: crc64(0, "123456789") == 0xe9c6d914c4b8d9ca
        assert_eq!(super::CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
    }
}
