//! The files a dataset's description refers to: `![figure](fig-2.png)`,
//! `[raw counts](counts.csv)`, or `<img src="fig.png">` in raw HTML.
//!
//! A relative reference names a file **inside the dataset folder**, which is then published
//! with the dataset's page under `files/` (the descriptor names it, so it is read through the
//! descriptor like every other file). Everything else (absolute URLs, `/site/paths`,
//! `#anchors`) is left alone. The render stage rewrites the references with the same
//! [`split_reference`], so what is published and what is linked cannot disagree.

use std::borrow::Cow;
use std::sync::Mutex;

use percent_encoding::percent_decode_str;
use pulldown_cmark::{Event, Options, Parser, Tag};

/// The markdown extensions descriptions may use.
pub fn markdown_options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH
}

/// One file a description refers to, as published under the dataset's `files/` folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Attachment {
    /// The file's path inside the dataset folder, `/`-separated, without `.` segments, as
    /// [`split_reference`] reads references to it.
    pub name: String,
    /// Its path under `files/` in the output: [`web_name`] of `name`.
    pub published: String,
    /// Absolute path of the file.
    pub file: std::path::PathBuf,
}

/// The name a file is published under: each segment lowercase ASCII letters, digits, `.`, `_`
/// and `-` (`Figure 1 (a).PNG` becomes `figure-1-a.png`); `None` without an extension.
///
/// **Why**: every gate answers a path under `/private/` that is not lowercase, or that needs
/// percent-encoding, with a redirect to its canonical spelling, and takes a last segment without
/// a `.` for a folder (docs/share-links.md); names of this form are served as they are written.
/// Public files follow the same rule, so a dataset's links do not change form when it is
/// published.
pub fn web_name(name: &str) -> Option<String> {
    let clean = |part: &str, keep_dots: bool| {
        let mut out = String::with_capacity(part.len());
        for c in part.chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '_' || (keep_dots && c == '.') {
                out.push(c);
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_matches(['-', '.']).to_string()
    };
    let (folders, file) = name.rsplit_once('/').unwrap_or(("", name));
    let (stem, ext) = file.rsplit_once('.')?;
    let ext = clean(ext, false);
    if ext.is_empty() {
        return None;
    }
    let mut parts: Vec<String> = folders
        .split('/')
        .filter(|f| !f.is_empty())
        .map(|f| {
            Some(clean(f, true))
                .filter(|f| !f.is_empty())
                .unwrap_or_else(|| "folder".into())
        })
        .collect();
    let stem = Some(clean(stem, true)).filter(|s| !s.is_empty());
    parts.push(format!("{}.{ext}", stem.as_deref().unwrap_or("file")));
    Some(parts.join("/"))
}

/// A relative reference split into the file it names and what follows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Reference<'a> {
    /// The decoded path, `/`-separated, `.` segments and empty segments dropped.
    pub name: String,
    /// The query and fragment as written (`?v=2#top`), kept on the rewritten URL.
    pub suffix: &'a str,
}

/// Why a relative reference names no file that can be published.
#[derive(Debug, PartialEq, Eq)]
pub enum BadReference {
    /// A `..` segment: the reference leaves the dataset folder.
    Parent,
    /// It ends in `/`: a folder, not a file.
    Folder,
    /// Percent escapes that are not UTF-8, a backslash or a control character.
    Spelling,
}

