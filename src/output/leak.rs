//! The leak guard: after rendering, every public output file is searched for what identifies a
//! private item, and the build **fails** naming the file if one appears. It catches custom
//! themes that list every dataset, private images reused as public ones (by content hash), and
//! a private item's file copied into a public dataset's `files/` ([`copies`]).

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, Input, MatchKind};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

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

/// The search over every private item's needles, with the ones public text shares left out.
pub struct LeakGuard {
    compiled: Arc<Compiled>,
    /// For each pattern of [`Compiled`], whether public text shares it (then it is no leak).
    shared: Vec<bool>,
    /// [`LeakGuard::digest`].
    digest: String,
}

/// Every private item's needles in one automaton, which finds the ones public text shares. It
/// depends on private items alone, so it is kept while they do not change: an edit of a public
/// descriptor, the common one, compiles nothing (compiling was a third of such a rebuild in
/// `serve` at N=1000, RESULTS.md).
///
/// The automaton holds each needle's first [`PREFIX`] bytes, and a hit is checked against the
/// whole needle where it starts: private descriptions make most of the needles' bytes, and
/// aho-corasick's compile time grows with them (263 KB of needles took 80 ms to compile at
/// N=1000, a fifth of a one-edit CLI build). Matching is exactly as with whole needles.
struct Compiled {
    items: Vec<PrivateItem>,
    /// For each pattern, its item and needle, and its text in lower case.
    owners: Vec<(usize, usize)>,
    patterns: Vec<String>,
    /// Over the distinct prefixes of `patterns`.
    matcher: Option<AhoCorasick>,
    /// For each prefix of `matcher`, the patterns that start with it.
    by_prefix: Vec<Vec<u32>>,
}

/// Bytes of each needle in [`Compiled`]'s automaton: long enough that a hit is rarely not the
/// whole needle, short enough that a site's descriptions do not dominate the automaton.
const PREFIX: usize = 32;

/// What guards are made from, kept between builds (`serve` keeps one for the session): the
/// compiled needles, for each piece of public text (by its hash) the patterns it contains, so
/// a build after one public edit searches only the edited dataset's text. The findings also
/// outlive the process ([`GuardMemory::findings`]): a CLI build at N=1000 spent 20 ms of CPU
/// finding them again in 2 MB of public text.
#[derive(Default)]
pub struct GuardMemory {
    compiled: Option<(blake3::Hash, Arc<Compiled>)>,
    /// The digest of the private items `found` holds patterns of.
    found_for: Option<blake3::Hash>,
    found: HashMap<blake3::Hash, Arc<[u32]>>,
}

/// [`GuardMemory`]'s findings as a file holds them (hashes in hex): which patterns each piece
/// of public text contains, for the private items of digest `needles`.
#[derive(Serialize, Deserialize)]
pub struct Findings {
    needles: String,
    found: Vec<(String, Vec<u32>)>,
}

/// Minimum length of a needle found inside words; shorter strings are too common to mean
/// anything there. Whole-word needles (slugs, names, tags) are searched at any length: a slug
/// `a` or `ab` is a word in `private/ab/` and in text, and skipping it hid such datasets.
const MIN_NEEDLE: usize = 4;

impl GuardMemory {
    /// The guard for `items`. `public` is everything public items say (names, descriptions,
    /// tags, site text), in pieces ([`needles::needles`]): a needle found in one is shared with
    /// public items, so it is no leak.
    pub fn guard(&mut self, items: Vec<PrivateItem>, public: &[String]) -> LeakGuard {
        let digest = items_digest(&items);
        let compiled = match &self.compiled {
            Some((known, compiled)) if *known == digest => compiled.clone(),
            _ => {
                let compiled = Arc::new(Compiled::new(items));
                self.compiled = Some((digest, compiled.clone()));
                compiled
            }
        };
        if self.found_for != Some(digest) {
            self.found.clear();
            self.found_for = Some(digest);
        }
        let patterns = compiled.owners.len();
        let keys: Vec<blake3::Hash> = public.iter().map(|p| blake3::hash(p.as_bytes())).collect();
        let found: Vec<Arc<[u32]>> = public
            .par_iter()
            .zip(&keys)
            .map(|(piece, key)| match self.found.get(key) {
                Some(hits) if hits.iter().all(|&k| (k as usize) < patterns) => hits.clone(),
                _ => compiled.found_in(&piece.to_lowercase()).into(),
            })
            .collect();
        let mut shared = vec![false; compiled.owners.len()];
        for &k in found.iter().flat_map(|hits| hits.iter()) {
            shared[k as usize] = true;
        }
        // Only this build's pieces are kept, so the memory follows the site, not the session.
        self.found = keys.into_iter().zip(found).collect();
        LeakGuard {
            digest: compiled.digest(&shared),
            compiled,
            shared,
        }
    }

