//! ACL and its subcommands (Redis's aclCommand): SETUSER, GETUSER, DELUSER, USERS, LIST,
//! WHOAMI, CAT, GENPASS, LOG, LOAD, SAVE, DRYRUN, HELP. The rules themselves live in
//! `crate::acl`; this file is the command surface and what changes do to clients.

use crate::acl::selector::{category_by_name, has_spaces};
use crate::acl::{self, uflags, Denied, User};
use crate::command::args::parse_i64;
use crate::command::table::Lookup;
use crate::command::{acl as cat, flags::*, CmdError, CmdResult, CommandSpec, Ctx, Group};
use crate::commands::connection::{reply_help, subcommand_syntax_error};

fn acl_setuser(ctx: &mut Ctx) -> CmdResult {
    for i in 2..ctx.argv.len() {
        ctx.redact(i);
    }
    let name = ctx.argv[2].clone();
    if has_spaces(&name) {
        return Err(CmdError::err(
            "Usernames can't contain spaces or null characters",
        ));
    }
    let srv = &mut *ctx.srv;
    let rules = acl::rules(&srv.commands, &srv.config);
    let existing = srv.acl.lookup(&name);
    let mut u = match existing {
        Some(id) => srv.acl.user(id).clone(),
        None => User::new(&name, &rules),
    };
    let ops: Vec<&[u8]> = ctx.argv[3..].iter().map(|a| a.as_ref()).collect();
    u.apply_all(&ops, &rules).map_err(CmdError::err)?;
    if let Some(id) = existing {
        srv.acl_kill_pubsub_clients_if_needed(id, &u, ctx.client);
    }
    srv.acl.put(u);
    ctx.reply().ok();
    Ok(())
}

fn acl_deluser(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv[2..].iter().any(|n| n.as_ref() == b"default") {
        return Err(CmdError::err("The 'default' user cannot be removed"));
    }
    let mut gone = Vec::new();
    for name in &ctx.argv[2..] {
        if let Some(id) = ctx.srv.acl.remove(name) {
            gone.push(id);
        }
    }
    ctx.srv.acl_kill_clients_of(&gone, ctx.client);
    ctx.reply().int(gone.len() as i64);
    Ok(())
}

fn acl_getuser(ctx: &mut Ctx) -> CmdResult {
    let Some(id) = ctx.srv.acl.lookup(ctx.arg(2)) else {
        ctx.reply().null();
        return Ok(());
    };
    let u = ctx.srv.acl.user(id);
    let table = &ctx.srv.commands;
    let r = &mut ctx.client.reply;
    r.map_len(6);
    r.bulk(b"flags");
    let flags: Vec<&str> = uflags::NAMES
        .iter()
        .filter(|(f, _)| u.has(*f))
        .map(|(_, n)| *n)
        .collect();
    r.set_len(flags.len());
    for f in flags {
        r.bulk(f.as_bytes());
    }
    r.bulk(b"passwords");
    r.array_len(u.passwords.len());
    for p in &u.passwords {
        r.bulk(p.as_bytes());
    }
    let describe = |r: &mut crate::resp::reply::ReplyBuf, s: &acl::Selector| {
        r.bulk(b"commands");
        r.bulk(&s.describe_commands(table));
        r.bulk(b"keys");
        r.bulk(&s.describe_keys());
        r.bulk(b"channels");
        r.bulk(&s.describe_channels());
    };
    describe(r, u.root());
    r.bulk(b"selectors");
    r.array_len(u.selectors.len() - 1);
    for s in &u.selectors[1..] {
        r.map_len(3);
        describe(r, s);
    }
    Ok(())
}

fn acl_list(ctx: &mut Ctx) -> CmdResult {
    let lines = ctx.srv.acl.list(&ctx.srv.commands);
    let r = ctx.reply();
    r.array_len(lines.len());
    for l in &lines {
        r.bulk(l);
    }
    Ok(())
}

fn acl_users(ctx: &mut Ctx) -> CmdResult {
    let names: Vec<Vec<u8>> = ctx
        .srv
        .acl
        .ids()
        .map(|id| ctx.srv.acl.user(id).name.clone())
        .collect();
    let r = ctx.reply();
    r.array_len(names.len());
    for n in &names {
        r.bulk(n);
    }
    Ok(())
}

fn acl_whoami(ctx: &mut Ctx) -> CmdResult {
    match ctx.client.user {
        Some(id) => {
            let name = ctx.srv.acl.user(id).name.clone();
            ctx.reply().bulk(&name);
        }
        None => ctx.reply().null(),
    }
    Ok(())
}

const NO_ACLFILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

fn acl_load(ctx: &mut Ctx) -> CmdResult {
    let file = ctx.srv.config.aclfile.clone();
    if file.is_empty() {
        return Err(CmdError::Static(NO_ACLFILE));
    }
    let users = acl::parse_acl_file(&file, &acl::rules(&ctx.srv.commands, &ctx.srv.config))
        .map_err(CmdError::err)?;
    let gone = ctx.srv.acl.replace_all(users);
    ctx.srv.acl_kill_clients_of(&gone, ctx.client);
    ctx.reply().ok();
    Ok(())
}

