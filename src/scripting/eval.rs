//! EVAL scripts (Redis's eval.c): the script cache (SHA1 → compiled function and flags),
//! EVAL / EVALSHA / EVAL_RO / EVALSHA_RO, SCRIPT LOAD / EXISTS / FLUSH / KILL, and the
//! `redis.call` callback shared with functions.

use std::collections::HashMap;

use bytes::Bytes;
use mlua::{Function, Lua, Value};

use super::lua::{self, Engine, Kind};
use super::{run_with_active, sflags, with_active};
use crate::client::Client;
use crate::command::{errors, CmdError, CmdResult, Ctx};
use crate::server::Server;

/// A cached script.
pub struct Script {
    pub body: Bytes,
    pub flags: u64,
    pub func: Function,
}

/// The EVAL engine: one Lua state for every script, created on first use.
pub struct EvalEngine {
    pub engine: Option<Engine>,
    pub scripts: HashMap<String, Script>,
    /// Script bodies' size (used_memory_scripts_eval).
    pub scripts_mem: usize,
    /// Calls since the last GC step (Redis steps the GC every 50 scripts).
    pub gc_count: u32,
    /// lua-enable-deprecated-api: keep setfenv, getfenv and newproxy.
    pub deprecated_api: bool,
}

impl EvalEngine {
    /// No state yet; it is created when the first script loads.
    pub fn new() -> EvalEngine {
        EvalEngine {
            engine: None,
            scripts: HashMap::new(),
            scripts_mem: 0,
            gc_count: 0,
            deprecated_api: false,
        }
    }

    fn engine(&mut self) -> Result<&Engine, CmdError> {
        if self.engine.is_none() {
            let e = lua::new_engine(Kind::Eval, self.deprecated_api)
                .map_err(|e| CmdError::err(format!("Lua engine failed to start: {}", e)))?;
            self.engine = Some(e);
        }
        Ok(self.engine.as_ref().expect("just created"))
    }

    /// Memory of the Lua state (used_memory_vm_eval).
    pub fn lua_memory(&self) -> usize {
        self.engine
            .as_ref()
            .map_or(32 * 1024, |e| e.lua.used_memory())
    }

    /// SCRIPT FLUSH: a fresh state and an empty cache.
    pub fn flush(&mut self) {
        self.scripts.clear();
        self.scripts_mem = 0;
        self.engine = None;
        self.gc_count = 0;
    }
}

impl Default for EvalEngine {
    fn default() -> Self {
        EvalEngine::new()
    }
}

/// The SHA1 hex of a script body.
pub fn sha1_hex(body: &[u8]) -> String {
    crate::util::digest::sha1_hex(body)
}

/// Parse a script's shebang (`#!lua flags=no-writes,allow-oom`): the flags and the length
/// of the shebang line (evalExtractShebangFlags). Without one, the EVAL compatibility mode.
pub fn shebang_flags(body: &[u8]) -> Result<(u64, usize), CmdError> {
    if !body.starts_with(b"#!") {
        return Ok((sflags::EVAL_COMPAT_MODE, 0));
    }
    let Some(end) = memchr::memchr(b'\n', body) else {
        return Err(CmdError::err("Invalid script shebang"));
    };
    let parts = crate::config::parse::split_args(&body[..end])
        .map_err(|_| CmdError::err("Invalid script shebang"))?;
    if parts.is_empty() {
        return Err(CmdError::err("Invalid script shebang"));
    }
    if parts[0] != b"#!lua" {
        return Err(CmdError::err(format!(
            "Unexpected engine in script shebang: {}",
            String::from_utf8_lossy(&parts[0])
        )));
    }
    let mut flags = 0;
    for p in &parts[1..] {
        let Some(list) = p.strip_prefix(b"flags=") else {
            return Err(CmdError::err(format!(
                "Unknown lua shebang option: {}",
                String::from_utf8_lossy(p)
            )));
        };
        for f in list.split(|&c| c == b',') {
            let name = String::from_utf8_lossy(f);
            match sflags::parse(&name) {
                Some(bit) => flags |= bit,
                None => {
                    return Err(CmdError::err(format!(
                        "Unexpected flag in script shebang: {}",
                        name
                    )))
                }
            }
        }
    }
    Ok((flags, end))
}

