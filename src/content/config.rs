//! `content/site.yaml`: site-wide settings, keys, hosting and image limits.

use std::path::Path;

use serde::Deserialize;

use super::yaml::{self, Fields};
use super::{BaseUrl, Diagnostic, Hosting, ImageFormat, ImageSettings, PublicKeyEntry, SiteConfig};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    title: String,
    base_url: String,
    #[serde(default)]
    description: String,
    theme: Option<String>,
    #[serde(default)]
    hosting: Hosting,
    #[serde(default)]
    sharing: RawSharing,
    #[serde(default)]
    viewer: RawViewer,
    #[serde(default)]
    images: RawImages,
    #[serde(default)]
    gallery: RawGallery,
    #[serde(default)]
    feed: RawFeed,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSharing {
    #[serde(default)]
    keys: Vec<RawKey>,
    default_expiry: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKey {
    kid: String,
    public_key: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawViewer {
    pyramids: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGallery {
    per_page: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    entries: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawImages {
    max_megapixels: Option<f64>,
    thumbnail_widths: Option<Vec<u32>>,
    format: Option<String>,
}

const KEY_FIELDS: Fields = Fields {
    names: &["kid", "public_key"],
    nested: &[],
};
const SHARING_FIELDS: Fields = Fields {
    names: &["keys", "default_expiry"],
    nested: &[("keys", &KEY_FIELDS)],
};
const VIEWER_FIELDS: Fields = Fields {
    names: &["pyramids"],
    nested: &[],
};
const IMAGES_FIELDS: Fields = Fields {
    names: &["max_megapixels", "thumbnail_widths", "format"],
    nested: &[],
};
const GALLERY_FIELDS: Fields = Fields {
    names: &["per_page"],
    nested: &[],
};
const FEED_FIELDS: Fields = Fields {
    names: &["entries"],
    nested: &[],
};
const SITE_FIELDS: Fields = Fields {
    names: &[
        "title",
        "base_url",
        "description",
        "theme",
        "hosting",
        "sharing",
        "viewer",
        "images",
        "gallery",
        "feed",
    ],
    nested: &[
        ("sharing", &SHARING_FIELDS),
        ("viewer", &VIEWER_FIELDS),
        ("images", &IMAGES_FIELDS),
        ("gallery", &GALLERY_FIELDS),
        ("feed", &FEED_FIELDS),
    ],
};

/// Default pixel limit: 250 megapixels (a 16k × 16k image), far above any thumbnail source.
const DEFAULT_MAX_MEGAPIXELS: f64 = 250.0;

/// Cards on one gallery or tag page: a row count for 2 to 6 columns, and few enough that a
/// listing of 10,000 datasets ships a page of cards and the search index, not every card.
const DEFAULT_PER_PAGE: usize = 60;

/// Entries in `feed.xml`: the newest datasets, as feed readers poll them. Every dataset's full
/// description made the reference corpus's feed 3.2 MB at N=1,000, fetched again on every poll,
/// and rewritten (and searched by the leak guard) on every edit.
const DEFAULT_FEED_ENTRIES: usize = 50;

/// The path of `site.yaml` under a site root.
pub fn site_yaml(root: &Path) -> std::path::PathBuf {
    root.join("content").join("site.yaml")
}

/// Reads and validates `content/site.yaml`.
pub fn load_config(root: &Path) -> Result<SiteConfig, Vec<Diagnostic>> {
    let path = site_yaml(root);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        vec![Diagnostic::new(
            &path,
            format!("cannot read the site settings ({e}); run `vitrine init DIR` to scaffold a site, or pass --root"),
        )]
    })?;
    let raw: RawSite = yaml::parse(&path, &text, &SITE_FIELDS)?;
    let mut problems = Vec::new();
    let at = |key: &str| locate(&text, key);

    let base_url = BaseUrl::new(&raw.base_url);
    if let Err(msg) = check_base_url(&base_url) {
        let (l, c) = at("base_url");
        problems.push(Diagnostic::at(&path, l, c, msg));
    }
    if raw.title.trim().is_empty() {
        let (l, c) = at("title");
        problems.push(Diagnostic::at(
            &path,
            l,
            c,
            "title is empty; give the site a name",
        ));
    }
    if let Some(theme) = &raw.theme {
        if !is_slug(theme) {
            let (l, c) = at("theme");
            problems.push(Diagnostic::at(&path, l, c, format!("theme '{theme}' is not a folder name under themes/ (lowercase letters, digits, '-')")));
        } else if !root.join("themes").join(theme).is_dir() {
            let (l, c) = at("theme");
            problems.push(Diagnostic::at(&path, l, c, format!("theme '{theme}' not found: there is no folder themes/{theme}/; remove the line to use the built-in theme")));
        }
    }

    let mut keys: Vec<PublicKeyEntry> = Vec::new();
    for key in &raw.sharing.keys {
        let (l, c) = locate_value(&text, &key.kid).unwrap_or_else(|| at("keys"));
        match parse_key(key) {
            Ok(entry) if keys.iter().any(|k| k.kid == entry.kid) => problems.push(Diagnostic::at(
                &path,
                l,
                c,
                format!("key id {} is listed twice in sharing.keys", entry.kid_hex()),
            )),
            Ok(entry) => keys.push(entry),
            Err(msg) => problems.push(Diagnostic::at(&path, l, c, msg)),
        }
    }

    let default_expiry = raw
        .sharing
        .default_expiry
        .unwrap_or_else(|| "180d".to_string());
    let max_mp = raw.images.max_megapixels.unwrap_or(DEFAULT_MAX_MEGAPIXELS);
    if !(max_mp.is_finite() && max_mp > 0.0) {
        let (l, c) = at("max_megapixels");
        problems.push(Diagnostic::at(
            &path,
            l,
            c,
            "images.max_megapixels must be a positive number",
        ));
    }
    let mut widths = raw
        .images
        .thumbnail_widths
        .unwrap_or_else(|| vec![400, 1200]);
    widths.sort_unstable();
    widths.dedup();
    if widths.is_empty() || widths.iter().any(|w| !(16..=8192).contains(w)) {
        let (l, c) = at("thumbnail_widths");
        problems.push(Diagnostic::at(
            &path,
            l,
            c,
            "images.thumbnail_widths must list widths between 16 and 8192 pixels",
        ));
    }
    let format = match raw.images.format.as_deref() {
        None | Some("jpeg") => Some(ImageFormat::Jpeg),
        Some("webp") => Some(ImageFormat::Webp),
        Some(_) => None,
    };
    if let (None, Some(other)) = (format, &raw.images.format) {
        let (l, c) = at("format");
        problems.push(Diagnostic::at(
            &path,
            l,
            c,
            format!(
                "images.format '{other}' is not one vitrine writes; use jpeg (the default) or webp"
            ),
        ));
    }
    let per_page = raw.gallery.per_page.map_or(Some(DEFAULT_PER_PAGE), |n| {
        usize::try_from(n).ok().filter(|n| (1..=10_000).contains(n))
    });
    if per_page.is_none() {
        let (l, c) = at("per_page");
        problems.push(Diagnostic::at(
            &path,
            l,
            c,
            "gallery.per_page must be a number of cards between 1 and 10000",
        ));
    }
    let feed_entries = raw.feed.entries.map_or(Some(DEFAULT_FEED_ENTRIES), |n| {
        usize::try_from(n)
            .ok()
            .filter(|n| (1..=100_000).contains(n))
    });
    if feed_entries.is_none() {
        let (l, c) = at("entries");
        problems.push(Diagnostic::at(
            &path,
            l,
            c,
            "feed.entries must be a number of datasets between 1 and 100000",
        ));
    }

    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(SiteConfig {
        title: raw.title.trim().to_string(),
        base_url,
        description: raw.description,
        theme: raw.theme,
        hosting: raw.hosting,
        keys,
        default_expiry,
        pyramids: raw.viewer.pyramids.unwrap_or(true),
        per_page: per_page.expect("checked above"),
        feed_entries: feed_entries.expect("checked above"),
        images: ImageSettings {
            max_pixels: (max_mp * 1e6) as u64,
            thumbnail_widths: widths,
            format: format.expect("checked above"),
        },
    })
}

fn check_base_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("base_url '{url}' must be an absolute http(s) URL, e.g. https://data.example-lab.org"))?;
    if rest.is_empty() || rest.contains(['?', '#', ' ']) {
        return Err(format!(
            "base_url '{url}' must be a plain address without query, fragment or spaces"
        ));
    }
    Ok(())
}

