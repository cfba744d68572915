//! Function libraries (Redis's functions.c and function_lua.c): FUNCTION LOAD compiles a
//! library (`#!lua name=<lib>` then Lua code calling `redis.register_function`) in the
//! functions' own Lua state; FCALL runs a registered function with KEYS and ARGV as its
//! arguments. Libraries live in RDB files (as their code) and are replicated as commands.

use std::cell::RefCell;

use bytes::Bytes;
use mlua::{Function, Lua, MultiValue, Value};

use super::lua::{self, Engine, Kind};
use super::sflags;
use crate::command::{CmdError, CmdResult, Ctx};
use crate::resp::reply::ReplyBuf;
use crate::server::Server;

/// FUNCTION LOAD's time budget for a library's top-level code (LOAD_TIMEOUT_MS).
const LOAD_TIMEOUT_MS: u128 = 500;

/// A registered function.
#[derive(Clone)]
pub struct FunctionInfo {
    pub name: String,
    pub desc: Option<String>,
    pub flags: u64,
    pub func: Function,
}

/// A loaded library.
#[derive(Clone)]
pub struct Library {
    pub name: String,
    /// The code as loaded, shebang included (what RDB, DUMP and WITHCODE give back).
    pub code: Bytes,
    pub functions: Vec<FunctionInfo>,
}

/// The libraries and their functions.
#[derive(Default)]
pub struct Functions {
    pub engine: Option<Engine>,
    /// Libraries in load order.
    pub libraries: Vec<Library>,
    /// lua-enable-deprecated-api: keep setfenv, getfenv and newproxy.
    pub deprecated_api: bool,
}

thread_local! {
    /// Functions registered by the library being loaded.
    static LOADING: RefCell<Option<Vec<FunctionInfo>>> = const { RefCell::new(None) };
}

impl Functions {
    /// No state until the first library loads.
    pub fn new() -> Functions {
        Functions::default()
    }

    fn engine(&mut self) -> Result<Engine, String> {
        if self.engine.is_none() {
            self.engine = Some(
                lua::new_engine(Kind::Functions, self.deprecated_api)
                    .map_err(|e| format!("Lua engine failed to start: {}", e))?,
            );
        }
        Ok(self.engine.clone().expect("just created"))
    }

    /// The function named `name`: across libraries, function names are case-insensitive
    /// (within one library they are not).
    pub fn find(&self, name: &[u8]) -> Option<&FunctionInfo> {
        self.libraries
            .iter()
            .flat_map(|l| l.functions.iter())
            .find(|f| f.name.as_bytes().eq_ignore_ascii_case(name))
    }

    /// A function's flags, for processCommand's checks of FCALL.
    pub fn function_flags(&self, name: &[u8]) -> Option<u64> {
        self.find(name).map(|f| f.flags)
    }

    /// Number of functions and libraries (INFO number_of_functions / libraries).
    pub fn counts(&self) -> (usize, usize) {
        (
            self.libraries.iter().map(|l| l.functions.len()).sum(),
            self.libraries.len(),
        )
    }

    /// Memory the libraries take outside Lua: code, names and descriptions, plus the
    /// empty dictionaries (used_memory_functions; 184 bytes empty, as Redis reports).
    pub fn overhead(&self) -> usize {
        184 + self
            .libraries
            .iter()
            .map(|l| {
                64 + l.name.len()
                    + l.code.len()
                    + l.functions
                        .iter()
                        .map(|f| 48 + f.name.len() + f.desc.as_ref().map_or(0, |d| d.len()))
                        .sum::<usize>()
            })
            .sum::<usize>()
    }

    /// Memory of the functions' Lua state.
    pub fn lua_memory(&self) -> usize {
        self.engine
            .as_ref()
            .map_or(32 * 1024, |e| e.lua.used_memory())
    }

    /// Drop every library (FUNCTION FLUSH, a full resync, DEBUG RELOAD).
    pub fn clear(&mut self) {
        self.libraries.clear();
        if let Some(e) = &self.engine {
            let _ = e.lua.gc_collect();
        }
    }