impl Server {
    /// Compile and cache `body` unless cached (luaCreateFunction); returns its SHA1.
    pub fn script_create(&mut self, body: &Bytes) -> Result<String, CmdError> {
        let sha = sha1_hex(body);
        if self.scripting.eval.scripts.contains_key(&sha) {
            return Ok(sha);
        }
        let (flags, shebang_len) = shebang_flags(body)?;
        let engine = self.scripting.eval.engine()?;
        let func = engine
            .lua
            .load(&body[shebang_len..])
            .set_mode(mlua::chunk::ChunkMode::Text)
            .set_name("@user_script")
            .set_environment(engine.env.clone())
            .into_function()
            .map_err(|e| {
                CmdError::err(format!(
                    "Error compiling script (new function): {}",
                    lua::error_message(&e)
                ))
            })?;
        self.scripting.eval.scripts_mem += sha.len() + body.len();
        self.scripting.eval.scripts.insert(
            sha.clone(),
            Script {
                body: body.clone(),
                flags,
                func,
            },
        );
        Ok(sha)
    }

    /// The command flags EVAL / EVALSHA / FCALL have for this call, given the script's own
    /// flags (evalGetCommandFlags / fcallGetCommandFlags), for processCommand's checks.
    pub fn script_command_flags(&self, name: &str, argv: &[Bytes], cmd_flags: u64) -> u64 {
        let script_flags = match name {
            "eval" | "eval_ro" => {
                let sha = sha1_hex(&argv[1]);
                match self.scripting.eval.scripts.get(&sha) {
                    Some(s) => s.flags,
                    None => match shebang_flags(&argv[1]) {
                        Ok((f, _)) => f,
                        Err(_) => return cmd_flags,
                    },
                }
            }
            "evalsha" | "evalsha_ro" => {
                if argv[1].len() != 40 {
                    return cmd_flags;
                }
                let sha = String::from_utf8_lossy(&argv[1]).to_ascii_lowercase();
                match self.scripting.eval.scripts.get(&sha) {
                    Some(s) => s.flags,
                    None => return cmd_flags,
                }
            }
            "fcall" | "fcall_ro" => match self.scripting.functions.function_flags(&argv[1]) {
                Some(f) => f,
                None => return cmd_flags,
            },
            _ => return cmd_flags,
        };
        if script_flags & sflags::EVAL_COMPAT_MODE != 0 {
            return cmd_flags;
        }
        super::script_flags_to_cmd_flags(cmd_flags, script_flags)
    }
}

/// Parse the numkeys argument of EVAL / FCALL.
pub fn parse_numkeys(argv: &[Bytes]) -> Result<usize, CmdError> {
    let n = crate::util::numbers::string2ll(&argv[2]).ok_or(errors::NOT_INTEGER)?;
    if n > argv.len() as i64 - 3 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    if n < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    Ok(n as usize)
}

