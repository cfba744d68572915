//! The Lua side of scripting: building a sandboxed Lua 5.1 state, the `redis` API table,
//! and the conversions between RESP replies and Lua values (Redis's script_lua.c).
//!
//! The sandbox is set up by a prelude chunk (`PRELUDE`, our own Lua) that runs once per
//! state with the raw Rust callbacks as arguments:
//! - scripts run with an environment that is a read-only view of the globals: reading an
//!   unknown global raises "Script attempted to access nonexistent global variable",
//!   assigning one raises "Attempt to modify a readonly table", and the library tables
//!   (`redis`, `string`, `cjson`, ...) are read-only views too (`setmetatable` and `rawset`
//!   refuse read-only tables);
//! - `redis.call` / `redis.pcall` wrap the raw call, raising the error table for `call`;
//! - the error handler turns any error into Redis's `{err=..., source=..., line=...}` table,
//!   skipping C and prelude frames for the position.
//!
//! Raw callbacks never raise Lua errors for user-visible failures (a Rust error would reach
//! Lua as an opaque userdata); they return error tables that the Lua wrappers raise.

use std::io::Write as _;

use mlua::{Function, Lua, MultiValue, StdLib, Table, Value};

use crate::resp::reply::{Aggregate, ReplyBuf};

/// Which engine a state serves: EVAL scripts or function libraries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Eval,
    Functions,
}

/// A Lua state with its sandbox handles (cheap to clone: handles to the same state).
#[derive(Clone)]
pub struct Engine {
    pub lua: Lua,
    /// The read-only environment scripts run in.
    pub env: Table,
    /// `run(f, ...)`: xpcall with the error handler; returns ok, value.
    pub run: Function,
    /// Functions engine: `set_api(loading)` switches the globals libraries see between the
    /// load-time API (`redis.register_function`) and the full one.
    pub set_api: Option<Function>,
    /// The real globals table (KEYS and ARGV are set there for EVAL).
    pub globals: Table,
}

const PRELUDE: &str = r#"
local raw, kind, deprecated_api = ...
local G = _G
local rawset_, rawget_, setmetatable_, getmetatable_ = rawset, rawget, setmetatable, getmetatable
local type_, error_, tostring_, select_, unpack_, xpcall_, pcall_ = type, error, tostring, select, unpack, xpcall, pcall
local dbg = debug

-- What Redis does not offer to scripts.
for _, name in ipairs({'print', 'dofile', 'loadfile', 'debug', 'module', 'require', 'package', 'os', 'io'}) do
  rawset_(G, name, nil)
end
-- Deprecated for sandboxing concerns: only with lua-enable-deprecated-api.
if not deprecated_api then
  for _, name in ipairs({'setfenv', 'getfenv', 'newproxy'}) do rawset_(G, name, nil) end
end

-- Read-only views: an empty proxy whose metatable reads through to the table, refuses
-- writes, and shows a read-only view of itself to getmetatable.
local readonly = setmetatable_({}, {__mode = 'k'})
local views = setmetatable_({}, {__mode = 'k'})
local function ro_error() error_("Attempt to modify a readonly table", 2) end
local protect
protect = function(t)
  if readonly[t] then return t end
  local v = views[t]
  if v then return v end
  v = {}
  local mt = {
    __index = function(_, k)
      local x = t[k]
      if type_(x) == 'table' then return protect(x) end
      return x
    end,
    __newindex = ro_error,
  }
  local mtview = {}
  setmetatable_(mtview, {
    __index = function(_, k)
      local x = mt[k]
      if type_(x) == 'table' then return protect(x) end
      return x
    end,
    __newindex = ro_error,
    __metatable = false,
  })
  mt.__metatable = mtview
  setmetatable_(v, mt)
  readonly[v] = true
  readonly[mtview] = true
  views[t] = v
  return v
end

setmetatable = function(t, mt)
  if readonly[t] then error_("Attempt to modify a readonly table", 2) end
  return setmetatable_(t, mt)
end
rawset = function(t, k, v)
  if readonly[t] then error_("Attempt to modify a readonly table", 2) end
  return rawset_(t, k, v)
end

-- The string metatable (reachable with getmetatable('')) is read-only too.
do
  local smt = getmetatable_('')
  if smt then smt.__metatable = protect(smt) end
end

local function pack(...) return {n = select_('#', ...), ...} end

