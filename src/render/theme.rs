//! The theme: tera templates, static files and edge-module templates.
//!
//! The built-in theme (`themes/default/`) is embedded in the binary, so an installed `vitrine`
//! needs no theme folder; a site's `themes/<name>/` replaces it file by file, the way mdBook
//! starts from embedded bytes and swaps in each file the user provides.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use include_dir::{include_dir, Dir, DirEntry};

/// The built-in theme, read at compile time.
static BUILTIN: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/themes/default");

/// Third-party code the built-in theme ships as it was built (the Neuroglancer bundle, 2.9 MB).
const VENDORED: &[&str] = &["static/neuroglancer/"];

/// All text of the built-in theme's own files (templates, its scripts and styles, edge
/// templates), not of the code it vendors.
///
/// The leak guard counts it as public: a private slug like `hidden` that is also an HTML
/// attribute of vitrine's own templates identifies nothing. A site theme's own text is **not**
/// included, so a theme that names a private dataset is still caught. Vendored code is left
/// out: its megabytes of words (`mouse`, `layer`, …) would make many private names look shared;
/// the guard skips its files instead ([`is_builtin_static`]).
pub fn builtin_text() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| {
        builtin_files(&BUILTIN)
            .into_iter()
            .filter(|f| {
                let path = f.path().to_string_lossy();
                !VENDORED.iter().any(|v| path.starts_with(v))
            })
            .filter_map(|f| f.contents_utf8())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Whether `bytes` at output path `path` are the built-in theme's static file there, unchanged:
/// vitrine's own bytes, which hold nothing of a site.
pub fn is_builtin_static(path: &str, bytes: &[u8]) -> bool {
    BUILTIN
        .get_file(format!("static/{path}"))
        .is_some_and(|f| f.contents() == bytes)
}

/// Where a theme file came from, for error messages that point at it.
#[derive(Debug, Clone)]
enum Origin {
    /// Embedded from `themes/default/<path>` of the vitrine source.
    Builtin(&'static Path),
    /// Read from the site's theme folder.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Builtin(path) => write!(f, "(built-in theme) {}", path.display()),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A loaded theme: compiled templates plus the files it copies or hands to the edge stage.
#[derive(Debug)]
pub struct Theme {
    tera: tera::Tera,
    origins: BTreeMap<String, Origin>,
    static_files: BTreeMap<String, Cow<'static, [u8]>>,
    edge: BTreeMap<String, Cow<'static, str>>,
    /// BLAKE3 of every template's name and text: what a page's bytes depend on besides its
    /// context.
    digest: String,
}

impl Theme {
    /// Loads the built-in theme, overridden file by file by `ROOT/themes/<name>/` when `name`
    /// is given, and compiles every template once.
    ///
    /// Every template that fails to parse is reported, each as `file:line:col: message`.
    pub fn load(root: &Path, name: Option<&str>) -> Result<Theme> {
        let mut templates: BTreeMap<String, (Origin, Cow<'static, str>)> = BTreeMap::new();
        let mut static_files = BTreeMap::new();
        let mut edge = BTreeMap::new();
        for file in builtin_files(&BUILTIN) {
            let path = file.path();
            let (folder, rel) = split_first(path);
            match folder {
                "templates" => {
                    let text = file.contents_utf8().with_context(|| {
                        format!("built-in template `{}` is not UTF-8", path.display())
                    })?;
                    templates.insert(rel, (Origin::Builtin(path), Cow::Borrowed(text)));
                }
                "static" => {
                    static_files.insert(rel, Cow::Borrowed(file.contents()));
                }
                "edge" => {
                    let text = file.contents_utf8().with_context(|| {
                        format!("built-in edge template `{}` is not UTF-8", path.display())
                    })?;
                    edge.insert(rel, Cow::Borrowed(text));
                }
                _ => {}
            }
        }

        if let Some(name) = name {
            let dir = theme_dir(root, name)?;
            for (rel, path) in files_under(&dir.join("templates"))? {
                let text = read_text(&path)?;
                templates.insert(rel, (Origin::File(path), Cow::Owned(text)));
            }
            for (rel, path) in files_under(&dir.join("static"))? {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("reading `{}`", path.display()))?;
                static_files.insert(rel, Cow::Owned(bytes));
            }
            for (rel, path) in files_under(&dir.join("edge"))? {
                edge.insert(rel, Cow::Owned(read_text(&path)?));
            }
        }

        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![".html", ".htm", ".xml"]);
        tera.set_escape_fn(escape);
        if let Err(err) = tera.add_raw_templates(templates.iter().map(|(n, (_, text))| (n, text))) {
            // Tera stops at the first problem: parse each file alone to report every one.
            let problems: Vec<String> = templates
                .iter()
                .filter_map(|(tpl_name, (origin, text))| {
                    let parsed = tera::Template::new(tpl_name, None, text);
                    parsed.err().map(|err| parse_problem(origin, &err))
                })
                .collect();
            if !problems.is_empty() {
                bail!(
                    "{} template(s) failed to parse:\n{}",
                    problems.len(),
                    problems.join("\n")
                );
            }
            return Err(anyhow::anyhow!(chain(&err)).context(
                "the theme's templates do not fit together (a missing parent or macro file?)",
            ));
        }
        let mut hasher = blake3::Hasher::new();
        for (tpl_name, (_, text)) in &templates {
            for part in [tpl_name.as_str(), text.as_ref()] {
                hasher.update(&(part.len() as u64).to_le_bytes());
                hasher.update(part.as_bytes());
            }
        }
        let digest = hasher.finalize().to_hex().to_string();
        let origins = templates
            .into_iter()
            .map(|(tpl_name, (origin, _))| (tpl_name, origin))
            .collect();
        Ok(Theme {
            tera,
            origins,
            static_files,
            edge,
            digest,
        })
    }

    /// A digest of the templates: pages rendered with another digest may differ.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The theme's `static/` files, output-relative path → bytes; copied to the output root
    /// as they are (the built-in assets live under `assets/`).
    pub fn static_files(&self) -> &BTreeMap<String, Cow<'static, [u8]>> {
        &self.static_files
    }

    /// The edge-module template `edge/<name>` (a site theme's copy when it has one).
    pub fn edge_template(&self, name: &str) -> Option<&str> {
        self.edge.get(name).map(|text| text.as_ref())
    }

    /// Whether the theme has the template `name` (e.g. `partials/viewer.html`), so pages can
    /// leave out a part no template provides.
    pub fn has_template(&self, name: &str) -> bool {
        self.origins.contains_key(name)
    }

    /// Renders the template `name` with `context`; errors name the template's file and carry
    /// tera's whole explanation.
    pub fn render(&self, name: &str, context: &tera::Context) -> Result<String> {
        self.tera.render(name, context).map_err(|err| {
            let file = self
                .origins
                .get(name)
                .map_or_else(|| format!("template `{name}`"), ToString::to_string);
            anyhow::anyhow!("{file}: {}", chain(&err))
        })
    }
}

/// Escapes text for HTML content and quoted attribute values.
///
/// Unlike tera's default it leaves `/` alone: that is safe inside quotes, and URLs then read
/// as URLs in the output (and in golden files) instead of `..&#x2F;..&#x2F;`.
fn escape(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 16);
    let mut plain = 0;
    // Works on bytes: every escaped character is ASCII, so slicing between them keeps UTF-8 whole.
    for (i, byte) in input.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&input[plain..i]);
        out.push_str(entity);
        plain = i + 1;
    }
    out.push_str(&input[plain..]);
    out
}

