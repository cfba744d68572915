//! Lua CJSON 2.1.0 as Redis patches and builds it (`lua_cjson.c`, `fpconv.c`, with
//! `ENABLE_CJSON_GLOBAL`): `cjson.encode`, `cjson.decode`, the configuration functions,
//! `cjson.null` (a NULL light userdata) and `cjson.new`.
//!
//! Behaviour kept from the C code: tables are traversed raw (`lua_next`, `lua_rawgeti`);
//! a table is an array when all its keys are positive integers (sparse arrays per
//! `encode_sparse_array`); numbers use `snprintf("%.14g")` and are decoded with the C
//! library's `strtod` (so hex, `inf` and `nan` pass when `decode_invalid_numbers` is on);
//! the decoder reads the string as a NUL-terminated C string; every error message and
//! character position matches.
//!
//! Each function is a C closure whose upvalue is the configuration userdata (`Config`,
//! dropped by its `__gc`). Encoding and decoding return `Result` to their entry point,
//! which drops every Rust value before raising.

use std::ffi::{c_char, c_int, CStr};

use mlua::ffi::{self, lua_State};

use super::raise;

const DEFAULT_SPARSE_CONVERT: c_int = 0;
const DEFAULT_SPARSE_RATIO: c_int = 2;
const DEFAULT_SPARSE_SAFE: c_int = 10;
const DEFAULT_ENCODE_MAX_DEPTH: c_int = 1000;
const DEFAULT_DECODE_MAX_DEPTH: c_int = 1000;
const DEFAULT_ENCODE_INVALID_NUMBERS: c_int = 0;
const DEFAULT_DECODE_INVALID_NUMBERS: c_int = 1;
const DEFAULT_ENCODE_KEEP_BUFFER: c_int = 1;
const DEFAULT_ENCODE_NUMBER_PRECISION: c_int = 14;

/// json_config_t.
struct Config {
    encode_sparse_convert: c_int,
    encode_sparse_ratio: c_int,
    encode_sparse_safe: c_int,
    encode_max_depth: c_int,
    /// 0 off, 1 on, 2 "null".
    encode_invalid_numbers: c_int,
    encode_number_precision: c_int,
    encode_keep_buffer: c_int,
    decode_invalid_numbers: c_int,
    decode_max_depth: c_int,
    /// Reused between encodes when `encode_keep_buffer` is on.
    encode_buf: Vec<u8>,
}

/// The configuration of the running function (json_fetch_config).
unsafe fn config<'a>(l: *mut lua_State) -> &'a mut Config {
    let p = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)).cast::<Config>();
    if p.is_null() {
        ffi::luaL_error(l, c"BUG: Unable to fetch CJSON configuration".as_ptr());
    }
    &mut *p
}

/// Check the argument count and pad with nils (json_arg_init).
unsafe fn arg_init<'a>(l: *mut lua_State, args: c_int) -> &'a mut Config {
    if ffi::lua_gettop(l) > args {
        ffi::luaL_argerror(l, args + 1, c"found too many arguments".as_ptr());
    }
    while ffi::lua_gettop(l) < args {
        ffi::lua_pushnil(l);
    }
    config(l)
}

/// json_integer_option.
unsafe fn integer_option(
    l: *mut lua_State,
    optindex: c_int,
    setting: &mut c_int,
    min: c_int,
    max: c_int,
) -> c_int {
    if ffi::lua_isnil(l, optindex) == 0 {
        let value = ffi::luaL_checkinteger(l, optindex) as c_int;
        if !(min <= value && value <= max) {
            let msg =
                ffi::lua_pushfstring(l, c"expected integer between %d and %d".as_ptr(), min, max);
            ffi::luaL_argerror(l, 1, msg);
        }
        *setting = value;
    }
    ffi::lua_pushinteger(l, *setting as ffi::lua_Integer);
    1
}

/// json_enum_option; `options` None means the off/on booleans.
unsafe fn enum_option(
    l: *mut lua_State,
    optindex: c_int,
    setting: &mut c_int,
    options: Option<&[&CStr]>,
) -> c_int {
    const BOOL_OPTIONS: [&CStr; 2] = [c"off", c"on"];
    let options = options.unwrap_or(&BOOL_OPTIONS);
    if ffi::lua_isnil(l, optindex) == 0 {
        if ffi::lua_isboolean(l, optindex) != 0 {
            *setting = ffi::lua_toboolean(l, optindex);
        } else {
            let mut lst: [*const c_char; 4] = [std::ptr::null(); 4];
            for (i, o) in options.iter().enumerate() {
                lst[i] = o.as_ptr();
            }
            *setting = ffi::luaL_checkoption(l, optindex, std::ptr::null(), lst.as_ptr());
        }
    }
    if *setting == 0 || *setting == 1 {
        ffi::lua_pushboolean(l, *setting);
    } else {
        ffi::lua_pushstring(l, options[*setting as usize].as_ptr());
    }
    1
}

