//! What the leak guard searches for: the guard's policy. For each private item its identifying
//! strings (slug and addresses, display name, distinctive description text, private-only tags,
//! image hashes), the text public items say (a needle found there is no leak), and the files to
//! compare byte for byte. `Site` only asks for them; the decisions are here.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};

use super::{NamedFiles, Needle, PrivateItem};
use crate::content::{Content, Dataset};
use crate::render::{self, MediaIndex};

/// What identifies each private item, and the public text that is no leak when shared: in
/// pieces (the site's, the theme's, one per public dataset), which a kept guard looks at only
/// when they change.
pub fn needles(content: &Content, media: &MediaIndex) -> Result<(Vec<PrivateItem>, Vec<String>)> {
    let mut public_text = vec![
        format!("{}\n{}\n", content.config.title, content.config.description),
        render::theme::builtin_text().to_string(),
    ];
    let mut public_tags = BTreeSet::new();
    for d in content.datasets.iter().filter(|d| d.is_public()) {
        public_text.push(public_words(d));
        public_tags.extend(d.tags.iter().cloned());
    }
    let mut items = Vec::new();
    for d in &content.datasets {
        let mut needles = Vec::new();
        if !d.is_public() {
            needles.push(Needle {
                text: d.slug.clone(),
                kind: "slug",
                whole_word: true,
            });
            // Its addresses too: a short slug that public text also uses as a word is only
            // distinctive inside a path.
            for folder in ["private", "datasets"] {
                needles.push(Needle {
                    text: format!("{folder}/{}/", d.slug),
                    kind: "address",
                    whole_word: false,
                });
            }
            needles.push(Needle {
                text: d.display_name.clone(),
                kind: "display name",
                whole_word: true,
            });
            needles.extend(
                distinctive_fragments(&d.description)
                    .into_iter()
                    .map(|text| Needle {
                        text,
                        kind: "description",
                        whole_word: false,
                    }),
            );
            needles.extend(
                d.tags
                    .iter()
                    .filter(|t| !public_tags.contains(*t))
                    .map(|t| Needle {
                        text: t.clone(),
                        kind: "tag",
                        whole_word: true,
                    }),
            );
            // Everything derived from an image (thumbnails, both pyramids, the display range's
            // histogram and percentiles) is published only beside a page that names its media
            // folder, `media/<hash>/`, so the hash finds a public copy of any of it.
            for source in std::iter::once(&d.thumbnail).chain(&d.images) {
                let hashes = match media.get(source) {
                    Some(derived) => derived.slices().map(|s| s.hash.clone()).collect(),
                    None => vec![file_hash(source)?],
                };
                needles.extend(hashes.into_iter().map(|hash| Needle {
                    text: hash,
                    kind: "image (by content hash)",
                    whole_word: false,
                }));
            }
            // Where the lab hosts its volume: an unpublished dataset's address may say what it is.
            if let Some(volume) = &d.volume {
                needles.push(Needle {
                    text: volume.location.clone(),
                    kind: "volume address",
                    whole_word: false,
                });
            }
            // Its volume's chunks are sealed under private/; the same volume published in a
            // public media folder would carry this hash in its address.
            if let Some(volume) = media.volume(&d.dir) {
                needles.push(Needle {
                    text: volume.hash.clone(),
                    kind: "volume (by content hash)",
                    whole_word: false,
                });
            }
            items.push(PrivateItem {
                label: format!("private dataset '{}'", d.slug),
                needles,
            });
        }
        for l in d.layers.iter().filter(|l| !l.is_public_in(d)) {
            // A private layer's segment names and its label images' bytes (by the hash that
            // names their tile folders) are its own, whatever its dataset is.
            let mut needles: Vec<Needle> = l
                .segments
                .iter()
                .map(|s| Needle {
                    text: s.name.clone(),
                    kind: "segment name",
                    whole_word: true,
                })
                .collect();
            for image in &l.images {
                needles.push(Needle {
                    text: file_hash(image)?,
                    kind: "label image (by content hash)",
                    whole_word: false,
                });
            }
            // In a public dataset nothing else names the layer: its id, and its address under
            // either folder (`<slug>/layers/<id>/`, so another dataset's public layer of the
            // same id is no match), must not appear on a public page.
            if d.is_public() {
                needles.push(Needle {
                    text: l.id.clone(),
                    kind: "layer id",
                    whole_word: true,
                });
                needles.push(Needle {
                    text: format!("{}/layers/{}/", d.slug, l.id),
                    kind: "address",
                    whole_word: false,
                });
            }
            items.push(PrivateItem {
                label: format!("private layer '{}' of dataset '{}'", l.id, d.slug),
                needles,
            });
        }
        for a in d.annotations.iter().filter(|a| !a.is_public_in(d)) {
            if d.is_public() {
                items.push(PrivateItem {
                    label: format!("private annotation '{}' of dataset '{}'", a.id, d.slug),
                    needles: vec![Needle {
                        text: a.display_name.clone(),
                        kind: "display name",
                        whole_word: true,
                    }],
                });
            }
        }
    }
    Ok((items, public_text))
}