    /// Compile `code` into a library (functionsCreateWithLibraryCtx). With `replace`, a
    /// library of the same name is replaced; the new one is not linked on error.
    pub fn create(&mut self, code: &Bytes, replace: bool, timeout: bool) -> Result<String, String> {
        let (name, body) = library_metadata(code)?;
        if !valid_name(&name) {
            return Err("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
        }
        let old = self.libraries.iter().position(|l| l.name == name);
        if old.is_some() && !replace {
            return Err(format!("Library '{}' already exists", name));
        }
        let engine = self.engine()?;
        let functions = load_library(&engine, body, timeout)?;
        if functions.is_empty() {
            return Err("No functions registered".into());
        }
        for f in &functions {
            let clash = self
                .libraries
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != old)
                .flat_map(|(_, l)| l.functions.iter())
                .any(|g| g.name.eq_ignore_ascii_case(&f.name));
            if clash {
                return Err(format!("Function {} already exists", f.name));
            }
        }
        let lib = Library {
            name: name.clone(),
            code: code.clone(),
            functions,
        };
        match old {
            Some(i) => self.libraries[i] = lib,
            None => self.libraries.push(lib),
        }
        Ok(name)
    }

    /// Add `other`'s libraries (FUNCTION RESTORE APPEND / REPLACE: libraryJoin).
    fn join(&mut self, other: Vec<Library>, replace: bool) -> Result<(), String> {
        for l in &other {
            if !replace && self.libraries.iter().any(|x| x.name == l.name) {
                return Err(format!("Library {} already exists", l.name));
            }
        }
        let kept: Vec<&Library> = self
            .libraries
            .iter()
            .filter(|x| !other.iter().any(|l| l.name == x.name))
            .collect();
        for l in &other {
            for f in &l.functions {
                if kept
                    .iter()
                    .flat_map(|k| k.functions.iter())
                    .any(|g| g.name.eq_ignore_ascii_case(&f.name))
                {
                    return Err(format!("Function {} already exists", f.name));
                }
            }
        }
        self.libraries
            .retain(|x| !other.iter().any(|l| l.name == x.name));
        self.libraries.extend(other);
        Ok(())
    }
}

/// The library name from `#!<engine> name=<name>` and the code after the shebang line
/// (functionExtractLibMetaData).
fn library_metadata(code: &[u8]) -> Result<(String, &[u8]), String> {
    if !code.starts_with(b"#!") {
        return Err("Missing library metadata".into());
    }
    let Some(end) = memchr::memchr(b'\n', code) else {
        return Err("Invalid library metadata".into());
    };
    let parts = crate::config::parse::split_args(&code[..end])
        .map_err(|_| "Invalid library metadata".to_string())?;
    if parts.is_empty() {
        return Err("Invalid library metadata".into());
    }
    let engine = String::from_utf8_lossy(&parts[0][2..]).into_owned();
    let mut name = None;
    for p in &parts[1..] {
        if p.len() >= 5 && p[..5].eq_ignore_ascii_case(b"name=") {
            if name.is_some() {
                return Err(
                    "Invalid metadata value, name argument was given multiple times".into(),
                );
            }
            name = Some(String::from_utf8_lossy(&p[5..]).into_owned());
            continue;
        }
        return Err(format!(
            "Invalid metadata value given: {}",
            String::from_utf8_lossy(p)
        ));
    }
    let Some(name) = name else {
        return Err("Library name was not given".into());
    };
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("Engine '{}' not found", engine));
    }
    Ok((name, &code[end..]))
}

/// Letters, digits and underscores, at least one (functionsVerifyName).
fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Run a library's top-level code with the load-time API, collecting what it registers
/// (luaEngineCreate).
fn load_library(engine: &Engine, body: &[u8], timeout: bool) -> Result<Vec<FunctionInfo>, String> {
    let f = engine
        .lua
        .load(body)
        .set_mode(mlua::chunk::ChunkMode::Text)
        .set_name("@user_function")
        .set_environment(engine.env.clone())
        .into_function()
        .map_err(|e| format!("Error compiling function: {}", lua::error_message(&e)))?;
    let set_api = engine.set_api.clone().expect("functions engine");
    let _ = set_api.call::<()>(true);
    LOADING.with(|l| *l.borrow_mut() = Some(Vec::new()));
    let start = std::time::Instant::now();
    if timeout {
        let _ = engine.lua.set_hook(
            mlua::HookTriggers::new().every_nth_instruction(100_000),
            move |_, _| {
                if start.elapsed().as_millis() > LOAD_TIMEOUT_MS {
                    return Err(mlua::Error::RuntimeError("FUNCTION LOAD timeout".into()));
                }
                Ok(mlua::VmState::Continue)
            },
        );
    }
    let res = engine.run.call::<(bool, Value)>(f);
    engine.lua.remove_hook();
    let _ = set_api.call::<()>(false);
    let registered = LOADING.with(|l| l.borrow_mut().take()).unwrap_or_default();
    match res {
        Ok((true, _)) => Ok(registered),
        Ok((false, err)) => {
            let msg = match &err {
                Value::Table(t) => match t.raw_get::<Value>("err") {
                    Ok(Value::String(s)) => s.to_string_lossy(),
                    _ => "unknown error".into(),
                },
                other => format!("{:?}", other),
            };
            Err(format!("Error registering functions: {}", msg))
        }
        Err(e) => Err(format!(
            "Error registering functions: {}",
            lua::error_message(&e)
        )),
    }
}

