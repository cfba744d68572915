//! The dataset digest of DEBUG DIGEST / DIGEST-VALUE, computed exactly as Redis does so two
//! servers holding the same data print the same digest: SHA1-based `mix` for ordered data and
//! `xor` for unordered data (set members, hash fields, keys).

use sha1::{Digest as _, Sha1};

/// A 20-byte digest.
pub type Digest20 = [u8; 20];

/// XOR the SHA1 of `data` into `digest` (order-independent).
pub fn xor_digest(digest: &mut Digest20, data: &[u8]) {
    let h = Sha1::digest(data);
    for (d, x) in digest.iter_mut().zip(h.iter()) {
        *d ^= x;
    }
}

/// XOR `data` in, then replace the digest by its SHA1 (order-dependent).
pub fn mix_digest(digest: &mut Digest20, data: &[u8]) {
    xor_digest(digest, data);
    let h = Sha1::digest(&digest[..]);
    digest.copy_from_slice(&h);
}

/// The SHA1 of `data` in lower-case hex (script ids, redis.sha1hex).
pub fn sha1_hex(data: &[u8]) -> String {
    let h: Digest20 = Sha1::digest(data).into();
    hex(&h)
}

/// Lower-case hex of a digest.
pub fn hex(d: &Digest20) -> String {
    d.iter().map(|b| format!("{:02x}", b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_order_dependent_xor_is_not() {
        let mut a = [0u8; 20];
        let mut b = [0u8; 20];
        mix_digest(&mut a, b"x");
        mix_digest(&mut a, b"y");
        mix_digest(&mut b, b"y");
        mix_digest(&mut b, b"x");
        assert_ne!(a, b);
        let mut c = [0u8; 20];
        let mut d = [0u8; 20];
        xor_digest(&mut c, b"x");
        xor_digest(&mut c, b"y");
        xor_digest(&mut d, b"y");
        xor_digest(&mut d, b"x");
        assert_eq!(c, d);
    }
}
