//! Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT, and CLIENT with its
//! subcommands.

use crate::client::{flags as cf, ClientType, ReplyMode};
use crate::command::args::{is, parse_i64, parse_i64_msg};
use crate::command::{acl, errors, flags::*, CmdError, CmdResult, CommandSpec, Ctx, Group};
use crate::resp::reply::ReplyBuf;

/// Reply with a HELP listing in Redis's shape (addReplyHelp).
pub fn reply_help(r: &mut ReplyBuf, cmd: &str, lines: &[&str]) {
    r.array_len(lines.len() + 3);
    r.simple(
        format!(
            "{} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            cmd.to_ascii_uppercase()
        )
        .as_bytes(),
    );
    for l in lines {
        r.simple(l.as_bytes());
    }
    r.simple(b"HELP");
    r.simple(b"    Prints this help.");
}

/// The error for a bad subcommand or its arguments (addReplySubcommandSyntaxError).
pub fn subcommand_syntax_error(ctx: &Ctx) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(&ctx.argv[1]),
        String::from_utf8_lossy(&ctx.argv[0]).to_ascii_uppercase()
    ))
}

fn ping(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 2 {
        return Err(CmdError::err(
            "wrong number of arguments for 'ping' command",
        ));
    }
    if ctx.client.has(cf::PUBSUB) && ctx.client.reply.resp == 2 {
        let r = ctx.reply();
        r.array_len(2);
        r.bulk(b"pong");
        if ctx.argv.len() == 1 {
            ctx.client.reply.bulk(b"");
        } else {
            let m = ctx.arg(1);
            ctx.client.reply.bulk(m);
        }
    } else if ctx.argv.len() == 1 {
        ctx.reply().raw(b"+PONG\r\n");
    } else {
        let m = ctx.arg(1);
        ctx.reply().bulk(m);
    }
    Ok(())
}

fn echo(ctx: &mut Ctx) -> CmdResult {
    let m = ctx.arg(1);
    ctx.reply().bulk(m);
    Ok(())
}

fn quit(ctx: &mut Ctx) -> CmdResult {
    ctx.reply().ok();
    ctx.client.flags |= cf::CLOSE_AFTER_REPLY;
    Ok(())
}

fn reset(ctx: &mut Ctx) -> CmdResult {
    crate::commands::multi::discard_transaction(ctx.srv, ctx.client);
    crate::commands::multi::unwatch_all(ctx.srv, ctx.client);
    crate::commands::pubsub::unsubscribe_all(ctx.srv, ctx.client);
    crate::commands::server::stop_monitor(ctx.srv, ctx.client);
    crate::tracking::disable(ctx.srv, ctx.client);
    ctx.client.db = 0;
    ctx.client.reply.resp = 2;
    ctx.client.name = None;
    ctx.client.reply_mode = ReplyMode::On;
    ctx.client.flags &= !(cf::NO_EVICT | cf::READONLY | cf::NO_TOUCH);
    ctx.client.authenticated = ctx.srv.acl.default_is_open();
    ctx.client.user = Some(crate::acl::DEFAULT_USER);
    ctx.reply().simple(b"RESET");
    Ok(())
}

const WRONGPASS: CmdError =
    CmdError::Static("WRONGPASS invalid username-password pair or user is disabled.");

fn auth(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(errors::SYNTAX);
    }
    ctx.redact(1);
    ctx.redact(2);
    let (user, pass): (&[u8], &[u8]) = if ctx.argv.len() == 2 {
        if ctx.srv.acl.default_user().has(crate::acl::uflags::NOPASS) {
            return Err(CmdError::err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
        }
        (b"default", ctx.arg(1))
    } else {
        (ctx.arg(1), ctx.arg(2))
    };
    if ctx
        .srv
        .acl_authenticate(ctx.client, &ctx.argv[0], user, pass)
    {
        ctx.reply().ok();
        Ok(())
    } else {
        Err(WRONGPASS)
    }
}

