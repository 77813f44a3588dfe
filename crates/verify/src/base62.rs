//! Fixed-length base62: 93 bytes ⇄ exactly 125 characters of `0-9A-Za-z`.
//!
//! Letters and digits survive line-wrapping and hyphenation in PDFs, and a fixed length with a
//! range check gives every byte string exactly one spelling (no padding rules to get wrong).

use crate::Error;

/// The digits in value order: `0`–`9` are 0–9, `A`–`Z` are 10–35, `a`–`z` are 36–61.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Bytes encoded: the token's size.
pub const BYTES: usize = 93;

/// Characters written: the smallest count with 62^CHARS ≥ 2^(8·BYTES).
pub const CHARS: usize = 125;

/// 32-bit limbs holding 93 bytes, most significant first; the top limb holds only one byte.
const LIMBS: usize = BYTES.div_ceil(4);

/// Writes `bytes`, read as one big-endian number, as 125 base62 digits padded with `0`.
pub fn encode(bytes: &[u8; BYTES]) -> [u8; CHARS] {
    let mut limbs = to_limbs(bytes);
    let mut out = [b'0'; CHARS];
    for slot in out.iter_mut().rev() {
        let mut rem = 0u64;
        for limb in limbs.iter_mut() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 62) as u32;
            rem = cur % 62;
        }
        *slot = ALPHABET[rem as usize];
    }
    out
}

/// Reads exactly 125 base62 characters back into 93 bytes.
///
/// Rejects (as [`Error::Malformed`]) any other length, any character outside the alphabet, and
/// any value of 2^744 or more, so a second spelling of the same bytes never decodes.
pub fn decode(text: &[u8]) -> Result<[u8; BYTES], Error> {
    if text.len() != CHARS {
        return Err(Error::Malformed);
    }
    let mut limbs = [0u32; LIMBS];
    for &c in text {
        let mut carry = u64::from(digit(c).ok_or(Error::Malformed)?);
        for limb in limbs.iter_mut().rev() {
            let t = u64::from(*limb) * 62 + carry;
            *limb = t as u32;
            carry = t >> 32;
        }
        // The value only grows, so crossing 2^744 at any step means it ends there too.
        if carry != 0 || limbs[0] > 0xff {
            return Err(Error::Malformed);
        }
    }
    let mut out = [0u8; BYTES];
    let mut wide = [0u8; LIMBS * 4];
    for (chunk, limb) in wide.chunks_exact_mut(4).zip(limbs) {
        chunk.copy_from_slice(&limb.to_be_bytes());
    }
    out.copy_from_slice(&wide[LIMBS * 4 - BYTES..]);
    Ok(out)
}

/// The value of one base62 character, or `None` outside the alphabet.
fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'Z' => Some(c - b'A' + 10),
        b'a'..=b'z' => Some(c - b'a' + 36),
        _ => None,
    }
}

/// The bytes as big-endian limbs, left-padded with zero bytes.
fn to_limbs(bytes: &[u8; BYTES]) -> [u32; LIMBS] {
    let mut wide = [0u8; LIMBS * 4];
    wide[LIMBS * 4 - BYTES..].copy_from_slice(bytes);
    let mut limbs = [0u32; LIMBS];
    for (limb, chunk) in limbs.iter_mut().zip(wide.chunks_exact(4)) {
        *limb = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    limbs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_edges_and_pattern() {
        let mut patterned = [0u8; BYTES];
        for (i, b) in patterned.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(37).wrapping_add(11);
        }
        for bytes in [[0u8; BYTES], [0xff; BYTES], patterned] {
            let text = encode(&bytes);
            assert_eq!(decode(&text), Ok(bytes));
        }
    }

    #[test]
    fn zero_and_max_have_the_expected_spelling() {
        assert_eq!(encode(&[0; BYTES]), [b'0'; CHARS]);
        let mut one = [0u8; BYTES];
        one[BYTES - 1] = 61;
        assert_eq!(encode(&one)[CHARS - 1], b'z');
        assert!(encode(&one)[..CHARS - 1].iter().all(|&c| c == b'0'));
    }

    #[test]
    fn rejects_values_of_2_pow_744_and_above() {
        // 2^744 - 1 is the largest value; adding one to its spelling must be refused.
        let max = encode(&[0xff; BYTES]);
        let mut next = max;
        let mut i = CHARS - 1;
        loop {
            let d = digit(next[i]).unwrap();
            if d == 61 {
                next[i] = b'0';
                i -= 1;
            } else {
                next[i] = ALPHABET[d as usize + 1];
                break;
            }
        }
        assert_eq!(decode(&next), Err(Error::Malformed));
        assert_eq!(decode(&[b'z'; CHARS]), Err(Error::Malformed));
    }

    #[test]
    fn rejects_bad_lengths_and_characters() {
        let good = encode(&[7; BYTES]);
        assert_eq!(decode(&good[..CHARS - 1]), Err(Error::Malformed));
        assert_eq!(decode(&[]), Err(Error::Malformed));
        for bad in [b'-', b'_', b'.', b'~', b'=', b'+', b'/', b' ', 0xc3] {
            let mut t = good;
            t[40] = bad;
            assert_eq!(decode(&t), Err(Error::Malformed), "character {bad:#x}");
        }
    }
}
