//! The leak guard: after rendering, every public output file is searched for what identifies a
//! private item, and the build **fails** naming the file if one appears. It catches custom
//! themes that list every dataset, private images reused as public ones (by content hash), and
//! a private item's file copied into a public dataset's `files/` ([`copies`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use rayon::prelude::*;

use super::{text_of, Files, Source};

pub mod needles;

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

/// Minimum length of a needle found inside words; shorter strings are too common to mean
/// anything there. Whole-word needles (slugs, names, tags) are searched at any length: a slug
/// `a` or `ab` is a word in `private/ab/` and in text, and skipping it hid such datasets.
const MIN_NEEDLE: usize = 4;

impl LeakGuard {
    /// Builds the guard. `public_text` is everything public items say (names, descriptions,
    /// tags, site text): a needle found there is shared with public items, so it is no leak.
    /// The matcher is aho-corasick's own choice (an NFA for many needles), never a forced DFA:
    /// `serve` builds a new guard whenever public text changes, and on a site of long private
    /// descriptions the DFA took ~0.5 s of each such rebuild to compile (RESULTS.md, issue 23).
    pub fn new(items: Vec<PrivateItem>, public_text: &str) -> LeakGuard {
        let public_lower = public_text.to_lowercase();
        let mut candidates = Vec::new();
        let mut candidate_owners = Vec::new();
        for (i, item) in items.iter().enumerate() {
            for (j, needle) in item.needles.iter().enumerate() {
                let text = needle.text.trim().to_lowercase();
                let long = text.chars().count() >= MIN_NEEDLE;
                if long || (needle.whole_word && !text.is_empty()) {
                    candidates.push(text);
                    candidate_owners.push((i, j));
                }
            }
        }
        let shared = shared_with_public(&public_lower, &candidates, |k| {
            let (i, j) = candidate_owners[k];
            items[i].needles[j].whole_word
        });
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for ((text, owner), shared) in candidates.into_iter().zip(candidate_owners).zip(shared) {
            if !shared {
                patterns.push(text);
                owners.push(owner);
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
    /// for which `which(path)` holds, and returns one message per leaking file, in path order.
    /// Files are checked in parallel: with thousands of pages this scan was the longest serial
    /// step of a rebuild.
    pub fn check(&self, files: &Files, which: &(dyn Fn(&str) -> bool + Sync)) -> Vec<String> {
        files
            .par_iter()
            .filter(|(path, _)| which(path))
            .filter_map(|(path, source)| self.check_file(path, source))
            .collect()
    }

    /// A digest of everything the guard searches for: a file that passed a guard with the same
    /// digest and has not changed since need not be read again.
    pub fn digest(&self) -> String {
        let mut hasher = blake3::Hasher::new();
        for &(i, j) in &self.owners {
            let needle = &self.items[i].needles[j];
            hasher.update(&[u8::from(needle.whole_word)]);
            hasher.update(&(needle.text.len() as u64).to_le_bytes());
            hasher.update(needle.text.to_lowercase().as_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }

    fn check_file(&self, path: &str, source: &Source) -> Option<String> {
        if path == "_worker.js" {
            return None;
        }
        if path.starts_with("private/") {
            // A private file is sealed, or a slot (sealed with its link's key), or one of the
            // generic files a host without a gate needs, which are searched like public ones.
            if super::seal::is_sealed(source) || super::seal::is_slot(path) {
                return None;
            }
            if !super::seal::is_generic(path) {
                return Some(format!(
                    "{path}: a private file would be published unsealed; this is a bug in vitrine, please report it"
                ));
            }
            let bytes = text_of(path, source)?;
            let (i, j) = self.first_hit(self.matcher.as_ref()?, &normalise(&bytes))?;
            let needle = &self.items[i].needles[j];
            return Some(format!(
                "{path}: the page that opens private items without a gate contains the {} of {}; it must be the same for every one: remove it from the theme's gate.html",
                needle.kind, self.items[i].label
            ));
        }
        let matcher = self.matcher.as_ref()?;
        // A file's address matters too: a private image's hash as a public media folder.
        if let Some((i, j)) = self.first_hit(matcher, path) {
            let needle = &self.items[i].needles[j];
            return Some(format!(
                "{path}: the file's address contains the {} of {}; a private item is published as a public one",
                needle.kind, self.items[i].label
            ));
        }
        let bytes = text_of(path, source)?;
        let (i, j) = self.first_hit(matcher, &normalise(&bytes))?;
        let needle = &self.items[i].needles[j];
        Some(format!(
            "{path}: contains the {} of {} (\"{}\"); a template or a public descriptor exposes a private item: remove it from the theme or the public text",
            needle.kind,
            self.items[i].label,
            shorten(&needle.text)
        ))
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

/// Files, each with a name: its output path, or what it is in a message.
pub type NamedFiles = Vec<(String, PathBuf)>;

/// The public files (output path, source) that are byte-for-byte copies of a private item's
/// file (what it is, source), one message each. Sizes are compared first, so only files of
/// equal length are read: public attachments are few, private images many and large.
pub fn copies(public: &NamedFiles, private: &NamedFiles) -> Vec<String> {
    let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).ok();
    let mut by_size: HashMap<u64, Vec<&(String, PathBuf)>> = HashMap::new();
    for item in private {
        if let Some(len) = size(&item.1) {
            by_size.entry(len).or_default().push(item);
        }
    }
    let hash = |path: &Path| std::fs::read(path).ok().map(|b| blake3::hash(&b));
    let mut found = Vec::new();
    for (out, source) in public {
        let Some(candidates) = size(source).and_then(|len| by_size.get(&len)) else {
            continue;
        };
        let Some(mine) = hash(source) else { continue };
        if let Some((what, _)) = candidates.iter().find(|(_, p)| hash(p) == Some(mine)) {
            found.push(format!(
                "{out}: has the same bytes as {what}; a private file is published as a public one: remove the copy from the public dataset or make the private one public"
            ));
        }
    }
    found
}

/// Collapses whitespace and decodes the entities templates produce, so a name that was
/// escaped or re-wrapped by markdown is still found.
fn normalise(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let mut rest = &text[..];
    while !rest.is_empty() {
        // Runs of plain ASCII are copied whole; only `&`, whitespace and non-ASCII need a look.
        let plain = rest
            .bytes()
            .position(|b| b == b'&' || b >= 0x80 || (b as char).is_whitespace())
            .unwrap_or(rest.len());
        if plain > 0 {
            out.push_str(&rest[..plain]);
            rest = &rest[plain..];
            space = false;
            continue;
        }
        let c = rest.chars().next().expect("rest is not empty");
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
    // Bytes, not a str slice: the 12th byte may fall inside a multi-byte character.
    let end = s.as_bytes()[..s.len().min(12)]
        .iter()
        .position(|&b| b == b';')?;
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

/// For each needle, whether `hay` contains it (as a whole word where `whole_word(k)` says so),
/// among the non-overlapping occurrences `str::match_indices` would see. One automaton pass
/// over `hay` for all needles: **a scan per needle was quadratic** in the number of datasets.
fn shared_with_public(
    hay: &str,
    needles: &[String],
    whole_word: impl Fn(usize) -> bool,
) -> Vec<bool> {
    let mut shared = vec![false; needles.len()];
    if needles.is_empty() {
        return shared;
    }
    let matcher = AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .build(needles)
        .expect("leak patterns compile");
    // Overlapping matches come ordered by end, so for one needle (one length) also by start;
    // skipping those that overlap the last one taken keeps the leftmost non-overlapping ones.
    let mut next_start = vec![0usize; needles.len()];
    for hit in matcher.find_overlapping_iter(hay.as_bytes()) {
        let k = hit.pattern().as_usize();
        if shared[k] || hit.start() < next_start[k] {
            continue;
        }
        next_start[k] = hit.end();
        shared[k] = !whole_word(k) || word_bounded(hay.as_bytes(), hit.start(), hit.end());
    }
    shared
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

    #[test]
    fn an_ampersand_before_multibyte_text_is_no_entity_and_no_panic() {
        // A `&` whose 12-byte look-ahead ends inside a character (an attachment's raw bytes).
        let text = "&\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9};";
        assert_eq!(normalise(text.as_bytes()), text);
    }

    #[test]
    fn normalise_collapses_whitespace_and_decodes_entities() {
        let text = "Fly\u{a0}&amp;  <b>brain</b>\r\n\tatlas &#x2014; caf\u{e9}\u{2003}&bogus;";
        assert_eq!(
            normalise(text.as_bytes()),
            "Fly & <b>brain</b> atlas \u{2014} caf\u{e9} &bogus;"
        );
    }

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

    fn all(_: &str) -> bool {
        true
    }

    fn page(path: &str, body: &str) -> Files {
        let mut f = Files::new();
        f.insert(path.into(), Source::Bytes(body.as_bytes().to_vec()));
        f
    }

    #[test]
    fn finds_escaped_and_rewrapped_names() {
        let g = guard("");
        let leaks = g.check(
            &page("index.html", "<li>Hidden\n  Cortex&#32;Volume</li>"),
            &all,
        );
        assert_eq!(leaks.len(), 1, "{leaks:?}");
        assert!(leaks[0].starts_with("index.html: contains the display name"));
        let word = page("index.html", "not-secret-mouse-at-all, a secret-mouse.");
        assert_eq!(g.check(&word, &all).len(), 1);
    }

    #[test]
    fn a_needle_is_shared_only_where_public_text_has_it_as_a_word() {
        let hay = "dataset number 50, not-secret-mouse; ab ab ab";
        let needles: Vec<String> = [
            "dataset number 5",
            "dataset number 50",
            "secret-mouse",
            "not-secret",
            "ab ab",
            "absent",
        ]
        .map(String::from)
        .to_vec();
        let shared = shared_with_public(hay, &needles, |k| k != 3);
        assert_eq!(shared, [false, true, false, true, true, false]);
    }

    #[test]
    fn shared_words_and_private_files_are_no_leak() {
        let g = guard("a public mouse dataset");
        assert!(g.check(&page("index.html", "mouse"), &all).is_empty());
        // A private page is sealed; the same page in plain is refused, and the generic loader
        // at its address is searched like a public page.
        let edge = crate::share::secret::ContentSecret::from_bytes([5; 32]).edge_key();
        let label = edge.label("dataset:secret-mouse", &[]);
        let path = "private/secret-mouse/index.html";
        let sealed = super::super::seal::seal(&edge.content_key(&label), &label, path, b"Hidden");
        let mut files = Files::new();
        files.insert(path.to_string(), Source::Bytes(sealed));
        assert!(g.check(&files, &all).is_empty());
        let plain = page(
            "private/secret-mouse/media/x/tiles.dzi",
            "Hidden Cortex Volume",
        );
        assert!(g.check(&plain, &all)[0].contains("unsealed"));
        let loader = page(path, "This dataset is private");
        assert!(g.check(&loader, &all).is_empty());
        assert_eq!(g.check(&page(path, "see /secret-mouse/"), &all).len(), 1);
        let longer_word = page("index.html", "not-secret-mouse-at-all");
        assert!(g.check(&longer_word, &all).is_empty());
        assert_eq!(g.check(&page("feed.xml", "/secret-mouse/"), &all).len(), 1);
    }

    #[test]
    fn linked_pages_are_read_and_only_the_chosen_files_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let cached = tmp.path().join("page");
        std::fs::write(&cached, "<h1>Hidden Cortex Volume</h1>").unwrap();
        let mut files = Files::new();
        files.insert(
            "datasets/a/index.html".into(),
            Source::Cached(cached.clone()),
        );
        files.insert("datasets/a/thumb.jpg".into(), Source::Cached(cached));
        let g = guard("");
        let leaks = g.check(&files, &all);
        assert_eq!(
            leaks.len(),
            1,
            "a linked page is read, an image is not: {leaks:?}"
        );
        assert!(g
            .check(&files, &|path| path != "datasets/a/index.html")
            .is_empty());
    }

    #[test]
    fn the_digest_changes_with_what_is_searched_for() {
        assert_eq!(guard("").digest(), guard("").digest());
        assert_ne!(guard("").digest(), guard("hidden cortex volume").digest());
    }
}
