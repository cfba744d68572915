//! Values and their encodings.

pub mod intset;
pub mod listpack;
pub mod object;
pub mod ziplist;
pub mod zipmap;
