//! lua-cmsgpack 0.4.0 as Redis ships it (`lua_cmsgpack.c`): `cmsgpack.pack(...)` (each
//! argument encoded and the results concatenated), `cmsgpack.unpack(s)` (every object in
//! the stream), `unpack_one(s [, offset])` and `unpack_limit(s, limit [, offset])` (the
//! next offset first, -1 at the end).
//!
//! Encoding rules: numbers that are exact int64 values are integers in the smallest
//! format; other numbers are floats when a `float` holds them exactly, else doubles;
//! a table whose keys are exactly 1..n is an array (read with `lua_gettable`, so
//! `__index` applies), any other table a map; tables nested 16 deep encode as nil
//! (survives circular references); functions and userdata encode as nil.
//!
//! The encode buffer is a userdata (see [`super::push_buffer`]) and decoding keeps its
//! state in a borrowed cursor, so the `luaL_*` calls may raise directly as in the C code.

use std::ffi::{c_char, c_int};

use mlua::ffi::{self, lua_State};

/// Max tables nesting.
const MAX_NESTING: c_int = 16;

// ---- Low-level encoding ----

fn encode_bytes(buf: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 32 {
        buf.push(0xa0 | len as u8);
    } else if len <= 0xff {
        buf.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        buf.push(0xda);
        buf.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        buf.push(0xdb);
        buf.extend_from_slice(&(len as u32).to_be_bytes());
    }
    buf.extend_from_slice(s);
}

fn encode_double(buf: &mut Vec<u8>, d: f64) {
    let f = d as f32;
    if d == f as f64 {
        buf.push(0xca);
        buf.extend_from_slice(&f.to_be_bytes());
    } else {
        buf.push(0xcb);
        buf.extend_from_slice(&d.to_be_bytes());
    }
}