fn acl_save(ctx: &mut Ctx) -> CmdResult {
    let file = ctx.srv.config.aclfile.clone();
    if file.is_empty() {
        return Err(CmdError::Static(NO_ACLFILE));
    }
    let lines = ctx.srv.acl.list(&ctx.srv.commands);
    if let Err(e) = acl::save_acl_file(&file, &lines) {
        log::warn!("Writing ACL file for ACL SAVE: {}", e);
        return Err(CmdError::err("There was an error trying to save the ACLs. Please check the server logs for more information"));
    }
    ctx.reply().ok();
    Ok(())
}

fn acl_cat(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() == 2 {
        let r = ctx.reply();
        r.array_len(cat::NAMES.len());
        for (_, n) in cat::NAMES {
            r.bulk(n.as_bytes());
        }
        return Ok(());
    }
    if ctx.argv.len() != 3 {
        return Err(subcommand_syntax_error(ctx));
    }
    let Some(cflag) = category_by_name(ctx.arg(2)) else {
        let name: String = String::from_utf8_lossy(ctx.arg(2))
            .chars()
            .take(128)
            .collect();
        return Err(CmdError::err(format!("Unknown category '{name}'")));
    };
    let names: Vec<&str> = ctx
        .srv
        .commands
        .entries
        .iter()
        .filter(|e| e.spec.acl_categories() & cflag != 0)
        .map(|e| e.fullname.as_str())
        .collect();
    let r = &mut ctx.client.reply;
    r.array_len(names.len());
    for n in names {
        r.bulk(n.as_bytes());
    }
    Ok(())
}

fn acl_genpass(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(subcommand_syntax_error(ctx));
    }
    let bits = if ctx.argv.len() == 3 {
        parse_i64(ctx.arg(2))?
    } else {
        256
    };
    if bits <= 0 || bits > 4096 {
        return Err(CmdError::err("ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"));
    }
    let chars = (bits as usize).div_ceil(4);
    let pass = crate::server::random_hex(chars);
    ctx.reply().bulk(pass.as_bytes());
    Ok(())
}

fn acl_log(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(subcommand_syntax_error(ctx));
    }
    let mut count = 10i64;
    if ctx.argv.len() == 3 {
        if ctx.arg(2).eq_ignore_ascii_case(b"reset") {
            ctx.srv.acl.log.reset();
            ctx.reply().ok();
            return Ok(());
        }
        count = parse_i64(ctx.arg(2))?.max(0);
    }
    let now = crate::server::mstime();
    let entries = &ctx.srv.acl.log.entries;
    let n = (count as usize).min(entries.len());
    let r = &mut ctx.client.reply;
    r.array_len(n);
    for e in entries.iter().take(n) {
        r.map_len(7);
        r.bulk(b"count");
        r.int(e.count as i64);
        r.bulk(b"reason");
        r.bulk(e.reason.name().as_bytes());
        r.bulk(b"context");
        r.bulk(e.context.name().as_bytes());
        r.bulk(b"object");
        r.bulk(&e.object);
        r.bulk(b"username");
        r.bulk(&e.username);
        r.bulk(b"age-seconds");
        r.double((now - e.ctime_ms) as f64 / 1000.0);
        r.bulk(b"client-info");
        r.bulk(e.cinfo.as_bytes());
    }
    Ok(())
}

fn acl_dryrun(ctx: &mut Ctx) -> CmdResult {
    let Some(uid) = ctx.srv.acl.lookup(ctx.arg(2)) else {
        return Err(CmdError::err(format!(
            "User '{}' not found",
            String::from_utf8_lossy(ctx.arg(2))
        )));
    };
    let argv = &ctx.argv[3..];
    let id = match ctx.srv.commands.lookup(argv) {
        Lookup::Found(id) => id,
        _ => {
            return Err(CmdError::err(format!(
                "Command '{}' not found",
                String::from_utf8_lossy(&argv[0])
            )))
        }
    };
    let spec = ctx.srv.commands.entries[id].spec;
    let argc = argv.len() as i32;
    let fullname = &ctx.srv.commands.entries[id].fullname;
    if (spec.arity > 0 && spec.arity != argc) || argc < -spec.arity {
        return Err(CmdError::err(format!(
            "wrong number of arguments for '{fullname}' command"
        )));
    }
    let verdict = ctx
        .srv
        .acl
        .user(uid)
        .check_command(&ctx.srv.commands, id, argv);
    let msg = match verdict {
        Ok(()) => {
            ctx.reply().ok();
            return Ok(());
        }
        Err(Denied::Command) => {
            format!("This user has no permissions to run the '{fullname}' command")
        }
        Err(Denied::Key(i)) => format!(
            "This user has no permissions to access the '{}' key",
            String::from_utf8_lossy(&argv[i])
        ),
        Err(Denied::Channel(i)) => format!(
            "This user has no permissions to access the '{}' channel",
            String::from_utf8_lossy(&argv[i])
        ),
    };
    ctx.reply().bulk(msg.as_bytes());
    Ok(())
}