/// `themes/<name>/` under the site root, checked to be a plain folder name that exists.
fn theme_dir(root: &Path, name: &str) -> Result<PathBuf> {
    let plain =
        !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']) && name != "..";
    if !plain {
        bail!("content/site.yaml: theme `{name}` must be the name of a folder under themes/");
    }
    let dir = root.join("themes").join(name);
    if !dir.is_dir() {
        bail!(
            "content/site.yaml: theme `{name}` not found: create `{}` (with templates/ and static/), \
             or remove `theme:` to use the built-in theme",
            dir.display()
        );
    }
    Ok(dir)
}

/// Every file of the embedded theme, recursively.
fn builtin_files(dir: &'static Dir<'static>) -> Vec<&'static include_dir::File<'static>> {
    let mut files = Vec::new();
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(sub) => files.extend(builtin_files(sub)),
            DirEntry::File(file) => files.push(file),
        }
    }
    files
}

/// `templates/partials/card.html` → (`templates`, `partials/card.html`).
fn split_first(path: &Path) -> (&str, String) {
    let mut parts = path.iter().filter_map(|p| p.to_str());
    let first = parts.next().unwrap_or_default();
    (first, parts.collect::<Vec<_>>().join("/"))
}

/// Files under `dir` (which may be missing), as `/`-separated relative path → absolute path.
fn files_under(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.with_context(|| format!("reading theme folder `{}`", dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .expect("walkdir yields paths under its root")
            .iter()
            .map(|p| p.to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        files.push((rel, entry.into_path()));
    }
    Ok(files)
}

/// Reads a UTF-8 theme file, naming it on failure.
fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("reading `{}` (must be UTF-8)", path.display()))
}

