//! A 64-byte line as bytes, as the 32-bit words a wide port carries, and as a short text.

/// Little-endian 32-bit words of a line, as `Model::poke_wide` takes them.
pub fn words(l: &[u8; 64]) -> [u32; 16] {
    std::array::from_fn(|i| u32::from_le_bytes(l[i * 4..i * 4 + 4].try_into().unwrap()))
}

/// The bytes of a line read with `Model::peek_wide`.
pub fn bytes(w: &[u32; 16]) -> [u8; 64] {
    let mut l = [0u8; 64];
    for (i, x) in w.iter().enumerate() {
        l[i * 4..i * 4 + 4].copy_from_slice(&x.to_le_bytes());
    }
    l
}

/// "zero line", or the first bytes in hex, for reports.
pub fn short(l: &[u8; 64]) -> String {
    if l.iter().all(|&b| b == 0) {
        "zero line".into()
    } else {
        format!(
            "{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}..",
            l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7]
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_and_bytes_round_trip() {
        let l: [u8; 64] = std::array::from_fn(|i| i as u8 * 3);
        assert_eq!(super::bytes(&super::words(&l)), l);
        assert_eq!(super::words(&l)[1], u32::from_le_bytes([12, 15, 18, 21]));
    }
}
