//! Roberto Ierusalimschy's `struct` library as Redis ships it (`lua_struct.c` with
//! Redis's bounds fixes): `struct.pack(fmt, ...)`, `struct.unpack(fmt, data [, pos])`,
//! `struct.size(fmt)`.
//!
//! Formats: `>`/`<` endianness, `![n]` alignment, `x` padding, `b/B h/H l/L T i[n]/I[n]`
//! integers (`long` is 8 bytes, `int` 4), `c[n]` fixed strings (`c0`: the whole string
//! when packing, the previous number as length when unpacking), `s` zero-terminated
//! strings, `f`/`d` floats. The format is read as a C string (up to its first NUL).
//! Everything lives on the Lua stack (a `luaL_Buffer`) so the `luaL_*` checks may raise
//! directly, as in the C code.

use std::ffi::{c_char, c_int};

use mlua::ffi::{self, lua_State};

/// Maximum size in bytes of an integral type.
const MAXINTSIZE: i32 = 32;
/// Default maximum alignment (the alignment of a double).
const MAXALIGN: i32 = 8;
const BIG: i32 = 0;
const LITTLE: i32 = 1;
const NATIVE: i32 = LITTLE;

struct Header {
    endian: i32,
    align: i32,
}

impl Header {
    fn new() -> Header {
        Header {
            endian: NATIVE,
            align: 1,
        }
    }
}

/// A cursor over the NUL-terminated format.
struct Fmt(*const u8);

impl Fmt {
    unsafe fn peek(&self) -> u8 {
        *self.0
    }
    unsafe fn next(&mut self) -> u8 {
        let c = *self.0;
        self.0 = self.0.add(1);
        c
    }
}

unsafe fn getnum(l: *mut lua_State, fmt: &mut Fmt, df: i32) -> i32 {
    if !fmt.peek().is_ascii_digit() {
        return df;
    }
    let mut a: i32 = 0;
    loop {
        let d = (fmt.peek() - b'0') as i32;
        if a > i32::MAX / 10 || a * 10 > i32::MAX - d {
            ffi::luaL_error(l, c"integral size overflow".as_ptr());
        }
        a = a * 10 + d;
        fmt.next();
        if !fmt.peek().is_ascii_digit() {
            return a;
        }
    }
}

unsafe fn optsize(l: *mut lua_State, opt: u8, fmt: &mut Fmt) -> usize {
    match opt {
        b'B' | b'b' => 1,
        b'H' | b'h' => 2,
        b'L' | b'l' | b'T' | b'd' => 8,
        b'f' => 4,
        b'x' => 1,
        b'c' => getnum(l, fmt, 1) as usize,
        b'i' | b'I' => {
            let sz = getnum(l, fmt, 4);
            if sz > MAXINTSIZE {
                ffi::luaL_error(
                    l,
                    c"integral size %d is larger than limit of %d".as_ptr(),
                    sz as c_int,
                    MAXINTSIZE as c_int,
                );
            }
            sz as usize
        }
        _ => 0,
    }
}

/// Bytes needed to align an element of `size` at `len`.
fn gettoalign(len: usize, h: &Header, opt: u8, size: usize) -> usize {
    if size == 0 || opt == b'c' {
        return 0;
    }
    let size = size.min(h.align as usize);
    (size.wrapping_sub(len & size.wrapping_sub(1))) & size.wrapping_sub(1)
}

unsafe fn controloptions(l: *mut lua_State, opt: u8, fmt: &mut Fmt, h: &mut Header) {
    match opt {
        b' ' => {}
        b'>' => h.endian = BIG,
        b'<' => h.endian = LITTLE,
        b'!' => {
            let a = getnum(l, fmt, MAXALIGN);
            if !(a > 0 && (a & (a - 1)) == 0) {
                ffi::luaL_error(l, c"alignment %d is not a power of 2".as_ptr(), a as c_int);
            }
            h.align = a;
        }
        _ => {
            let msg = ffi::lua_pushfstring(l, c"invalid format option '%c'".as_ptr(), opt as c_int);
            ffi::luaL_argerror(l, 1, msg);
        }
    }
}

