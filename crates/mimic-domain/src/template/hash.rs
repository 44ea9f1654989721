//! The deterministic functions whose output users persist, so they must agree with Azure bit
//! for bit:
//!
//! * `uniqueString(a, b, ...)`: the arguments joined with `-`, UTF-8, hashed with ARM's 64-bit
//!   MurmurHash variant (two 32-bit lanes with MurmurHash3's x86 constants), then the 64 bits
//!   written most-significant first as 13 base-32 characters `a-z2-7`. Checked against values
//!   Azure returned: `uniqueString('aaa')` = `zavj67f3en4hc`, `('bbb')` = `w5eragfxe33cy`,
//!   `('zzz')` = `cryksdzzzawae`, `('xxx','yyy','zzz')` = `lghi7k5js7itq` (recorded from real
//!   deployments in KingslandConsulting/Kingsland.ArmLinter), and a resource id recorded by
//!   microsoft/commercial-marketplace-offer-deploy's test (`yvjxno3je5on2`).
//! * `guid(a, b, ...)`: a name-based (version 5, SHA-1) UUID of the arguments joined with `-`
//!   in the namespace `11fb06fb-712d-4ddd-98c7-e71bbd588830`, as Bicep's documentation and the
//!   tools that reproduce Bicep's role-assignment names do.

use uuid::Uuid;

const C1: u32 = 0x239b_961b;
const C2: u32 = 0xab0e_9789;

fn fmix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}

fn le(b: &[u8]) -> u32 {
    b.iter().enumerate().fold(0u32, |acc, (i, x)| acc | (u32::from(*x) << (8 * i)))
}

/// ARM's MurmurHash64 (seed 0).
pub fn murmur64(data: &[u8]) -> u64 {
    let (mut h1, mut h2) = (0u32, 0u32);
    let mut chunks = data.chunks_exact(8);
    for block in &mut chunks {
        let mut k1 = le(&block[..4]);
        let mut k2 = le(&block[4..]);
        k1 = k1.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h1 ^= k1;
        h1 = h1.rotate_left(19).wrapping_add(h2).wrapping_mul(5).wrapping_add(0x561c_cd1b);
        k2 = k2.wrapping_mul(C2).rotate_left(17).wrapping_mul(C1);
        h2 ^= k2;
        h2 = h2.rotate_left(13).wrapping_add(h1).wrapping_mul(5).wrapping_add(0x0bca_a747);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let k1 = le(&tail[..tail.len().min(4)]).wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h1 ^= k1;
        if tail.len() > 4 {
            let k2 = le(&tail[4..]).wrapping_mul(C2).rotate_left(17).wrapping_mul(C1);
            h2 ^= k2;
        }
    }
    let len = data.len() as u32;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u64::from(h2) << 32) | u64::from(h1)
}

pub fn unique_string(parts: &[&str]) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut v = murmur64(parts.join("-").as_bytes());
    let mut out = String::with_capacity(13);
    for _ in 0..13 {
        out.push(ALPHABET[(v >> 59) as usize] as char);
        v <<= 5;
    }
    out
}

pub const GUID_NAMESPACE: Uuid = Uuid::from_u128(0x11fb06fb_712d_4ddd_98c7_e71bbd588830);

pub fn guid(parts: &[&str]) -> String {
    let mut input = GUID_NAMESPACE.as_bytes().to_vec();
    input.extend_from_slice(parts.join("-").as_bytes());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &input);
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    Uuid::from_bytes(b).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_string_matches_values_azure_returned() {
        assert_eq!(unique_string(&["aaa"]), "zavj67f3en4hc");
        assert_eq!(unique_string(&["bbb"]), "w5eragfxe33cy");
        assert_eq!(unique_string(&["zzz"]), "cryksdzzzawae");
        assert_eq!(unique_string(&["xxx", "yyy", "zzz"]), "lghi7k5js7itq");
        assert_eq!(
            unique_string(&["/subscriptions/31e9f9a0-9fd2-4294-a0a3-0101246d9700/resourceGroups/rg-modm201-20230913120256/providers/Microsoft.Compute/virtualMachines/bobjacmodm201"]),
            "yvjxno3je5on2"
        );
    }

    #[test]
    fn guid_is_a_version_5_uuid_in_arms_namespace() {
        // RFC 9562 name-based UUID; same as Python's uuid.uuid5(UUID('11fb06fb-...'), 'a-b').
        let g = guid(&["a", "b"]);
        assert_eq!(&g[14..15], "5");
        assert_eq!(g, guid(&["a-b"]));
        assert_ne!(g, guid(&["ab"]));
    }
}