fn hello(ctx: &mut Ctx) -> CmdResult {
    let mut ver = 0i64;
    let mut next = 1;
    if ctx.argv.len() >= 2 {
        ver = parse_i64_msg(
            ctx.arg(1),
            "ERR Protocol version is not an integer or out of range",
        )?;
        next = 2;
        if !(2..=3).contains(&ver) {
            return Err(CmdError::Static("NOPROTO unsupported protocol version"));
        }
    }
    let mut setname = None;
    let mut j = next;
    while j < ctx.argv.len() {
        let more = ctx.argv.len() - j - 1;
        let opt = ctx.arg(j);
        if is(opt, "AUTH") && more >= 2 {
            ctx.redact(j + 1);
            ctx.redact(j + 2);
            let (u, p) = (ctx.arg(j + 1), ctx.arg(j + 2));
            if !ctx.srv.acl_authenticate(ctx.client, &ctx.argv[0], u, p) {
                return Err(WRONGPASS);
            }
            j += 3;
        } else if is(opt, "SETNAME") && more >= 1 {
            let name = ctx.argv[j + 1].clone();
            validate_client_name(&name)?;
            setname = Some(name);
            j += 2;
        } else {
            return Err(CmdError::err(format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            )));
        }
    }
    if !ctx.client.authenticated {
        return Err(CmdError::Static("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"));
    }
    if let Some(n) = setname {
        ctx.client.name = if n.is_empty() { None } else { Some(n) };
    }
    if ver != 0 {
        ctx.client.reply.resp = ver as u8;
    }
    let id = ctx.client.id as i64;
    let role: &[u8] = if ctx.srv.is_replica() {
        b"replica"
    } else {
        b"master"
    };
    let r = ctx.reply();
    r.map_len(7);
    r.bulk(b"server");
    r.bulk(b"redis");
    r.bulk(b"version");
    r.bulk(crate::REDIS_VERSION.as_bytes());
    r.bulk(b"proto");
    r.int(r.resp as i64);
    r.bulk(b"id");
    r.int(id);
    r.bulk(b"mode");
    r.bulk(b"standalone");
    r.bulk(b"role");
    r.bulk(role);
    r.bulk(b"modules");
    r.array_len(0);
    Ok(())
}

fn select(ctx: &mut Ctx) -> CmdResult {
    let id = parse_i64_msg(ctx.arg(1), "ERR invalid DB index")?;
    if id < 0 || id as usize >= ctx.srv.dbs.len() {
        return Err(errors::DB_INDEX);
    }
    ctx.client.db = id as usize;
    ctx.reply().ok();
    Ok(())
}

/// Redis's validateClientName: no spaces, newlines or non-printable characters.
fn validate_client_name(name: &[u8]) -> Result<(), CmdError> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

fn client_id(ctx: &mut Ctx) -> CmdResult {
    let id = ctx.client.id as i64;
    ctx.reply().int(id);
    Ok(())
}

fn client_info(ctx: &mut Ctx) -> CmdResult {
    let mut s = ctx.srv.client_info(ctx.client);
    s.push('\n');
    ctx.reply().verbatim(s.as_bytes(), "txt");
    Ok(())
}