/// A tera parse error as `file:line:col: message`, from pest's ` --> line:col` marker.
fn parse_problem(origin: &Origin, err: &tera::Error) -> String {
    let text = chain(err);
    let position = text
        .split_once("--> ")
        .and_then(|(_, rest)| rest.split(|c: char| c.is_whitespace()).next())
        .unwrap_or("1:1");
    let message: Vec<&str> = text
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("= "))
        .collect();
    let message = if message.is_empty() {
        text.clone()
    } else {
        message.join("; ")
    };
    format!("{origin}:{position}: {message}\n{text}")
}

/// A tera error with its whole source chain: tera's top message alone often only says
/// "Failed to render", and the reason is further down.
fn chain(err: &tera::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site_with_theme(files: &[(&str, &str)]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let path = tmp.path().join("themes/mine").join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        tmp
    }

    #[test]
    fn escape_covers_html_specials_and_keeps_slashes_and_unicode() {
        assert_eq!(
            escape("a/b <é> & \"q\" 'x'"),
            "a/b &lt;é&gt; &amp; &quot;q&quot; &#39;x&#39;"
        );
        assert_eq!(escape(""), "");
    }

    #[test]
    fn builtin_theme_is_embedded() {
        let theme = Theme::load(Path::new("/nonexistent"), None).unwrap();
        assert!(theme.has_template("base.html"));
        assert!(theme.has_template("dataset.html"));
        assert!(theme.static_files().contains_key("assets/vitrine.css"));
        assert!(theme.static_files().contains_key("assets/gallery.js"));
    }

    #[test]
    fn site_theme_overrides_file_by_file() {
        let site = site_with_theme(&[
            ("templates/404.html", "custom {{ site.title }}"),
            ("static/assets/vitrine.css", "body{}"),
            ("static/logo.svg", "<svg/>"),
            ("edge/extra.js", "// mine"),
        ]);
        let theme = Theme::load(site.path(), Some("mine")).unwrap();
        let mut ctx = tera::Context::new();
        ctx.insert("site", &serde_json::json!({"title": "T"}));
        assert_eq!(theme.render("404.html", &ctx).unwrap(), "custom T");
        assert_eq!(&*theme.static_files()["assets/vitrine.css"], b"body{}");
        assert_eq!(&*theme.static_files()["logo.svg"], b"<svg/>");
        assert!(theme.static_files().contains_key("assets/gallery.js"));
        assert_eq!(theme.edge_template("extra.js"), Some("// mine"));
        assert!(theme.has_template("dataset.html"), "built-ins stay");
    }

    #[test]
    fn parse_errors_name_every_file_with_line_and_column() {
        let site = site_with_theme(&[
            ("templates/404.html", "ok\n{% if %}"),
            ("templates/tags.html", "{{ broken"),
        ]);
        let err = Theme::load(site.path(), Some("mine"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("2 template(s)"), "{err}");
        assert!(err.contains("templates/404.html:2:"), "{err}");
        assert!(err.contains("templates/tags.html:1:"), "{err}");
    }

    #[test]
    fn missing_or_odd_theme_names_are_refused() {
        let site = tempfile::tempdir().unwrap();
        let err = Theme::load(site.path(), Some("nope"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("theme `nope` not found"), "{err}");
        let err = Theme::load(site.path(), Some("../x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be the name of a folder"), "{err}");
    }

    #[test]
    fn render_errors_name_the_template_file() {
        let site = site_with_theme(&[("templates/404.html", "{{ nothing.here }}")]);
        let theme = Theme::load(site.path(), Some("mine")).unwrap();
        let err = theme
            .render("404.html", &tera::Context::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("themes/mine/templates/404.html"), "{err}");
        assert!(err.contains("nothing.here"), "{err}");
    }
}