fn encode_int(buf: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n <= 127 {
            buf.push(n as u8);
        } else if n <= 0xff {
            buf.extend_from_slice(&[0xcc, n as u8]);
        } else if n <= 0xffff {
            buf.push(0xcd);
            buf.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n <= 0xffff_ffff {
            buf.push(0xce);
            buf.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            buf.push(0xcf);
            buf.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        buf.push(n as i8 as u8);
    } else if n >= -128 {
        buf.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -32768 {
        buf.push(0xd1);
        buf.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -2_147_483_648 {
        buf.push(0xd2);
        buf.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        buf.push(0xd3);
        buf.extend_from_slice(&n.to_be_bytes());
    }
}

fn encode_container(buf: &mut Vec<u8>, n: u64, fix: u8, b16: u8, b32: u8) {
    if n <= 15 {
        buf.push(fix | (n & 0xf) as u8);
    } else if n <= 65535 {
        buf.push(b16);
        buf.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        buf.push(b32);
        buf.extend_from_slice(&(n as u32).to_be_bytes());
    }
}

/// Encode a Lua number: int64-equivalent values as integers, others as float/double.
fn encode_number(buf: &mut Vec<u8>, n: f64) {
    if !n.is_infinite() && super::c_f64_to_i64(n) as f64 == n {
        encode_int(buf, super::c_f64_to_i64(n));
    } else {
        encode_double(buf, n);
    }
}

// ---- Lua types encoding ----

/// Whether the table at the top has exactly the keys 1..n (table_is_an_array).
unsafe fn table_is_an_array(l: *mut lua_State) -> bool {
    let mut count: c_int = 0;
    let mut max: c_int = 0;
    let top = ffi::lua_gettop(l);
    ffi::luaL_checkstack_(l, 2, c"in function table_is_an_array".as_ptr());
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        let ok = ffi::lua_type(l, -1) == ffi::LUA_TNUMBER && {
            let n = ffi::lua_tonumber(l, -1);
            n > 0.0 && !n.is_infinite() && super::c_f64_to_i32(n) as f64 == n
        };
        if !ok {
            ffi::lua_settop(l, top);
            return false;
        }
        let n = ffi::lua_tonumber(l, -1);
        if n > max as f64 {
            max = n as c_int;
        }
        count = count.wrapping_add(1);
    }
    ffi::lua_settop(l, top);
    max == count
}

unsafe fn encode_table_as_array(l: *mut lua_State, buf: &mut Vec<u8>, level: c_int) {
    let len = ffi::lua_objlen(l, -1);
    encode_container(buf, len as u64, 0x90, 0xdc, 0xdd);
    ffi::luaL_checkstack_(l, 1, c"in function mp_encode_lua_table_as_array".as_ptr());
    for j in 1..=len {
        ffi::lua_pushnumber(l, j as f64);
        ffi::lua_gettable(l, -2);
        encode_lua_type(l, buf, level + 1);
    }
}

unsafe fn encode_table_as_map(l: *mut lua_State, buf: &mut Vec<u8>, level: c_int) {
    let mut len: u64 = 0;
    ffi::luaL_checkstack_(l, 3, c"in function mp_encode_lua_table_as_map".as_ptr());
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pop(l, 1);
        len += 1;
    }
    encode_container(buf, len, 0x80, 0xde, 0xdf);
    ffi::lua_pushnil(l);
    while ffi::lua_next(l, -2) != 0 {
        ffi::lua_pushvalue(l, -2);
        encode_lua_type(l, buf, level + 1); // key
        encode_lua_type(l, buf, level + 1); // value
    }
}

/// Encode the value at the top of the stack and pop it (mp_encode_lua_type).
unsafe fn encode_lua_type(l: *mut lua_State, buf: &mut Vec<u8>, level: c_int) {
    let mut t = ffi::lua_type(l, -1);
    if t == ffi::LUA_TTABLE && level == MAX_NESTING {
        t = ffi::LUA_TNIL;
    }
    match t {
        ffi::LUA_TSTRING => encode_bytes(buf, super::to_bytes(l, -1).unwrap_or(&[])),
        ffi::LUA_TBOOLEAN => buf.push(if ffi::lua_toboolean(l, -1) != 0 {
            0xc3
        } else {
            0xc2
        }),
        ffi::LUA_TNUMBER => encode_number(buf, ffi::lua_tonumber(l, -1)),
        ffi::LUA_TTABLE => {
            if table_is_an_array(l) {
                encode_table_as_array(l, buf, level);
            } else {
                encode_table_as_map(l, buf, level);
            }
        }
        _ => buf.push(0xc0),
    }
    ffi::lua_pop(l, 1);
}

unsafe extern "C-unwind" fn mp_pack(l: *mut lua_State) -> c_int {
    let nargs = ffi::lua_gettop(l);
    if nargs == 0 {
        return ffi::luaL_argerror(l, 0, c"MessagePack pack needs input.".as_ptr());
    }
    if ffi::lua_checkstack(l, nargs) == 0 {
        return ffi::luaL_argerror(l, 0, c"Too many arguments for MessagePack pack.".as_ptr());
    }
    // The buffer goes below the arguments, which move to 2..=nargs+1.
    let buf = &mut *super::push_buffer(l);
    ffi::lua_insert(l, 1);
    for i in 2..=nargs + 1 {
        ffi::luaL_checkstack_(l, 1, c"in function mp_check".as_ptr());
        ffi::lua_pushvalue(l, i);
        encode_lua_type(l, buf, 0);
        ffi::lua_pushlstring(l, buf.as_ptr().cast::<c_char>(), buf.len());
        buf.clear();
    }
    ffi::lua_concat(l, nargs);
    1
}

// ---- Decoding ----

/// The string cursor; `err` is 0, EOF or BADFMT.
struct Cur<'a> {
    p: &'a [u8],
    err: u8,
}

const ERR_EOF: u8 = 1;
const ERR_BADFMT: u8 = 2;

