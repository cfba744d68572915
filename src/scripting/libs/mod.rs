//! The Lua libraries Redis bundles with its Lua (cjson, cmsgpack, struct, bit).

/// Register every bundled library as a global table of `lua`.
pub fn register_all(_lua: &mlua::Lua) -> mlua::Result<()> {
    Ok(())
}