    /// The findings, for a later process to start from ([`GuardMemory::with_findings`]).
    pub fn findings(&self) -> Option<Findings> {
        Some(Findings {
            needles: self.found_for?.to_hex().to_string(),
            found: (self.found.iter())
                .map(|(piece, hits)| (piece.to_hex().to_string(), hits.to_vec()))
                .collect(),
        })
    }

    /// A memory that starts from `findings`; they are used only for the same private items
    /// (and the binary that found them, which the caller checks).
    pub fn with_findings(findings: Findings) -> GuardMemory {
        let hash = |hex: &str| blake3::Hash::from_hex(hex).ok();
        GuardMemory {
            compiled: None,
            found_for: hash(&findings.needles),
            found: (findings.found.into_iter())
                .filter_map(|(piece, hits)| Some((hash(&piece)?, hits.into())))
                .collect(),
        }
    }

    /// Whether nothing is kept (a new process).
    pub fn is_empty(&self) -> bool {
        self.found_for.is_none()
    }
}

/// aho-corasick's own choice of automaton (an NFA for many needles), never a forced DFA: on a
/// site of long private descriptions the DFA took ~0.5 s to compile (RESULTS.md).
fn automaton<'p>(patterns: impl Iterator<Item = &'p [u8]>) -> Option<AhoCorasick> {
    let patterns: Vec<&[u8]> = patterns.collect();
    (!patterns.is_empty()).then(|| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .expect("leak patterns compile")
    })
}

impl Compiled {
    fn new(items: Vec<PrivateItem>) -> Compiled {
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (i, item) in items.iter().enumerate() {
            for (j, needle) in item.needles.iter().enumerate() {
                let text = needle.text.trim().to_lowercase();
                let long = text.chars().count() >= MIN_NEEDLE;
                if long || (needle.whole_word && !text.is_empty()) {
                    patterns.push(text);
                    owners.push((i, j));
                }
            }
        }
        let mut prefixes: HashMap<&[u8], u32> = HashMap::new();
        let mut by_prefix: Vec<Vec<u32>> = Vec::new();
        for (k, pattern) in patterns.iter().enumerate() {
            let bytes = pattern.as_bytes();
            let prefix = &bytes[..bytes.len().min(PREFIX)];
            let next = by_prefix.len() as u32;
            let at = *prefixes.entry(prefix).or_insert(next);
            if at == next {
                by_prefix.push(Vec::new());
            }
            by_prefix[at as usize].push(k as u32);
        }
        let mut ordered: Vec<(&[u8], u32)> = prefixes.into_iter().collect();
        ordered.sort_by_key(|&(_, at)| at);
        let matcher = automaton(ordered.into_iter().map(|(prefix, _)| prefix));
        Compiled {
            matcher,
            by_prefix,
            items,
            owners,
            patterns,
        }
    }