impl Cur<'_> {
    /// Whether `n` bytes remain (mp_cur_need); sets EOF otherwise.
    fn need(&mut self, n: usize) -> bool {
        if self.p.len() < n {
            self.err = ERR_EOF;
            false
        } else {
            true
        }
    }
    fn consume(&mut self, n: usize) {
        self.p = &self.p[n..];
    }
    fn be(&self, from: usize, n: usize) -> u64 {
        self.p[from..from + n]
            .iter()
            .fold(0u64, |v, &b| (v << 8) | b as u64)
    }
}

/// lua_pushunsigned on 64-bit builds is lua_pushinteger: values above 2^63 wrap.
unsafe fn push_unsigned(l: *mut lua_State, v: u64) {
    ffi::lua_pushinteger(l, v as i64 as ffi::lua_Integer);
}

unsafe fn decode_array(l: *mut lua_State, c: &mut Cur, len: usize) {
    let mut index: f64 = 1.0;
    ffi::lua_newtable(l);
    ffi::luaL_checkstack_(l, 1, c"in function mp_decode_to_lua_array".as_ptr());
    for _ in 0..len {
        ffi::lua_pushnumber(l, index);
        index += 1.0;
        decode_to_lua_type(l, c);
        if c.err != 0 {
            return;
        }
        ffi::lua_settable(l, -3);
    }
}

unsafe fn decode_hash(l: *mut lua_State, c: &mut Cur, len: usize) {
    ffi::lua_newtable(l);
    for _ in 0..len {
        decode_to_lua_type(l, c);
        if c.err != 0 {
            return;
        }
        decode_to_lua_type(l, c);
        if c.err != 0 {
            return;
        }
        ffi::lua_settable(l, -3);
    }
}

unsafe fn push_str(l: *mut lua_State, c: &mut Cur, hdr: usize, len: usize) {
    if !c.need(hdr + len) {
        return;
    }
    ffi::lua_pushlstring(l, c.p[hdr..].as_ptr().cast::<c_char>(), len);
    c.consume(hdr + len);
}