fn parse_key(key: &RawKey) -> Result<PublicKeyEntry, String> {
    let public_key: [u8; 32] = crate::hex::parse_hex(&key.public_key).ok_or_else(|| {
        format!(
            "public_key of key {} must be 64 hex digits (an Ed25519 public key)",
            key.kid
        )
    })?;
    let kid = vitrine_verify::kid_of(&public_key);
    if key.kid != crate::hex::hex(&kid) {
        return Err(format!(
            "key id '{}' does not match its public key (expected '{}'); keys are added by `vitrine keygen`, do not edit them by hand",
            key.kid,
            crate::hex::hex(&kid)
        ));
    }
    Ok(PublicKeyEntry { kid, public_key })
}

/// Whether `s` is a valid slug: `[a-z0-9][a-z0-9-]{0,63}`.
pub fn is_slug(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// Line and column of `key:` in `text`, or 1:1.
pub(super) fn locate(text: &str, key: &str) -> (usize, usize) {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start().trim_start_matches("- ");
        if let Some(rest) = t.strip_prefix(key) {
            if rest.trim_start().starts_with(':') {
                return (i + 1, line.len() - t.len() + 1);
            }
        }
    }
    (1, 1)
}

/// Line and column of the first line holding `value` as a scalar.
pub(super) fn locate_value(text: &str, value: &str) -> Option<(usize, usize)> {
    if value.is_empty() {
        return None;
    }
    text.lines().enumerate().find_map(|(i, line)| {
        let col = line.find(value)?;
        let before = line[..col].trim_end().trim_end_matches(['"', '\'']);
        before.ends_with(':').then_some((i + 1, col + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(is_slug("fib-sem-01"));
        assert!(!is_slug("-x"));
        assert!(!is_slug("Foo"));
        assert!(!is_slug(&"a".repeat(65)));
        assert!(is_slug(&"a".repeat(64)));
    }

    #[test]
    fn kid_must_match_key() {
        let key = RawKey {
            kid: "00000000".into(),
            public_key: "11".repeat(32),
        };
        assert!(parse_key(&key).unwrap_err().contains("does not match"));
    }
}