fn acl_help(ctx: &mut Ctx) -> CmdResult {
    reply_help(
        ctx.reply(),
        "acl",
        &[
            "CAT [<category>]",
            "    List all commands that belong to <category>, or all command categories",
            "    when no category is specified.",
            "DELUSER <username> [<username> ...]",
            "    Delete a list of users.",
            "DRYRUN <username> <command> [<arg> ...]",
            "    Returns whether the user can execute the given command without executing the command.",
            "GETUSER <username>",
            "    Get the user's details.",
            "GENPASS [<bits>]",
            "    Generate a secure 256-bit user password. The optional `bits` argument can",
            "    be used to specify a different size.",
            "LIST",
            "    Show users details in config file format.",
            "LOAD",
            "    Reload users from the ACL file.",
            "LOG [<count> | RESET]",
            "    Show the ACL log entries.",
            "SAVE",
            "    Save the current config to the ACL file.",
            "SETUSER <username> <attribute> [<attribute> ...]",
            "    Create or modify a user with the specified attributes.",
            "USERS",
            "    List all the registered usernames.",
            "WHOAMI",
            "    Return the current connection username.",
        ],
    );
    Ok(())
}

const ADM: u64 = ADMIN | NOSCRIPT | LOADING | STALE;
const PLAIN: u64 = NOSCRIPT | LOADING | STALE;

static ACL_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec::new("cat", -2, acl_cat)
        .flags(PLAIN)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Lists the ACL categories, or the commands in one category.",
            "O(1) since the categories and commands are a fixed set.",
        )
        .syntax("[categoryname:string]"),
    CommandSpec::new("deluser", -3, acl_deluser)
        .flags(ADM)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Deletes ACL users and disconnects their clients.",
            "O(1) amortized time considering the typical user.",
        )
        .syntax("username:string..."),
    CommandSpec::new("dryrun", -4, acl_dryrun)
        .flags(ADM)
        .group(Group::Server)
        .since("7.0.0")
        .doc(
            "Tells whether a user could run a command, without running it.",
            "O(1).",
        )
        .syntax("username:string command:string [arg:string...]"),
    CommandSpec::new("genpass", -2, acl_genpass)
        .flags(PLAIN)
        .group(Group::Server)
        .since("6.0.0")
        .doc("Generates a random password for ACL users.", "O(1)")
        .syntax("[bits:integer]"),
    CommandSpec::new("getuser", 3, acl_getuser)
        .flags(ADM)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Returns the rules of an ACL user.",
            "O(N). Where N is the number of password, command and pattern rules that the user has.",
        )
        .syntax("username:string"),
    CommandSpec::new("help", 2, acl_help)
        .flags(LOADING | STALE)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Returns helpful text about the different subcommands.",
            "O(1)",
        ),
    CommandSpec::new("list", 2, acl_list)
        .flags(ADM)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Lists the ACL rules in the ACL file format.",
            "O(N). Where N is the number of configured users.",
        ),
    CommandSpec::new("load", 2, acl_load)
        .flags(ADM)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Reloads the users from the ACL file.",
            "O(N). Where N is the number of configured users.",
        ),
    CommandSpec::new("log", -2, acl_log)
        .flags(ADM)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Lists recent commands and authentications denied by ACLs.",
            "O(N) with N being the number of entries shown.",
        )
        .syntax("[operation=count:integer|RESET]"),
    CommandSpec::new("save", 2, acl_save)
        .flags(ADM)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Writes the ACL rules to the ACL file.",
            "O(N). Where N is the number of configured users.",
        ),
    CommandSpec::new("setuser", -3, acl_setuser)
        .flags(ADM)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Creates an ACL user or changes its rules.",
            "O(N). Where N is the number of rules provided.",
        )
        .syntax("username:string [rule:string...]"),
    CommandSpec::new("users", 2, acl_users)
        .flags(ADM)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Lists the names of the ACL users.",
            "O(N). Where N is the number of configured users.",
        ),
    CommandSpec::new("whoami", 2, acl_whoami)
        .flags(PLAIN)
        .group(Group::Server)
        .since("6.0.0")
        .doc(
            "Returns the user the connection is authenticated as.",
            "O(1)",
        ),
];

/// ACL.
pub static COMMANDS: &[CommandSpec] = &[CommandSpec::container("acl", ACL_SUBCOMMANDS)
    .flags(SENTINEL)
    .group(Group::Server)
    .since("6.0.0")
    .doc(
        "A container for Access List Control commands.",
        "Depends on subcommand.",
    )];