unsafe extern "C-unwind" fn cfg_encode_sparse_array(l: *mut lua_State) -> c_int {
    let cfg = arg_init(l, 3);
    enum_option(l, 1, &mut cfg.encode_sparse_convert, None);
    integer_option(l, 2, &mut cfg.encode_sparse_ratio, 0, c_int::MAX);
    integer_option(l, 3, &mut cfg.encode_sparse_safe, 0, c_int::MAX);
    3
}

unsafe extern "C-unwind" fn cfg_encode_max_depth(l: *mut lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    integer_option(l, 1, &mut cfg.encode_max_depth, 1, c_int::MAX)
}

unsafe extern "C-unwind" fn cfg_decode_max_depth(l: *mut lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    integer_option(l, 1, &mut cfg.decode_max_depth, 1, c_int::MAX)
}

unsafe extern "C-unwind" fn cfg_encode_number_precision(l: *mut lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    integer_option(l, 1, &mut cfg.encode_number_precision, 1, 14)
}

unsafe extern "C-unwind" fn cfg_encode_keep_buffer(l: *mut lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    let old = cfg.encode_keep_buffer;
    enum_option(l, 1, &mut cfg.encode_keep_buffer, None);
    if old != cfg.encode_keep_buffer && cfg.encode_keep_buffer == 0 {
        cfg.encode_buf = Vec::new();
    }
    1
}

unsafe extern "C-unwind" fn cfg_encode_invalid_numbers(l: *mut lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    enum_option(
        l,
        1,
        &mut cfg.encode_invalid_numbers,
        Some(&[c"off", c"on", c"null"]),
    )
}

unsafe extern "C-unwind" fn cfg_decode_invalid_numbers(l: *mut lua_State) -> c_int {
    let cfg = arg_init(l, 1);
    enum_option(l, 1, &mut cfg.decode_invalid_numbers, None)
}

unsafe extern "C-unwind" fn destroy_config(l: *mut lua_State) -> c_int {
    let p = ffi::lua_touserdata(l, 1).cast::<Config>();
    if !p.is_null() {
        // SAFETY: created by create_config; __gc runs once.
        std::ptr::drop_in_place(p);
    }
    0
}

/// Push a new configuration userdata (json_create_config).
unsafe fn create_config(l: *mut lua_State) {
    let p = ffi::lua_newuserdata(l, std::mem::size_of::<Config>()).cast::<Config>();
    std::ptr::write(
        p,
        Config {
            encode_sparse_convert: DEFAULT_SPARSE_CONVERT,
            encode_sparse_ratio: DEFAULT_SPARSE_RATIO,
            encode_sparse_safe: DEFAULT_SPARSE_SAFE,
            encode_max_depth: DEFAULT_ENCODE_MAX_DEPTH,
            encode_invalid_numbers: DEFAULT_ENCODE_INVALID_NUMBERS,
            encode_number_precision: DEFAULT_ENCODE_NUMBER_PRECISION,
            encode_keep_buffer: DEFAULT_ENCODE_KEEP_BUFFER,
            decode_invalid_numbers: DEFAULT_DECODE_INVALID_NUMBERS,
            decode_max_depth: DEFAULT_DECODE_MAX_DEPTH,
            encode_buf: Vec::new(),
        },
    );
    ffi::lua_newtable(l);
    ffi::lua_pushcfunction(l, destroy_config);
    ffi::lua_setfield(l, -2, c"__gc".as_ptr());
    ffi::lua_setmetatable(l, -2);
}

// ===== Encoding =====

/// char2escape: the escape of each byte, or None to copy it.
fn escape(c: u8) -> Option<&'static [u8]> {
    const CTRL: [&[u8]; 32] = [
        b"\\u0000", b"\\u0001", b"\\u0002", b"\\u0003", b"\\u0004", b"\\u0005", b"\\u0006",
        b"\\u0007", b"\\b", b"\\t", b"\\n", b"\\u000b", b"\\f", b"\\r", b"\\u000e", b"\\u000f",
        b"\\u0010", b"\\u0011", b"\\u0012", b"\\u0013", b"\\u0014", b"\\u0015", b"\\u0016",
        b"\\u0017", b"\\u0018", b"\\u0019", b"\\u001a", b"\\u001b", b"\\u001c", b"\\u001d",
        b"\\u001e", b"\\u001f",
    ];
    match c {
        0..=31 => Some(CTRL[c as usize]),
        b'"' => Some(b"\\\""),
        b'/' => Some(b"\\/"),
        b'\\' => Some(b"\\\\"),
        127 => Some(b"\\u007f"),
        _ => None,
    }
}

