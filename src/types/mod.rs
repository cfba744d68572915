//! Values and their encodings.

pub mod object;
pub mod intset;
pub mod listpack;
pub mod ziplist;
pub mod zipmap;