/// Decode one object at the cursor and push it (mp_decode_to_lua_type).
unsafe fn decode_to_lua_type(l: *mut lua_State, c: &mut Cur) {
    if !c.need(1) {
        return;
    }
    ffi::luaL_checkstack_(
        l,
        1,
        c"too many return values at once; use unpack_one or unpack_limit instead.".as_ptr(),
    );
    let b = c.p[0];
    match b {
        0xcc | 0xd0 => {
            if !c.need(2) {
                return;
            }
            if b == 0xcc {
                push_unsigned(l, c.p[1] as u64);
            } else {
                ffi::lua_pushinteger(l, c.p[1] as i8 as ffi::lua_Integer);
            }
            c.consume(2);
        }
        0xcd | 0xd1 => {
            if !c.need(3) {
                return;
            }
            let v = c.be(1, 2);
            if b == 0xcd {
                push_unsigned(l, v);
            } else {
                ffi::lua_pushinteger(l, v as u16 as i16 as ffi::lua_Integer);
            }
            c.consume(3);
        }
        0xce | 0xd2 => {
            if !c.need(5) {
                return;
            }
            let v = c.be(1, 4);
            if b == 0xce {
                push_unsigned(l, v);
            } else {
                ffi::lua_pushinteger(l, v as u32 as i32 as ffi::lua_Integer);
            }
            c.consume(5);
        }
        0xcf | 0xd3 => {
            if !c.need(9) {
                return;
            }
            let v = c.be(1, 8);
            if b == 0xcf {
                push_unsigned(l, v);
            } else {
                ffi::lua_pushnumber(l, v as i64 as f64);
            }
            c.consume(9);
        }
        0xc0 => {
            ffi::lua_pushnil(l);
            c.consume(1);
        }
        0xc3 | 0xc2 => {
            ffi::lua_pushboolean(l, (b == 0xc3) as c_int);
            c.consume(1);
        }
        0xca => {
            if !c.need(5) {
                return;
            }
            let f = f32::from_bits(c.be(1, 4) as u32);
            ffi::lua_pushnumber(l, f as f64);
            c.consume(5);
        }
        0xcb => {
            if !c.need(9) {
                return;
            }
            ffi::lua_pushnumber(l, f64::from_bits(c.be(1, 8)));
            c.consume(9);
        }
        0xd9 => {
            if !c.need(2) {
                return;
            }
            let len = c.p[1] as usize;
            push_str(l, c, 2, len);
        }
        0xda => {
            if !c.need(3) {
                return;
            }
            let len = c.be(1, 2) as usize;
            push_str(l, c, 3, len);
        }
        0xdb => {
            if !c.need(5) {
                return;
            }
            let len = c.be(1, 4) as usize;
            c.consume(5);
            push_str(l, c, 0, len);
        }
        0xdc | 0xde => {
            if !c.need(3) {
                return;
            }
            let len = c.be(1, 2) as usize;
            c.consume(3);
            if b == 0xdc {
                decode_array(l, c, len);
            } else {
                decode_hash(l, c, len);
            }
        }
        0xdd | 0xdf => {
            if !c.need(5) {
                return;
            }
            let len = c.be(1, 4) as usize;
            c.consume(5);
            if b == 0xdd {
                decode_array(l, c, len);
            } else {
                decode_hash(l, c, len);
            }
        }
        _ => {
            if b & 0x80 == 0 {
                push_unsigned(l, b as u64);
                c.consume(1);
            } else if b & 0xe0 == 0xe0 {
                ffi::lua_pushinteger(l, b as i8 as ffi::lua_Integer);
                c.consume(1);
            } else if b & 0xe0 == 0xa0 {
                push_str(l, c, 1, (b & 0x1f) as usize);
            } else if b & 0xf0 == 0x90 {
                c.consume(1);
                decode_array(l, c, (b & 0xf) as usize);
            } else if b & 0xf0 == 0x80 {
                c.consume(1);
                decode_hash(l, c, (b & 0xf) as usize);
            } else {
                c.err = ERR_BADFMT;
            }
        }
    }
}

unsafe fn unpack_full(
    l: *mut lua_State,
    limit: ffi::lua_Integer,
    offset: ffi::lua_Integer,
) -> c_int {
    let mut len = 0usize;
    let s = ffi::luaL_checklstring(l, 1, &mut len).cast::<u8>();
    let decode_all = limit == 0 && offset == 0;
    if offset < 0 || limit < 0 {
        // The C code prints the input length where the limit belongs.
        return ffi::luaL_error(
            l,
            c"Invalid request to unpack with offset of %d and limit of %d.".as_ptr(),
            offset as c_int,
            len as c_int,
        );
    } else if offset as u64 > len as u64 {
        return ffi::luaL_error(
            l,
            c"Start offset %d greater than input length %d.".as_ptr(),
            offset as c_int,
            len as c_int,
        );
    }
    let limit = if decode_all {
        c_int::MAX as ffi::lua_Integer
    } else {
        limit
    };
    let data = std::slice::from_raw_parts(s, len);
    let mut c = Cur {
        p: &data[offset as usize..],
        err: 0,
    };
    let mut cnt: c_int = 0;
    while !c.p.is_empty() && (cnt as ffi::lua_Integer) < limit {
        decode_to_lua_type(l, &mut c);
        if c.err == ERR_EOF {
            return ffi::luaL_error(l, c"Missing bytes in input.".as_ptr());
        } else if c.err == ERR_BADFMT {
            return ffi::luaL_error(l, c"Bad data format in input.".as_ptr());
        }
        cnt += 1;
    }
    if !decode_all {
        let new_offset = len - c.p.len();
        ffi::luaL_checkstack_(l, 1, c"in function mp_unpack_full".as_ptr());
        ffi::lua_pushinteger(
            l,
            if c.p.is_empty() {
                -1
            } else {
                new_offset as ffi::lua_Integer
            },
        );
        ffi::lua_insert(l, 2);
        cnt += 1;
    }
    cnt
}