unsafe fn putinteger(
    l: *mut lua_State,
    b: *mut ffi::luaL_Buffer,
    arg: c_int,
    endian: i32,
    size: usize,
) {
    let n = ffi::luaL_checknumber(l, arg);
    let mut value: u64 = if n < 0.0 {
        super::c_f64_to_i64(n) as u64
    } else {
        super::c_f64_to_u64(n)
    };
    let mut buff = [0u8; MAXINTSIZE as usize];
    if endian == LITTLE {
        for byte in buff.iter_mut().take(size) {
            *byte = (value & 0xff) as u8;
            value >>= 8;
        }
    } else {
        for i in (0..size).rev() {
            buff[i] = (value & 0xff) as u8;
            value >>= 8;
        }
    }
    ffi::luaL_addlstring(b, buff.as_ptr().cast(), size);
}

/// Reverse `bytes` unless `endian` is the machine's.
fn correctbytes(bytes: &mut [u8], endian: i32) {
    if endian != NATIVE {
        bytes.reverse();
    }
}

unsafe extern "C-unwind" fn b_pack(l: *mut lua_State) -> c_int {
    let mut fmt = Fmt(ffi::luaL_checklstring(l, 1, std::ptr::null_mut()).cast());
    let mut h = Header::new();
    let mut arg: c_int = 2;
    let mut totalsize: usize = 0;
    ffi::lua_pushnil(l); // mark to separate arguments from the string buffer
    let mut buf = std::mem::MaybeUninit::<ffi::luaL_Buffer>::uninit();
    let b = buf.as_mut_ptr();
    ffi::luaL_buffinit(l, b);
    while fmt.peek() != 0 {
        let opt = fmt.next();
        let mut size = optsize(l, opt, &mut fmt);
        let toalign = gettoalign(totalsize, &h, opt, size) as c_int;
        totalsize = totalsize.wrapping_add(toalign as usize);
        for _ in 0..toalign {
            ffi::luaL_addchar(b, 0);
        }
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                putinteger(l, b, arg, h.endian, size);
                arg += 1;
            }
            b'x' => ffi::luaL_addchar(b, 0),
            b'f' => {
                let f = ffi::luaL_checknumber(l, arg) as f32;
                arg += 1;
                let mut bytes = f.to_ne_bytes();
                correctbytes(&mut bytes, h.endian);
                ffi::luaL_addlstring(b, bytes.as_ptr().cast(), size);
            }
            b'd' => {
                let d = ffi::luaL_checknumber(l, arg);
                arg += 1;
                let mut bytes = d.to_ne_bytes();
                correctbytes(&mut bytes, h.endian);
                ffi::luaL_addlstring(b, bytes.as_ptr().cast(), size);
            }
            b'c' | b's' => {
                let mut len = 0usize;
                let s = ffi::luaL_checklstring(l, arg, &mut len);
                arg += 1;
                if size == 0 {
                    size = len;
                }
                if len < size {
                    ffi::luaL_argerror(l, arg, c"string too short".as_ptr());
                }
                ffi::luaL_addlstring(b, s, size);
                if opt == b's' {
                    ffi::luaL_addchar(b, 0);
                    size += 1;
                }
            }
            _ => controloptions(l, opt, &mut fmt, &mut h),
        }
        totalsize = totalsize.wrapping_add(size);
    }
    ffi::luaL_pushresult(b);
    1
}

/// The integer of `size` bytes at `buff` (getinteger).
fn getinteger(buff: &[u8], endian: i32, issigned: bool, size: usize) -> f64 {
    let mut v: u64 = 0;
    if endian == BIG {
        for &byte in &buff[..size] {
            v = (v << 8) | byte as u64;
        }
    } else {
        for &byte in buff[..size].iter().rev() {
            v = (v << 8) | byte as u64;
        }
    }
    if !issigned {
        v as f64
    } else {
        let mask = u64::MAX.wrapping_shl((size as u32).wrapping_mul(8).wrapping_sub(1));
        if v & mask != 0 {
            v |= mask;
        }
        v as i64 as f64
    }
}

