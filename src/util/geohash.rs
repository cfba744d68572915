//! Geohash math behind the GEO commands (Redis's geohash.c and geohash_helper.c): a position is
//! a 52-bit interleaving of 26 bits of latitude and 26 bits of longitude (stored as a sorted
//! set score), a search area is the geohash box holding the centre plus its eight neighbours at
//! a precision picked from the radius, and distances are great-circle (haversine) distances on
//! a sphere of Redis's radius. The floating point operations follow Redis's order exactly, so
//! the scores, decoded coordinates and distances are bit-identical to Redis's.
//!
//! Only arithmetic lives here; the sorted-set side of a search is in `commands::geo`.

/// Precision of a stored position: 26 steps, 52 bits.
pub const STEP_MAX: u8 = 26;
/// Latitude limits of the projection (EPSG:900913): positions beyond are not indexable.
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;

/// Earth's quadratic mean radius for WGS-84, the sphere distances are measured on.
pub const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
const MERCATOR_MAX: f64 = 20037726.37;
const D_R: f64 = std::f64::consts::PI / 180.0;

#[inline]
fn deg_rad(ang: f64) -> f64 {
    ang * D_R
}

#[inline]
fn rad_deg(ang: f64) -> f64 {
    ang / D_R
}

/// A geohash of `step` bits per coordinate (`bits` holds `2 * step` bits). All zero is the
/// "no area" value Redis's GZERO produces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    /// True for the cleared value (HASHISZERO).
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash left-aligned to 52 bits: the sorted set score (geohashAlign52Bits).
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

/// An interval of one coordinate.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

impl Range {
    fn is_zero(&self) -> bool {
        self.min == 0.0 && self.max == 0.0
    }
}

/// The longitude and latitude intervals a geohash covers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// Redis's coordinate ranges (the latitude is limited to the projection's).
pub const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// Interleave the low 32 bits of `x` (even positions) and `y` (odd positions).
fn interleave64(x: u32, y: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut v = u64::from(v);
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        (v | (v << 1)) & 0x5555_5555_5555_5555
    }
    spread(x) | (spread(y) << 1)
}

/// Undo [`interleave64`]: the even bits in the low half, the odd bits in the high half.
fn deinterleave64(interleaved: u64) -> u64 {
    fn squash(v: u64) -> u64 {
        let mut v = v & 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v >> 4)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v >> 8)) & 0x0000_FFFF_0000_FFFF;
        (v | (v >> 16)) & 0x0000_0000_FFFF_FFFF
    }
    squash(interleaved) | (squash(interleaved >> 1) << 32)
}