fn client_list(ctx: &mut Ctx) -> CmdResult {
    let mut out = String::new();
    if ctx.argv.len() == 4 && is(ctx.arg(2), "type") {
        let t = ClientType::parse(ctx.arg(3)).ok_or_else(|| {
            CmdError::err(format!(
                "Unknown client type '{}'",
                String::from_utf8_lossy(ctx.arg(3))
            ))
        })?;
        for c in ctx.srv.all_clients(Some(ctx.client)) {
            if c.client_type() == t {
                out.push_str(&ctx.srv.client_info(c));
                out.push('\n');
            }
        }
    } else if ctx.argv.len() > 3 && is(ctx.arg(2), "id") {
        for a in &ctx.argv[3..] {
            let id = parse_i64_msg(a, "ERR Invalid client ID")?;
            if let Some(c) = ctx
                .srv
                .all_clients(Some(ctx.client))
                .into_iter()
                .find(|c| c.id as i64 == id)
            {
                out.push_str(&ctx.srv.client_info(c));
                out.push('\n');
            }
        }
    } else if ctx.argv.len() != 2 {
        return Err(errors::SYNTAX);
    } else {
        for c in ctx.srv.all_clients(Some(ctx.client)) {
            out.push_str(&ctx.srv.client_info(c));
            out.push('\n');
        }
    }
    ctx.reply().verbatim(out.as_bytes(), "txt");
    Ok(())
}

fn client_kill(ctx: &mut Ctx) -> CmdResult {
    let argc = ctx.argv.len();
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut ctype: Option<ClientType> = None;
    let mut id: u64 = 0;
    let mut user: Option<crate::acl::UserId> = None;
    let mut skipme = true;
    if argc == 3 {
        addr = Some(ctx.arg(2));
        skipme = false;
    } else {
        let mut i = 2;
        while i < argc {
            let more = argc > i + 1;
            let opt = ctx.arg(i);
            if !more {
                return Err(errors::SYNTAX);
            }
            let val = ctx.arg(i + 1);
            if is(opt, "id") {
                match parse_i64(val) {
                    Ok(n) if n >= 1 => id = n as u64,
                    _ => return Err(CmdError::err("client-id should be greater than 0")),
                }
            } else if is(opt, "type") {
                ctype = Some(ClientType::parse(val).ok_or_else(|| {
                    CmdError::err(format!(
                        "Unknown client type '{}'",
                        String::from_utf8_lossy(val)
                    ))
                })?);
            } else if is(opt, "addr") {
                addr = Some(val);
            } else if is(opt, "laddr") {
                laddr = Some(val);
            } else if is(opt, "user") {
                match ctx.srv.acl.lookup(val) {
                    Some(id) => user = Some(id),
                    None => {
                        return Err(CmdError::err(format!(
                            "No such user '{}'",
                            String::from_utf8_lossy(val)
                        )))
                    }
                }
            } else if is(opt, "skipme") {
                if is(val, "yes") {
                    skipme = true;
                } else if is(val, "no") {
                    skipme = false;
                } else {
                    return Err(errors::SYNTAX);
                }
            } else {
                return Err(errors::SYNTAX);
            }
            i += 2;
        }
    }
    let matches = |c: &crate::client::Client| -> bool {
        addr.is_none_or(|a| c.addr.as_bytes() == a)
            && laddr.is_none_or(|a| c.laddr.as_bytes() == a)
            && ctype.is_none_or(|t| c.client_type() == t)
            && (id == 0 || c.id == id)
            && user.is_none_or(|u| c.user == Some(u))
    };
    let mut killed = 0;
    let victims: Vec<usize> = ctx
        .srv
        .clients
        .iter()
        .filter_map(|(k, c)| c.as_deref().filter(|c| matches(c)).map(|_| k))
        .collect();
    for k in victims {
        ctx.srv.close_client(k);
        killed += 1;
    }
    if !skipme && matches(ctx.client) {
        ctx.client.flags |= cf::CLOSE_AFTER_REPLY;
        killed += 1;
    }
    if argc == 3 {
        if killed == 0 {
            return Err(CmdError::err("No such client"));
        }
        ctx.reply().ok();
    } else {
        ctx.reply().int(killed);
    }
    Ok(())
}

fn client_setname(ctx: &mut Ctx) -> CmdResult {
    let name = ctx.argv[2].clone();
    validate_client_name(&name)?;
    ctx.client.name = if name.is_empty() { None } else { Some(name) };
    ctx.reply().ok();
    Ok(())
}