/// `redis.register_function` during FUNCTION LOAD (luaRegisterFunction): returns an error
/// table for the Lua wrapper to raise, or nil.
pub fn lua_register_function(lua: &Lua, args: MultiValue) -> mlua::Result<Option<mlua::Table>> {
    let fail = |msg: &str| lua::error_table(lua, msg).map(Some);
    let loading = LOADING.with(|l| l.borrow().is_some());
    if !loading {
        return fail("redis.register_function can only be called on FUNCTION LOAD command");
    }
    let (name, desc, func, flags) = match args.len() {
        1 => {
            let Some(Value::Table(t)) = args.front() else {
                return fail("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).");
            };
            let (mut name, mut desc, mut func, mut flags) = (None, None, None, 0u64);
            for pair in t.pairs::<Value, Value>() {
                let (k, v) = pair?;
                let Value::String(k) = k else {
                    return fail(
                        "named argument key given to redis.register_function is not a string",
                    );
                };
                let key = k.to_string_lossy().to_ascii_lowercase();
                match key.as_str() {
                    "function_name" => match lua::arg_bytes(&v) {
                        Some(b) => name = Some(String::from_utf8_lossy(&b).into_owned()),
                        None => return fail("function_name argument given to redis.register_function must be a string"),
                    },
                    "description" => match lua::arg_bytes(&v) {
                        Some(b) => desc = Some(String::from_utf8_lossy(&b).into_owned()),
                        None => return fail("description argument given to redis.register_function must be a string"),
                    },
                    "callback" => match v {
                        Value::Function(f) => func = Some(f),
                        _ => return fail("callback argument given to redis.register_function must be a function"),
                    },
                    "flags" => {
                        let Value::Table(ft) = v else {
                            return fail("flags argument to redis.register_function must be a table representing function flags");
                        };
                        let mut j = 1;
                        loop {
                            let fv: Value = ft.get(j)?;
                            if fv.is_nil() {
                                break;
                            }
                            let Some(s) = lua::arg_bytes(&fv) else {
                                return fail("unknown flag given");
                            };
                            let s = String::from_utf8_lossy(&s).to_ascii_lowercase();
                            match sflags::parse(&s) {
                                Some(f) => flags |= f,
                                None => return fail("unknown flag given"),
                            }
                            j += 1;
                        }
                    }
                    _ => return fail("unknown argument given to redis.register_function"),
                }
            }
            let Some(name) = name else {
                return fail("redis.register_function must get a function name argument");
            };
            let Some(func) = func else {
                return fail("redis.register_function must get a callback argument");
            };
            (name, desc, func, flags)
        }
        2 => {
            let Some(name) =
                lua::arg_bytes(&args[0]).map(|b| String::from_utf8_lossy(&b).into_owned())
            else {
                return fail("first argument to redis.register_function must be a string");
            };
            let Value::Function(func) = args[1].clone() else {
                return fail("second argument to redis.register_function must be a function");
            };
            (name, None, func, 0)
        }
        _ => return fail("wrong number of arguments to redis.register_function"),
    };
    if !valid_name(&name) {
        return fail("Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
    }
    let dup = LOADING.with(|l| {
        l.borrow()
            .as_ref()
            .is_some_and(|v| v.iter().any(|f| f.name == name))
    });
    if dup {
        return fail("Function already exists in the library");
    }
    LOADING.with(|l| {
        if let Some(v) = l.borrow_mut().as_mut() {
            v.push(FunctionInfo {
                name,
                desc,
                flags,
                func,
            });
        }
    });
    Ok(None)
}

// ---- commands ----

/// FUNCTION LOAD [REPLACE] code.
pub fn function_load(ctx: &mut Ctx) -> CmdResult {
    let mut replace = false;
    let mut i = 2;
    while i < ctx.argv.len() - 1 {
        if ctx.arg(i).eq_ignore_ascii_case(b"replace") {
            replace = true;
            i += 1;
            continue;
        }
        return Err(CmdError::err(format!(
            "Unknown option given: {}",
            String::from_utf8_lossy(ctx.arg(i))
        )));
    }
    if i >= ctx.argv.len() {
        return Err(CmdError::err("Function code is missing"));
    }
    let code = ctx.argv[i].clone();
    let timeout = !ctx
        .client
        .has(crate::client::flags::MASTER | crate::client::flags::AOF_CLIENT);
    let name = ctx
        .srv
        .scripting
        .functions
        .create(&code, replace, timeout)
        .map_err(CmdError::err)?;
    ctx.dirty(1);
    ctx.reply().bulk(name.as_bytes());
    Ok(())
}

/// FUNCTION DELETE library.
pub fn function_delete(ctx: &mut Ctx) -> CmdResult {
    let name = String::from_utf8_lossy(ctx.arg(2)).into_owned();
    let f = &mut ctx.srv.scripting.functions;
    let Some(i) = f.libraries.iter().position(|l| l.name == name) else {
        return Err(CmdError::err("Library not found"));
    };
    f.libraries.remove(i);
    ctx.dirty(1);
    ctx.reply().ok();
    Ok(())
}

/// FUNCTION FLUSH [ASYNC|SYNC].
pub fn function_flush(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 3 {
        return Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
            String::from_utf8_lossy(ctx.arg(1))
        )));
    }
    if ctx.argv.len() == 3
        && !ctx.arg(2).eq_ignore_ascii_case(b"sync")
        && !ctx.arg(2).eq_ignore_ascii_case(b"async")
    {
        return Err(CmdError::err(
            "FUNCTION FLUSH only supports SYNC|ASYNC option",
        ));
    }
    ctx.srv.scripting.functions.clear();
    ctx.dirty(1);
    ctx.reply().ok();
    Ok(())
}