/// Encode a position within the given ranges at `step` bits per coordinate (geohashEncode).
/// `None` for positions outside Redis's limits or the ranges.
pub fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<HashBits> {
    if step > 32 || step == 0 || lat_range.is_zero() || long_range.is_zero() {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    Some(HashBits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// Encode with Redis's ranges (geohashEncodeWGS84).
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// The area a geohash covers within Redis's ranges (geohashDecode). `None` for the zero hash.
pub fn decode(hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let div = (1u64 << hash.step) as f64;
    let lat_scale = WGS84_LAT.max - WGS84_LAT.min;
    let long_scale = WGS84_LONG.max - WGS84_LONG.min;
    Some(Area {
        latitude: Range {
            min: WGS84_LAT.min + (f64::from(ilato) / div) * lat_scale,
            max: WGS84_LAT.min + (f64::from(ilato.wrapping_add(1)) / div) * lat_scale,
        },
        longitude: Range {
            min: WGS84_LONG.min + (f64::from(ilono) / div) * long_scale,
            max: WGS84_LONG.min + (f64::from(ilono.wrapping_add(1)) / div) * long_scale,
        },
    })
}

/// The centre of an area, clamped to the limits (geohashDecodeAreaToLongLat).
pub fn area_center(area: &Area) -> [f64; 2] {
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// x86-64's `cvttsd2si`: truncation, with out-of-range values and NaN giving `i64::MIN`.
fn cvttsd2si(x: f64) -> i64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if (-TWO_63..TWO_63).contains(&x) {
        x as i64
    } else {
        i64::MIN
    }
}

/// C's `(long long)x` as compiled for x86-64, where Redis runs (the out-of-range results
/// differ from Rust's saturating `as`).
pub fn c_double_to_i64(x: f64) -> i64 {
    cvttsd2si(x)
}

/// C's `(uint64_t)x` as compiled for x86-64: negative scores wrap, huge ones become 0.
pub fn c_double_to_u64(x: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if x >= TWO_63 {
        (cvttsd2si(x - TWO_63) as u64) ^ (1 << 63)
    } else {
        cvttsd2si(x) as u64
    }
}

/// The position a sorted set score stands for (Redis's decodeGeohash): the centre of its
/// 52-bit box. Scores that were not written by GEOADD are converted as Redis's C cast does.
pub fn decode_score(score: f64) -> Option<[f64; 2]> {
    let hash = HashBits {
        bits: c_double_to_u64(score),
        step: STEP_MAX,
    };
    decode(hash).map(|a| area_center(&a))
}

/// The sorted set score of a position (already validated against the limits).
pub fn score_of(longitude: f64, latitude: f64) -> u64 {
    encode_wgs84(longitude, latitude, STEP_MAX)
        .map(|h| h.align52())
        .unwrap_or(0)
}

/// The 11-character standard geohash (GEOHASH's reply) of a position: re-encoded with the
/// standard latitude range of [-90, 90], base32, the unused 11th character '0'.
pub fn standard_geohash(xy: [f64; 2]) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let long = Range {
        min: -180.0,
        max: 180.0,
    };
    let lat = Range {
        min: -90.0,
        max: 90.0,
    };
    let bits = encode(long, lat, xy[0], xy[1], 26)
        .map(|h| h.bits)
        .unwrap_or(0);
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    out
}

/// Move a hash one box east (`d > 0`) or west (`d < 0`).
fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let mut x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> shift;
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    hash.bits = x | y;
}

/// Move a hash one box north (`d > 0`) or south (`d < 0`).
fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let shift = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> shift;
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> shift;
    hash.bits = x | y;
}

fn moved(hash: HashBits, dx: i8, dy: i8) -> HashBits {
    let mut h = hash;
    move_x(&mut h, dx);
    move_y(&mut h, dy);
    h
}

/// The step (precision) whose boxes are about the size of a search of `range_meters` around
/// latitude `lat` (geohashEstimateStepsByRadius).
pub fn estimate_steps_by_radius(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    // Boxes get narrower towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The shape of a search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ShapeKind {
    /// A circle of this radius (in the shape's unit).
    Radius(f64),
    /// An axis-aligned box (in the shape's unit).
    Box { width: f64, height: f64 },
}

/// A search area: its shape around centre `xy` (longitude, latitude), with `conversion` the
/// unit's size in meters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    pub kind: ShapeKind,
    pub xy: [f64; 2],
    pub conversion: f64,
}

/// The nine boxes a search scans, in Redis's order: the centre's box, then north, south,
/// east, west, north-east, north-west, south-east, south-west. Boxes that cannot hold a match
/// are zero.
pub type SearchBoxes = [HashBits; 9];