    /// Every occurrence in `hay` of every pattern, overlapping ones included, as (pattern,
    /// start, end), in the order of their prefixes' ends; case-insensitive in ASCII.
    /// Only prefixes inside `span` are found; the whole pattern is compared in all of `hay`.
    fn hits<'h>(
        &'h self,
        hay: &'h [u8],
        span: Range<usize>,
    ) -> impl Iterator<Item = (usize, usize, usize)> + 'h {
        self.matcher
            .iter()
            .flat_map(move |m| m.find_overlapping_iter(Input::new(hay).span(span.clone())))
            .flat_map(move |hit| {
                self.by_prefix[hit.pattern().as_usize()]
                    .iter()
                    .filter_map(move |&k| {
                        let pattern = self.patterns[k as usize].as_bytes();
                        let end = hit.start() + pattern.len();
                        let whole = hay
                            .get(hit.start()..end)
                            .is_some_and(|found| found.eq_ignore_ascii_case(pattern));
                        whole.then_some((k as usize, hit.start(), end))
                    })
            })
    }

    /// A digest of the needles public text does not share: what output files are searched for.
    fn digest(&self, shared: &[bool]) -> String {
        let mut hasher = blake3::Hasher::new();
        for k in (0..shared.len()).filter(|&k| !shared[k]) {
            let needle = self.needle(k);
            hasher.update(&[u8::from(needle.whole_word)]);
            hasher.update(&(self.patterns[k].len() as u64).to_le_bytes());
            hasher.update(self.patterns[k].as_bytes());
        }
        hasher.finalize().to_hex().to_string()
    }

    fn needle(&self, pattern: usize) -> &Needle {
        let (i, j) = self.owners[pattern];
        &self.items[i].needles[j]
    }

    /// The patterns `hay` (lower case) contains, as a whole word where the needle must be one,
    /// among the non-overlapping occurrences `str::match_indices` would see. One pass over
    /// `hay` for all needles: **a scan per needle was quadratic** in the number of datasets.
    fn found_in(&self, hay: &str) -> Vec<u32> {
        let mut found = vec![false; self.owners.len()];
        // Overlapping matches come ordered by end, so for one needle (one length) also by
        // start; skipping those that overlap the last one taken keeps the leftmost
        // non-overlapping ones.
        let mut next_start: HashMap<usize, usize> = HashMap::new();
        for (k, start, end) in self.hits(hay.as_bytes(), 0..hay.len()) {
            let next = next_start.entry(k).or_default();
            if found[k] || start < *next {
                continue;
            }
            *next = end;
            found[k] = !self.needle(k).whole_word || word_bounded(hay.as_bytes(), start, end);
        }
        (0..found.len() as u32)
            .filter(|&k| found[k as usize])
            .collect()
    }
}

impl LeakGuard {
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
        self.digest.clone()
    }

    fn check_file(&self, path: &str, source: &Source) -> Option<String> {
        if path == "_worker.js" {
            return None;
        }
        if let Source::Bytes(bytes) = source {
            if crate::render::theme::is_builtin_static(path, bytes) {
                return None;
            }
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
            let (item, needle) = self.first_hit(&normalise(&bytes))?;
            return Some(format!(
                "{path}: the page that opens private items without a gate contains the {} of {}; it must be the same for every one: remove it from the theme's gate.html",
                needle.kind, item.label
            ));
        }
        // A file's address matters too: a private image's hash as a public media folder.
        if let Some((item, needle)) = self.first_hit(path) {
            return Some(format!(
                "{path}: the file's address contains the {} of {}; a private item is published as a public one",
                needle.kind, item.label
            ));
        }
        let bytes = text_of(path, source)?;
        let (item, needle) = self.first_hit(&normalise(&bytes))?;
        Some(format!(
            "{path}: contains the {} of {} (\"{}\"); a template or a public descriptor exposes a private item: remove it from the theme or the public text",
            needle.kind,
            item.label,
            shorten(&needle.text)
        ))
    }

    /// The first needle `text` contains that public text does not share, with its item.
    /// Shared needles are skipped at each hit rather than left out of a second automaton:
    /// compiling that one was a fifth of a one-edit CLI build at N=1000 (RESULTS.md), and the
    /// search is over overlapping matches, so a skipped hit hides no other.
    /// A long text is searched in spans on every core: an edit's largest changed file, the
    /// search index (1 MB at N=1,000), was otherwise its guard's whole time on one core.
    fn first_hit(&self, text: &str) -> Option<(&PrivateItem, &Needle)> {
        let compiled = &*self.compiled;
        let hay = text.as_bytes();
        spans(hay.len()).into_par_iter().find_map_first(|span| {
            compiled.hits(hay, span).find_map(|(k, start, end)| {
                let needle = compiled.needle(k);
                let leak = !self.shared[k] && (!needle.whole_word || word_bounded(hay, start, end));
                leak.then(|| (&compiled.items[compiled.owners[k].0], needle))
            })
        })
    }
}