-- unpack with a range of 2^31 elements or more overflows the element count of Lua 5.1's
-- unpack (undefined behaviour in C; Redis patches its copy): refuse what the C function
-- cannot push (LUAI_MAXCSTACK slots, its arguments included) before calling it.
do
  local tonumber_, floor_, huge, maxcstack = tonumber, math.floor, 2147483647, 8000
  local function int(x)
    local n = tonumber_(x)
    if n == nil then return nil end
    if n >= 0 then return floor_(n) end
    return -floor_(-n)
  end
  -- (the upvalue is named unpack for the C function's argument errors)
  local unpack = unpack_
  rawset_(G, 'unpack', function(...)
    local t, i, j = ...
    if type_(t) == 'table' then
      local ii = (i == nil) and 1 or int(i)
      local jj = (j == nil) and #t or int(j)
      if ii and jj and ii <= jj then
        local n = jj - ii + 1
        if n >= huge or n + select_('#', ...) > maxcstack then
          error_("too many results to unpack", 2)
        end
      end
    end
    return unpack(...)
  end)
end

-- Only source code loads: precompiled chunks could break the VM (Redis's Lua parses every
-- chunk as text).
do
  local loadstring_, load_, concat_, byte_ = loadstring, load, table.concat, string.byte
  local function text_only(s, name)
    if byte_(s, 1) == 27 then
      return nil, "[string \"" .. tostring_(name or "?") .. "\"]: binary chunks are not allowed"
    end
    return loadstring_(s, name)
  end
  loadstring = function(s, name)
    if type_(s) == 'string' then return text_only(s, name) end
    return loadstring_(s, name)
  end
  load = function(f, name)
    if type_(f) ~= 'function' then return load_(f, name) end
    local parts = {}
    while true do
      local p = f()
      if p == nil or p == '' then break end
      if type_(p) ~= 'string' then return nil, "reader function must return a string" end
      parts[#parts + 1] = p
    end
    return text_only(concat_(parts), name or "=(load)")
  end
end

-- Redis's pcall returns the message of an error table rather than the table.
-- A killed script dies even inside pcall / xpcall: the kill error is raised again.
pcall = function(f, ...)
  local r = pack(pcall_(f, ...))
  if not r[1] then
    if raw.killed() then error_(r[2], 0) end
    local e = r[2]
    if type_(e) == 'userdata' then e = raw.error_text(e) end
    if type_(e) == 'table' and type_(rawget_(e, 'err')) == 'string' then e = rawget_(e, 'err') end
    r[2] = e
  end
  return unpack_(r, 1, r.n)
end

xpcall = function(f, h)
  local r = pack(xpcall_(f, function(e)
    if raw.killed() then return e end
    return h(e)
  end))
  if not r[1] and raw.killed() then error_(r[2], 0) end
  return unpack_(r, 1, r.n)
end

local function err_handler(err)
  local level = 2
  local i = dbg.getinfo(level, 'nSl')
  while i and (i.what == 'C' or i.source == '=redust') do
    level = level + 1
    i = dbg.getinfo(level, 'nSl')
  end
  if type_(err) == 'userdata' then err = raw.error_text(err) end
  if type_(err) ~= 'table' then err = {err = 'ERR ' .. tostring_(err)} end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

local redis = {}
-- Many arguments travel in a table: each value the callback holds takes a slot of a stack
-- limited to LUAI_MAXCSTACK.
local many = 64
redis.call = function(...)
  local r, failed
  if select_('#', ...) > many then
    r, failed = raw.call_packed(true, pack(...))
  else
    r, failed = raw.call(true, ...)
  end
  if failed then error_(r, 0) end
  return r
end
redis.pcall = function(...)
  local r, force, _
  if select_('#', ...) > many then
    r, _, force = raw.call_packed(false, pack(...))
  else
    r, _, force = raw.call(false, ...)
  end
  if force then error_(r, 0) end
  return r
end
redis.sha1hex = raw.sha1hex
redis.error_reply = raw.error_reply
redis.status_reply = raw.status_reply
redis.log = function(...)
  local e = raw.log(...)
  if e then error_(e, 0) end
end
redis.setresp = function(...)
  local e = raw.setresp(...)
  if e then error_(e, 0) end
end
redis.set_repl = function(...)
  local e = raw.set_repl(...)
  if e then error_(e, 0) end
end
redis.acl_check_cmd = function(...)
  local r, e = raw.acl_check_cmd(...)
  if e then error_(r, 0) end
  return r
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION = raw.version
redis.REDIS_VERSION_NUM = raw.version_num
rawset_(G, 'redis', redis)

math.random = function(...)
  local r, e = raw.random(...)
  if e then error_(e, 2) end
  return r
end
math.randomseed = function(...)
  local e = raw.randomseed(...)
  if e then error_(e, 2) end
end

-- The library tables scripts see as read-only views.
local libs = {string = true, math = true, table = true, coroutine = true, redis = true,
              cjson = true, cmsgpack = true, struct = true, bit = true}

local function global_view(src)
  local env = {}
  setmetatable_(env, {
    __index = function(_, k)
      if k == '_G' then return env end
      local x = rawget_(src(), k)
      if x == nil then
        error_("Script attempted to access nonexistent global variable '" .. tostring_(k) .. "'", 2)
      end
      if libs[k] and type_(x) == 'table' then return protect(x) end
      return x
    end,
    __newindex = ro_error,
    __metatable = protect({}),
  })
  readonly[env] = true
  return env
end

-- Unknown globals read by library code running with the real globals fail the same way.
setmetatable_(G, {__index = function(_, k)
  error_("Script attempted to access nonexistent global variable '" .. tostring_(k) .. "'", 2)
end})

local env, set_api
if kind == 'eval' then
  env = global_view(function() return G end)
else
  -- Function libraries see only redis.register_function (and log) while loading, then
  -- the full globals when their functions run.
  local register_function = function(...)
    local e = raw.register_function(...)
    if e then error_(e, 0) end
  end
  local load_api = {redis = {register_function = register_function, log = redis.log,
                             LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
                             REDIS_VERSION = raw.version, REDIS_VERSION_NUM = raw.version_num}}
  setmetatable_(load_api, getmetatable_(G))
  setmetatable_(load_api.redis, getmetatable_(G))
  local current = G
  env = global_view(function() return current end)
  set_api = function(loading) if loading then current = load_api else current = G end end
  libs.redis = true
end
rawset_(G, '_G', env)

local function run(f, ...)
  local args = pack(...)
  return xpcall_(function() return f(unpack_(args, 1, args.n)) end, err_handler)
end

return env, run, set_api
"#;

/// Create a sandboxed state for `kind`, with the raw callbacks of [`super::eval`] /
/// [`super::function`].
pub fn new_engine(kind: Kind, deprecated_api: bool) -> mlua::Result<Engine> {
    // SAFETY: the debug library is needed by the error handler; the prelude removes it from
    // the globals before any script runs, as Redis does.
    let lua = unsafe {
        Lua::unsafe_new_with(
            StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
            mlua::LuaOptions::new(),
        )
    };
    super::libs::register_all(&lua)?;
    let raw = raw_api(&lua, kind)?;
    let prelude = lua.load(PRELUDE).set_name("=redust").into_function()?;
    let (env, run, set_api): (Table, Function, Option<Function>) = prelude.call((
        raw,
        match kind {
            Kind::Eval => "eval",
            Kind::Functions => "functions",
        },
        deprecated_api,
    ))?;
    let globals = lua.globals();
    Ok(Engine {
        lua,
        env,
        run,
        set_api,
        globals,
    })
}

/// An error table `{err = "<CODE> <msg>"}` (Redis's luaPushErrorBuff): a message starting
/// with `-` carries its own code, others get `ERR`.
pub fn error_table(lua: &Lua, msg: &str) -> mlua::Result<Table> {
    let (code, text) = match msg.strip_prefix('-') {
        Some(rest) => match rest.split_once(' ') {
            Some((code, text)) => (code.to_string(), text.to_string()),
            None => ("ERR".to_string(), rest.to_string()),
        },
        None => ("ERR".to_string(), msg.to_string()),
    };
    let t = lua.create_table()?;
    t.raw_set(
        "err",
        format!("{} {}", code, text.trim_matches(|c| c == '\r' || c == '\n')),
    )?;
    Ok(t)
}

/// The bytes of a Lua argument for a command, as Redis converts them (numbers with
/// `%.17g`), or None for other types.
pub fn arg_bytes(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::String(s) => Some(s.as_bytes().to_vec()),
        Value::Integer(i) => Some(i.to_string().into_bytes()),
        Value::Number(n) => Some(fmt_g17(*n)),
        _ => None,
    }
}

fn fmt_g17(n: f64) -> Vec<u8> {
    crate::util::numbers::fmt_g17(n).as_bytes().to_vec()
}

/// The raw callbacks the prelude wraps.
fn raw_api(lua: &Lua, kind: Kind) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "call",
        lua.create_function(|lua, args: MultiValue| {
            let mut it = args.into_iter();
            let raise = matches!(it.next(), Some(Value::Boolean(true)));
            super::eval::lua_redis_call(lua, raise, it)
        })?,
    )?;
    t.set(
        "call_packed",
        lua.create_function(|lua, (raise, args): (bool, Table)| {
            let n: i64 = args.raw_get("n")?;
            let it = (1..=n).map(|i| args.raw_get::<Value>(i).unwrap_or(Value::Nil));
            super::eval::lua_redis_call(lua, raise, it)
        })?,
    )?;
    t.set(
        "sha1hex",
        lua.create_function(|lua, args: MultiValue| {
            if args.len() != 1 {
                return Err(mlua::Error::RuntimeError(
                    "wrong number of arguments".into(),
                ));
            }
            let s = arg_bytes(&args[0]).unwrap_or_default();
            lua.create_string(crate::util::digest::sha1_hex(&s))
        })?,
    )?;
    t.set(
        "error_reply",
        lua.create_function(|lua, args: MultiValue| -> mlua::Result<Table> {
            match (args.len(), args.front()) {
                (1, Some(Value::String(s))) => {
                    let s = s.to_string_lossy();
                    if s.starts_with('-') {
                        error_table(lua, &s)
                    } else {
                        error_table(lua, &format!("-{}", s))
                    }
                }
                _ => error_table(lua, "wrong number or type of arguments"),
            }
        })?,
    )?;
    t.set(
        "status_reply",
        lua.create_function(|lua, args: MultiValue| -> mlua::Result<Table> {
            match (args.len(), args.front()) {
                (1, Some(Value::String(s))) => {
                    let t = lua.create_table()?;
                    t.raw_set("ok", s.clone())?;
                    Ok(t)
                }
                _ => error_table(lua, "wrong number or type of arguments"),
            }
        })?,
    )?;
    t.set(
        "log",
        lua.create_function(|lua, args: MultiValue| -> mlua::Result<Option<Table>> {
            if args.len() < 2 {
                return error_table(lua, "redis.log() requires two arguments or more.").map(Some);
            }
            let level = match &args[0] {
                Value::Integer(i) => *i as f64,
                Value::Number(n) => *n,
                Value::String(s) => match s.to_string_lossy().trim().parse::<f64>() {
                    Ok(n) => n,
                    Err(_) => {
                        return error_table(lua, "First argument must be a number (log level).")
                            .map(Some)
                    }
                },
                _ => {
                    return error_table(lua, "First argument must be a number (log level).")
                        .map(Some)
                }
            };
            let level = level as i64;
            if !(0..=3).contains(&level) {
                return error_table(lua, "Invalid debug level.").map(Some);
            }
            let mut msg = Vec::new();
            for (j, a) in args.iter().skip(1).enumerate() {
                if let Some(b) = arg_bytes(a) {
                    if j != 0 {
                        msg.push(b' ');
                    }
                    msg.extend_from_slice(&b);
                }
            }
            let text = String::from_utf8_lossy(&msg);
            match level {
                0 => log::debug!("{}", text),
                1 => log::trace!("{}", text),
                2 => log::info!("{}", text),
                _ => log::warn!("{}", text),
            }
            Ok(None)
        })?,
    )?;
    t.set(
        "setresp",
        lua.create_function(|lua, args: MultiValue| -> mlua::Result<Option<Table>> {
            if !super::is_active() {
                return error_table(
                    lua,
                    "redis.setresp can only be called inside a script invocation",
                )
                .map(Some);
            }
            if args.len() != 1 {
                return error_table(lua, "redis.setresp() requires one argument.").map(Some);
            }
            let resp = number_of(&args[0]).unwrap_or(0.0) as i64;
            if resp != 2 && resp != 3 {
                return error_table(lua, "RESP version must be 2 or 3.").map(Some);
            }
            super::with_active(|srv, _| {
                if let Some(sc) = srv.scripting.client.as_mut() {
                    sc.reply.resp = resp as u8;
                }
            });
            Ok(None)
        })?,
    )?;
    t.set(
        "set_repl",
        lua.create_function(|lua, args: MultiValue| -> mlua::Result<Option<Table>> {
            if !super::is_active() {
                return error_table(
                    lua,
                    "redis.set_repl can only be called inside a script invocation",
                )
                .map(Some);
            }
            if args.len() != 1 {
                return error_table(lua, "redis.set_repl() requires two arguments.").map(Some);
            }
            let flags = number_of(&args[0]).unwrap_or(-1.0) as i64;
            if flags & !3 != 0 {
                return error_table(
                    lua,
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                )
                .map(Some);
            }
            super::with_active(|srv, _| {
                if let Some(run) = srv.scripting.run.as_mut() {
                    run.repl_flags = flags as u8;
                }
            });
            Ok(None)
        })?,
    )?;
    t.set(
        "acl_check_cmd",
        lua.create_function(|lua, args: MultiValue| -> mlua::Result<(Value, bool)> {
            if !super::is_active() {
                return Ok((
                    Value::Table(error_table(
                        lua,
                        "redis.acl_check_cmd can only be called inside a script invocation",
                    )?),
                    true,
                ));
            }
            if args.is_empty() {
                return Ok((
                    Value::Table(error_table(
                        lua,
                        "Please specify at least one argument for this redis lib call",
                    )?),
                    true,
                ));
            }
            let mut argv = Vec::with_capacity(args.len());
            for a in args.iter() {
                match arg_bytes(a) {
                    Some(b) => argv.push(bytes::Bytes::from(b)),
                    None => {
                        return Ok((
                            Value::Table(error_table(
                                lua,
                                "Lua redis lib command arguments must be strings or integers",
                            )?),
                            true,
                        ))
                    }
                }
            }
            // None: not a command; Some(allowed) for the caller's user.
            let verdict = super::with_active(|srv, sc| match srv.commands.lookup(&argv) {
                crate::command::table::Lookup::Found(id) => Some(match sc.user {
                    None => true,
                    Some(u) => srv
                        .acl
                        .user(u)
                        .check_command(&srv.commands, id, &argv)
                        .is_ok(),
                }),
                _ => None,
            })
            .flatten();
            let Some(allowed) = verdict else {
                return Ok((
                    Value::Table(error_table(
                        lua,
                        "Invalid command passed to redis.acl_check_cmd()",
                    )?),
                    true,
                ));
            };
            Ok((Value::Boolean(allowed), false))
        })?,
    )?;
    t.set(
        "random",
        lua.create_function(
            |_, args: MultiValue| -> mlua::Result<(Value, Option<String>)> {
                if !super::is_active() {
                    return Ok((
                        Value::Nil,
                        Some("math.random can only be called inside a script invocation".into()),
                    ));
                }
                let r = super::with_active(|srv, _| {
                    super::lrand48_next(&mut srv.scripting.rand48) as f64
                })
                .unwrap_or(0.0);
                let r = (r % 2147483647.0) / 2147483647.0;
                let int_arg = |v: &Value| number_of(v).map(|n| n as i32);
                match args.len() {
                    0 => Ok((Value::Number(r), None)),
                    1 => {
                        let Some(u) = int_arg(&args[0]) else {
                            return Ok((
                                Value::Nil,
                                Some("bad argument #1 to 'random' (number expected)".into()),
                            ));
                        };
                        if u < 1 {
                            return Ok((
                                Value::Nil,
                                Some("bad argument #1 to 'random' (interval is empty)".into()),
                            ));
                        }
                        Ok((Value::Number((r * u as f64).floor() + 1.0), None))
                    }
                    2 => {
                        let (Some(l), Some(u)) = (int_arg(&args[0]), int_arg(&args[1])) else {
                            return Ok((
                                Value::Nil,
                                Some("bad argument to 'random' (number expected)".into()),
                            ));
                        };
                        if l > u {
                            return Ok((
                                Value::Nil,
                                Some("bad argument #2 to 'random' (interval is empty)".into()),
                            ));
                        }
                        Ok((
                            Value::Number((r * (u as f64 - l as f64 + 1.0)).floor() + l as f64),
                            None,
                        ))
                    }
                    _ => Ok((Value::Nil, Some("wrong number of arguments".into()))),
                }
            },
        )?,
    )?;
    t.set(
        "randomseed",
        lua.create_function(|_, args: MultiValue| -> mlua::Result<Option<String>> {
            if !super::is_active() {
                return Ok(Some(
                    "math.randomseed can only be called inside a script invocation".into(),
                ));
            }
            let Some(seed) = args.front().and_then(number_of) else {
                return Ok(Some(
                    "bad argument #1 to 'randomseed' (number expected)".into(),
                ));
            };
            super::with_active(|srv, _| srv.scripting.rand48 = super::lrand48_seed(seed as i32));
            Ok(None)
        })?,
    )?;
    t.set(
        "killed",
        lua.create_function(|_, ()| {
            Ok(
                super::with_active(|srv, _| srv.scripting.run.as_ref().is_some_and(|r| r.killed))
                    .unwrap_or(false),
            )
        })?,
    )?;
    t.set(
        "error_text",
        lua.create_function(|_, v: Value| -> mlua::Result<String> {
            Ok(match v {
                Value::Error(e) => error_message(&e),
                other => format!("{:?}", other),
            })
        })?,
    )?;
    t.set("version", crate::REDIS_VERSION)?;
    t.set("version_num", version_num())?;
    if kind == Kind::Functions {
        t.set(
            "register_function",
            lua.create_function(|lua, args: MultiValue| {
                super::function::lua_register_function(lua, args)
            })?,
        )?;
    }
    Ok(t)
}

