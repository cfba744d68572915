//! Small shared utilities: number parsing and formatting as Redis does it, `long double`
//! arithmetic, glob matching, LZF, geohash math.

pub mod digest;
pub mod geohash;
pub mod glob;
pub mod longdouble;
pub mod lzf;
pub mod numbers;
pub mod proctitle;
