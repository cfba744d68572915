//! MIGRATE: move (or copy) keys to another instance. The transfer is synchronous, as in
//! Redis: the reactor blocks on the target for at most `timeout` ms per step, sending each key
//! as a RESTORE of its DUMP payload and deleting it locally once the target acknowledged.
//! Connections are cached per `host:port` (at most 64) and closed after 10 idle seconds.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use bytes::Bytes;

use crate::command::args::{is, parse_i64};
use crate::command::{
    acl, flags::*, keyflags as kf, CmdError, CmdResult, CommandSpec, Ctx, Group, KeySpec,
};
use crate::db::notify;
use crate::replication::encode_command;

/// Redis's MIGRATE_SOCKET_CACHE_ITEMS and MIGRATE_SOCKET_CACHE_TTL (seconds).
const CACHE_ITEMS: usize = 64;
const CACHE_TTL: i64 = 10;

/// A cached connection to a MIGRATE target.
#[derive(Debug)]
struct CachedSocket {
    stream: TcpStream,
    /// Bytes read past the last reply line.
    pending: Vec<u8>,
    /// The db last selected on the target, -1 when unknown.
    last_dbid: i64,
    last_use: i64,
}

/// The cache of MIGRATE connections (Redis's migrate_cached_sockets).
#[derive(Debug, Default)]
pub struct MigrateCache {
    sockets: HashMap<String, CachedSocket>,
}

impl MigrateCache {
    /// Number of cached connections (INFO migrate_cached_sockets).
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// Close connections idle for more than 10 seconds (migrateCloseTimedoutSockets).
    pub fn close_timed_out(&mut self, now_secs: i64) {
        self.sockets
            .retain(|_, cs| now_secs - cs.last_use <= CACHE_TTL);
    }

    /// The cached connection to `name`, connecting (and caching) when there is none.
    fn get(
        &mut self,
        name: &str,
        host: &str,
        port: u16,
        timeout: Duration,
        now_secs: i64,
    ) -> Option<&mut CachedSocket> {
        if !self.sockets.contains_key(name) {
            if self.sockets.len() >= CACHE_ITEMS {
                // Too many: drop one (Redis picks it at random).
                if let Some(k) = self.sockets.keys().next().cloned() {
                    self.sockets.remove(&k);
                }
            }
            let stream = connect(host, port, timeout).ok()?;
            let _ = stream.set_nodelay(true);
            self.sockets.insert(
                name.to_string(),
                CachedSocket {
                    stream,
                    pending: Vec::new(),
                    last_dbid: -1,
                    last_use: now_secs,
                },
            );
        }
        let cs = self.sockets.get_mut(name)?;
        cs.last_use = now_secs;
        Some(cs)
    }

    fn close(&mut self, name: &str) {
        self.sockets.remove(name);
    }
}

fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl CachedSocket {
    /// Write all of `buf` in 64k chunks, each within `timeout` (connSyncWrite).
    fn write_all(&mut self, buf: &[u8], timeout: Duration) -> io::Result<()> {
        self.stream.set_write_timeout(Some(timeout))?;
        for chunk in buf.chunks(64 * 1024) {
            self.stream.write_all(chunk)?;
        }
        Ok(())
    }

    /// One reply line without its CRLF (connSyncReadLine).
    fn read_line(&mut self, timeout: Duration) -> io::Result<Vec<u8>> {
        self.stream.set_read_timeout(Some(timeout))?;
        loop {
            if let Some(nl) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=nl).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            let mut buf = [0u8; 4096];
            let n = self.stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
            }
            self.pending.extend_from_slice(&buf[..n]);
        }
    }
}

