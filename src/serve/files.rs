//! Maps a request path to a file of the served output folder, and names its media type.
//!
//! The output folder is the only thing served: every path is decoded once, checked segment by
//! segment and then confirmed against the canonical folder on disk, so no spelling of a path
//! (encoded dots or slashes, backslashes, NUL, `..`, symlinks) reaches a file outside it.

use std::path::{Path, PathBuf};

/// What a request path names in the output folder.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A regular file inside the output folder.
    File(PathBuf),
    /// A folder asked for without its trailing slash: browsers resolve relative links against
    /// the slash, so the answer is a redirect to this path.
    AddSlash(String),
    /// Nothing there (the site's `404.html` answers).
    Missing,
    /// A spelling no link vitrine writes ever has; refused outright with 400.
    BadPath,
}

/// Finds the file `raw_path` (the path as sent, percent-encoded, without the query) names
/// under `root`, which must already be canonical.
///
/// `private/` is reachable only when `allow_private` is set, i.e. after the gate let the request
/// through: **a path the gate passed as public never opens a private file**, whatever its case.
pub fn lookup(root: &Path, raw_path: &str, allow_private: bool) -> Lookup {
    match segments(raw_path) {
        Some(segments) => find(root, &segments, Some(raw_path), allow_private),
        None => Lookup::BadPath,
    }
}

/// Finds the file the gate's canonical, decoded `segments` name (a folder's index for a folder).
pub fn lookup_gated(root: &Path, segments: &[String]) -> Lookup {
    if segments
        .iter()
        .any(|s| s.is_empty() || s == "." || s == ".." || s.contains(['/', '\\', '\0']))
    {
        return Lookup::BadPath;
    }
    find(root, segments, None, true)
}

/// `raw_path` is given when a folder asked for without its slash should be redirected.
fn find(root: &Path, segments: &[String], raw_path: Option<&str>, allow_private: bool) -> Lookup {
    if !allow_private
        && segments
            .first()
            .is_some_and(|s| s.eq_ignore_ascii_case("private"))
    {
        return Lookup::Missing;
    }
    let mut path = root.to_path_buf();
    path.extend(segments);
    let Ok(real) = path.canonicalize() else {
        return Lookup::Missing;
    };
    // A symlink inside the output must not lead out of it, nor into `private/` by another name.
    if !real.starts_with(root) || (!allow_private && real.starts_with(root.join("private"))) {
        return Lookup::Missing;
    }
    if real.is_file() {
        return Lookup::File(real);
    }
    if !real.is_dir() {
        return Lookup::Missing;
    }
    if let Some(raw) = raw_path.filter(|p| !p.ends_with('/')) {
        return Lookup::AddSlash(format!("{raw}/"));
    }
    let index = real.join("index.html");
    if index.is_file() {
        Lookup::File(index)
    } else {
        Lookup::Missing
    }
}

/// The decoded, checked segments of a request path, or `None` for a spelling that only an
/// attack produces: `..`, a percent-encoded `.`, `/`, `\\` or NUL (browsers never encode
/// them), a raw `\\`, control bytes, invalid escapes or UTF-8. Empty and `.` segments are
/// dropped, as browsers do.
fn segments(raw_path: &str) -> Option<Vec<String>> {
    let path = raw_path.strip_prefix('/')?;
    let lower = path.to_ascii_lowercase();
    if ["%2e", "%2f", "%5c", "%00"]
        .iter()
        .any(|e| lower.contains(e))
    {
        return None;
    }
    let mut out = Vec::new();
    for raw in path.split('/') {
        let decoded = percent_decode(raw)?;
        if decoded.is_empty() || decoded == "." {
            continue;
        }
        if decoded == ".." || decoded.contains('\\') || decoded.chars().any(char::is_control) {
            return None;
        }
        out.push(decoded);
    }
    Some(out)
}

/// Decodes `%XX` escapes; `None` for a broken escape or bytes that are not UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The `Content-Type` for a file, by extension; unknown kinds are served as bytes so a browser
/// never guesses one into HTML.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" | "dzi" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "avif" => "image/avif",
        "tif" | "tiff" => "image/tiff",
        "txt" | "swc" | "nml" | "md" => "text/plain; charset=utf-8",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir_all(out.join("datasets/a")).unwrap();
        std::fs::create_dir_all(out.join("private/b")).unwrap();
        std::fs::write(out.join("index.html"), "home").unwrap();
        std::fs::write(out.join("datasets/a/index.html"), "a").unwrap();
        std::fs::write(out.join("private/b/index.html"), "secret").unwrap();
        std::fs::write(tmp.path().join("outside.txt"), "outside").unwrap();
        let out = out.canonicalize().unwrap();
        (tmp, out)
    }

    #[test]
    fn folders_serve_their_index_and_redirect_without_slash() {
        let (_tmp, out) = site();
        assert_eq!(
            lookup(&out, "/", false),
            Lookup::File(out.join("index.html"))
        );
        assert_eq!(
            lookup(&out, "/datasets/a/", false),
            Lookup::File(out.join("datasets/a/index.html"))
        );
        assert_eq!(
            lookup(&out, "/datasets/a", false),
            Lookup::AddSlash("/datasets/a/".into())
        );
        assert_eq!(
            lookup(&out, "//datasets/./a/", false),
            Lookup::File(out.join("datasets/a/index.html"))
        );
        assert_eq!(lookup(&out, "/nope/", false), Lookup::Missing);
    }

    #[test]
    fn traversal_spellings_are_refused() {
        let (_tmp, out) = site();
        for bad in [
            "/../outside.txt",
            "/datasets/../../outside.txt",
            "/%2e%2e/outside.txt",
            "/%2E%2e/outside.txt",
            "/.%2e/outside.txt",
            "/datasets%2f..%2f..%2foutside.txt",
            "/datasets%2Fa/index.html",
            "/..%5coutside.txt",
            "/datasets\\..\\..\\outside.txt",
            "/index.html%00",
            "/%zz",
            "/%c3%28",
            "no-leading-slash",
        ] {
            assert_eq!(lookup(&out, bad, true), Lookup::BadPath, "{bad}");
        }
    }

    #[test]
    fn private_files_need_the_gate_whatever_the_spelling() {
        let (_tmp, out) = site();
        for path in [
            "/private/b/",
            "/PRIVATE/b/",
            "/Private/b/index.html",
            "/%70rivate/b/",
        ] {
            assert_eq!(lookup(&out, path, false), Lookup::Missing, "{path}");
        }
        let gated = |segs: &[&str]| {
            lookup_gated(
                &out,
                &segs.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            gated(&["private", "b"]),
            Lookup::File(out.join("private/b/index.html"))
        );
        assert_eq!(gated(&["private", "b", ".."]), Lookup::BadPath);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_do_not_lead_out_of_the_output() {
        let (tmp, out) = site();
        std::os::unix::fs::symlink(tmp.path().join("outside.txt"), out.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(out.join("private"), out.join("open")).unwrap();
        assert_eq!(lookup(&out, "/link.txt", true), Lookup::Missing);
        assert_eq!(lookup(&out, "/open/b/index.html", false), Lookup::Missing);
    }

    #[test]
    fn media_types() {
        assert_eq!(content_type(Path::new("a/tiles.dzi")), "application/xml");
        assert_eq!(content_type(Path::new("x.SVG")), "image/svg+xml");
        assert_eq!(
            content_type(Path::new("t.swc")),
            "text/plain; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("blob")), "application/octet-stream");
    }
}