/// REDIS_VERSION_NUM: 0x00MMmmpp.
fn version_num() -> i64 {
    let mut parts = crate::REDIS_VERSION
        .split('.')
        .map(|p| p.parse::<i64>().unwrap_or(0));
    let (a, b, c) = (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    );
    (a << 16) | (b << 8) | c
}

/// A Lua value as a number (numbers, and strings that are numbers, as lua_tonumber).
pub fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Number(n) => Some(*n),
        Value::String(s) => s.to_string_lossy().trim().parse::<f64>().ok(),
        _ => None,
    }
}

/// The message of an error raised from Rust (a hook's kill) or caught by mlua, without
/// mlua's wrapping: the "stack traceback:" mlua appends to errors it catches is cut, so a
/// reply carries the text Redis gives.
pub fn error_message(e: &mlua::Error) -> String {
    let msg = match e {
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::CallbackError { cause, .. } => return error_message(cause),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    strip_traceback(msg)
}

/// `msg` without a trailing "\nstack traceback:..." section.
pub fn strip_traceback(mut msg: String) -> String {
    if let Some(i) = msg.find("\nstack traceback:") {
        msg.truncate(i);
    }
    msg
}

// ---- RESP reply → Lua (redisProtocolToLuaType) ----

fn line(buf: &[u8], pos: &mut usize) -> Vec<u8> {
    let end = memchr::memmem::find(&buf[*pos..], b"\r\n").map_or(buf.len(), |i| *pos + i);
    let l = buf[*pos..end].to_vec();
    *pos = (end + 2).min(buf.len());
    l
}

fn int_of(b: &[u8]) -> i64 {
    crate::util::numbers::string2ll(b).unwrap_or(0)
}

/// Convert the RESP reply at `buf[*pos..]` into a Lua value.
pub fn resp_to_lua(lua: &Lua, buf: &[u8], pos: &mut usize) -> mlua::Result<Value> {
    if *pos >= buf.len() {
        return Ok(Value::Nil);
    }
    let t = buf[*pos];
    *pos += 1;
    Ok(match t {
        b'+' => {
            let s = line(buf, pos);
            let tbl = lua.create_table()?;
            tbl.raw_set("ok", lua.create_string(&s)?)?;
            Value::Table(tbl)
        }
        b'-' => {
            let s = line(buf, pos);
            let msg = format!("-{}", String::from_utf8_lossy(&s));
            let tbl = error_table(lua, &msg)?;
            tbl.raw_set("ignore_error_stats_update", true)?;
            Value::Table(tbl)
        }
        b':' => Value::Number(int_of(&line(buf, pos)) as f64),
        b'$' => {
            let n = int_of(&line(buf, pos));
            if n < 0 {
                Value::Boolean(false)
            } else {
                let n = n as usize;
                let end = (*pos + n).min(buf.len());
                let s = lua.create_string(&buf[*pos..end])?;
                *pos = (end + 2).min(buf.len());
                Value::String(s)
            }
        }
        b'*' => {
            let n = int_of(&line(buf, pos));
            if n < 0 {
                Value::Boolean(false)
            } else {
                let tbl = lua.create_table()?;
                for j in 0..n {
                    let v = resp_to_lua(lua, buf, pos)?;
                    tbl.raw_set(j + 1, v)?;
                }
                Value::Table(tbl)
            }
        }
        b'%' => {
            let n = int_of(&line(buf, pos));
            let inner = lua.create_table()?;
            for _ in 0..n {
                let k = resp_to_lua(lua, buf, pos)?;
                let v = resp_to_lua(lua, buf, pos)?;
                if !k.is_nil() {
                    inner.raw_set(k, v)?;
                }
            }
            let tbl = lua.create_table()?;
            tbl.raw_set("map", inner)?;
            Value::Table(tbl)
        }
        b'~' => {
            let n = int_of(&line(buf, pos));
            let inner = lua.create_table()?;
            for _ in 0..n {
                let k = resp_to_lua(lua, buf, pos)?;
                if !k.is_nil() {
                    inner.raw_set(k, true)?;
                }
            }
            let tbl = lua.create_table()?;
            tbl.raw_set("set", inner)?;
            Value::Table(tbl)
        }
        b'_' => {
            line(buf, pos);
            Value::Nil
        }
        b'#' => Value::Boolean(line(buf, pos).first() == Some(&b't')),
        b',' => {
            let s = line(buf, pos);
            let d = crate::util::numbers::strtod(&s).value;
            let tbl = lua.create_table()?;
            tbl.raw_set("double", d)?;
            Value::Table(tbl)
        }
        b'(' => {
            let s = line(buf, pos);
            let tbl = lua.create_table()?;
            tbl.raw_set("big_number", lua.create_string(&s)?)?;
            Value::Table(tbl)
        }
        b'=' => {
            let n = int_of(&line(buf, pos)).max(0) as usize;
            let end = (*pos + n).min(buf.len());
            let body = &buf[*pos..end];
            *pos = (end + 2).min(buf.len());
            let (format, text) = if body.len() >= 4 {
                (&body[..3], &body[4..])
            } else {
                (&b"txt"[..], body)
            };
            let inner = lua.create_table()?;
            inner.raw_set("string", lua.create_string(text)?)?;
            inner.raw_set("format", lua.create_string(format)?)?;
            let tbl = lua.create_table()?;
            tbl.raw_set("verbatim_string", inner)?;
            Value::Table(tbl)
        }
        b'|' => {
            // Attributes are skipped; the value follows.
            let n = int_of(&line(buf, pos));
            for _ in 0..n * 2 {
                resp_to_lua(lua, buf, pos)?;
            }
            resp_to_lua(lua, buf, pos)?
        }
        b'>' => {
            let n = int_of(&line(buf, pos));
            let tbl = lua.create_table()?;
            for j in 0..n {
                let v = resp_to_lua(lua, buf, pos)?;
                tbl.raw_set(j + 1, v)?;
            }
            Value::Table(tbl)
        }
        _ => Value::Nil,
    })
}

// ---- Lua → RESP reply (luaReplyToRedisReply) ----

/// What converting a script's result produced besides the reply: an error reply that
/// must not be counted again in the error stats.
#[derive(Debug, Default)]
pub struct ReplyOutcome {
    /// Error replies written (with whether they are already counted).
    pub errors: Vec<(String, bool)>,
}

/// Write `v` as the reply to a client speaking `out.resp`, `script_resp` being the RESP
/// version the script chose (it decides how booleans map).
pub fn lua_to_reply(
    v: &Value,
    out: &mut ReplyBuf,
    script_resp: u8,
    depth: usize,
    o: &mut ReplyOutcome,
) {
    if depth > 1000 {
        let e = "ERR reached lua stack limit";
        out.error_line(e.as_bytes());
        o.errors.push((e.to_string(), false));
        return;
    }
    match v {
        Value::String(s) => out.bulk(&s.as_bytes()),
        Value::Boolean(b) => {
            if script_resp == 2 {
                if *b {
                    out.int(1);
                } else {
                    out.null();
                }
            } else {
                out.bool(*b);
            }
        }
        Value::Integer(i) => out.int(*i),
        Value::Number(n) => out.int(lua_number_to_i64(*n)),
        Value::Table(t) => table_to_reply(t, out, script_resp, depth, o),
        _ => out.null(),
    }
}

/// `(long long)` of a Lua number, as C converts it on x86-64.
fn lua_number_to_i64(n: f64) -> i64 {
    super::libs::c_f64_to_i64(n)
}

fn table_to_reply(
    t: &Table,
    out: &mut ReplyBuf,
    script_resp: u8,
    depth: usize,
    o: &mut ReplyOutcome,
) {
    if let Ok(Value::String(e)) = t.raw_get::<Value>("err") {
        let msg = e.to_string_lossy();
        let ignore = matches!(
            t.raw_get::<Value>("ignore_error_stats_update"),
            Ok(Value::Boolean(true))
        );
        let msg = msg.strip_prefix('-').unwrap_or(&msg).to_string();
        out.error_line(msg.as_bytes());
        o.errors.push((msg, ignore));
        return;
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("ok") {
        let text: Vec<u8> = s
            .as_bytes()
            .iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect();
        out.simple(&text);
        return;
    }
    if let Ok(v) = t.raw_get::<Value>("double") {
        if let Some(d) = match v {
            Value::Number(n) => Some(n),
            Value::Integer(i) => Some(i as f64),
            _ => None,
        } {
            out.double(d);
            return;
        }
    }
    if let Ok(Value::String(s)) = t.raw_get::<Value>("big_number") {
        let text: Vec<u8> = s
            .as_bytes()
            .iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c })
            .collect();
        out.big_number(&text);
        return;
    }
    if let Ok(Value::Table(vt)) = t.raw_get::<Value>("verbatim_string") {
        if let (Ok(Value::String(fmt)), Ok(Value::String(s))) =
            (vt.raw_get::<Value>("format"), vt.raw_get::<Value>("string"))
        {
            out.verbatim(&s.as_bytes(), &fmt.to_string_lossy());
            return;
        }
    }
    if let Ok(Value::Table(m)) = t.raw_get::<Value>("map") {
        let d = out.defer();
        let mut n = 0;
        for (k, v) in m.pairs::<Value, Value>().flatten() {
            lua_to_reply(&k, out, script_resp, depth + 1, o);
            lua_to_reply(&v, out, script_resp, depth + 1, o);
            n += 1;
        }
        out.set_deferred(d, Aggregate::Map, n);
        return;
    }
    if let Ok(Value::Table(s)) = t.raw_get::<Value>("set") {
        let d = out.defer();
        let mut n = 0;
        for (k, _) in s.pairs::<Value, Value>().flatten() {
            lua_to_reply(&k, out, script_resp, depth + 1, o);
            n += 1;
        }
        out.set_deferred(d, Aggregate::Set, n);
        return;
    }
    let d = out.defer();
    let mut n = 0;
    loop {
        let v: Value = t.raw_get(n + 1).unwrap_or(Value::Nil);
        if v.is_nil() {
            break;
        }
        lua_to_reply(&v, out, script_resp, depth + 1, o);
        n += 1;
    }
    out.set_deferred(d, Aggregate::Array, n as usize);
}

