//! LZF, the compression Redis uses for RDB strings and quicklist nodes: a literal run
//! (`000LLLLL` + L+1 bytes) or a back reference (`LLLooooo [LLLLLLLL] oooooooo`, length L+2,
//! offset o+1). The compressor makes the same choices as the liblzf Redis bundles (HLOG 16,
//! VERY_FAST, its 4-byte rolling hash), so our RDB files and DUMP payloads are byte-identical
//! to Redis's.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// liblzf's `IDX` (the VERY_FAST variant) of the rolling hash value.
#[inline]
fn idx(h: u32) -> usize {
    ((h >> (24 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// Compress `input` into at most `out_len` bytes; `None` when it does not fit (or the input
/// is empty), like `lzf_compress` returning 0.
pub fn compress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let n = input.len();
    if n == 0 || out_len == 0 {
        return None;
    }
    // Positions + 1 (0: empty slot), as liblzf keeps pointers in its table.
    let mut htab = vec![0u32; HSIZE];
    let mut out: Vec<u8> = Vec::with_capacity(out_len.min(n + n / 16 + 64));
    // `op` is out.len(); the pending literal run's header sits at op - lit - 1.
    let mut lit = 0usize;
    out.push(0); // start run
    let mut ip = 0usize;
    let mut hval: u32 = if n >= 2 {
        (u32::from(input[0]) << 8) | u32::from(input[1])
    } else {
        0
    };
    while n >= 3 && ip < n - 2 {
        hval = (hval << 8) | u32::from(input[ip + 2]);
        let slot = idx(hval);
        let r = htab[slot] as usize; // 0 = none, else position + 1
        htab[slot] = ip as u32 + 1;
        let matched = r > 1 // liblzf requires ref > in_data: position 0 never matches
            && ip - (r - 1) - 1 < MAX_OFF
            && input[r - 1 + 2] == input[ip + 2]
            && input[r - 1] == input[ip]
            && input[r] == input[ip + 1];
        if matched {
            let rp = r - 1;
            let off = ip - rp - 1;
            let mut len = 2usize;
            let maxlen = (n - ip - len).min(MAX_REF);
            let op = out.len();
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop run
            if lit == 0 {
                out.pop(); // undo run if length is zero
            }
            loop {
                len += 1;
                if !(len < maxlen && input[rp + len] == input[ip + len]) {
                    break;
                }
            }
            len -= 2; // octets - 1
            ip += 1;
            if len < 7 {
                out.push(((off >> 8) + (len << 5)) as u8);
            } else {
                out.push(((off >> 8) + (7 << 5)) as u8);
                out.push((len - 7) as u8);
            }
            out.push(off as u8);
            lit = 0;
            out.push(0); // start run
            ip += len + 1;
            if ip >= n - 2 {
                break;
            }
            ip -= 2;
            hval = (u32::from(input[ip]) << 8) | u32::from(input[ip + 1]);
            hval = (hval << 8) | u32::from(input[ip + 2]);
            htab[idx(hval)] = ip as u32 + 1;
            ip += 1;
            hval = (hval << 8) | u32::from(input[ip + 2]);
            htab[idx(hval)] = ip as u32 + 1;
            ip += 1;
        } else {
            if out.len() >= out_len {
                return None;
            }
            lit += 1;
            out.push(input[ip]);
            ip += 1;
            if lit == MAX_LIT {
                let op = out.len();
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                out.push(0);
            }
        }
    }
    if out.len() + 3 > out_len {
        return None;
    }
    while ip < n {
        lit += 1;
        out.push(input[ip]);
        ip += 1;
        if lit == MAX_LIT {
            let op = out.len();
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            out.push(0);
        }
    }
    let op = out.len();
    out[op - lit - 1] = (lit as u8).wrapping_sub(1); // end run
    if lit == 0 {
        out.pop();
    }
    Some(out)
}

/// Decompress `input` into exactly `out_len` bytes; `None` on any malformed input.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut ip = 0;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if ip + n > input.len() || out.len() + n > out_len {
                return None;
            }
            out.extend_from_slice(&input[ip..ip + n]);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip)? as usize;
                ip += 1;
            }
            let back = ((ctrl & 0x1f) << 8) + *input.get(ip)? as usize + 1;
            ip += 1;
            let len = len + 2;
            if back > out.len() || out.len() + len > out_len {
                return None;
            }
            let start = out.len() - back;
            for i in 0..len {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn literal_and_backref() {
        // "abcabcabc": literal "abc" then a back reference of length 6 at offset 3.
        let input = [2, b'a', b'b', b'c', (4 << 5) as u8, 2];
        assert_eq!(super::decompress(&input, 9).unwrap(), b"abcabcabc");
        assert!(super::decompress(&input, 10).is_none());
        assert!(super::decompress(&[0xff], 3).is_none());
    }

    #[test]
    fn compress_round_trips() {
        let mut samples: Vec<Vec<u8>> = vec![
            b"abcabcabcabcabcabcabcabcabcabcabcabcabcabc".to_vec(),
            vec![b'x'; 100_000],
            (0..5000u32)
                .flat_map(|i| i.to_string().into_bytes())
                .collect(),
        ];
        let mut x = 12345u64;
        samples.push(
            (0..3000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x % 4) as u8 + b'a'
                })
                .collect(),
        );
        for s in samples {
            let c = super::compress(&s, s.len()).expect("compressible");
            assert!(c.len() < s.len());
            assert_eq!(super::decompress(&c, s.len()).unwrap(), s);
        }
        assert!(super::compress(b"abcdefgh", 8).is_none());
    }

    /// Test data from a small LCG: x = x*1103515245+12345 mod 2^31, byte (x>>16) % k.
    fn sample(mut x: u64, n: usize, k: u64) -> Vec<u8> {
        (0..n)
            .map(|_| {
                x = (x * 1103515245 + 12345) % (1 << 31);
                ((x >> 16) % k) as u8
            })
            .collect()
    }

    #[test]
    fn compress_is_byte_identical_to_liblzf() {
        // lzf_compress(sample(7, 300, 5), 300, out, 296) from Redis 7.0.15's lzf_c.c.
        let want = "0f04010304010004000003030300040402400a0a02020403010404030400034001010200200f201f03000101012012200c20010001203101020420250402010103032037000220430700040203000200012014030204040120440002402400034060204f201b030301020220260001402720462021205220560303000001202a40442017201500012022201d206220772022201300032052201820202069401c2050010001204e400c20bc400920b8209f200900036040802020a1204d000240e9201040ad20620000204820c220be00042051200820ca40fc2056400320182058401b204c206920b90003";
        let got = super::compress(&sample(7, 300, 5), 296).unwrap();
        let hex: String = got.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, want);
    }

    /// Compare against a case file written by a driver around Redis's lzf_c.c: records of
    /// u32 LE input length, out_len, result length (0: did not fit), then input and result.
    /// `LZF_CASES=/path cargo test --release lzf -- --ignored`.
    #[test]
    #[ignore]
    fn compress_matches_case_file() {
        let Ok(path) = std::env::var("LZF_CASES") else {
            return;
        };
        let data = std::fs::read(path).unwrap();
        let (mut at, mut cases) = (0, 0);
        let u32_at = |i: usize| u32::from_le_bytes(data[i..i + 4].try_into().unwrap()) as usize;
        while at < data.len() {
            let (n, ol, cl) = (u32_at(at), u32_at(at + 4), u32_at(at + 8));
            at += 12;
            let input = &data[at..at + n];
            let want = &data[at + n..at + n + cl];
            at += n + cl;
            let got = super::compress(input, ol).unwrap_or_default();
            assert_eq!(got, want, "case {cases}: n={n} out_len={ol}");
            cases += 1;
        }
        assert!(cases > 0);
    }
}