/// FUNCTION KILL.
pub fn function_kill(ctx: &mut Ctx) -> CmdResult {
    ctx.srv.script_kill(false)?;
    ctx.reply().ok();
    Ok(())
}

fn reply_flags(r: &mut ReplyBuf, flags: u64) {
    let names: Vec<&str> = sflags::NAMES
        .iter()
        .filter(|(f, _)| flags & f != 0)
        .map(|(_, n)| *n)
        .collect();
    r.set_len(names.len());
    for n in names {
        r.simple(n.as_bytes());
    }
}

/// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE].
pub fn function_list(ctx: &mut Ctx) -> CmdResult {
    let (mut with_code, mut pattern) = (false, None::<Bytes>);
    let mut i = 2;
    while i < ctx.argv.len() {
        let a = ctx.arg(i);
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
            i += 1;
            continue;
        }
        if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            if i >= ctx.argv.len() - 1 {
                return Err(CmdError::err("library name argument was not given"));
            }
            pattern = Some(ctx.argv[i + 1].clone());
            i += 2;
            continue;
        }
        return Err(CmdError::err(format!(
            "Unknown argument {}",
            String::from_utf8_lossy(a)
        )));
    }
    let libs: Vec<Library> = ctx
        .srv
        .scripting
        .functions
        .libraries
        .iter()
        .filter(|l| {
            pattern
                .as_ref()
                .is_none_or(|p| crate::util::glob::string_match(p, l.name.as_bytes(), true))
        })
        .cloned()
        .collect();
    let r = ctx.reply();
    r.array_len(libs.len());
    for l in libs {
        r.map_len(if with_code { 4 } else { 3 });
        r.bulk(b"library_name");
        r.bulk(l.name.as_bytes());
        r.bulk(b"engine");
        r.bulk(b"LUA");
        r.bulk(b"functions");
        r.array_len(l.functions.len());
        for f in &l.functions {
            r.map_len(3);
            r.bulk(b"name");
            r.bulk(f.name.as_bytes());
            r.bulk(b"description");
            match &f.desc {
                Some(d) => r.bulk(d.as_bytes()),
                None => r.null(),
            }
            r.bulk(b"flags");
            reply_flags(r, f.flags);
        }
        if with_code {
            r.bulk(b"library_code");
            r.bulk(&l.code);
        }
    }
    Ok(())
}