/// Bytes of text one task searches.
const SPAN: usize = 64 * 1024;

/// `0..len` in spans of [`SPAN`] bytes that overlap by [`PREFIX`]: a prefix found anywhere lies
/// whole inside one of them.
fn spans(len: usize) -> Vec<Range<usize>> {
    (0..len.div_ceil(SPAN).max(1))
        .map(|i| i * SPAN..((i + 1) * SPAN + PREFIX).min(len))
        .collect()
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

/// A digest of what [`Compiled`] is made from.
fn items_digest(items: &[PrivateItem]) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    let mut add = |text: &str| {
        hasher.update(&(text.len() as u64).to_le_bytes());
        hasher.update(text.as_bytes());
    };
    for item in items {
        add(&item.label);
        for needle in &item.needles {
            add(&needle.text);
            add(needle.kind);
            add(if needle.whole_word { "w" } else { "" });
        }
    }
    hasher.finalize()
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
        GuardMemory::default().guard(items(), &[public_text.to_string()])
    }

    fn items() -> Vec<PrivateItem> {
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
        }]
    }

    fn all(_: &str) -> bool {
        true
    }

    #[test]
    fn a_long_file_is_searched_across_its_spans() {
        let g = guard("");
        let name = "Hidden Cortex Volume";
        // The name across each of the first spans' ends, at the end, and at the start.
        for at in [SPAN - 3, 2 * SPAN - name.len() + 1, 3 * SPAN + 7, 0] {
            let mut text = "a".repeat(3 * SPAN + 7 + name.len());
            text.replace_range(at..at + name.len(), name);
            let found = g.check(&page("search-index.json", &text), &all);
            assert_eq!(found.len(), 1, "at {at}: {found:?}");
            assert!(found[0].contains("display name"), "{found:?}");
        }
        let clean = "a".repeat(3 * SPAN + 30);
        assert!(g.check(&page("search-index.json", &clean), &all).is_empty());
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
        let needles = [
            "dataset number 5",
            "dataset number 50",
            "secret-mouse",
            "not-secret",
            "ab ab",
            "absent",
        ];
        let compiled = Compiled::new(vec![PrivateItem {
            label: "x".into(),
            needles: (0..needles.len())
                .map(|k| Needle {
                    text: needles[k].into(),
                    kind: "description",
                    whole_word: k != 3,
                })
                .collect(),
        }]);
        assert_eq!(compiled.found_in(hay), [1, 3, 4]);
    }

    #[test]
    fn needles_longer_than_the_prefix_match_whole_and_only_whole() {
        let head = "the specimen was fixed in glutaraldehyde";
        assert!(head.len() > PREFIX);
        let needles = [
            format!("{head} and osmium for twelve hours"),
            format!("{head} and stained en bloc"),
            "glutaraldehyde".to_string(),
        ];
        let compiled = Compiled::new(vec![PrivateItem {
            label: "x".into(),
            needles: needles
                .iter()
                .map(|text| Needle {
                    text: text.clone(),
                    kind: "description",
                    whole_word: false,
                })
                .collect(),
        }]);
        // One prefix for the two long needles; each is found only where all of it is.
        assert_eq!(
            compiled.by_prefix.iter().filter(|p| p.len() == 2).count(),
            1
        );
        assert_eq!(compiled.found_in(&format!("{head} and stained")), [2]);
        assert_eq!(
            compiled.found_in(&format!("x {head} and stained en bloc, {head}")),
            [1, 2]
        );
        let hay = "The Specimen was FIXED in glutaraldehyde and osmium for twelve hours";
        let hits: Vec<(usize, usize, usize)> =
            compiled.hits(hay.as_bytes(), 0..hay.len()).collect();
        assert!(hits.contains(&(0, 0, hay.len())), "{hits:?}");
        // A needle that runs past the end of the text is not found.
        assert_eq!(compiled.found_in(&needles[0][..needles[0].len() - 1]), [2]);
    }

    #[test]
    fn vendored_code_is_neither_public_text_nor_searched() {
        // `mouse` is a word of the Neuroglancer bundle the built-in theme ships.
        let path = "neuroglancer/view3d.js";
        let bundle = include_bytes!("../../themes/default/static/neuroglancer/view3d.js");
        assert!(String::from_utf8_lossy(bundle).contains("mouse"));
        let g = guard("");
        let file = |bytes: Vec<u8>| {
            let mut f = Files::new();
            f.insert(path.into(), Source::Bytes(bytes));
            f
        };
        assert!(g.check(&file(bundle.to_vec()), &all).is_empty());
        // The same address with other bytes is a site's own file: searched.
        let mut changed = bundle.to_vec();
        changed.extend_from_slice(b"\n// a mouse");
        assert_eq!(g.check(&file(changed), &all).len(), 1);
        assert!(String::from_utf8_lossy(bundle).contains("SliceViewPanel"));
        assert!(!crate::render::theme::builtin_text().contains("SliceViewPanel"));
    }

    #[test]
    fn a_kept_guard_follows_the_public_pieces_of_each_build() {
        let mut memory = GuardMemory::default();
        let leak = page("index.html", "a mouse");
        let pieces = |second: &str| ["site".to_string(), second.to_string()];
        let g = memory.guard(items(), &pieces("a public mouse"));
        assert!(g.check(&leak, &all).is_empty());
        // The piece that shared the word is edited away: the word is a leak again, although
        // the automaton and the other piece's findings were kept.
        let g = memory.guard(items(), &pieces("a public rat"));
        assert_eq!(g.check(&leak, &all).len(), 1);
        assert_ne!(g.digest(), memory.guard(items(), &pieces("mouse")).digest());
        // Other private items: compiled again, findings of the old needles forgotten.
        let mut other = items();
        other[0].needles.push(Needle {
            text: "rat".into(),
            kind: "tag",
            whole_word: true,
        });
        let g = memory.guard(other, &pieces("a public rat"));
        assert!(g.check(&page("index.html", "a rat"), &all).is_empty());
        assert_eq!(g.check(&leak, &all).len(), 1);
    }

    #[test]
    fn findings_kept_in_a_file_give_the_guard_a_fresh_one_would() {
        let pieces = ["site".to_string(), "a public mouse".to_string()];
        let mut first = GuardMemory::default();
        let fresh = first.guard(items(), &pieces);
        let saved = serde_json::to_vec(&first.findings().unwrap()).unwrap();
        let restore = || GuardMemory::with_findings(serde_json::from_slice(&saved).unwrap());
        let mut restored = restore();
        assert!(!restored.is_empty() && GuardMemory::default().is_empty());
        let kept = restored.guard(items(), &pieces);
        assert_eq!(kept.digest(), fresh.digest());
        assert!(kept.check(&page("index.html", "a mouse"), &all).is_empty());
        // Findings for other private items are not used: there `mouse` is not shared.
        let mut other = items();
        other[0].needles.push(Needle {
            text: "rat".into(),
            kind: "tag",
            whole_word: true,
        });
        let mut pieces_other = pieces.clone();
        pieces_other[1] = "a public rat".into();
        let g = restore().guard(other.clone(), &pieces_other);
        assert_eq!(g.check(&page("index.html", "a mouse"), &all).len(), 1);
        // A finding that names no pattern (a file edited by hand) is found again, not trusted.
        let mut forged: Findings = serde_json::from_slice(&saved).unwrap();
        for (_, hits) in &mut forged.found {
            hits.push(10_000);
        }
        let g = GuardMemory::with_findings(forged).guard(items(), &pieces);
        assert_eq!(g.digest(), fresh.digest());
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