/// Run `func` from `engine` for the caller with `keys` and `args` (luaCallFunction), and
/// write its result or failure as the caller's reply. The run context is prepared.
pub fn call_function(
    srv: &mut Server,
    caller: &mut Client,
    engine: &Engine,
    func: Function,
    keys: &[Bytes],
    args: &[Bytes],
    eval_mode: bool,
) {
    let lua = &engine.lua;
    let to_table = |items: &[Bytes]| -> mlua::Result<mlua::Table> {
        let t = lua.create_table()?;
        for (i, a) in items.iter().enumerate() {
            t.raw_set(i + 1, lua.create_string(a)?)?;
        }
        Ok(t)
    };
    let (keys_t, args_t) = match (to_table(keys), to_table(args)) {
        (Ok(k), Ok(a)) => (k, a),
        _ => {
            let e = CmdError::err("Lua out of memory");
            srv.stats.record_error(e.text());
            caller.reply.error_line(e.text().as_bytes());
            return;
        }
    };
    if eval_mode {
        let _ = engine.globals.raw_set("KEYS", keys_t.clone());
        let _ = engine.globals.raw_set("ARGV", args_t.clone());
    }
    let hooked = srv.config.busy_reply_threshold > 0;
    if hooked {
        let killed = std::cell::Cell::new(false);
        let _ = lua.set_hook(
            mlua::HookTriggers::new().every_nth_instruction(100_000),
            move |_, _| {
                if killed.get() || with_active(|srv, _| srv.script_interrupt()).unwrap_or(false) {
                    if !killed.replace(true) {
                        log::warn!("Lua script killed by user with SCRIPT KILL.");
                    }
                    return Err(mlua::Error::RuntimeError(
                        "Script killed by user with SCRIPT KILL...".into(),
                    ));
                }
                Ok(mlua::VmState::Continue)
            },
        );
    }
    let run = engine.run.clone();
    let result = run_with_active(srv, caller, || {
        if eval_mode {
            run.call::<(bool, Value)>(func)
        } else {
            run.call::<(bool, Value)>((func, keys_t, args_t))
        }
    });
    if hooked {
        lua.remove_hook();
    }
    srv.scripting.eval.gc_count += 1;
    if srv.scripting.eval.gc_count >= 50 {
        srv.scripting.eval.gc_count = 0;
        let _ = lua.gc_step();
    }
    let funcname = srv
        .scripting
        .run
        .as_ref()
        .map(|r| r.funcname.clone())
        .unwrap_or_default();
    let script_resp = srv.scripting.client.as_ref().map_or(2, |c| c.reply.resp);
    match result {
        Ok((true, v)) => {
            let mut o = lua::ReplyOutcome::default();
            lua::lua_to_reply(&v, &mut caller.reply, script_resp, 0, &mut o);
            for (e, counted) in o.errors {
                if !counted {
                    srv.stats.record_error(&e);
                }
            }
        }
        Ok((false, err)) => {
            let (text, counted) = lua::failure_text(&err, &funcname);
            if !counted {
                srv.stats.record_error(&text);
            }
            caller.reply.error_line(text.as_bytes());
        }
        Err(e) => {
            let text = format!(
                "ERR Error running script {}, {:.100}",
                funcname,
                lua::error_message(&e)
            );
            srv.stats.record_error(&text);
            caller.reply.error_line(text.as_bytes());
        }
    }
}

/// EVAL, EVALSHA and their _RO forms (evalGenericCommand).
fn eval_generic(ctx: &mut Ctx, evalsha: bool, ro: bool) -> CmdResult {
    crate::commands::server::feed_monitors_now(ctx);
    let numkeys = parse_numkeys(ctx.argv)?;
    let sha = if evalsha {
        if ctx.arg(1).len() != 40 {
            return Err(noscript());
        }
        String::from_utf8_lossy(ctx.arg(1)).to_ascii_lowercase()
    } else {
        let body = ctx.argv[1].clone();
        ctx.srv.script_create(&body)?
    };
    let Some(script) = ctx.srv.scripting.eval.scripts.get(&sha) else {
        return Err(noscript());
    };
    let (func, flags) = (script.func.clone(), script.flags);
    let argv = ctx.argv;
    ctx.srv
        .script_prepare(ctx.client, argv, sha.clone(), flags, ro, true)?;
    let engine = ctx.srv.scripting.eval.engine.clone();
    if let Some(engine) = engine {
        let keys = &argv[3..3 + numkeys];
        let args = &argv[3 + numkeys..];
        call_function(ctx.srv, ctx.client, &engine, func, keys, args, true);
    }
    ctx.srv.script_reset();
    // The script's effects are propagated, not the script.
    ctx.prop.prevent = true;
    Ok(())
}

fn noscript() -> CmdError {
    CmdError::Static("NOSCRIPT No matching script. Please use EVAL.")
}

pub fn eval(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, false)
}

pub fn eval_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, false, true)
}

pub fn evalsha(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, false)
}

pub fn evalsha_ro(ctx: &mut Ctx) -> CmdResult {
    eval_generic(ctx, true, true)
}

/// SCRIPT LOAD.
pub fn script_load(ctx: &mut Ctx) -> CmdResult {
    let body = ctx.argv[2].clone();
    let sha = ctx.srv.script_create(&body)?;
    ctx.reply().bulk(sha.as_bytes());
    Ok(())
}

/// SCRIPT EXISTS.
pub fn script_exists(ctx: &mut Ctx) -> CmdResult {
    let n = ctx.argv.len() - 2;
    let found: Vec<bool> = ctx.argv[2..]
        .iter()
        .map(|a| {
            let sha = String::from_utf8_lossy(a).to_ascii_lowercase();
            ctx.srv.scripting.eval.scripts.contains_key(&sha)
        })
        .collect();
    let r = ctx.reply();
    r.array_len(n);
    for f in found {
        r.int(f as i64);
    }
    Ok(())
}