/// Encoding state: the settings and the output.
struct Encoder<'a> {
    cfg: &'a Config,
    out: Vec<u8>,
}

/// json_encode_exception's message.
unsafe fn exception(l: *mut lua_State, lindex: c_int, reason: &str) -> String {
    format!(
        "Cannot serialise {}: {}",
        super::type_name(l, lindex),
        reason
    )
}

impl Encoder<'_> {
    unsafe fn append_string(&mut self, l: *mut lua_State, lindex: c_int) {
        let s = super::to_bytes(l, lindex).unwrap_or(&[]);
        self.out.reserve(s.len() + 2);
        self.out.push(b'"');
        for &c in s {
            match escape(c) {
                Some(e) => self.out.extend_from_slice(e),
                None => self.out.push(c),
            }
        }
        self.out.push(b'"');
    }

    /// The array length of the table at the top, or -1 for an object (lua_array_length).
    unsafe fn array_length(&mut self, l: *mut lua_State) -> Result<c_int, String> {
        let mut max: c_int = 0;
        let mut items: c_int = 0;
        ffi::lua_pushnil(l);
        while ffi::lua_next(l, -2) != 0 {
            if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
                let k = ffi::lua_tonumber(l, -2);
                if k != 0.0 && k.floor() == k && k >= 1.0 {
                    if k > max as f64 {
                        max = super::c_f64_to_i32(k);
                    }
                    items = items.wrapping_add(1);
                    ffi::lua_pop(l, 1);
                    continue;
                }
            }
            ffi::lua_pop(l, 2);
            return Ok(-1);
        }
        let cfg = self.cfg;
        if cfg.encode_sparse_ratio > 0
            && max > items.wrapping_mul(cfg.encode_sparse_ratio)
            && max > cfg.encode_sparse_safe
        {
            if cfg.encode_sparse_convert == 0 {
                return Err(exception(l, -1, "excessively sparse array"));
            }
            return Ok(-1);
        }
        Ok(max)
    }

    unsafe fn append_number(&mut self, l: *mut lua_State, lindex: c_int) -> Result<(), String> {
        let num = ffi::lua_tonumber(l, lindex);
        match self.cfg.encode_invalid_numbers {
            0 => {
                if num.is_infinite() || num.is_nan() {
                    return Err(exception(l, lindex, "must not be NaN or Inf"));
                }
            }
            1 => {
                if num.is_nan() {
                    self.out.extend_from_slice(b"nan");
                    return Ok(());
                }
            }
            _ => {
                if num.is_infinite() || num.is_nan() {
                    self.out.extend_from_slice(b"null");
                    return Ok(());
                }
            }
        }
        super::fmt_g(num, self.cfg.encode_number_precision, &mut self.out);
        Ok(())
    }

    unsafe fn append_array(
        &mut self,
        l: *mut lua_State,
        depth: c_int,
        len: c_int,
    ) -> Result<(), String> {
        self.out.push(b'[');
        for i in 1..=len {
            if i > 1 {
                self.out.push(b',');
            }
            ffi::lua_rawgeti(l, -1, i as ffi::lua_Integer);
            self.append_data(l, depth)?;
            ffi::lua_pop(l, 1);
        }
        self.out.push(b']');
        Ok(())
    }

    unsafe fn append_object(&mut self, l: *mut lua_State, depth: c_int) -> Result<(), String> {
        self.out.push(b'{');
        ffi::lua_pushnil(l);
        let mut comma = false;
        while ffi::lua_next(l, -2) != 0 {
            if comma {
                self.out.push(b',');
            } else {
                comma = true;
            }
            match ffi::lua_type(l, -2) {
                ffi::LUA_TNUMBER => {
                    self.out.push(b'"');
                    self.append_number(l, -2)?;
                    self.out.extend_from_slice(b"\":");
                }
                ffi::LUA_TSTRING => {
                    self.append_string(l, -2);
                    self.out.push(b':');
                }
                _ => return Err(exception(l, -2, "table key must be a number or string")),
            }
            self.append_data(l, depth)?;
            ffi::lua_pop(l, 1);
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Serialise the value at the top of the stack (json_append_data).
    unsafe fn append_data(&mut self, l: *mut lua_State, depth: c_int) -> Result<(), String> {
        match ffi::lua_type(l, -1) {
            ffi::LUA_TSTRING => self.append_string(l, -1),
            ffi::LUA_TNUMBER => self.append_number(l, -1)?,
            ffi::LUA_TBOOLEAN => {
                if ffi::lua_toboolean(l, -1) != 0 {
                    self.out.extend_from_slice(b"true");
                } else {
                    self.out.extend_from_slice(b"false");
                }
            }
            ffi::LUA_TTABLE => {
                let depth = depth + 1;
                if !(depth <= self.cfg.encode_max_depth && ffi::lua_checkstack(l, 3) != 0) {
                    return Err(format!("Cannot serialise, excessive nesting ({})", depth));
                }
                let len = self.array_length(l)?;
                if len > 0 {
                    self.append_array(l, depth, len)?;
                } else {
                    self.append_object(l, depth)?;
                }
            }
            ffi::LUA_TNIL => self.out.extend_from_slice(b"null"),
            ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, -1).is_null() => {
                self.out.extend_from_slice(b"null")
            }
            _ => return Err(exception(l, -1, "type not supported")),
        }
        Ok(())
    }
}

