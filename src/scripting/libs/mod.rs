//! The Lua libraries Redis bundles with its Lua (cjson, cmsgpack, struct, bit), written
//! against the raw Lua 5.1 C API so that they behave exactly like the C originals in
//! Redis's `deps/lua/src` (argument errors from `luaL_check*`, error positions from
//! `luaL_where`, `lua_Number` conversions, raw table traversal).
//!
//! Error discipline: a Lua error is a `longjmp` over the Rust frames between the raising
//! call and the enclosing `lua_pcall`. Every function here is therefore written so that
//! the frames a Lua error can cross hold no value with a destructor: either the function
//! only uses Lua-owned memory (the `struct` and `bit` libraries, cmsgpack's buffer lives
//! in a userdata with a `__gc`), or its Rust state is dropped before [`raise`] is called
//! (cjson returns `Result` up to the C entry point).

use std::ffi::{c_char, c_int, CStr};

use mlua::ffi::{self, lua_State};

pub mod bit;
pub mod cjson;
pub mod cmsgpack;
pub mod structlib;

/// Register every bundled library as a global table of `lua` (luaLoadLibraries).
pub fn register_all(lua: &mlua::Lua) -> mlua::Result<()> {
    for open in [
        cjson::open as ffi::lua_CFunction,
        structlib::open,
        cmsgpack::open,
        bit::open,
    ] {
        // SAFETY: the open functions only use the Lua C API on the state they are given.
        let f = unsafe { lua.create_c_function(open)? };
        f.call::<()>(())?;
    }
    Ok(())
}

/// Raise `msg` as `luaL_error` does: prefixed with the position of the calling Lua code
/// ("user_script:1: "), or nothing when the caller is a C function such as `pcall`.
///
/// # Safety
/// `l` must be a valid state inside a protected call; the caller's frames must hold no
/// values with destructors (the message itself is dropped before the jump).
pub(crate) unsafe fn raise(l: *mut lua_State, msg: String) -> ! {
    ffi::lua_pushlstring(l, msg.as_ptr().cast(), msg.len());
    drop(msg);
    ffi::luaL_where(l, 1);
    ffi::lua_insert(l, -2);
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

/// A table of `(name, function)` pairs set into the table at the top of the stack.
///
/// # Safety
/// A table must be at the top of the stack of `l`.
pub(crate) unsafe fn set_funcs(l: *mut lua_State, funcs: &[(&CStr, ffi::lua_CFunction)]) {
    for (name, f) in funcs {
        ffi::lua_pushcfunction(l, *f);
        ffi::lua_setfield(l, -2, name.as_ptr());
    }
}

/// The type name of the value at `idx` (lua_typename(lua_type(idx))).
///
/// # Safety
/// `l` must be a valid state.
pub(crate) unsafe fn type_name(l: *mut lua_State, idx: c_int) -> String {
    let p = ffi::lua_typename(l, ffi::lua_type(l, idx));
    CStr::from_ptr(p).to_string_lossy().into_owned()
}

/// The bytes of the string at `idx` (converting a number in place, as lua_tolstring), or
/// None for other types.
///
/// # Safety
/// The returned slice borrows the Lua string: it is valid while the value stays on the
/// stack.
pub(crate) unsafe fn to_bytes<'a>(l: *mut lua_State, idx: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        None
    } else {
        Some(std::slice::from_raw_parts(p.cast::<u8>(), len))
    }
}

/// 2^63.
const TWO63: f64 = 9_223_372_036_854_775_808.0;

/// C's `(int64_t)d` as x86-64 computes it (cvttsd2si): out of range and NaN give
/// `i64::MIN` where Rust's `as` would saturate.
pub(crate) fn c_f64_to_i64(d: f64) -> i64 {
    if (-TWO63..TWO63).contains(&d) {
        d as i64
    } else {
        i64::MIN
    }
}

/// C's `(int)d` on x86-64: out of range and NaN give `i32::MIN`.
pub(crate) fn c_f64_to_i32(d: f64) -> i32 {
    if d > -2_147_483_649.0 && d < 2_147_483_648.0 {
        d as i32
    } else {
        i32::MIN
    }
}