unsafe extern "C-unwind" fn mp_unpack(l: *mut lua_State) -> c_int {
    unpack_full(l, 0, 0)
}

unsafe extern "C-unwind" fn mp_unpack_one(l: *mut lua_State) -> c_int {
    let offset = ffi::luaL_optinteger(l, 2, 0);
    ffi::lua_pop(l, ffi::lua_gettop(l) - 1);
    unpack_full(l, 1, offset)
}

unsafe extern "C-unwind" fn mp_unpack_limit(l: *mut lua_State) -> c_int {
    let limit = ffi::luaL_checkinteger(l, 2);
    let offset = ffi::luaL_optinteger(l, 3, 0);
    ffi::lua_pop(l, ffi::lua_gettop(l) - 1);
    unpack_full(l, limit, offset)
}

/// luaopen_cmsgpack: the global `cmsgpack` table.
///
/// # Safety
/// Called by Lua (through [`super::register_all`]) with a valid state.
pub unsafe extern "C-unwind" fn open(l: *mut lua_State) -> c_int {
    ffi::lua_newtable(l);
    super::set_funcs(
        l,
        &[
            (c"pack", mp_pack),
            (c"unpack", mp_unpack),
            (c"unpack_one", mp_unpack_one),
            (c"unpack_limit", mp_unpack_limit),
        ],
    );
    for (k, v) in [
        (c"_NAME", c"cmsgpack"),
        (c"_VERSION", c"lua-cmsgpack 0.4.0"),
        (c"_COPYRIGHT", c"Copyright (C) 2012, Salvatore Sanfilippo"),
        (c"_DESCRIPTION", c"MessagePack C implementation for Lua"),
    ] {
        ffi::lua_pushstring(l, v.as_ptr());
        ffi::lua_setfield(l, -2, k.as_ptr());
    }
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setglobal(l, c"cmsgpack".as_ptr());
    1
}

#[cfg(test)]
mod tests {
    use super::super::tests::{eval, state};
    use super::*;

    fn enc(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        v.iter().map(|b| format!("{:02x}", b)).collect()
    }

    #[test]
    fn layouts() {
        assert_eq!(enc(|b| encode_number(b, 0.1)), "cb3fb999999999999a");
        assert_eq!(enc(|b| encode_number(b, 0.5)), "ca3f000000");
        assert_eq!(
            enc(|b| encode_number(b, -1099511627776.0)),
            "d3ffffff0000000000"
        );
        assert_eq!(enc(|b| encode_number(b, 1.0)), "01");
        assert_eq!(enc(|b| encode_number(b, -1.0)), "ff");
        assert_eq!(enc(|b| encode_number(b, -33.0)), "d0df");
        assert_eq!(enc(|b| encode_number(b, 200.0)), "ccc8");
        assert_eq!(enc(|b| encode_number(b, 65535.0)), "cdffff");
        assert_eq!(enc(|b| encode_number(b, -32768.0)), "d18000");
        assert_eq!(enc(|b| encode_number(b, 4294967295.0)), "ceffffffff");
        assert_eq!(
            enc(|b| encode_number(b, 2f64.powi(40))),
            "cf0000010000000000"
        );
        assert_eq!(enc(|b| encode_number(b, 2f64.powi(63))), "ca5f000000");
        assert_eq!(enc(|b| encode_number(b, f64::INFINITY)), "ca7f800000");
        assert_eq!(enc(|b| encode_bytes(b, b"ab")), "a26162");
        assert_eq!(&enc(|b| encode_bytes(b, &[b'x'; 40]))[..4], "d928");
        assert_eq!(&enc(|b| encode_bytes(b, &[b'x'; 300]))[..6], "da012c");
        assert_eq!(
            &enc(|b| encode_bytes(b, &[b'x'; 70000]))[..10],
            "db00011170"
        );
        assert_eq!(enc(|b| encode_container(b, 3, 0x90, 0xdc, 0xdd)), "93");
        assert_eq!(enc(|b| encode_container(b, 16, 0x80, 0xde, 0xdf)), "de0010");
        assert_eq!(
            enc(|b| encode_container(b, 70000, 0x80, 0xde, 0xdf)),
            "df00011170"
        );
    }

