//! Hex, the way key ids, share ids and keys are written everywhere (site.yaml, the ledger, the
//! gates' data, messages): a leaf every stage may use, so none reaches into another for it.

/// Bytes as lowercase hex, the way key ids, share ids and keys are written everywhere.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Exactly `2 * N` hex digits (either case) to bytes; `None` for anything else.
pub fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