fn client_getname(ctx: &mut Ctx) -> CmdResult {
    match ctx.client.name.clone() {
        Some(n) => ctx.reply().bulk(&n),
        None => ctx.reply().null(),
    }
    Ok(())
}

fn client_reply(ctx: &mut Ctx) -> CmdResult {
    let m = ctx.arg(2);
    if is(m, "on") {
        ctx.client.reply_mode = ReplyMode::On;
        ctx.reply().ok();
    } else if is(m, "off") {
        ctx.client.reply_mode = ReplyMode::Off;
    } else if is(m, "skip") {
        if ctx.client.reply_mode != ReplyMode::Off {
            ctx.client.reply_mode = ReplyMode::SkipNext;
        }
    } else {
        return Err(errors::SYNTAX);
    }
    Ok(())
}

fn client_no_evict(ctx: &mut Ctx) -> CmdResult {
    let m = ctx.arg(2);
    if is(m, "on") {
        ctx.client.flags |= cf::NO_EVICT;
    } else if is(m, "off") {
        ctx.client.flags &= !cf::NO_EVICT;
    } else {
        return Err(errors::SYNTAX);
    }
    ctx.reply().ok();
    Ok(())
}

fn client_pause(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 4 {
        return Err(errors::SYNTAX);
    }
    let mut write_only = false;
    if ctx.argv.len() == 4 {
        if is(ctx.arg(3), "write") {
            write_only = true;
        } else if !is(ctx.arg(3), "all") {
            return Err(CmdError::err("CLIENT PAUSE mode must be WRITE or ALL"));
        }
    }
    let ms = parse_i64_msg(ctx.arg(2), "ERR timeout is not an integer or out of range")?;
    if ms < 0 {
        return Err(errors::TIMEOUT_NEG);
    }
    let end = ctx.srv.now_ms.saturating_add(ms);
    let p = &mut ctx.srv.pause;
    // A pause can only be extended, and ALL takes precedence over WRITE (pauseClients).
    if p.end_ms <= ctx.srv.now_ms || (p.write_only && !write_only) {
        p.write_only = write_only;
        p.end_ms = end;
    } else {
        p.end_ms = p.end_ms.max(end);
        p.write_only = p.write_only && write_only;
    }
    ctx.reply().ok();
    Ok(())
}

fn client_unpause(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.unpause_clients();
    ctx.reply().ok();
    Ok(())
}

fn client_unblock(ctx: &mut Ctx) -> CmdResult {
    let mut error = false;
    if ctx.argv.len() == 4 {
        if is(ctx.arg(3), "timeout") {
            error = false;
        } else if is(ctx.arg(3), "error") {
            error = true;
        } else {
            return Err(CmdError::err(
                "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
            ));
        }
    } else if ctx.argv.len() > 4 {
        return Err(errors::SYNTAX);
    }
    let id = parse_i64(ctx.arg(2))?;
    let done = crate::blocking::unblock_by_id(ctx.srv, id as u64, error);
    ctx.reply().int(done as i64);
    Ok(())
}

fn client_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "client",
        &[
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
        ],
    );
    Ok(())
}

const CONN: u64 = acl::CONNECTION;