/// Splits `url` if it is a relative path reference (`fig.png`, `./data/a b.csv?x#y`);
/// `None` for everything the description may link freely: URLs with a scheme, `//host/…`,
/// `/site/…`, `?query` and `#fragment`.
pub fn split_reference(url: &str) -> Option<Result<Reference<'_>, BadReference>> {
    if url.is_empty() || url.starts_with(['/', '#', '?']) || has_scheme(url) {
        return None;
    }
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let (path, suffix) = url.split_at(end);
    if path.is_empty() {
        return None;
    }
    let Ok(decoded) = percent_decode_str(path).decode_utf8() else {
        return Some(Err(BadReference::Spelling));
    };
    if decoded.contains('\\') || decoded.chars().any(char::is_control) {
        return Some(Err(BadReference::Spelling));
    }
    let mut parts = Vec::new();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => return Some(Err(BadReference::Parent)),
            _ => parts.push(part),
        }
    }
    if parts.is_empty() || decoded.ends_with('/') || decoded.ends_with("/.") {
        return Some(Err(BadReference::Folder));
    }
    Some(Ok(Reference {
        name: parts.join("/"),
        suffix,
    }))
}

/// Whether `url` starts with a URL scheme (`https:`, `mailto:`, `c:`): letters, then letters,
/// digits, `+`, `-` or `.`, then `:`, before any `/`.
fn has_scheme(url: &str) -> bool {
    let Some(colon) = url.find(':') else {
        return false;
    };
    let scheme = &url[..colon];
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
}

/// Every URL of a link or image in `markdown` that [`split_reference`] calls relative, as it
/// appears in the rendered HTML, in order of appearance (duplicates kept).
///
/// The description is rendered and sanitised the way the page will show it, so references in
/// raw HTML count exactly when the sanitiser keeps them. Most descriptions have no link at all,
/// or only links to the web, and are not rendered here.
pub fn references(markdown: &str) -> Vec<String> {
    if !markdown.contains("](") && !markdown.contains("]:") && !markdown.contains('<') {
        return Vec::new();
    }
    if only_web_links(markdown) {
        return Vec::new();
    }
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Parser::new_ext(markdown, markdown_options()));
    // ammonia shows its URL hook the attributes of elements it then drops (`<script src>`),
    // so the references are read from the sanitised HTML, where every element stays.
    let clean = sanitiser().clean(&html).to_string();
    let found = Mutex::new(Vec::new());
    sanitiser()
        .url_relative(ammonia::UrlRelative::Custom(url_evaluator(|url| {
            if split_reference(url).is_some() {
                found.lock().expect("not poisoned").push(url.to_string());
            }
            Some(url.into())
        })))
        .clean(&clean);
    found.into_inner().expect("not poisoned")
}

/// Whether `markdown` has no raw HTML and every link and image in it points elsewhere than the
/// dataset's folder (a scheme, `/`, `#`, `?`): then it has no reference. Parsing is a fraction of
/// rendering and sanitising twice, which a rebuild would otherwise do for every long
/// description with a DOI link. (The percent-escaping of rendering keeps a destination's start,
/// so [`split_reference`] decides the same on either spelling.)
fn only_web_links(markdown: &str) -> bool {
    Parser::new_ext(markdown, markdown_options()).all(|event| match event {
        Event::Html(_) | Event::InlineHtml(_) => false,
        Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
            split_reference(&dest_url).is_none()
        }
        _ => true,
    })
}

/// Prefix ammonia puts on every `id` in a description, so user ids never clash with the page's.
pub const ID_PREFIX: &str = "md-";

/// A new ammonia builder configured as every description is sanitised: its defaults (no
/// script, no `on*`, only safe URL schemes) plus the table, footnote and strikethrough markup
/// pulldown-cmark emits. `render` shows descriptions with it and [`references`] finds files
/// with it, so both see the same HTML.
pub fn sanitiser<'a>() -> ammonia::Builder<'a> {
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["del", "input"])
        .add_tag_attributes("div", ["id"])
        .add_tag_attributes("a", ["id"])
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .add_allowed_classes("div", ["footnote"])
        .add_allowed_classes("sup", ["footnote-ref"])
        .id_prefix(Some(ID_PREFIX))
        .link_rel(Some("noopener noreferrer"));
    builder
}