unsafe extern "C-unwind" fn b_unpack(l: *mut lua_State) -> c_int {
    let mut h = Header::new();
    let mut fmt = Fmt(ffi::luaL_checklstring(l, 1, std::ptr::null_mut()).cast());
    let mut ld = 0usize;
    let data = ffi::luaL_checklstring(l, 2, &mut ld).cast::<u8>();
    let mut pos = ffi::luaL_optinteger(l, 3, 1) as usize;
    if pos == 0 {
        ffi::luaL_argerror(l, 3, c"offset must be 1 or greater".as_ptr());
    }
    pos -= 1;
    let mut n: c_int = 0;
    while fmt.peek() != 0 {
        let opt = fmt.next();
        let mut size = optsize(l, opt, &mut fmt);
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if !(size <= ld && pos <= ld - size) {
            ffi::luaL_argerror(l, 2, c"data string too short".as_ptr());
        }
        ffi::luaL_checkstack_(l, 2, c"too many results".as_ptr());
        // SAFETY: pos + size <= ld was checked above.
        let at = std::slice::from_raw_parts(data.add(pos), size);
        match opt {
            b'b' | b'B' | b'h' | b'H' | b'l' | b'L' | b'T' | b'i' | b'I' => {
                let res = getinteger(at, h.endian, opt.is_ascii_lowercase(), size);
                ffi::lua_pushnumber(l, res);
                n += 1;
            }
            b'x' => {}
            b'f' => {
                let mut bytes = [0u8; 4];
                bytes.copy_from_slice(at);
                correctbytes(&mut bytes, h.endian);
                ffi::lua_pushnumber(l, f32::from_ne_bytes(bytes) as f64);
                n += 1;
            }
            b'd' => {
                let mut bytes = [0u8; 8];
                bytes.copy_from_slice(at);
                correctbytes(&mut bytes, h.endian);
                ffi::lua_pushnumber(l, f64::from_ne_bytes(bytes));
                n += 1;
            }
            b'c' => {
                if size == 0 {
                    if n == 0 || ffi::lua_isnumber(l, -1) == 0 {
                        ffi::luaL_error(l, c"format 'c0' needs a previous size".as_ptr());
                    }
                    size = super::c_f64_to_u64(ffi::lua_tonumber(l, -1)) as usize;
                    ffi::lua_pop(l, 1);
                    n -= 1;
                    if !(size <= ld && pos <= ld - size) {
                        ffi::luaL_argerror(l, 2, c"data string too short".as_ptr());
                    }
                }
                ffi::lua_pushlstring(l, data.add(pos).cast::<c_char>(), size);
                n += 1;
            }
            b's' => {
                let rest = std::slice::from_raw_parts(data.add(pos), ld - pos);
                let Some(e) = memchr::memchr(0, rest) else {
                    ffi::luaL_error(l, c"unfinished string in data".as_ptr());
                    unreachable!()
                };
                size = e + 1;
                ffi::lua_pushlstring(l, data.add(pos).cast::<c_char>(), e);
                n += 1;
            }
            _ => controloptions(l, opt, &mut fmt, &mut h),
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushinteger(l, pos.wrapping_add(1) as ffi::lua_Integer);
    n + 1
}

unsafe extern "C-unwind" fn b_size(l: *mut lua_State) -> c_int {
    let mut h = Header::new();
    let mut fmt = Fmt(ffi::luaL_checklstring(l, 1, std::ptr::null_mut()).cast());
    let mut pos: usize = 0;
    while fmt.peek() != 0 {
        let opt = fmt.next();
        let size = optsize(l, opt, &mut fmt);
        pos = pos.wrapping_add(gettoalign(pos, &h, opt, size));
        if opt == b's' {
            ffi::luaL_argerror(l, 1, c"option 's' has no fixed size".as_ptr());
        } else if opt == b'c' && size == 0 {
            ffi::luaL_argerror(l, 1, c"option 'c0' has no fixed size".as_ptr());
        }
        if !opt.is_ascii_alphanumeric() {
            controloptions(l, opt, &mut fmt, &mut h);
        }
        pos = pos.wrapping_add(size);
    }
    ffi::lua_pushinteger(l, pos as ffi::lua_Integer);
    1
}

/// luaopen_struct: the global `struct` table.
///
/// # Safety
/// Called by Lua (through [`super::register_all`]) with a valid state.
pub unsafe extern "C-unwind" fn open(l: *mut lua_State) -> c_int {
    ffi::lua_newtable(l);
    super::set_funcs(
        l,
        &[(c"pack", b_pack), (c"unpack", b_unpack), (c"size", b_size)],
    );
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setglobal(l, c"struct".as_ptr());
    1
}

#[cfg(test)]
mod tests {
    use super::super::tests::{eval, state};

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
    fn pack_layouts() {
        let lua = state();
        assert_eq!(hex(&lua, "struct.pack('>I2', 258)"), "0102");
        assert_eq!(hex(&lua, "struct.pack('<I2', 258)"), "0201");
        assert_eq!(hex(&lua, "struct.pack('>i', -2)"), "fffffffe");
        assert_eq!(hex(&lua, "struct.pack('>bh', 1, 2)"), "010002");
        assert_eq!(hex(&lua, "struct.pack('!>bh', 1, 2)"), "01000002");
        assert_eq!(hex(&lua, "struct.pack('>d', 1.5)"), "3ff8000000000000");
        assert_eq!(hex(&lua, "struct.pack('<f', 1.5)"), "0000c03f");
        assert_eq!(hex(&lua, "struct.pack('s', 'ab')"), "616200");
        assert_eq!(hex(&lua, "struct.pack('c0', 'abc')"), "616263");
        assert_eq!(hex(&lua, "struct.pack('c2', 'abc')"), "6162");
        assert_eq!(hex(&lua, "struct.pack('x>I3', 1)"), "00000001");
    }

    #[test]
    fn unpack_and_size() {
        let lua = state();
        assert_eq!(
            eval(
                &lua,
                "return table.concat({struct.unpack('>I2i', '\\1\\2\\255\\255\\255\\254')}, ' ')"
            ),
            "258 -2 7"
        );
        assert_eq!(
            eval(
                &lua,
                "return table.concat({struct.unpack('bc0s', '\\3abcxy\\0z')}, ' ')"
            ),
            "abc xy 8"
        );
        assert_eq!(
            eval(&lua, "return struct.unpack('>I2', 'xx\\0\\5', 3)"),
            "5"
        );
        assert_eq!(eval(&lua, "return struct.size('!bhd')"), "16");
        assert_eq!(eval(&lua, "return struct.size('i3c5')"), "8");
        let err = eval(&lua, "return struct.unpack('>I4', 'ab')");
        assert!(
            err.ends_with("bad argument #2 to 'unpack' (data string too short)"),
            "{err}"
        );
        let err = eval(&lua, "return struct.pack('i33', 1)");
        assert!(
            err.ends_with("integral size 33 is larger than limit of 32"),
            "{err}"
        );
        let err = eval(&lua, "return struct.pack('i99999999999', 1)");
        assert!(err.ends_with("integral size overflow"), "{err}");
        let err = eval(&lua, "return struct.unpack('s', 'abc')");
        assert!(err.ends_with("unfinished string in data"), "{err}");
        let err = eval(&lua, "return struct.unpack('c0', 'abc')");
        assert!(err.ends_with("format 'c0' needs a previous size"), "{err}");
        let err = eval(&lua, "return struct.size('s')");
        assert!(
            err.ends_with("bad argument #1 to 'size' (option 's' has no fixed size)"),
            "{err}"
        );
        let err = eval(&lua, "return struct.pack('z', 1)");
        assert!(
            err.ends_with("bad argument #1 to 'pack' (invalid format option 'z')"),
            "{err}"
        );
        let err = eval(&lua, "return struct.unpack('b', 'a', 0)");
        assert!(err.ends_with("(offset must be 1 or greater)"), "{err}");
        let err = eval(&lua, "return struct.unpack('b', 'a', -5)");
        assert!(err.ends_with("(data string too short)"), "{err}");
        let err = eval(&lua, "return struct.pack('!3b', 1)");
        assert!(err.ends_with("alignment 3 is not a power of 2"), "{err}");
    }
}