static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("id", 2, client_id)
        .flags(NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("5.0.0")
        .doc("Returns the unique client ID of the connection.", "O(1)"),
    CommandSpec::new("info", 2, client_info)
        .flags(NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("6.2.0")
        .doc("Returns information about the connection.", "O(1)")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("list", -2, client_list)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("2.4.0")
        .doc(
            "Lists open connections.",
            "O(N) where N is the number of client connections",
        )
        .syntax("[TYPE type=NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id:integer...]")
        .tips(&["nondeterministic_output"]),
    CommandSpec::new("kill", -3, client_kill)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("2.4.0")
        .doc(
            "Terminates open connections.",
            "O(N) where N is the number of client connections",
        ),
    CommandSpec::new("setname", 3, client_setname)
        .flags(NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("2.6.9")
        .doc("Sets the connection name.", "O(1)")
        .syntax("connection-name:string"),
    CommandSpec::new("getname", 2, client_getname)
        .flags(NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("2.6.9")
        .doc("Returns the name of the connection.", "O(1)"),
    CommandSpec::new("reply", 3, client_reply)
        .flags(NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("3.2.0")
        .doc("Instructs the server whether to reply to commands.", "O(1)")
        .syntax("action=ON|OFF|SKIP"),
    CommandSpec::new("no-evict", 3, client_no_evict)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("7.0.0")
        .doc("Sets the client eviction mode of the connection.", "O(1)")
        .syntax("enabled=ON|OFF"),
    CommandSpec::new("pause", -3, client_pause)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("3.0.0")
        .doc("Suspends commands processing.", "O(1)")
        .syntax("timeout:integer [mode=WRITE|ALL]"),
    CommandSpec::new("unpause", 2, client_unpause)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("6.2.0")
        .doc(
            "Resumes processing commands from paused clients.",
            "O(N) Where N is the number of paused clients",
        ),
    CommandSpec::new("unblock", -3, client_unblock)
        .flags(ADMIN | NOSCRIPT | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("5.0.0")
        .doc(
            "Unblocks a client blocked by a blocking command from a different connection.",
            "O(log N) where N is the number of client connections",
        )
        .syntax("client-id:integer [unblock-type=TIMEOUT|ERROR]"),
    crate::commands::tracking::TRACKING,
    crate::commands::tracking::CACHING,
    crate::commands::tracking::GETREDIR,
    crate::commands::tracking::TRACKINGINFO,
    CommandSpec::new("help", 2, client_help)
        .flags(LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .since("5.0.0")
        .doc(
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
];

/// Connection commands.
pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec::new("ping", -1, ping)
        .flags(FAST)
        .acl(CONN)
        .group(Group::Connection)
        .doc("Returns the server's liveliness response.", "O(1)")
        .syntax("[message:string]")
        .tips(&["request_policy:all_shards", "response_policy:all_succeeded"]),
    CommandSpec::new("echo", 2, echo)
        .flags(FAST | LOADING | STALE)
        .acl(CONN)
        .group(Group::Connection)
        .doc("Returns the given string.", "O(1)")
        .syntax("message:string"),
    CommandSpec::new("quit", -1, quit)
        .flags(ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH)
        .acl(CONN)
        .group(Group::Connection)
        .doc("Closes the connection.", "O(1)"),
    CommandSpec::new("reset", 1, reset)
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY)
        .acl(CONN)
        .group(Group::Connection)
        .since("6.2.0")
        .doc("Resets the connection.", "O(1)"),
    CommandSpec::new("hello", -1, hello)
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY)
        .acl(CONN)
        .group(Group::Connection)
        .since("6.0.0")
        .doc("Handshakes with the Redis server.", "O(1)")
        .syntax(
            "[protover:integer [AUTH username:string password:string] [SETNAME clientname:string]]",
        ),
    CommandSpec::new("auth", -2, auth)
        .flags(NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | SENTINEL | ALLOW_BUSY)
        .acl(CONN)
        .group(Group::Connection)
        .doc(
            "Authenticates the connection.",
            "O(N) where N is the number of passwords defined for the user",
        )
        .syntax("[username:string] password:string"),
    CommandSpec::new("select", 2, select)
        .flags(LOADING | STALE | FAST)
        .acl(CONN)
        .group(Group::Connection)
        .doc("Changes the selected database.", "O(1)")
        .syntax("index:integer"),
    CommandSpec::container("client", CLIENT_SUBCOMMANDS)
        .flags(SENTINEL)
        .group(Group::Connection)
        .since("2.4.0")
        .doc(
            "A container for client connection commands.",
            "Depends on subcommand.",
        ),
];