unsafe extern "C-unwind" fn json_encode(l: *mut lua_State) -> c_int {
    let cfg = config(l);
    if ffi::lua_gettop(l) != 1 {
        ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let result = {
        let keep = cfg.encode_keep_buffer != 0;
        let out = if keep {
            let mut b = std::mem::take(&mut cfg.encode_buf);
            b.clear();
            b
        } else {
            Vec::new()
        };
        let mut enc = Encoder { cfg: &*cfg, out };
        let r = enc.append_data(l, 0);
        let out = enc.out;
        if r.is_ok() {
            ffi::lua_pushlstring(l, out.as_ptr().cast(), out.len());
        }
        if keep {
            cfg.encode_buf = out;
        }
        r
    };
    match result {
        Ok(()) => 1,
        Err(msg) => raise(l, msg),
    }
}

// ===== Decoding =====

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Tok {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    String,
    Number,
    Boolean,
    Null,
    Colon,
    Comma,
    End,
    Whitespace,
    Error,
    Unknown,
}

impl Tok {
    fn name(self) -> &'static str {
        match self {
            Tok::ObjBegin => "T_OBJ_BEGIN",
            Tok::ObjEnd => "T_OBJ_END",
            Tok::ArrBegin => "T_ARR_BEGIN",
            Tok::ArrEnd => "T_ARR_END",
            Tok::String => "T_STRING",
            Tok::Number => "T_NUMBER",
            Tok::Boolean => "T_BOOLEAN",
            Tok::Null => "T_NULL",
            Tok::Colon => "T_COLON",
            Tok::Comma => "T_COMMA",
            Tok::End => "T_END",
            Tok::Whitespace => "T_WHITESPACE",
            Tok::Error => "T_ERROR",
            Tok::Unknown => "T_UNKNOWN",
        }
    }

    /// ch2token.
    fn of(c: u8) -> Tok {
        match c {
            b'{' => Tok::ObjBegin,
            b'}' => Tok::ObjEnd,
            b'[' => Tok::ArrBegin,
            b']' => Tok::ArrEnd,
            b',' => Tok::Comma,
            b':' => Tok::Colon,
            0 => Tok::End,
            b' ' | b'\t' | b'\n' | b'\r' => Tok::Whitespace,
            b'f' | b'i' | b'I' | b'n' | b'N' | b't' | b'"' | b'+' | b'-' | b'0'..=b'9' => {
                Tok::Unknown
            }
            _ => Tok::Error,
        }
    }
}

/// escape2char: the byte an escape stands for, `u` for unicode, 0 for an error.
fn unescape(c: u8) -> u8 {
    match c {
        b'"' => b'"',
        b'\\' => b'\\',
        b'/' => b'/',
        b'b' => 8,
        b't' => b'\t',
        b'n' => b'\n',
        b'f' => 12,
        b'r' => b'\r',
        b'u' => b'u',
        _ => 0,
    }
}

struct Token {
    ty: Tok,
    index: usize,
    error: &'static str,
    number: f64,
    boolean: bool,
}

impl Token {
    fn new() -> Token {
        Token {
            ty: Tok::Error,
            index: 0,
            error: "",
            number: 0.0,
            boolean: false,
        }
    }
}

/// json_parse_t: the input (a NUL-terminated Lua string), the position, the decoded
/// string of the last string token.
struct Parser<'a> {
    data: *const u8,
    len: usize,
    ptr: usize,
    tmp: Vec<u8>,
    cfg: &'a Config,
    depth: c_int,
}