/// What went wrong talking to the target.
enum SocketErr {
    Write(io::Error),
    Read(io::Error),
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password]
/// [AUTH2 username password] [KEYS key ...]
fn migrate(ctx: &mut Ctx) -> CmdResult {
    let (mut copy, mut replace) = (false, false);
    let mut auth: Option<(Option<Bytes>, Bytes)> = None;
    let (mut first_key, mut num_keys) = (3, 1);
    let argc = ctx.argv.len();
    let mut j = 6;
    while j < argc {
        let more = argc - 1 - j;
        let a = ctx.arg(j);
        if is(a, "copy") {
            copy = true;
        } else if is(a, "replace") {
            replace = true;
        } else if is(a, "auth") {
            if more < 1 {
                return Err(crate::command::errors::SYNTAX);
            }
            j += 1;
            ctx.redact(j);
            auth = Some((None, ctx.argv[j].clone()));
        } else if is(a, "auth2") {
            if more < 2 {
                return Err(crate::command::errors::SYNTAX);
            }
            auth = Some((Some(ctx.argv[j + 1].clone()), ctx.argv[j + 2].clone()));
            ctx.redact(j + 1);
            ctx.redact(j + 2);
            j += 2;
        } else if is(a, "keys") {
            if !ctx.arg(3).is_empty() {
                return Err(CmdError::err(
                    "When using MIGRATE KEYS option, the key argument must be set to the empty string",
                ));
            }
            first_key = j + 1;
            num_keys = argc - j - 1;
            break;
        } else {
            return Err(crate::command::errors::SYNTAX);
        }
        j += 1;
    }
    let timeout = parse_i64(ctx.arg(5))?;
    let dbid = parse_i64(ctx.arg(4))?;
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });

    let keys: Vec<Bytes> = ctx.argv[first_key..first_key + num_keys].to_vec();
    let mut present = Vec::with_capacity(keys.len());
    for k in keys {
        if ctx.read(&k).0.is_some() {
            present.push(k);
        }
    }
    if present.is_empty() {
        ctx.reply().simple(b"NOKEY");
        return Ok(());
    }
    let host = String::from_utf8_lossy(ctx.arg(1)).into_owned();
    let port_s = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    let name = format!("{}:{}", host, port_s);
    // atoi semantics: a bad port fails to connect.
    let port: u16 = port_s.trim().parse().unwrap_or(0);

    let mut may_retry = true;
    loop {
        let now_secs = ctx.srv.now_ms / 1000;
        let Some(cs) = ctx.srv.migrate.get(&name, &host, port, timeout, now_secs) else {
            return Err(CmdError::Static(
                "IOERR error or timeout connecting to the client",
            ));
        };
        let select = cs.last_dbid != dbid;

        // The commands: AUTH, SELECT, then a RESTORE per live key.
        let mut cmd = Vec::new();
        if let Some((user, pass)) = &auth {
            let mut argv = vec![Bytes::from_static(b"AUTH")];
            argv.extend(user.iter().cloned());
            argv.push(pass.clone());
            encode_command(&mut cmd, &argv);
        }
        if select {
            let db = Bytes::copy_from_slice(crate::util::numbers::ll2string(dbid).as_bytes());
            encode_command(&mut cmd, &[Bytes::from_static(b"SELECT"), db]);
        }
        let db = ctx.client.db;
        let compress = ctx.srv.config.rdbcompression;
        let now = crate::server::mstime();
        let mut sent: Vec<Bytes> = Vec::with_capacity(present.len());
        for k in &present {
            let mut ttl = 0;
            if let Some(at) = ctx.srv.dbs[db].expire_of(k) {
                ttl = at - now;
                if ttl < 0 {
                    continue;
                }
                ttl = ttl.max(1);
            }
            let Some(o) = ctx.srv.dbs[db].keys.get(&k[..]) else {
                continue;
            };
            let payload = crate::commands::dump::dump_payload(&o.value, compress);
            let mut argv = vec![
                Bytes::from_static(b"RESTORE"),
                k.clone(),
                Bytes::copy_from_slice(crate::util::numbers::ll2string(ttl).as_bytes()),
                Bytes::from(payload),
            ];
            if replace {
                argv.push(Bytes::from_static(b"REPLACE"));
            }
            encode_command(&mut cmd, &argv);
            sent.push(k.clone());
        }

        let cs = ctx.srv.migrate.sockets.get_mut(&name).expect("just cached");
        let outcome: Result<(), SocketErr> = (|| {
            cs.write_all(&cmd, timeout).map_err(SocketErr::Write)?;
            Ok(())
        })();
        let mut replies: Vec<Vec<u8>> = Vec::new();
        let (mut auth_reply, mut select_reply) = (None, None);
        let mut read_err: Option<io::Error> = None;
        let outcome = outcome.and_then(|()| {
            if auth.is_some() {
                auth_reply = Some(cs.read_line(timeout).map_err(SocketErr::Read)?);
            }
            if select {
                select_reply = Some(cs.read_line(timeout).map_err(SocketErr::Read)?);
            }
            Ok(())
        });
        if let Err(e) = outcome {
            // The socket failed before any RESTORE reply: close it, maybe retry once.
            ctx.srv.migrate.close(&name);
            let (writing, err) = match e {
                SocketErr::Write(e) => (true, e),
                SocketErr::Read(e) => (false, e),
            };
            if !is_timeout(&err) && may_retry {
                may_retry = false;
                continue;
            }
            return Err(io_error(writing));
        }
        for _ in 0..sent.len() {
            match cs.read_line(timeout) {
                Ok(l) => replies.push(l),
                Err(e) => {
                    read_err = Some(e);
                    break;
                }
            }
        }
        if read_err.is_some() && replies.is_empty() {
            ctx.srv.migrate.close(&name);
            if !read_err.as_ref().is_some_and(is_timeout) && may_retry {
                may_retry = false;
                continue;
            }
            return Err(io_error(false));
        }

        let mut error_from_target: Option<String> = None;
        let mut deleted: Vec<Bytes> = Vec::new();
        let first_err =
            |l: &Option<Vec<u8>>| l.as_ref().filter(|l| l.first() == Some(&b'-')).cloned();
        let pre_err = first_err(&auth_reply).or_else(|| first_err(&select_reply));
        for (k, line) in sent.iter().zip(&replies) {
            if pre_err.is_some() || line.first() == Some(&b'-') {
                if error_from_target.is_none() {
                    let e = pre_err.clone().unwrap_or_else(|| line.clone());
                    error_from_target = Some(String::from_utf8_lossy(&e[1..]).into_owned());
                }
            } else if !copy {
                ctx.srv.dbs[db].delete(k);
                ctx.signal_modified(k);
                ctx.notify(notify::GENERIC, "del", k);
                ctx.dirty(1);
                deleted.push(k.clone());
            }
        }
        if error_from_target.is_some() {
            if let Some(cs) = ctx.srv.migrate.sockets.get_mut(&name) {
                cs.last_dbid = -1;
            }
        }
        if read_err.is_some() {
            ctx.srv.migrate.close(&name);
        }
        if !deleted.is_empty() {
            let mut argv = Vec::with_capacity(deleted.len() + 1);
            argv.push(Bytes::from_static(b"DEL"));
            argv.extend(deleted);
            ctx.propagate_as(argv);
        }
        if let Some(e) = error_from_target {
            return Err(CmdError::err(format!(
                "Target instance replied with error: {}",
                e
            )));
        }
        if read_err.is_some() {
            return Err(io_error(false));
        }
        if let Some(cs) = ctx.srv.migrate.sockets.get_mut(&name) {
            cs.last_dbid = dbid;
        }
        ctx.reply().ok();
        return Ok(());
    }
}