/// FUNCTION STATS.
pub fn function_stats(ctx: &mut Ctx) -> CmdResult {
    if ctx.srv.scripting.run.as_ref().is_some_and(|r| r.eval_mode) {
        return Err(CmdError::Static(super::BUSY_EVAL));
    }
    let (nfuncs, nlibs) = ctx.srv.scripting.functions.counts();
    let running = ctx.srv.scripting.run.as_ref().map(|r| {
        (
            r.funcname.clone(),
            r.caller_argv.clone(),
            r.start.elapsed().as_millis() as i64,
        )
    });
    let r = ctx.reply();
    r.map_len(2);
    r.bulk(b"running_script");
    match running {
        None => r.null(),
        Some((name, argv, ms)) => {
            r.map_len(3);
            r.bulk(b"name");
            r.bulk(name.as_bytes());
            r.bulk(b"command");
            r.array_len(argv.len());
            for a in &argv {
                r.bulk(a);
            }
            r.bulk(b"duration_ms");
            r.int(ms);
        }
    }
    r.bulk(b"engines");
    r.map_len(1);
    r.bulk(b"LUA");
    r.map_len(2);
    r.bulk(b"libraries_count");
    r.int(nlibs as i64);
    r.bulk(b"functions_count");
    r.int(nfuncs as i64);
    Ok(())
}

/// The libraries as a FUNCTION DUMP / RDB payload: an OPCODE_FUNCTION2 record with the
/// code for each.
pub fn write_functions<W: std::io::Write>(
    srv: &Server,
    w: &mut crate::persistence::rdb::RdbWriter<W>,
) -> std::io::Result<()> {
    for l in &srv.scripting.functions.libraries {
        w.raw(&[crate::persistence::rdb::OPCODE_FUNCTION2])?;
        w.string(&l.code)?;
    }
    Ok(())
}

/// FUNCTION DUMP.
pub fn function_dump(ctx: &mut Ctx) -> CmdResult {
    let mut w = crate::persistence::rdb::RdbWriter::new(Vec::new())
        .compressed(ctx.srv.config.rdbcompression);
    write_functions(ctx.srv, &mut w).map_err(|e| CmdError::err(e.to_string()))?;
    let mut payload = w.into_inner();
    crate::commands::dump::append_dump_footer(&mut payload);
    ctx.reply().bulk(&payload);
    Ok(())
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE].
pub fn function_restore(ctx: &mut Ctx) -> CmdResult {
    if ctx.argv.len() > 4 {
        return Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
            String::from_utf8_lossy(ctx.arg(1))
        )));
    }
    #[derive(PartialEq)]
    enum Policy {
        Flush,
        Append,
        Replace,
    }
    let policy = match ctx.argv.get(3) {
        None => Policy::Append,
        Some(a) if a.eq_ignore_ascii_case(b"append") => Policy::Append,
        Some(a) if a.eq_ignore_ascii_case(b"replace") => Policy::Replace,
        Some(a) if a.eq_ignore_ascii_case(b"flush") => Policy::Flush,
        Some(_) => {
            return Err(CmdError::err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ))
        }
    };
    let data = ctx.argv[2].clone();
    let skip_crc = ctx.srv.skip_checksum_validation;
    let Some(body) = crate::commands::dump::verify_dump_payload(&data, skip_crc) else {
        return Err(CmdError::err("DUMP payload version or checksum are wrong"));
    };
    let mut codes = Vec::new();
    let mut r = crate::persistence::rdb::RdbReader::new(body);
    while !r.is_empty() {
        let t = r
            .u8()
            .map_err(|_| CmdError::err("can not read data type"))?;
        if t != crate::persistence::rdb::OPCODE_FUNCTION2 {
            return Err(CmdError::err("given type is not a function"));
        }
        let code = r
            .string()
            .map_err(|_| CmdError::err("Failed loading library payload"))?;
        codes.push(Bytes::from(code));
    }
    // Compile into a scratch set, then join (nothing changes on error).
    let f = &mut ctx.srv.scripting.functions;
    let saved = std::mem::take(&mut f.libraries);
    let mut fresh = Vec::new();
    let mut err = None;
    for code in &codes {
        match f.create(code, false, false) {
            Ok(_) => {}
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    fresh.append(&mut f.libraries);
    f.libraries = saved;
    if let Some(e) = err {
        return Err(CmdError::err(e));
    }
    if policy == Policy::Flush {
        f.libraries = fresh;
    } else {
        f.join(fresh, policy == Policy::Replace)
            .map_err(CmdError::err)?;
    }
    ctx.dirty(1);
    ctx.reply().ok();
    Ok(())
}

/// FCALL / FCALL_RO function numkeys keys... args...
fn fcall_generic(ctx: &mut Ctx, ro: bool) -> CmdResult {
    crate::commands::server::feed_monitors_now(ctx);
    let Some(fi) = ctx.srv.scripting.functions.find(ctx.arg(1)).cloned() else {
        return Err(CmdError::err("Function not found"));
    };
    let Some(n) = crate::util::numbers::string2ll(ctx.arg(2)) else {
        return Err(CmdError::err("Bad number of keys provided"));
    };
    if n > ctx.argv.len() as i64 - 3 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    if n < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    let numkeys = n as usize;
    let argv = ctx.argv;
    ctx.srv
        .script_prepare(ctx.client, argv, fi.name.clone(), fi.flags, ro, false)?;
    let engine = ctx.srv.scripting.functions.engine.clone();
    if let Some(engine) = engine {
        let keys = &argv[3..3 + numkeys];
        let args = &argv[3 + numkeys..];
        super::eval::call_function(ctx.srv, ctx.client, &engine, fi.func, keys, args, false);
    }
    ctx.srv.script_reset();
    ctx.prop.prevent = true;
    Ok(())
}

pub fn fcall(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, false)
}