impl Shape {
    /// Half the height and half the width of the shape, in meters.
    fn half_extent_m(&self) -> (f64, f64) {
        match self.kind {
            ShapeKind::Radius(r) => (self.conversion * r, self.conversion * r),
            ShapeKind::Box { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        }
    }

    /// The longitude/latitude bounding box `[min_lon, min_lat, max_lon, max_lat]`
    /// (geohashBoundingBox). The edges of a box shape are arcs, so the widest latitude of the
    /// box (the one nearest the equator) gives the longitude bounds.
    pub fn bounding_box(&self) -> [f64; 4] {
        let [longitude, latitude] = self.xy;
        let (height, width) = self.half_extent_m();
        let lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS);
        let long_delta_top =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude + lat_delta).cos());
        let long_delta_bottom =
            rad_deg(width / EARTH_RADIUS_IN_METERS / deg_rad(latitude - lat_delta).cos());
        let long_delta = if latitude < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            longitude - long_delta,
            latitude - lat_delta,
            longitude + long_delta,
            latitude + lat_delta,
        ]
    }

    /// The search radius in meters: the radius, or the centre-to-corner distance of a box.
    fn radius_m(&self) -> f64 {
        let r = match self.kind {
            ShapeKind::Radius(r) => r,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.conversion
    }

    /// The boxes covering the search (geohashCalculateAreasByShapeWGS84).
    pub fn search_boxes(&self) -> SearchBoxes {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounding_box();
        let [longitude, latitude] = self.xy;
        let mut steps = estimate_steps_by_radius(self.radius_m(), latitude);
        let mut hash = encode_wgs84(longitude, latitude, steps).unwrap_or_default();
        let mut n = neighbors(hash);

        // The estimate may be too coarse near a box edge: if a neighbour does not reach the
        // bounding box's side, use boxes twice as large.
        let dec = |h: HashBits| decode(h).unwrap_or_default();
        let decrease = dec(n.north).latitude.max < max_lat
            || dec(n.south).latitude.min > min_lat
            || dec(n.east).longitude.max < max_lon
            || dec(n.west).longitude.min > min_lon;
        if steps > 1 && decrease {
            steps -= 1;
            hash = encode_wgs84(longitude, latitude, steps).unwrap_or_default();
            n = neighbors(hash);
        }
        let area = dec(hash);

        // Drop the neighbours the search area cannot reach.
        if steps >= 2 {
            let zero = HashBits::default();
            if area.latitude.min < min_lat {
                n.south = zero;
                n.south_west = zero;
                n.south_east = zero;
            }
            if area.latitude.max > max_lat {
                n.north = zero;
                n.north_east = zero;
                n.north_west = zero;
            }
            if area.longitude.min < min_lon {
                n.west = zero;
                n.south_west = zero;
                n.north_west = zero;
            }
            if area.longitude.max > max_lon {
                n.east = zero;
                n.south_east = zero;
                n.north_east = zero;
            }
        }
        [
            hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }

    /// The distance in meters from the centre to `xy` if `xy` is inside the shape
    /// (geoWithinShape).
    pub fn distance_if_within(&self, xy: [f64; 2]) -> Option<f64> {
        let [x1, y1] = self.xy;
        let [x2, y2] = xy;
        match self.kind {
            ShapeKind::Radius(r) => {
                let d = distance(x1, y1, x2, y2);
                // Written as Redis's "reject if farther" test: a NaN distance (rounding past
                // asin's domain near antipodes) is kept, as in Redis.
                #[allow(clippy::neg_cmp_op_on_partial_ord)]
                let within = !(d > r * self.conversion);
                within.then_some(d)
            }
            ShapeKind::Box { width, height } => {
                let (width_m, height_m) = (width * self.conversion, height * self.conversion);
                // The latitude distance is cheaper, so it is checked first.
                if lat_distance(y2, y1) > height_m / 2.0 {
                    return None;
                }
                if distance(x2, y2, x1, y2) > width_m / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, x2, y2))
            }
        }
    }
}

/// The eight boxes around a hash.
#[derive(Clone, Copy, Debug, Default)]
struct Neighbors {
    north: HashBits,
    east: HashBits,
    west: HashBits,
    south: HashBits,
    north_east: HashBits,
    south_east: HashBits,
    north_west: HashBits,
    south_west: HashBits,
}

fn neighbors(hash: HashBits) -> Neighbors {
    Neighbors {
        east: moved(hash, 1, 0),
        west: moved(hash, -1, 0),
        south: moved(hash, 0, -1),
        north: moved(hash, 0, 1),
        north_west: moved(hash, -1, 1),
        north_east: moved(hash, 1, 1),
        south_east: moved(hash, 1, -1),
        south_west: moved(hash, -1, -1),
    }
}

/// Distance along a meridian between two latitudes (geohashGetLatDistance).
pub fn lat_distance(lat1d: f64, lat2d: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2d) - deg_rad(lat1d)).abs()
}