/// Write a script's failure as the caller's error reply (luaCallFunction's error path):
/// an error table gets ` script: <name>, on <source>:<line>.` appended when it carries a
/// position. Returns the text and whether it was already counted in the error stats.
pub fn failure_text(err: &Value, funcname: &str) -> (String, bool) {
    match err {
        Value::Table(t) => {
            let msg: String = match t.raw_get::<Value>("err") {
                Ok(Value::String(s)) => s.to_string_lossy(),
                _ => "ERR unknown error".to_string(),
            };
            let source = match t.raw_get::<Value>("source") {
                Ok(Value::String(s)) => Some(s.to_string_lossy()),
                _ => None,
            };
            let line = match t.raw_get::<Value>("line") {
                Ok(Value::Integer(i)) => Some(i.to_string()),
                Ok(Value::Number(n)) => Some((n as i64).to_string()),
                Ok(Value::String(s)) => Some(s.to_string_lossy()),
                _ => None,
            };
            let ignore = matches!(
                t.raw_get::<Value>("ignore_error_stats_update"),
                Ok(Value::Boolean(true))
            );
            let mut text = msg.strip_prefix('-').unwrap_or(&msg).to_string();
            if let (Some(s), Some(l)) = (source, line) {
                let mut b = Vec::new();
                let _ = write!(b, " script: {}, on {}:{}.", funcname, s, l);
                text.push_str(&String::from_utf8_lossy(&b));
            }
            (text, ignore)
        }
        Value::String(s) => (
            format!(
                "ERR Error running script {}, {:.100}",
                funcname,
                s.to_string_lossy()
            ),
            false,
        ),
        _ => (
            format!("ERR Error running script {}, execution failure", funcname),
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_protects_globals_and_libraries() {
        let e = new_engine(Kind::Eval, false).unwrap();
        let run = |code: &str| -> (bool, Value) {
            let f = e
                .lua
                .load(code)
                .set_name("@user_script")
                .set_environment(e.env.clone())
                .into_function()
                .unwrap();
            e.run.call::<(bool, Value)>(f).unwrap()
        };
        let (ok, err) = run("return a");
        assert!(!ok);
        let (text, _) = failure_text(&err, "f_x");
        assert!(
            text.contains("Script attempted to access nonexistent global variable 'a'"),
            "{text}"
        );
        assert!(text.ends_with("script: f_x, on @user_script:1."), "{text}");
        for code in [
            "a = 10",
            "setmetatable(_G, {})",
            "local g = getmetatable(_G) g.__index = {}",
            "redis = function() return 1 end",
            "_G = {}",
            "redis.call = function() return 1 end",
            "string.upper = nil",
            "getmetatable('').__index = function() return 1 end",
        ] {
            let (ok, err) = run(code);
            assert!(!ok, "{code}");
            let (text, _) = failure_text(&err, "f");
            assert!(
                text.contains("Attempt to modify a readonly table"),
                "{code}: {text}"
            );
        }
        for name in [
            "loadfile", "dofile", "print", "setfenv", "getfenv", "newproxy",
        ] {
            let (ok, err) = run(&format!("return {name}"));
            assert!(!ok);
            let (text, _) = failure_text(&err, "f");
            assert!(text.contains(&format!("variable '{name}'")), "{text}");
        }
        let (ok, v) = run("return string.upper('abc') .. tostring(#{1,2,3})");
        assert!(ok);
        assert_eq!(arg_bytes(&v).unwrap(), b"ABC3");
    }

    #[test]
    fn resp_and_lua_convert_both_ways() {
        let lua = Lua::new();
        let buf = b"*3\r\n:1\r\n$3\r\nabc\r\n*-1\r\n";
        let mut pos = 0;
        let v = resp_to_lua(&lua, buf, &mut pos).unwrap();
        assert_eq!(pos, buf.len());
        let mut out = ReplyBuf::default();
        let mut o = ReplyOutcome::default();
        lua_to_reply(&v, &mut out, 2, 0, &mut o);
        // false (a null array) becomes a null bulk: the array stops at nothing, it is kept.
        assert_eq!(&out.buf[..], b"*3\r\n:1\r\n$3\r\nabc\r\n$-1\r\n");
        let mut pos = 0;
        let v = resp_to_lua(&lua, b"-WRONGTYPE bad\r\n", &mut pos).unwrap();
        let Value::Table(t) = v else { panic!() };
        assert_eq!(t.raw_get::<String>("err").unwrap(), "WRONGTYPE bad");
    }

    #[test]
    fn error_tables_take_the_code() {
        let lua = Lua::new();
        let t = error_table(&lua, "-NOSCRIPT no\r\n").unwrap();
        assert_eq!(t.raw_get::<String>("err").unwrap(), "NOSCRIPT no");
        let t = error_table(&lua, "plain").unwrap();
        assert_eq!(t.raw_get::<String>("err").unwrap(), "ERR plain");
    }
}
