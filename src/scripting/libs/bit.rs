//! LuaBitOp (`bit`), as in Redis's `lua_bit.c`: 32-bit operations on Lua numbers.
//!
//! Arguments are converted like the C library does: add 2^52+2^51 to the double and take
//! the low 32 bits of its representation (so 2^32+1 is 1 and fractions round to even);
//! results are pushed as signed 32-bit numbers. A non-number argument raises
//! `luaL_typerror` ("number expected, got ...") only when its conversion gives 0, as
//! in the C code. These functions never hold Rust-owned memory, so raising from them is
//! fine.

use std::ffi::c_int;

use mlua::ffi::{self, lua_State};

/// The bit pattern of argument `idx` (barg).
unsafe fn barg(l: *mut lua_State, idx: c_int) -> u32 {
    let n = ffi::lua_tonumber(l, idx) + 6_755_399_441_055_744.0;
    let b = n.to_bits() as u32;
    if b == 0 && ffi::lua_isnumber(l, idx) == 0 {
        ffi::luaL_typerror(l, idx, c"number".as_ptr());
    }
    b
}

/// Push a result (BRET).
unsafe fn bret(l: *mut lua_State, b: u32) -> c_int {
    ffi::lua_pushnumber(l, b as i32 as f64);
    1
}

/// The number a bit pattern stands for (tobit of a pure computation), for tests.
pub fn tobit(n: f64) -> i32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

unsafe extern "C-unwind" fn bit_tobit(l: *mut lua_State) -> c_int {
    bret(l, barg(l, 1))
}

unsafe extern "C-unwind" fn bit_bnot(l: *mut lua_State) -> c_int {
    bret(l, !barg(l, 1))
}

unsafe fn fold(l: *mut lua_State, op: fn(u32, u32) -> u32) -> c_int {
    let mut b = barg(l, 1);
    let mut i = ffi::lua_gettop(l);
    while i > 1 {
        b = op(b, barg(l, i));
        i -= 1;
    }
    bret(l, b)
}

unsafe extern "C-unwind" fn bit_band(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a & b)
}

unsafe extern "C-unwind" fn bit_bor(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a | b)
}

unsafe extern "C-unwind" fn bit_bxor(l: *mut lua_State) -> c_int {
    fold(l, |a, b| a ^ b)
}

unsafe fn shift(l: *mut lua_State, op: fn(u32, u32) -> u32) -> c_int {
    let b = barg(l, 1);
    let n = barg(l, 2) & 31;
    bret(l, op(b, n))
}

unsafe extern "C-unwind" fn bit_lshift(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b << n)
}

unsafe extern "C-unwind" fn bit_rshift(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b >> n)
}

unsafe extern "C-unwind" fn bit_arshift(l: *mut lua_State) -> c_int {
    shift(l, |b, n| ((b as i32) >> n) as u32)
}

unsafe extern "C-unwind" fn bit_rol(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b.rotate_left(n))
}

unsafe extern "C-unwind" fn bit_ror(l: *mut lua_State) -> c_int {
    shift(l, |b, n| b.rotate_right(n))
}

unsafe extern "C-unwind" fn bit_bswap(l: *mut lua_State) -> c_int {
    bret(l, barg(l, 1).swap_bytes())
}

unsafe extern "C-unwind" fn bit_tohex(l: *mut lua_State) -> c_int {
    let mut b = barg(l, 1);
    let mut n: i32 = if ffi::lua_isnone(l, 2) != 0 {
        8
    } else {
        barg(l, 2) as i32
    };
    let mut digits: &[u8; 16] = b"0123456789abcdef";
    if n == i32::MIN {
        n = i32::MIN + 1;
    }
    if n < 0 {
        n = -n;
        digits = b"0123456789ABCDEF";
    }
    if n > 8 {
        n = 8;
    }
    let mut buf = [0u8; 8];
    for i in (0..n as usize).rev() {
        buf[i] = digits[(b & 15) as usize];
        b >>= 4;
    }
    ffi::lua_pushlstring(l, buf.as_ptr().cast(), n as usize);
    1
}

/// luaopen_bit: the global `bit` table.
///
/// # Safety
/// Called by Lua (through [`super::register_all`]) with a valid state.
pub unsafe extern "C-unwind" fn open(l: *mut lua_State) -> c_int {
    ffi::lua_newtable(l);
    super::set_funcs(
        l,
        &[
            (c"tobit", bit_tobit),
            (c"bnot", bit_bnot),
            (c"band", bit_band),
            (c"bor", bit_bor),
            (c"bxor", bit_bxor),
            (c"lshift", bit_lshift),
            (c"rshift", bit_rshift),
            (c"arshift", bit_arshift),
            (c"rol", bit_rol),
            (c"ror", bit_ror),
            (c"bswap", bit_bswap),
            (c"tohex", bit_tohex),
        ],
    );
    ffi::lua_pushvalue(l, -1);
    ffi::lua_setglobal(l, c"bit".as_ptr());
    1
}

#[cfg(test)]
mod tests {
    use super::super::tests::{eval, state};
    use super::tobit;

    #[test]
    fn conversions() {
        assert_eq!(tobit(1.0), 1);
        assert_eq!(tobit(4294967296.0 + 5.0), 5);
        assert_eq!(tobit(2147483648.0), i32::MIN);
        assert_eq!(tobit(-1.0), -1);
        assert_eq!(tobit(0.5), 0); // round half to even
        assert_eq!(tobit(1.5), 2);
    }

    #[test]
    fn operations() {
        let lua = state();
        let cases = [
            ("bit.tobit(0xffffffff)", "-1"),
            ("bit.tobit(2^32 + 7)", "7"),
            ("bit.bnot(0)", "-1"),
            ("bit.band(1)", "1"),
            ("bit.bxor(1, 2)", "3"),
            ("bit.bor(1,2,4,8,16,32,64,128)", "255"),
            ("bit.band(0xff, 0x0f, 0x3)", "3"),
            ("bit.lshift(1, 31)", "-2147483648"),
            ("bit.lshift(1, 32)", "1"),
            ("bit.rshift(-1, 28)", "15"),
            ("bit.arshift(-256, 4)", "-16"),
            ("bit.rol(0x12345678, 12)", "1164411171"),
            ("bit.ror(0x12345678, 12)", "1736516421"),
            ("bit.rol(7, 0)", "7"),
            ("bit.bswap(0x12345678)", "2018915346"),
            ("bit.tohex(65535, -2147483648)", "0000FFFF"),
            ("bit.tohex(-1)", "ffffffff"),
            ("bit.tohex(0x1234, 2)", "34"),
            ("bit.tohex(0x1234, -3)", "234"),
            ("bit.tohex(1, 20)", "00000001"),
            ("bit.tobit('12')", "12"),
        ];
        for (code, want) in cases {
            assert_eq!(eval(&lua, &format!("return {}", code)), want, "{}", code);
        }
        assert_eq!(
            eval(&lua, "return bit.tohex('x')"),
            "ERR [string \"...\"]:1: bad argument #1 to 'tohex' (number expected, got string)"
                .replace("[string \"...\"]", &chunk_name(&lua))
        );
        assert_eq!(
            eval(&lua, "local ok, e = pcall(bit.band, {}) return e"),
            "bad argument #1 to '?' (number expected, got table)"
        );
    }

    /// The short source mlua gives an unnamed chunk in error positions.
    fn chunk_name(lua: &mlua::Lua) -> String {
        let e = eval(lua, "error('x')");
        e.trim_start_matches("ERR ")
            .trim_end_matches(":1: x")
            .to_string()
    }
}
