//! The leak guard: after rendering, every public output file is searched for what identifies a
//! private item, and the build **fails** naming the file if one appears. It catches custom
//! themes that list every dataset, and private images reused as public ones (by content hash).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use super::{Files, Source};

/// What identifies one private item in text.
#[derive(Debug, Clone)]
pub struct PrivateItem {
    /// How to name the item in an error, e.g. "private dataset `foo`".
    pub label: String,
    /// Its identifying strings: slug, display name, distinctive description text, private-only
    /// tags, media hashes. Each is searched for in public files.
    pub needles: Vec<Needle>,
}

/// One identifying string and what it is (for the error message).
#[derive(Debug, Clone)]
pub struct Needle {
    /// The text searched for (case-insensitively).
    pub text: String,
    /// What it is: "slug", "display name", "description", "tag", "image".
    pub kind: &'static str,
    /// Whether a match must stand as a whole word (not inside `[a-z0-9-]`).
    pub whole_word: bool,
}

/// The compiled search over all private items' needles.
pub struct LeakGuard {
    matcher: Option<AhoCorasick>,
    owners: Vec<(usize, usize)>,
    items: Vec<PrivateItem>,
}

/// Minimum length of a needle; shorter strings are too common to mean anything.
const MIN_NEEDLE: usize = 4;

impl LeakGuard {
    /// Builds the guard. `public_text` is everything public items say (names, descriptions,
    /// tags, site text): a needle found there is shared with public items, so it is no leak.
    pub fn new(items: Vec<PrivateItem>, public_text: &str) -> LeakGuard {
        let public_lower = public_text.to_lowercase();
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (i, item) in items.iter().enumerate() {
            for (j, needle) in item.needles.iter().enumerate() {
                let text = needle.text.trim().to_lowercase();
                if text.chars().count() < MIN_NEEDLE
                    || contains_word(&public_lower, &text, needle.whole_word)
                {
                    continue;
                }
                patterns.push(text);
                owners.push((i, j));
            }
        }
        let matcher = (!patterns.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(&patterns)
                .expect("leak patterns compile")
        });
        LeakGuard {
            matcher,
            owners,
            items,
        }
    }

    /// Checks the public files of `files` (everything outside `private/` and the edge module)
    /// and returns one message per leaking file.
    pub fn check(&self, files: &Files) -> Vec<String> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let mut problems = Vec::new();
        for (path, source) in files {
            if path.starts_with("private/") || path == "_worker.js" {
                continue;
            }
            // A file's address matters too: a private image's hash as a public media folder.
            if let Some((i, j)) = self.first_hit(matcher, path) {
                let needle = &self.items[i].needles[j];
                problems.push(format!(
                    "{path}: the file's address contains the {} of {}; a private item is published as a public one",
                    needle.kind, self.items[i].label
                ));
                continue;
            }
            let Source::Bytes(bytes) = source else {
                continue;
            };
            if !is_text(path) {
                continue;
            }
            if let Some((i, j)) = self.first_hit(matcher, &normalise(bytes)) {
                let needle = &self.items[i].needles[j];
                problems.push(format!(
                    "{path}: contains the {} of {} (\"{}\"); a template or a public descriptor exposes a private item: remove it from the theme or the public text",
                    needle.kind,
                    self.items[i].label,
                    shorten(&needle.text)
                ));
            }
        }
        problems
    }

    fn first_hit(&self, matcher: &AhoCorasick, text: &str) -> Option<(usize, usize)> {
        matcher
            .find_overlapping_iter(text.as_bytes())
            .find_map(|hit| {
                let (i, j) = self.owners[hit.pattern().as_usize()];
                let needle = &self.items[i].needles[j];
                (!needle.whole_word || word_bounded(text.as_bytes(), hit.start(), hit.end()))
                    .then_some((i, j))
            })
    }
}

fn is_text(path: &str) -> bool {
    let ext = path.rsplit('.').next().unwrap_or("");
    matches!(
        ext,
        "html" | "htm" | "xml" | "json" | "txt" | "js" | "css" | "svg" | "dzi" | "md"
    )
}

/// Collapses whitespace and decodes the entities templates produce, so a name that was
/// escaped or re-wrapped by markdown is still found.
fn normalise(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let mut rest = &text[..];
    while let Some(c) = rest.chars().next() {
        if c == '&' {
            if let Some((decoded, len)) = entity(rest) {
                out.push(decoded);
                rest = &rest[len..];
                space = false;
                continue;
            }
        }
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn entity(s: &str) -> Option<(char, usize)> {
    let end = s[..s.len().min(12)].find(';')?;
    let name = &s[1..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

fn word_bounded(hay: &[u8], start: usize, end: usize) -> bool {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    (start == 0 || !is_word(hay[start - 1])) && (end == hay.len() || !is_word(hay[end]))
}

fn contains_word(hay: &str, needle: &str, whole_word: bool) -> bool {
    hay.match_indices(needle)
        .any(|(i, m)| !whole_word || word_bounded(hay.as_bytes(), i, i + m.len()))
}

fn shorten(s: &str) -> String {
    let s = s.trim();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(public_text: &str) -> LeakGuard {
        LeakGuard::new(
            vec![PrivateItem {
                label: "private dataset `secret-mouse`".into(),
                needles: vec![
                    Needle {
                        text: "secret-mouse".into(),
                        kind: "slug",
                        whole_word: true,
                    },
                    Needle {
                        text: "Hidden Cortex Volume".into(),
                        kind: "display name",
                        whole_word: false,
                    },
                    Needle {
                        text: "mouse".into(),
                        kind: "tag",
                        whole_word: true,
                    },
                ],
            }],
            public_text,
        )
    }

    fn page(path: &str, body: &str) -> Files {
        let mut f = Files::new();
        f.insert(path.into(), Source::Bytes(body.as_bytes().to_vec()));
        f
    }

    #[test]
    fn finds_escaped_and_rewrapped_names() {
        let g = guard("");
        let leaks = g.check(&page("index.html", "<li>Hidden\n  Cortex&#32;Volume</li>"));
        assert_eq!(leaks.len(), 1, "{leaks:?}");
        assert!(leaks[0].starts_with("index.html: contains the display name"));
    }

    #[test]
    fn shared_words_and_private_files_are_no_leak() {
        let g = guard("a public mouse dataset");
        assert!(g.check(&page("index.html", "mouse")).is_empty());
        assert!(g
            .check(&page(
                "private/secret-mouse/index.html",
                "Hidden Cortex Volume"
            ))
            .is_empty());
        assert!(g
            .check(&page("index.html", "not-secret-mouse-at-all"))
            .is_empty());
        assert_eq!(g.check(&page("feed.xml", "/secret-mouse/")).len(), 1);
    }
}