/// Great-circle distance in meters between two positions (geohashGetDistance).
pub fn distance(lon1d: f64, lat1d: f64, lon2d: f64, lat2d: f64) -> f64 {
    let lon1r = deg_rad(lon1d);
    let lon2r = deg_rad(lon2d);
    let v = ((lon2r - lon1r) / 2.0).sin();
    // Same longitude: the haversine reduces to the latitude difference.
    if v == 0.0 {
        return lat_distance(lat1d, lat2d);
    }
    let lat1r = deg_rad(lat1d);
    let lat2r = deg_rad(lat2d);
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trips() {
        for &(x, y) in &[
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            let v = deinterleave64(interleave64(x, y));
            assert_eq!(v as u32, x);
            assert_eq!((v >> 32) as u32, y);
        }
        assert_eq!(interleave64(1, 0), 1);
        assert_eq!(interleave64(0, 1), 2);
        assert_eq!(interleave64(3, 3), 0xf);
    }

    #[test]
    fn scores_match_redis() {
        // From unit/geo "Check geoset values".
        assert_eq!(score_of(-74.0131604, 40.7126674), 1791873972053020);
        assert_eq!(score_of(-73.9903085, 40.7362513), 1791875485187452);
        assert_eq!(score_of(-73.7858139, 40.6428986), 1791895905559723);
        assert_eq!(score_of(-73.9564142, 40.7480973), 1791875796750882);
    }

    #[test]
    fn decode_is_the_box_centre() {
        let xy = decode_score(score_of(13.361389, 38.115556) as f64).unwrap();
        assert!((xy[0] - 13.361389).abs() < 1e-5);
        assert!((xy[1] - 38.115556).abs() < 1e-5);
        // Redis replies 13.36138933897018433 38.11555639549629859 for Palermo.
        assert_eq!(xy[0], 13.361_389_338_970_184);
        assert_eq!(xy[1], 38.115_556_395_496_3);
        assert!(encode_wgs84(0.0, 86.0, 26).is_none());
        assert!(encode_wgs84(181.0, 0.0, 26).is_none());
    }

    #[test]
    fn c_casts() {
        assert_eq!(c_double_to_u64(-5.0), (-5i64) as u64);
        assert_eq!(c_double_to_u64(1e19), 10_000_000_000_000_000_000);
        assert_eq!(c_double_to_u64(1e20), 0);
        assert_eq!(c_double_to_u64(42.9), 42);
        assert_eq!(c_double_to_i64(1e20), i64::MIN);
        assert_eq!(c_double_to_i64(-3.5), -3);
    }

    #[test]
    fn standard_geohash_matches_wikipedia() {
        let xy = decode_score(score_of(-5.6, 42.6) as f64).unwrap();
        assert_eq!(&standard_geohash(xy), b"ezs42e44yx0");
    }

    #[test]
    fn distances() {
        let p = decode_score(score_of(13.361389, 38.115556) as f64).unwrap();
        let c = decode_score(score_of(15.087269, 37.502669) as f64).unwrap();
        let d = distance(p[0], p[1], c[0], c[1]);
        assert!(d > 166274.0 && d < 166275.0, "{d}");
        assert_eq!(distance(p[0], p[1], p[0], p[1]), 0.0);
    }

    #[test]
    fn steps_and_neighbours() {
        assert_eq!(estimate_steps_by_radius(0.0, 0.0), 26);
        assert_eq!(estimate_steps_by_radius(1000.0, 0.0), 14);
        assert_eq!(estimate_steps_by_radius(1000.0, 70.0), 13);
        assert_eq!(estimate_steps_by_radius(1000.0, -85.0), 12);
        assert_eq!(estimate_steps_by_radius(1e9, 0.0), 1);
        let h = encode_wgs84(10.0, 10.0, 10).unwrap();
        let n = neighbors(h);
        let a = decode(h).unwrap();
        let east = decode(n.east).unwrap();
        let north = decode(n.north).unwrap();
        assert_eq!(east.longitude.min, a.longitude.max);
        assert_eq!(north.latitude.min, a.latitude.max);
        assert_eq!(east.latitude, a.latitude);
    }

    #[test]
    fn box_search_keeps_the_box() {
        let s = Shape {
            kind: ShapeKind::Box {
                width: 400.0,
                height: 400.0,
            },
            xy: [15.0, 37.0],
            conversion: 1000.0,
        };
        let inside = s.distance_if_within([15.5, 37.5]).unwrap();
        assert!(inside > 0.0);
        assert!(s.distance_if_within([20.0, 37.0]).is_none());
        let boxes = s.search_boxes();
        assert!(!boxes[0].is_zero());
    }
}