/// Boxes `f` as ammonia's relative-URL hook; the bound makes the closure's result borrow from
/// its argument, which a closure's signature cannot say by itself.
pub fn url_evaluator<'a, F>(f: F) -> Box<dyn ammonia::UrlRelativeEvaluate<'a>>
where
    F: for<'u> Fn(&'u str) -> Option<Cow<'u, str>> + Send + Sync + 'a,
{
    Box::new(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(url: &str) -> Option<Result<String, BadReference>> {
        split_reference(url).map(|r| r.map(|r| format!("{}|{}", r.name, r.suffix)))
    }

    #[test]
    fn only_relative_paths_are_references() {
        for free in [
            "https://example.org/a.png",
            "mailto:lab@example.org",
            "//cdn.example.org/x.js",
            "/datasets/other/",
            "#methods",
            "?q=1",
            "",
        ] {
            assert_eq!(name(free), None, "{free}");
        }
        assert_eq!(name("fig.png"), Some(Ok("fig.png|".into())));
        assert_eq!(
            name("./data//Raw%20counts.csv?v=2#row-3"),
            Some(Ok("data/Raw counts.csv|?v=2#row-3".into()))
        );
        assert_eq!(name("a:b/c.png"), None, "a scheme");
        assert_eq!(name("figs/2:1.png"), Some(Ok("figs/2:1.png|".into())));
    }

    #[test]
    fn references_that_cannot_be_published_say_why() {
        assert_eq!(name("../other/fig.png"), Some(Err(BadReference::Parent)));
        assert_eq!(name("a/%2e%2e/b"), Some(Err(BadReference::Parent)));
        assert_eq!(name("figures/"), Some(Err(BadReference::Folder)));
        assert_eq!(name("."), Some(Err(BadReference::Folder)));
        assert_eq!(name("a%5cb.png"), Some(Err(BadReference::Spelling)));
        assert_eq!(name("%ff.png"), Some(Err(BadReference::Spelling)));
    }

    #[test]
    fn published_names_are_what_every_gate_serves_as_written() {
        let web = |name| web_name(name).unwrap_or_else(|| "-".into());
        assert_eq!(web("Figure 1 (a).PNG"), "figure-1-a.png");
        assert_eq!(web("Raw Data/v1.2/counts.CSV"), "raw-data/v1.2/counts.csv");
        assert_eq!(web("Abbildung ä.png"), "abbildung.png");
        assert_eq!(web("ä/ö.tif"), "folder/file.tif");
        assert_eq!(web(".hidden.txt"), "hidden.txt");
        assert_eq!(web("README"), "-");
        assert_eq!(web("notes."), "-");
    }

    #[test]
    fn references_come_from_markdown_and_kept_raw_html() {
        let md = "![fig](fig-1.png \"Figure 1\") and [data][d], [web](https://x.org), \
                  [top](#top), <img src=\"raw.png\" onerror=\"x()\"> \
                  <script src=\"evil.js\"></script>\n\n[d]: <data/Raw counts.csv>\n";
        assert_eq!(
            references(md),
            ["fig-1.png", "data/Raw%20counts.csv", "raw.png"]
        );
        assert!(references("No links here, only text.").is_empty());
    }

    #[test]
    fn web_links_alone_are_no_reference_but_anything_else_is_looked_at() {
        let web = "See [the protocol](https://example.org/p/1), [top](#top), [site](/about/) and                    ![logo](https://example.org/logo.png).\n\n[ref]: https://doi.org/10.1/x\n";
        assert!(only_web_links(web));
        assert!(references(web).is_empty());
        for (md, found) in [
            ("[web](https://x.org) and [data](counts.csv)", "counts.csv"),
            ("[web](https://x.org) and <img src=\"raw.png\">", "raw.png"),
            (
                "[web](https://x.org), [d][d]\n\n[d]: <a b.csv>\n",
                "a%20b.csv",
            ),
        ] {
            assert!(!only_web_links(md), "{md}");
            assert_eq!(references(md), [found], "{md}");
        }
    }
}