    fn hex(lua: &mlua::Lua, expr: &str) -> String {
        eval(
            lua,
            &format!(
                "local s = {} local h = '' for i = 1, #s do h = h .. string.format('%02x', s:byte(i)) end return h",
                expr
            ),
        )
    }

    #[test]
    fn pack_and_unpack() {
        let lua = state();
        assert_eq!(hex(&lua, "cmsgpack.pack({1,2,3})"), "93010203");
        assert_eq!(hex(&lua, "cmsgpack.pack({a=true})"), "81a161c3");
        assert_eq!(hex(&lua, "cmsgpack.pack({[2]=1})"), "810201");
        assert_eq!(hex(&lua, "cmsgpack.pack(1, 'a', nil, false)"), "01a161c0c2");
        assert_eq!(hex(&lua, "cmsgpack.pack(print or function() end)"), "c0");
        assert_eq!(
            hex(
                &lua,
                "cmsgpack.pack(setmetatable({1,2}, {__index=function(t,k) return 9 end}))"
            ),
            "920102"
        );
        let circ = "local a = {x=nil,y=5} local b = {x=a} a['x'] = b local s = cmsgpack.pack(a) local h = '' for i = 1, #s do h = h .. string.format('%02x', s:byte(i)) end return h";
        let h = eval(&lua, circ);
        assert!(h.ends_with("a17881a178c0"), "{h}");
        assert_eq!(
            eval(
                &lua,
                "return table.concat({cmsgpack.unpack(cmsgpack.pack(1, -5, 'x', 0.25))}, ' ')"
            ),
            "1 -5 x 0.25"
        );
        assert_eq!(
            eval(
                &lua,
                "return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')"
            ),
            "-1"
        );
        assert_eq!(
            eval(
                &lua,
                "return table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2), 0)}, ' ')"
            ),
            "1 1"
        );
        assert_eq!(
            eval(
                &lua,
                "return table.concat({cmsgpack.unpack_one(cmsgpack.pack(1, 2), 1)}, ' ')"
            ),
            "-1 2"
        );
        assert_eq!(
            eval(
                &lua,
                "return table.concat({cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}, ' ')"
            ),
            "2 1 2"
        );
        assert_eq!(
            eval(
                &lua,
                "local t = cmsgpack.unpack(cmsgpack.pack({a={1,{b='c'}}})) return t.a[2].b"
            ),
            "c"
        );
        let err = eval(&lua, "return cmsgpack.unpack('\\146\\1')");
        assert!(err.ends_with("Missing bytes in input."), "{err}");
        let err = eval(&lua, "return cmsgpack.unpack('\\193')");
        assert!(err.ends_with("Bad data format in input."), "{err}");
        let err = eval(&lua, "return cmsgpack.unpack_one('\\1', 5)");
        assert!(
            err.ends_with("Start offset 5 greater than input length 1."),
            "{err}"
        );
        let err = eval(&lua, "return cmsgpack.unpack_limit('\\1\\2', -1)");
        assert!(
            err.ends_with("Invalid request to unpack with offset of 0 and limit of 2."),
            "{err}"
        );
        assert_eq!(
            eval(&lua, "local ok, e = pcall(cmsgpack.pack) return e"),
            "bad argument #0 to '?' (MessagePack pack needs input.)"
        );
        let err = eval(&lua, "return cmsgpack.unpack(string.rep('\\1', 10000))");
        assert!(err.ends_with("stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)"), "{err}");
    }
}
