//! LZF, the compression Redis uses for RDB strings and quicklist nodes: a literal run
//! (`000LLLLL` + L+1 bytes) or a back reference (`LLLooooo [LLLLLLLL] oooooooo`, length L+2,
//! offset o+1). The compressor is liblzf's greedy hash-chain-free algorithm; its output need
//! not be byte-identical to Redis's, only valid LZF.

const HLOG: u32 = 14;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

#[inline]
fn hash3(b: &[u8], i: usize) -> usize {
    let v = (u32::from(b[i]) << 16) | (u32::from(b[i + 1]) << 8) | u32::from(b[i + 2]);
    (v.wrapping_mul(2654435761) >> (32 - HLOG)) as usize
}

/// Compress `input`; `None` when the result would not be smaller than `max_out` bytes (or the
/// input is empty), like `lzf_compress` returning 0.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    let n = input.len();
    if n == 0 {
        return None;
    }
    let mut htab = vec![usize::MAX; 1 << HLOG];
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(n + n / 16 + 64));
    // `lit_at` is the index of the pending literal run's header byte.
    let mut lit_at = 0;
    let mut lit = 0usize;
    out.push(0);
    let mut ip = 0;
    while ip + 2 < n {
        let h = hash3(input, ip);
        let r = htab[h];
        htab[h] = ip;
        if r != usize::MAX && r < ip && ip - r - 1 < MAX_OFF && input[r..r + 3] == input[ip..ip + 3]
        {
            let off = ip - r - 1;
            let maxlen = (n - ip - 2).min(MAX_REF);
            let mut len = 2;
            loop {
                len += 1;
                if !(len < maxlen && input[r + len] == input[ip + len]) {
                    break;
                }
            }
            // Close the literal run (drop its header if empty).
            if lit == 0 {
                out.pop();
            } else {
                out[lit_at] = (lit - 1) as u8;
            }
            let l = len - 2;
            if l < 7 {
                out.push(((off >> 8) + (l << 5)) as u8);
            } else {
                out.push(((off >> 8) + (7 << 5)) as u8);
                out.push((l - 7) as u8);
            }
            out.push(off as u8);
            lit = 0;
            lit_at = out.len();
            out.push(0);
            ip += len;
            if out.len() >= max_out {
                return None;
            }
            // Hash the positions inside the match so later data can refer to them.
            let mut k = ip.saturating_sub(len - 1);
            while k < ip && k + 2 < n {
                htab[hash3(input, k)] = k;
                k += 1;
            }
        } else {
            lit += 1;
            out.push(input[ip]);
            ip += 1;
            if lit == MAX_LIT {
                out[lit_at] = (MAX_LIT - 1) as u8;
                lit = 0;
                lit_at = out.len();
                out.push(0);
            }
        }
        if out.len() >= max_out {
            return None;
        }
    }
    while ip < n {
        lit += 1;
        out.push(input[ip]);
        ip += 1;
        if lit == MAX_LIT {
            out[lit_at] = (MAX_LIT - 1) as u8;
            lit = 0;
            lit_at = out.len();
            out.push(0);
        }
    }
    if lit == 0 {
        out.pop();
    } else {
        out[lit_at] = (lit - 1) as u8;
    }
    (out.len() < max_out).then_some(out)
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
}