/// The files public descriptions publish as they are (output path, source), and every file of
/// a private item (what it is, source), for [`super::copies`]; no private file when no
/// public description publishes one.
pub fn files_to_compare(content: &Content) -> (NamedFiles, NamedFiles) {
    let public: Vec<_> = content
        .datasets
        .iter()
        .filter(|d| d.is_public())
        .flat_map(|d| {
            let dir = d.files_dir();
            d.attachments
                .iter()
                .map(move |a| (format!("{dir}{}", a.published), a.file.clone()))
        })
        .collect();
    let mut private = Vec::new();
    if public.is_empty() {
        return (public, private);
    }
    for d in &content.datasets {
        if !d.is_public() {
            let label = |file: &Path| {
                let name = file.strip_prefix(&d.dir).unwrap_or(file);
                format!("private dataset '{}''s `{}`", d.slug, name.display())
            };
            let images = std::iter::once(&d.thumbnail).chain(&d.images);
            let attachments = d.attachments.iter().map(|a| &a.file);
            for file in images.chain(attachments) {
                private.push((label(file), file.clone()));
            }
        }
        for a in d.annotations.iter().filter(|a| !a.is_public_in(d)) {
            let what = format!("private annotation '{}' of dataset '{}'", a.id, d.slug);
            private.push((what, a.file.clone()));
        }
        for l in d.layers.iter().filter(|l| !l.is_public_in(d)) {
            let what = format!("private layer '{}' of dataset '{}'", l.id, d.slug);
            for file in l.images.iter().chain(&l.segments_file) {
                private.push((what.clone(), file.clone()));
            }
        }
    }
    (public, private)
}

/// Everything a public dataset says, which a private one may share without leaking.
fn public_words(d: &Dataset) -> String {
    let mut s = String::new();
    for part in [&d.slug, &d.display_name, &d.description] {
        s.push_str(part);
        s.push('\n');
    }
    for part in d.tags.iter().chain(&d.authors).chain(d.links.keys()) {
        s.push_str(part);
        s.push('\n');
    }
    for part in [&d.species, &d.region, &d.modality, &d.license]
        .into_iter()
        .flatten()
    {
        s.push_str(part);
        s.push('\n');
    }
    for a in d.annotations.iter().filter(|a| a.is_public_in(d)) {
        s.push_str(&a.id);
        s.push('\n');
        s.push_str(&a.display_name);
        s.push('\n');
    }
    for l in d.layers.iter().filter(|l| l.is_public_in(d)) {
        s.push_str(&l.id);
        s.push('\n');
        for segment in &l.segments {
            s.push_str(&segment.name);
            s.push('\n');
        }
    }
    if let Some(volume) = &d.volume {
        s.push_str(&volume.location);
        s.push('\n');
    }
    s
}

/// Runs of plain prose (no markdown syntax inside) long enough to identify a description.
fn distinctive_fragments(markdown: &str) -> Vec<String> {
    // A `match`, not `str::contains` on a string of breaks: a scan of that string for every
    // character was about half of making the guard's needles on a site of long descriptions.
    let is_break = |c: char| {
        matches!(
            c,
            '.' | '!'
                | '?'
                | ';'
                | ':'
                | '\n'
                | '*'
                | '_'
                | '`'
                | '['
                | ']'
                | '('
                | ')'
                | '#'
                | '>'
                | '|'
                | '~'
                | '<'
                | '&'
                | '"'
                | '\''
                | '{'
                | '}'
                | '\\'
        )
    };
    let mut out: Vec<String> = markdown
        .split(is_break)
        // Joining the words can only shorten a fragment: shorter ones are not worth joining.
        .filter(|s| s.len() >= 24)
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| s.len() >= 24 && s.split(' ').count() >= 4)
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.truncate(8);
    out
}

/// First 16 hex digits of the BLAKE3 hash of a file, as media names derived images.
fn file_hash(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
    Ok(blake3::hash(&bytes).to_hex()[..16].to_string())
}

#[cfg(test)]
mod tests {
    use super::distinctive_fragments;

    #[test]
    fn fragments_are_runs_of_prose_between_markdown_and_punctuation() {
        let markdown = "Fixed in  glutaraldehyde and\tosmium for twelve hours. Short one; \
                        **stained en bloc with uranyl acetate** then [embedded in Epon resin](x) \
                        and cut at forty nanometres on a diamond knife\nby the core facility";
        assert_eq!(
            distinctive_fragments(markdown),
            [
                "Fixed in glutaraldehyde and osmium for twelve hours",
                "and cut at forty nanometres on a diamond knife",
                "stained en bloc with uranyl acetate",
            ]
        );
        // Eight at most, the longest.
        let many: String = (0..12)
            .map(|i| {
                format!(
                    "sentence number {i} of a long description{}. ",
                    "x".repeat(i)
                )
            })
            .collect();
        let fragments = distinctive_fragments(&many);
        assert_eq!(fragments.len(), 8);
        assert!(fragments[0].ends_with(&"x".repeat(11)));
    }
}