pub fn fcall_ro(ctx: &mut Ctx) -> CmdResult {
    fcall_generic(ctx, true)
}

/// FUNCTION HELP.
pub fn function_help(ctx: &mut Ctx) -> CmdResult {
    const HELP: &[&str] = &[
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ];
    crate::commands::connection::reply_help(ctx.reply(), "FUNCTION", HELP);
    Ok(())
}

/// Write each library as a FUNCTION LOAD command (AOF rewrite without RDB preamble).
pub fn aof_rewrite_functions(srv: &Server, out: &mut Vec<u8>) {
    for l in &srv.scripting.functions.libraries {
        crate::replication::encode_command(
            out,
            &[
                Bytes::from_static(b"FUNCTION"),
                Bytes::from_static(b"LOAD"),
                l.code.clone(),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata() {
        let (n, rest) = library_metadata(b"#!lua name=mylib\nreturn 1").unwrap();
        assert_eq!(n, "mylib");
        assert_eq!(rest, b"\nreturn 1");
        assert_eq!(
            library_metadata(b"return 1").unwrap_err(),
            "Missing library metadata"
        );
        assert_eq!(
            library_metadata(b"#!lua\nx").unwrap_err(),
            "Library name was not given"
        );
        assert_eq!(
            library_metadata(b"#!lua name=a foo=bar\nx").unwrap_err(),
            "Invalid metadata value given: foo=bar"
        );
        assert_eq!(
            library_metadata(b"#!python name=a\nx").unwrap_err(),
            "Engine 'python' not found"
        );
    }

    #[test]
    fn load_and_register() {
        let mut f = Functions::new();
        let code = Bytes::from_static(
            b"#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 1 end)",
        );
        assert_eq!(f.create(&code, false, true).unwrap(), "lib1");
        assert!(f.find(b"f1").is_some());
        assert_eq!(
            f.create(&code, false, true).unwrap_err(),
            "Library 'lib1' already exists"
        );
        assert!(f.create(&code, true, true).is_ok());
        let none = Bytes::from_static(b"#!lua name=lib2\nlocal x = 1");
        assert_eq!(
            f.create(&none, false, true).unwrap_err(),
            "No functions registered"
        );
        let clash = Bytes::from_static(
            b"#!lua name=lib3\nredis.register_function('f1', function() return 2 end)",
        );
        assert_eq!(
            f.create(&clash, false, true).unwrap_err(),
            "Function f1 already exists"
        );
        let bad = Bytes::from_static(b"#!lua name=lib4\nredis.call('ping')");
        let e = f.create(&bad, false, true).unwrap_err();
        assert!(e.starts_with("Error registering functions"), "{e}");
    }
}
