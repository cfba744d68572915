//! Values and their encodings.

pub mod embstr;
pub mod hash;
pub mod hyperloglog;
pub mod intset;
pub mod listpack;
pub mod object;
pub mod quicklist;
pub mod set;
pub mod skiplist;
pub mod stream;
pub mod thin;
pub mod ziplist;
pub mod zipmap;
pub mod zset;