/// SCRIPT FLUSH [ASYNC|SYNC].
pub fn script_flush(ctx: &mut Ctx) -> CmdResult {
    match ctx.argv.len() {
        2 => {}
        3 if ctx.arg(2).eq_ignore_ascii_case(b"sync")
            || ctx.arg(2).eq_ignore_ascii_case(b"async") => {}
        _ => return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option")),
    }
    ctx.srv.scripting.eval.flush();
    ctx.reply().ok();
    Ok(())
}

/// SCRIPT KILL.
pub fn script_kill(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.script_kill(true)?;
    ctx.reply().ok();
    Ok(())
}

/// SCRIPT DEBUG YES|SYNC|NO: the Lua debugger is not available; NO is accepted.
pub fn script_debug(ctx: &mut Ctx) -> CmdResult {
    let a = ctx.arg(2);
    if a.eq_ignore_ascii_case(b"no") {
        ctx.reply().ok();
        Ok(())
    } else if a.eq_ignore_ascii_case(b"yes") || a.eq_ignore_ascii_case(b"sync") {
        Err(CmdError::err(
            "The Lua debugger is not supported by this server",
        ))
    } else {
        Err(CmdError::err("Use SCRIPT DEBUG YES/SYNC/NO"))
    }
}

/// `redis.call` / `redis.pcall`: run a command and convert its reply (luaRedisGenericCommand).
/// Returns the value, whether it is an error to raise, and whether to raise even from pcall.
/// `args` yields the command's arguments one at a time (each held briefly: a script may
/// pass thousands).
pub fn lua_redis_call(
    lua: &Lua,
    raise: bool,
    args: impl Iterator<Item = Value>,
) -> mlua::Result<(Value, bool, bool)> {
    if !super::is_active() {
        let t = lua::error_table(
            lua,
            "redis.call/pcall can only be called inside a script invocation",
        )?;
        return Ok((Value::Table(t), true, true));
    }
    let mut argv = Vec::with_capacity(args.size_hint().0);
    for a in args {
        match lua::arg_bytes(&a) {
            Some(b) => argv.push(Bytes::from(b)),
            None => {
                let t = lua::error_table(
                    lua,
                    "Lua redis lib command arguments must be strings or integers",
                )?;
                return Ok((Value::Table(t), raise, false));
            }
        }
    }
    if argv.is_empty() {
        let t = lua::error_table(
            lua,
            "Please specify at least one argument for this redis lib call",
        )?;
        return Ok((Value::Table(t), raise, false));
    }
    let out = with_active(|srv, caller| {
        let Some(mut sc) = srv.scripting.client.take() else {
            return Err("-ERR the script client is busy".to_string());
        };
        sc.reply.buf.clear();
        sc.reply.sent = 0;
        let res = srv.script_call(&mut sc, caller, &argv);
        let reply = std::mem::take(&mut sc.reply.buf);
        sc.reply.sent = 0;
        srv.scripting.client = Some(sc);
        match res {
            Ok(()) => Ok(reply),
            Err(e) => {
                // Rejected calls count in the error stats as Redis's afterErrorReply does.
                let text = if let Some(rest) = e.strip_prefix('-') {
                    rest.trim_end().to_string()
                } else {
                    format!("ERR {}", e)
                };
                srv.stats.record_error(&text);
                Err(e)
            }
        }
    });
    match out {
        Some(Ok(reply)) => {
            let failed = raise && reply.first() == Some(&b'-');
            let mut pos = 0;
            let v = lua::resp_to_lua(lua, &reply, &mut pos)?;
            Ok((v, failed, false))
        }
        Some(Err(e)) => {
            let t = lua::error_table(lua, &e)?;
            t.raw_set("ignore_error_stats_update", true)?;
            Ok((Value::Table(t), raise, false))
        }
        None => Ok((Value::Nil, false, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        assert_eq!(
            shebang_flags(b"return 1").unwrap(),
            (sflags::EVAL_COMPAT_MODE, 0)
        );
        assert_eq!(
            shebang_flags(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap(),
            (sflags::NO_WRITES | sflags::ALLOW_OOM, 31)
        );
        assert_eq!(shebang_flags(b"#!lua\nreturn 1").unwrap(), (0, 5));
        assert!(shebang_flags(b"#!lua flags=bad\n").is_err());
        assert!(shebang_flags(b"#!python\n").is_err());
        assert!(shebang_flags(b"#!lua").is_err());
    }
}
