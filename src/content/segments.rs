//! A segmentation layer's `segments.csv`: one segment a row, `id,name[,colour]`, read with the
//! `csv` crate (quoting, embedded commas, CRLF), checked row by row with `file:line` messages.
//!
//! A first row whose id field reads `id` is a header and skipped; rows starting with `#` are
//! comments. Ids are the label values of the segment's pixels: 1 ..= 2^32 − 1 (0 is the
//! background, which has no segment). A colour is `#rrggbb`.

use std::path::Path;

use super::{Diagnostic, Segment};

/// Files larger than this are refused before parsing (a million named segments fit).
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Reads `path` into its segments sorted by id; every bad row is reported.
pub fn parse_file(path: &Path) -> Result<Vec<Segment>, Vec<Diagnostic>> {
    let one = |message: String| vec![Diagnostic::new(path, message)];
    let meta = std::fs::metadata(path).map_err(|e| one(format!("cannot read: {e}")))?;
    if meta.len() > MAX_BYTES {
        return Err(one(format!(
            "segments file is {} MB, over the limit of 64 MB",
            meta.len() / 1_000_000
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| one(format!("cannot read: {e}")))?;
    parse(path, &bytes)
}

/// [`parse_file`] for bytes already read; `path` names them in messages.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Segment>, Vec<Diagnostic>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut problems = Vec::new();
    let mut segments: Vec<(Segment, usize)> = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(1, |p| p.line() as usize);
                let problem = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => {
                        "the row is not UTF-8 text; save the file as UTF-8".to_string()
                    }
                    _ => format!("not a CSV row ({e})"),
                };
                problems.push(Diagnostic::at(path, line, 1, problem));
                continue;
            }
        };
        let line = record.position().map_or(index + 1, |p| p.line() as usize);
        let mut bad = |message: String| problems.push(Diagnostic::at(path, line, 1, message));
        let field = |i: usize| record.get(i).unwrap_or("");
        if index == 0 && field(0).eq_ignore_ascii_case("id") {
            continue;
        }
        if record.len() < 2 || record.len() > 3 {
            bad(format!(
                "a row has 2 or 3 fields, `id,name[,colour]`; this one has {}",
                record.len()
            ));
            continue;
        }
        let id = match field(0).parse::<u64>() {
            Ok(0) => {
                bad("id 0 is the background (pixels in no segment); segments start at 1".into());
                continue;
            }
            Ok(id) if id <= u64::from(u32::MAX) => id as u32,
            _ => {
                bad(format!(
                    "id '{}' is not a label value: a whole number from 1 to 4294967295",
                    field(0)
                ));
                continue;
            }
        };
        let name = field(1).to_string();
        if name.is_empty() {
            bad(format!("segment {id} has an empty name"));
            continue;
        }
        let colour = match field(2) {
            "" => None,
            c => match parse_colour(c) {
                Some(c) => Some(c),
                None => {
                    bad(format!(
                        "colour '{c}' of segment {id} is not a colour like #1f77b4"
                    ));
                    continue;
                }
            },
        };
        if let Some((_, first)) = segments.iter().find(|(s, _)| s.id == id) {
            bad(format!(
                "segment id {id} is listed twice (first on line {first})"
            ));
            continue;
        }
        segments.push((Segment { id, name, colour }, line));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut segments: Vec<Segment> = segments.into_iter().map(|(s, _)| s).collect();
    segments.sort_by_key(|s| s.id);
    Ok(segments)
}

/// `#rrggbb` (either case, `#` required) as lowercase.
fn parse_colour(text: &str) -> Option<String> {
    let hex = text.strip_prefix('#')?;
    (hex.len() == 6 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("#{}", hex.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(result: Result<Vec<Segment>, Vec<Diagnostic>>) -> Vec<String> {
        result.unwrap_err().iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn reads_rows_with_header_quotes_and_colours() {
        let csv = "id,name,colour\n# a comment\n7,\"cell, large\",#AABBCC\r\n4294967295,last\n";
        let s = parse(Path::new("s.csv"), csv.as_bytes()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].name, "cell, large");
        assert_eq!(s[0].colour.as_deref(), Some("#aabbcc"));
        assert_eq!((s[1].id, s[1].colour.as_ref()), (u32::MAX, None));
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let csv = "1,a\n0,bg\n4294967296,big\n1,again\n2,b,red\n3\n";
        let found = lines(parse(Path::new("s.csv"), csv.as_bytes()));
        assert_eq!(found.len(), 5, "{found:?}");
        assert!(found[0].starts_with("s.csv:2:1: id 0 is the background"));
        assert!(found[1].starts_with("s.csv:3:1: id '4294967296'"));
        assert!(found[2].contains("s.csv:4:1: segment id 1 is listed twice (first on line 1)"));
        assert!(found[3].contains("colour 'red'"));
        assert!(found[4].starts_with("s.csv:6:1: a row has 2 or 3 fields"));
    }
}