/// C's `(uint64_t)d` as gcc compiles it on x86-64 (two cvttsd2si paths around 2^63).
pub(crate) fn c_f64_to_u64(d: f64) -> u64 {
    if d >= TWO63 {
        (c_f64_to_i64(d - TWO63) as u64) ^ (1 << 63)
    } else {
        c_f64_to_i64(d) as u64
    }
}

/// A `Vec<u8>` owned by a Lua userdata (freed by its `__gc`), so that a Lua error raised
/// while it is being filled leaks nothing. Pushes the userdata and returns the vector.
///
/// # Safety
/// The pointer is valid while the userdata is reachable (keep it on the stack).
pub(crate) unsafe fn push_buffer(l: *mut lua_State) -> *mut Vec<u8> {
    unsafe extern "C-unwind" fn gc(l: *mut lua_State) -> c_int {
        let p = ffi::lua_touserdata(l, 1).cast::<Vec<u8>>();
        if !p.is_null() {
            // SAFETY: the userdata was initialised with a Vec by push_buffer and __gc runs
            // once.
            std::ptr::drop_in_place(p);
        }
        0
    }
    let p = ffi::lua_newuserdata(l, std::mem::size_of::<Vec<u8>>()).cast::<Vec<u8>>();
    std::ptr::write(p, Vec::new());
    if ffi::luaL_newmetatable_(l, c"redust.buffer".as_ptr()) != 0 {
        ffi::lua_pushcfunction(l, gc);
        ffi::lua_setfield(l, -2, c"__gc".as_ptr());
    }
    ffi::lua_setmetatable(l, -2);
    p
}

/// `snprintf(buf, 32, "%.<precision>g", num)`: the C library's formatting, which Lua's
/// own `tostring` also uses.
pub(crate) fn fmt_g(num: f64, precision: i32, out: &mut Vec<u8>) {
    let fmt = format!("%.{}g\0", precision);
    let mut buf = [0u8; 32];
    // SAFETY: buf has the size we pass; fmt is NUL-terminated and takes one double.
    let n = unsafe {
        libc::snprintf(
            buf.as_mut_ptr().cast::<c_char>(),
            buf.len(),
            fmt.as_ptr().cast::<c_char>(),
            num,
        )
    };
    let n = (n.max(0) as usize).min(buf.len() - 1);
    out.extend_from_slice(&buf[..n]);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A state with the libraries loaded, for the per-library tests.
    pub fn state() -> mlua::Lua {
        let lua = mlua::Lua::new();
        register_all(&lua).unwrap();
        lua
    }

    /// Evaluate `code` and return its result as a string (via tostring for non-strings),
    /// or the error message.
    pub fn eval(lua: &mlua::Lua, code: &str) -> String {
        match lua.load(code).eval::<mlua::Value>() {
            Ok(mlua::Value::String(s)) => String::from_utf8_lossy(&s.as_bytes()).into_owned(),
            Ok(v) => {
                let tostring: mlua::Function = lua.globals().get("tostring").unwrap();
                tostring.call::<String>(v).unwrap()
            }
            Err(e) => format!("ERR {}", crate::scripting::lua::error_message(&e)),
        }
    }

    #[test]
    fn c_conversions() {
        assert_eq!(c_f64_to_i64(2f64.powi(63)), i64::MIN);
        assert_eq!(c_f64_to_i64(-1.5), -1);
        assert_eq!(c_f64_to_i64(f64::NAN), i64::MIN);
        assert_eq!(c_f64_to_i32(3e9), i32::MIN);
        assert_eq!(c_f64_to_i32(-7.9), -7);
        assert_eq!(c_f64_to_u64(-1.0), u64::MAX);
        assert_eq!(c_f64_to_u64(2f64.powi(63)), 1 << 63);
        assert_eq!(c_f64_to_u64(2f64.powi(64)), 0);
        let mut v = Vec::new();
        fmt_g(0.1, 14, &mut v);
        fmt_g(1e100, 14, &mut v);
        assert_eq!(v, b"0.11e+100");
    }
}