impl Parser<'_> {
    /// The byte at `i`: the string's own terminating NUL (or any past it) reads as 0.
    fn at(&self, i: usize) -> u8 {
        if i < self.len {
            // SAFETY: i is within the string.
            unsafe { *self.data.add(i) }
        } else {
            0
        }
    }

    fn starts_with(&self, s: &[u8]) -> bool {
        s.iter()
            .enumerate()
            .all(|(i, &c)| self.at(self.ptr + i) == c)
    }

    fn starts_with_ignore_case(&self, s: &[u8]) -> bool {
        s.iter()
            .enumerate()
            .all(|(i, &c)| self.at(self.ptr + i).eq_ignore_ascii_case(&c))
    }

    fn set_error(&self, token: &mut Token, err: &'static str) {
        token.ty = Tok::Error;
        token.index = self.ptr;
        token.error = err;
    }

    fn hex4(&self, at: usize) -> i32 {
        let mut v = 0i32;
        for i in 0..4 {
            let c = self.at(at + i);
            let d = match c {
                b'0'..=b'9' => c - b'0',
                _ => match c | 0x20 {
                    c @ b'a'..=b'f' => c - b'a' + 10,
                    _ => return -1,
                },
            };
            v = (v << 4) + d as i32;
        }
        v
    }

    /// json_append_unicode_escape: at `\uXXXX`; false on an invalid escape.
    fn unicode_escape(&mut self) -> bool {
        let mut escape_len = 6;
        let mut cp = self.hex4(self.ptr + 2);
        if cp < 0 {
            return false;
        }
        if (cp & 0xF800) == 0xD800 {
            if cp & 0x400 != 0 {
                return false;
            }
            if self.at(self.ptr + 6) != b'\\' || self.at(self.ptr + 7) != b'u' {
                return false;
            }
            let low = self.hex4(self.ptr + 8);
            if low < 0 || (low & 0xFC00) != 0xDC00 {
                return false;
            }
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
            escape_len = 12;
        }
        let cp = cp as u32;
        if cp <= 0x7F {
            self.tmp.push(cp as u8);
        } else if cp <= 0x7FF {
            self.tmp
                .extend_from_slice(&[(cp >> 6) as u8 | 0xC0, (cp & 0x3F) as u8 | 0x80]);
        } else if cp <= 0xFFFF {
            self.tmp.extend_from_slice(&[
                (cp >> 12) as u8 | 0xE0,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        } else if cp <= 0x1FFFFF {
            self.tmp.extend_from_slice(&[
                (cp >> 18) as u8 | 0xF0,
                ((cp >> 12) & 0x3F) as u8 | 0x80,
                ((cp >> 6) & 0x3F) as u8 | 0x80,
                (cp & 0x3F) as u8 | 0x80,
            ]);
        } else {
            return false;
        }
        self.ptr += escape_len;
        true
    }

    fn string_token(&mut self, token: &mut Token) {
        self.ptr += 1;
        self.tmp.clear();
        loop {
            let mut ch = self.at(self.ptr);
            if ch == b'"' {
                break;
            }
            if ch == 0 {
                self.set_error(token, "unexpected end of string");
                return;
            }
            if ch == b'\\' {
                ch = unescape(self.at(self.ptr + 1));
                if ch == b'u' {
                    if self.unicode_escape() {
                        continue;
                    }
                    self.set_error(token, "invalid unicode escape code");
                    return;
                }
                if ch == 0 {
                    self.set_error(token, "invalid escape code");
                    return;
                }
                self.ptr += 1;
            }
            self.tmp.push(ch);
            self.ptr += 1;
        }
        self.ptr += 1;
        token.ty = Tok::String;
    }

    /// json_is_invalid_number.
    fn is_invalid_number(&self) -> bool {
        let mut p = self.ptr;
        if self.at(p) == b'+' {
            return true;
        }
        if self.at(p) == b'-' {
            p += 1;
        }
        let c = self.at(p);
        if c == b'0' {
            let ch2 = self.at(p + 1);
            return (ch2 | 0x20) == b'x' || ch2.is_ascii_digit();
        } else if c <= b'9' {
            return false;
        }
        let probe = Parser {
            data: self.data,
            len: self.len,
            ptr: p,
            tmp: Vec::new(),
            cfg: self.cfg,
            depth: 0,
        };
        probe.starts_with_ignore_case(b"inf") || probe.starts_with_ignore_case(b"nan")
    }

    fn number_token(&mut self, token: &mut Token) {
        token.ty = Tok::Number;
        let start = self.ptr.min(self.len);
        let mut end: *mut c_char = std::ptr::null_mut();
        // SAFETY: Lua strings are NUL-terminated, so strtod stops inside the string or
        // at its terminator.
        let (value, consumed) = unsafe {
            let p = self.data.add(start).cast::<c_char>();
            let v = libc::strtod(p, &mut end);
            (v, end.offset_from(p) as usize)
        };
        token.number = value;
        if consumed == 0 {
            self.set_error(token, "invalid number");
        } else {
            self.ptr = start + consumed;
        }
    }

    /// json_next_token.
    fn next_token(&mut self, token: &mut Token) {
        let mut ch;
        loop {
            ch = self.at(self.ptr);
            token.ty = Tok::of(ch);
            if token.ty != Tok::Whitespace {
                break;
            }
            self.ptr += 1;
        }
        token.index = self.ptr;
        match token.ty {
            Tok::Error => return self.set_error(token, "invalid token"),
            Tok::End => return,
            Tok::Unknown => {}
            _ => {
                self.ptr += 1;
                return;
            }
        }
        if ch == b'"' {
            self.string_token(token);
        } else if ch == b'-' || ch.is_ascii_digit() {
            if self.cfg.decode_invalid_numbers == 0 && self.is_invalid_number() {
                self.set_error(token, "invalid number");
            } else {
                self.number_token(token);
            }
        } else if self.starts_with(b"true") {
            token.ty = Tok::Boolean;
            token.boolean = true;
            self.ptr += 4;
        } else if self.starts_with(b"false") {
            token.ty = Tok::Boolean;
            token.boolean = false;
            self.ptr += 5;
        } else if self.starts_with(b"null") {
            token.ty = Tok::Null;
            self.ptr += 4;
        } else if self.cfg.decode_invalid_numbers != 0 && self.is_invalid_number() {
            self.number_token(token);
        } else {
            self.set_error(token, "invalid token");
        }
    }

    fn parse_error(&self, expected: &str, token: &Token) -> String {
        let found = if token.ty == Tok::Error {
            token.error
        } else {
            token.ty.name()
        };
        format!(
            "Expected {} but found {} at character {}",
            expected,
            found,
            (token.index as i32).wrapping_add(1)
        )
    }

    unsafe fn descend(&mut self, l: *mut lua_State, slots: c_int) -> Result<(), String> {
        self.depth += 1;
        if self.depth <= self.cfg.decode_max_depth && ffi::lua_checkstack(l, slots) != 0 {
            return Ok(());
        }
        Err(format!(
            "Found too many nested data structures ({}) at character {}",
            self.depth, self.ptr as i32
        ))
    }

    unsafe fn object(&mut self, l: *mut lua_State) -> Result<(), String> {
        self.descend(l, 3)?;
        ffi::lua_newtable(l);
        let mut token = Token::new();
        self.next_token(&mut token);
        if token.ty == Tok::ObjEnd {
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if token.ty != Tok::String {
                return Err(self.parse_error("object key string", &token));
            }
            ffi::lua_pushlstring(l, self.tmp.as_ptr().cast(), self.tmp.len());
            self.next_token(&mut token);
            if token.ty != Tok::Colon {
                return Err(self.parse_error("colon", &token));
            }
            self.next_token(&mut token);
            self.value(l, &token)?;
            ffi::lua_rawset(l, -3);
            self.next_token(&mut token);
            if token.ty == Tok::ObjEnd {
                self.depth -= 1;
                return Ok(());
            }
            if token.ty != Tok::Comma {
                return Err(self.parse_error("comma or object end", &token));
            }
            self.next_token(&mut token);
        }
    }

    unsafe fn array(&mut self, l: *mut lua_State) -> Result<(), String> {
        self.descend(l, 2)?;
        ffi::lua_newtable(l);
        let mut token = Token::new();
        self.next_token(&mut token);
        if token.ty == Tok::ArrEnd {
            self.depth -= 1;
            return Ok(());
        }
        let mut i: c_int = 1;
        loop {
            self.value(l, &token)?;
            ffi::lua_rawseti(l, -2, i as ffi::lua_Integer);
            i = i.wrapping_add(1);
            self.next_token(&mut token);
            if token.ty == Tok::ArrEnd {
                self.depth -= 1;
                return Ok(());
            }
            if token.ty != Tok::Comma {
                return Err(self.parse_error("comma or array end", &token));
            }
            self.next_token(&mut token);
        }
    }

    /// json_process_value.
    unsafe fn value(&mut self, l: *mut lua_State, token: &Token) -> Result<(), String> {
        match token.ty {
            Tok::String => {
                ffi::lua_pushlstring(l, self.tmp.as_ptr().cast(), self.tmp.len());
            }
            Tok::Number => ffi::lua_pushnumber(l, token.number),
            Tok::Boolean => ffi::lua_pushboolean(l, token.boolean as c_int),
            Tok::ObjBegin => self.object(l)?,
            Tok::ArrBegin => self.array(l)?,
            Tok::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
            _ => return Err(self.parse_error("value", token)),
        }
        Ok(())
    }
}

unsafe extern "C-unwind" fn json_decode(l: *mut lua_State) -> c_int {
    if ffi::lua_gettop(l) != 1 {
        ffi::luaL_argerror(l, 1, c"expected 1 argument".as_ptr());
    }
    let cfg = config(l);
    let mut len = 0usize;
    let data = ffi::luaL_checklstring(l, 1, &mut len).cast::<u8>();
    if len >= 2 && (*data == 0 || *data.add(1) == 0) {
        ffi::luaL_error(l, c"JSON parser does not support UTF-16 or UTF-32".as_ptr());
    }
    let result = {
        let mut p = Parser {
            data,
            len,
            ptr: 0,
            tmp: Vec::with_capacity(len),
            cfg: &*cfg,
            depth: 0,
        };
        let mut token = Token::new();
        p.next_token(&mut token);
        match p.value(l, &token) {
            Ok(()) => {
                p.next_token(&mut token);
                if token.ty != Tok::End {
                    Err(p.parse_error("the end", &token))
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(()) => 1,
        Err(msg) => raise(l, msg),
    }
}

/// lua_cjson_new: push a new cjson module table with its own configuration.
unsafe extern "C-unwind" fn cjson_new(l: *mut lua_State) -> c_int {
    let funcs: [(&CStr, ffi::lua_CFunction); 10] = [
        (c"encode", json_encode),
        (c"decode", json_decode),
        (c"encode_sparse_array", cfg_encode_sparse_array),
        (c"encode_max_depth", cfg_encode_max_depth),
        (c"decode_max_depth", cfg_decode_max_depth),
        (c"encode_number_precision", cfg_encode_number_precision),
        (c"encode_keep_buffer", cfg_encode_keep_buffer),
        (c"encode_invalid_numbers", cfg_encode_invalid_numbers),
        (c"decode_invalid_numbers", cfg_decode_invalid_numbers),
        (c"new", cjson_new),
    ];
    ffi::lua_newtable(l);
    create_config(l);
    for (name, f) in funcs {
        ffi::lua_pushvalue(l, -1);
        ffi::lua_pushcclosure(l, f, 1);
        ffi::lua_setfield(l, -3, name.as_ptr());
    }
    ffi::lua_pop(l, 1);
    ffi::lua_pushlightuserdata(l, std::ptr::null_mut());
    ffi::lua_setfield(l, -2, c"null".as_ptr());
    ffi::lua_pushstring(l, c"cjson".as_ptr());
    ffi::lua_setfield(l, -2, c"_NAME".as_ptr());
    ffi::lua_pushstring(l, c"2.1.0".as_ptr());
    ffi::lua_setfield(l, -2, c"_VERSION".as_ptr());
    1
}

/// luaopen_cjson with ENABLE_CJSON_GLOBAL: the global `cjson` table.
///
/// # Safety
/// Called by Lua (through [`super::register_all`]) with a valid state.
pub unsafe extern "C-unwind" fn open(l: *mut lua_State) -> c_int {
    cjson_new(l);
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setglobal(l, c"cjson".as_ptr());
    1
}

#[cfg(test)]
mod tests {
    use super::super::tests::{eval, state};

    #[test]
    fn encode() {
        let lua = state();
        let cases = [
            ("cjson.encode({1,2,3})", "[1,2,3]"),
            ("cjson.encode({})", "{}"),
            ("cjson.encode({a=1})", "{\"a\":1}"),
            (
                "cjson.encode('a\"b\\\\c/\\n\\1\\127')",
                "\"a\\\"b\\\\c\\/\\n\\u0001\\u007f\"",
            ),
            ("cjson.encode(0.1)", "0.1"),
            ("cjson.encode(1/3)", "0.33333333333333"),
            ("cjson.encode(1e20)", "1e+20"),
            ("cjson.encode(-0)", "-0"),
            ("cjson.encode({true,false,cjson.null})", "[true,false,null]"),
            ("cjson.encode(nil)", "null"),
            ("cjson.encode({[1]='a',[3]='c'})", "[\"a\",null,\"c\"]"),
            ("cjson.encode({[2.5]='x'})", "{\"2.5\":\"x\"}"),
            (
                "cjson.encode({[20]=1})",
                "Cannot serialise table: excessively sparse array",
            ),
            (
                "cjson.encode({[10]=1})",
                "[null,null,null,null,null,null,null,null,null,1]",
            ),
            (
                "cjson.encode(function() end)",
                "Cannot serialise function: type not supported",
            ),
            (
                "cjson.encode({[true]=1})",
                "Cannot serialise boolean: table key must be a number or string",
            ),
            (
                "cjson.encode(0/0)",
                "Cannot serialise number: must not be NaN or Inf",
            ),
        ];
        for (code, want) in cases {
            let got = eval(
                &lua,
                &format!(
                    "local ok, r = pcall(function() return {} end) return r",
                    code
                ),
            );
            assert!(got.ends_with(want), "{code}: {got}");
        }
        assert_eq!(eval(&lua, "cjson.encode_number_precision(3) local r = cjson.encode(math.pi) cjson.encode_number_precision(14) return r"), "3.14");
        assert_eq!(
            eval(
                &lua,
                "cjson.encode_invalid_numbers('null') return cjson.encode({1/0})"
            ),
            "[null]"
        );
        assert_eq!(
            eval(
                &lua,
                "cjson.encode_invalid_numbers(true) return cjson.encode({1/0, -1/0, 0/0})"
            ),
            "[inf,-inf,nan]"
        );
        assert_eq!(
            eval(&lua, "return cjson.encode_invalid_numbers(false)"),
            "false"
        );
        assert_eq!(
            eval(&lua, "return cjson.encode_invalid_numbers('null')"),
            "null"
        );
        assert_eq!(eval(&lua, "local a, b, c = cjson.encode_sparse_array(true, 1, 1) return tostring(a) .. ' ' .. b .. ' ' .. c"), "true 1 1");
        assert_eq!(eval(&lua, "return cjson.encode({[3]=1})"), "{\"3\":1}");
        assert_eq!(
            eval(
                &lua,
                "cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {{{}}}) return e"
            ),
            "Cannot serialise, excessive nesting (3)"
        );
        assert_eq!(
            eval(
                &lua,
                "local ok, e = pcall(cjson.encode_max_depth, 0) return e"
            ),
            "bad argument #1 to '?' (expected integer between 1 and 2147483647)"
        );
        assert_eq!(
            eval(&lua, "local ok, e = pcall(cjson.encode) return e"),
            "bad argument #1 to '?' (expected 1 argument)"
        );
        assert_eq!(
            eval(
                &lua,
                "local ok, e = pcall(cjson.encode_max_depth, 1, 2) return e"
            ),
            "bad argument #2 to '?' (found too many arguments)"
        );
        assert_eq!(
            eval(
                &lua,
                "local ok, e = pcall(cjson.encode_keep_buffer, 'maybe') return e"
            ),
            "bad argument #1 to '?' (invalid option 'maybe')"
        );
        assert_eq!(
            eval(
                &lua,
                "cjson.encode_keep_buffer(false) return cjson.encode({x={1}})"
            ),
            "{\"x\":[1]}"
        );
        assert_eq!(eval(&lua, "cjson.encode_max_depth(7) local j = cjson.new() j.encode_max_depth(1) return cjson.encode_max_depth() .. j.encode_max_depth()"), "71");
    }

    #[test]
    fn decode() {
        let lua = state();
        let cases = [
            (
                "table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')",
                "0 -5000 -1 0.0003 1023.2 0",
            ),
            ("cjson.decode('{\"a\": \"b\"}').a", "b"),
            (
                "cjson.decode('\"\\\\u00e9\\\\ud83d\\\\ude00\\\\n\"')",
                "\u{e9}\u{1f600}\n",
            ),
            ("cjson.decode('null') == cjson.null", "true"),
            ("cjson.decode(' true ')", "true"),
            ("cjson.decode('0x10')", "16"),
            ("cjson.decode('-Infinity')", "-inf"),
            ("cjson.decode(123)", "123"),
            (
                "cjson.decode('[1,2')",
                "Expected comma or array end but found T_END at character 5",
            ),
            (
                "cjson.decode('{1:2}')",
                "Expected object key string but found T_NUMBER at character 2",
            ),
            (
                "cjson.decode('{\"a\" 2}')",
                "Expected colon but found T_NUMBER at character 6",
            ),
            (
                "cjson.decode('[1] x')",
                "Expected the end but found invalid token at character 5",
            ),
            (
                "cjson.decode('nil')",
                "Expected value but found invalid token at character 1",
            ),
            (
                "cjson.decode('\"abc')",
                "Expected value but found unexpected end of string at character 5",
            ),
            (
                "cjson.decode('\"\\\\x\"')",
                "Expected value but found invalid escape code at character 2",
            ),
            (
                "cjson.decode('\"\\\\ud800\"')",
                "Expected value but found invalid unicode escape code at character 2",
            ),
            (
                "cjson.decode('-')",
                "Expected value but found invalid number at character 1",
            ),
            (
                "cjson.decode('a\\0')",
                "JSON parser does not support UTF-16 or UTF-32",
            ),
            (
                "cjson.decode('')",
                "Expected value but found T_END at character 1",
            ),
            (
                "cjson.decode('[[[]]]', 1)",
                "bad argument #1 to 'decode' (expected 1 argument)",
            ),
        ];
        for (code, want) in cases {
            let got = eval(
                &lua,
                &format!(
                    "local ok, r = pcall(function() return {} end) return r",
                    code
                ),
            );
            assert!(got.ends_with(want), "{code}: {got}");
        }
        assert_eq!(
            eval(
                &lua,
                "cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[[1]]]') return e"
            ),
            "Found too many nested data structures (3) at character 3"
        );
        assert_eq!(eval(&lua, "cjson.decode_invalid_numbers(false) local ok, e = pcall(cjson.decode, '0x10') return e"), "Expected value but found invalid number at character 1");
        // Round trip.
        assert_eq!(
            eval(&lua, "cjson.decode_max_depth(1000) local t = cjson.decode(cjson.encode({a={1,2,{b='c'}}, d=true})) return t.a[3].b .. tostring(t.d)"),
            "ctrue"
        );
    }
}