fn io_error(writing: bool) -> CmdError {
    CmdError::Static(if writing {
        "IOERR error or timeout writing to target instance"
    } else {
        "IOERR error or timeout reading to target instance"
    })
}

/// COMMAND GETKEYS for MIGRATE (migrateGetKeys): the keys after KEYS, or argv[3].
fn migrate_get_keys(argv: &[Bytes]) -> Vec<(usize, u32)> {
    const FLAGS: u32 = kf::RW | kf::ACCESS | kf::DELETE;
    let mut i = 6;
    while i < argv.len() {
        let a = &argv[i];
        if is(a, "keys") {
            if !argv[3].is_empty() {
                log::warn!("Cannot use MIGRATE KEYS option when key name is not empty");
                return Vec::new();
            }
            return (i + 1..argv.len()).map(|k| (k, FLAGS)).collect();
        }
        // The arguments of AUTH and AUTH2 are not keywords (migrateGetKeys).
        if is(a, "auth") {
            i += 1;
        } else if is(a, "auth2") {
            i += 2;
        }
        i += 1;
    }
    vec![(3, FLAGS)]
}

const MIGRATE_KEYS: &[KeySpec] = &[
    KeySpec::one(3, kf::RW | kf::ACCESS | kf::DELETE),
    KeySpec::keyword(
        "KEYS",
        -2,
        -1,
        1,
        0,
        kf::RW | kf::ACCESS | kf::DELETE | kf::INCOMPLETE,
    ),
];

/// MIGRATE.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("migrate", -6, migrate).flags(WRITE).acl(acl::KEYSPACE | acl::DANGEROUS).keys(MIGRATE_KEYS).getkeys(migrate_get_keys).group(Group::Generic).since("2.6.0").doc("Atomically transfer a key from a Redis instance to another one.", "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.").syntax("host:string port:integer key:key destination-db:integer timeout:integer [COPY] [REPLACE] [AUTH password:string] [AUTH2 username:string password:string] [KEYS key:key ...]").tips(&["nondeterministic_output"]),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_keys_follows_the_keys_option() {
        let argv: Vec<Bytes> = ["migrate", "h", "1", "", "0", "5", "copy", "keys", "a", "b"]
            .iter()
            .map(|s| Bytes::from(s.to_string()))
            .collect();
        let pos = |argv: &[Bytes]| -> Vec<usize> {
            migrate_get_keys(argv).into_iter().map(|(i, _)| i).collect()
        };
        assert_eq!(pos(&argv), vec![8, 9]);
        let argv: Vec<Bytes> = ["migrate", "h", "1", "k", "0", "5"]
            .iter()
            .map(|s| Bytes::from(s.to_string()))
            .collect();
        assert_eq!(pos(&argv), vec![3]);
        // AUTH's password is not the KEYS keyword.
        let argv: Vec<Bytes> = [
            "migrate", "h", "1", "", "0", "5", "auth", "keys", "keys", "x",
        ]
        .iter()
        .map(|s| Bytes::from(s.to_string()))
        .collect();
        assert_eq!(pos(&argv), vec![9]);
    }
}
