//! `vitrine build`, `check` and `init` on fixture sites: what must build, what must fail with
//! which message, what must never be published.

use std::fs;
use std::path::Path;

use crate::common::{fixture, read_private, text, vitrine};

/// Every file under `dir` with its bytes, for comparing whole outputs.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            (
                e.path().strip_prefix(dir).unwrap().display().to_string(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

fn public_text(out: &Path) -> String {
    let mut all = String::new();
    for (path, bytes) in snapshot(out) {
        if path.starts_with("private/") {
            continue;
        }
        all.push_str(&path);
        all.push('\n');
        all.push_str(&String::from_utf8_lossy(&bytes));
    }
    all
}

#[test]
fn invalid_sites_fail_with_their_messages() {
    let cases = fs::read_dir(crate::common::repo().join("tests/sites_invalid")).unwrap();
    let mut seen = 0;
    for case in cases.flatten() {
        let name = case.file_name().to_string_lossy().to_string();
        let (_tmp, root) = fixture(&format!("sites_invalid/{name}"));
        let expected = fs::read_to_string(root.join("expected.txt")).unwrap();
        for command in ["build", "check"] {
            let out = vitrine(&root, &[command]);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{name} {command}: {}",
                text(&out)
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            for line in expected.lines().filter(|l| !l.is_empty()) {
                assert!(
                    stderr.contains(line),
                    "{name} {command}: expected `{line}` in\n{stderr}"
                );
            }
        }
        assert!(
            !root.join("public").exists(),
            "{name}: a failed build wrote an output"
        );
        seen += 1;
    }
    assert!(seen >= 8, "only {seen} invalid fixtures found");
}

#[test]
fn basic_site_builds_and_keeps_private_items_private() {
    let (_tmp, root) = fixture("sites/basic");
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let public = root.join("public");
    for path in [
        "index.html",
        "spotlight/index.html",
        "datasets/open-cortex/index.html",
        "datasets/older-retina/index.html",
        "private/secret-hydra/index.html",
        "tags/cortex/index.html",
        "sitemap.xml",
        "robots.txt",
        "feed.xml",
        "search-index.json",
        "404.html",
        "share/revocations.json",
    ] {
        assert!(public.join(path).is_file(), "missing {path}");
    }
    let all = public_text(&public);
    for secret in [
        "secret-hydra",
        "Unpublished Hydra",
        "regeneration-secret",
        "hydra nerve net",
    ] {
        assert!(!all.contains(secret), "public output mentions `{secret}`");
    }
    assert!(!public.join("tags/regeneration-secret").exists());
    let gallery = fs::read_to_string(public.join("index.html")).unwrap();
    let (a, b) = (
        gallery.find("Open cortex volume").unwrap(),
        gallery.find("Older retina scan").unwrap(),
    );
    assert!(a < b, "featured dataset must come first");
    let page = fs::read_to_string(public.join("datasets/open-cortex/index.html")).unwrap();
    assert!(
        !page.contains("<script>alert"),
        "raw HTML in a description must be sanitised"
    );
    assert!(
        page.contains("<b>bold</b>") || page.contains("<strong>"),
        "harmless markup stays"
    );
    let robots = fs::read_to_string(public.join("robots.txt")).unwrap();
    assert!(
        robots.contains("Disallow: /data/private/") || robots.contains("Disallow: /private/"),
        "{robots}"
    );
    let sitemap = fs::read_to_string(public.join("sitemap.xml")).unwrap();
    assert!(
        sitemap.contains("<loc>https://lab.example.org/data/datasets/open-cortex/</loc>"),
        "{sitemap}"
    );
    let private = read_private(&root, "private/secret-hydra/index.html");
    assert!(private.contains("noindex"));

    // A second build with no change rewrites nothing.
    let before = snapshot(&public);
    let again = vitrine(&root, &["build"]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("nothing changed"),
        "{}",
        text(&again)
    );
    assert_eq!(before, snapshot(&public));
}

#[test]
fn check_writes_nothing() {
    let (_tmp, root) = fixture("sites/basic");
    let before = snapshot(&root);
    let out = vitrine(&root, &["check"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(before, snapshot(&root), "check must not write");
}

/// `check` is the build with writing off: what the leak guard or the key scan refuses, late in
/// a build, `check` refuses too, with the same message, and leaves the site as it was.
#[test]
fn check_refuses_what_build_refuses() {
    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n";
    // (fixture, a file to add to it, what both commands say)
    let cases = [
        ("sites/leaky-theme", None, "leak guard"),
        (
            "sites/basic",
            Some(("content/datasets/open-cortex/notes.txt", pem)),
            "private key material",
        ),
    ];
    for (site, added, expected) in cases {
        let (_tmp, root) = fixture(site);
        if let Some((path, text)) = added {
            fs::write(root.join(path), text).unwrap();
        }
        let before = snapshot(&root);
        for command in ["check", "build"] {
            let out = vitrine(&root, &[command]);
            assert_eq!(
                out.status.code(),
                Some(1),
                "{site} {command}: {}",
                text(&out)
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains(expected), "{site} {command}: {stderr}");
            if command == "check" {
                assert_eq!(before, snapshot(&root), "{site}: check wrote something");
            }
        }
    }
}

#[test]
fn static_hosting_seals_private_datasets_behind_a_generic_loader() {
    let (_tmp, root) = fixture("sites/static-hosting");
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let public = root.join("public");
    assert!(!public_text(&public).contains("Private one under review"));
    let loader = fs::read_to_string(public.join("private/private-one/index.html")).unwrap();
    assert!(!loader.contains("Private one") && !loader.contains("private-one"));
    assert!(
        read_private(&root, "private/private-one/index.html").contains("Private one under review")
    );
    assert!(public.join("private/private-one/vitrine-sw.js").is_file());
    assert!(
        !root.join(".netlify").exists(),
        "no edge module for a static host"
    );
}

#[test]
fn leak_guard_stops_a_theme_that_names_a_private_dataset() {
    let (_tmp, root) = fixture("sites/leaky-theme");
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("leak guard"), "{stderr}");
    assert!(
        stderr.contains("404.html"),
        "the leaking file is named: {stderr}"
    );
    assert!(!root.join("public").exists());
}

#[test]
fn leak_guard_kept_between_builds_follows_an_edit_of_public_text() {
    // The guard's findings outlive each `vitrine build` (`.vitrine-cache/outputs/*.guard.json`):
    // a private name public text also says is no leak, and stops being shared when the public
    // text that said it is edited, in the next process.
    let (_tmp, root) = fixture("sites/leaky-theme");
    let page = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body>Coming soon: Hidden Thing Under Review</body></html>";
    fs::write(root.join("themes/leaky/templates/404.html"), page).unwrap();
    let visible = root.join("content/datasets/visible/dataset.yaml");
    let describe = |text: &str| {
        let yaml = format!(
            "display_name: Visible dataset\nvisibility: public\nthumbnail: v.png\ndescription: {text}\n"
        );
        fs::write(&visible, yaml).unwrap();
    };
    describe("Compare with Hidden Thing Under Review, our next release.");
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let outputs = root.join(".vitrine-cache/outputs");
    let kept = fs::read_dir(&outputs).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".guard.json")
    });
    assert!(
        kept,
        "the guard's findings are kept in {}",
        outputs.display()
    );

    describe("A plain public dataset.");
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("404.html") && stderr.contains("display name"),
        "{stderr}"
    );

    describe("Compare with Hidden Thing Under Review, our next release.");
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn leak_guard_searches_short_slugs_and_names_as_words() {
    let (_tmp, root) = fixture("sites/leaky-theme");
    let datasets = root.join("content/datasets");
    fs::rename(datasets.join("hidden-thing"), datasets.join("ab")).unwrap();
    fs::write(
        datasets.join("ab/dataset.yaml"),
        "display_name: Q7\nthumbnail: x.png\n",
    )
    .unwrap();
    let template = root.join("themes/leaky/templates/404.html");
    for (leak, what) in [
        ("<a href=\"{{ page.root }}private/ab/\">soon</a>", "slug"),
        ("<p>Coming soon: Q7.</p>", "display name"),
    ] {
        let page = format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body>{leak}</body></html>");
        fs::write(&template, page).unwrap();
        let out = vitrine(&root, &["build"]);
        assert_eq!(out.status.code(), Some(1), "{what}\n{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("404.html") && stderr.contains("private dataset 'ab'"),
            "{stderr}"
        );
    }
    // Inside other words the short name is no match: `abstract`, `Q70`.
    let page = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found</title></head><body>abstract Q70</body></html>";
    fs::write(&template, page).unwrap();
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn leak_guard_stops_a_private_image_reused_as_a_public_thumbnail() {
    let (_tmp, root) = fixture("sites/basic");
    let datasets = root.join("content/datasets");
    fs::copy(
        datasets.join("secret-hydra/h.png"),
        datasets.join("open-cortex/thumb.png"),
    )
    .unwrap();
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("content hash"),
        "{}",
        text(&out)
    );
}

/// Appends `markdown` to the description of `dataset` in the basic fixture at `root`.
fn describe(root: &Path, dataset: &str, markdown: &str) {
    let descriptor = root.join(format!("content/datasets/{dataset}/dataset.yaml"));
    let yaml = fs::read_to_string(&descriptor).unwrap();
    let mut lines: Vec<String> = yaml.lines().map(str::to_string).collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("description:"))
        .unwrap();
    let mut block = vec!["description: |".to_string()];
    let first = lines[at].trim_start_matches("description:").trim();
    if !first.is_empty() && first != "|" {
        block.push(format!("  {first}"));
    }
    let mut end = at + 1;
    while end < lines.len() && (lines[end].starts_with("  ") || lines[end].is_empty()) {
        block.push(lines[end].clone());
        end += 1;
    }
    block.push(String::new());
    block.extend(markdown.lines().map(|l| format!("  {l}")));
    lines.splice(at..end, block);
    fs::write(&descriptor, lines.join("\n") + "\n").unwrap();
}

#[test]
fn files_a_description_links_are_published_with_its_page() {
    let (_tmp, root) = fixture("sites/basic");
    let open = root.join("content/datasets/open-cortex");
    fs::create_dir_all(open.join("figures")).unwrap();
    fs::create_dir_all(open.join("data")).unwrap();
    fs::copy(
        root.join("content/datasets/older-retina/r.png"),
        open.join("figures/Figure 1.png"),
    )
    .unwrap();
    fs::write(open.join("data/counts.csv"), "cell,count\na,1\n").unwrap();
    fs::write(open.join("unlisted.txt"), "not linked, not published").unwrap();
    describe(
        &root,
        "open-cortex",
        "![Figure 1](<figures/Figure 1.png>) shows [the counts](./data/counts.csv#row-2);\n\
         <a href=\"data/counts.csv\">raw</a>, [a paper](https://doi.org/10.1/x), [top](#top).",
    );
    let hydra = root.join("content/datasets/secret-hydra");
    fs::write(
        hydra.join("Review Notes.PDF"),
        b"%PDF-1.4 notes for the reviewers",
    )
    .unwrap();
    describe(
        &root,
        "secret-hydra",
        "[Notes](<Review Notes.PDF>) for the reviewers.",
    );

    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let public = root.join("public");
    let files = public.join("datasets/open-cortex/files");
    assert_eq!(
        fs::read(files.join("figures/figure-1.png")).unwrap(),
        fs::read(open.join("figures/Figure 1.png")).unwrap()
    );
    assert!(files.join("data/counts.csv").is_file());
    assert!(
        !files.join("unlisted.txt").exists(),
        "only linked files are published"
    );
    let page = fs::read_to_string(public.join("datasets/open-cortex/index.html")).unwrap();
    for link in [
        "src=\"files/figures/figure-1.png\"",
        "href=\"files/data/counts.csv#row-2\"",
        "href=\"files/data/counts.csv\"",
        "href=\"https://doi.org/10.1/x\"",
        "href=\"#top\"",
    ] {
        assert!(page.contains(link), "{link} missing from the page");
    }
    let feed = fs::read_to_string(public.join("feed.xml")).unwrap();
    assert!(
        feed.contains(
            "https://lab.example.org/data/datasets/open-cortex/files/figures/figure-1.png"
        ),
        "a feed reader resolves no relative link:\n{feed}"
    );
    assert!(public
        .join("private/secret-hydra/files/review-notes.pdf")
        .is_file());
    let private = read_private(&root, "private/secret-hydra/index.html");
    assert!(private.contains("href=\"files/review-notes.pdf\""));
    assert!(!public_text(&public).contains("review-notes"));

    // An edited file is published again; a file no longer linked is withdrawn.
    fs::write(open.join("data/counts.csv"), "cell,count\na,1\nb,2\n").unwrap();
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        fs::read_to_string(files.join("data/counts.csv")).unwrap(),
        "cell,count\na,1\nb,2\n"
    );
    let descriptor = open.join("dataset.yaml");
    let yaml = fs::read_to_string(&descriptor).unwrap();
    fs::write(
        &descriptor,
        yaml.replace("<figures/Figure 1.png>", "https://example.org/f.png"),
    )
    .unwrap();
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!files.join("figures").exists());

    // A private file copied into a public dataset and linked is a leak, whatever its name.
    fs::copy(hydra.join("Review Notes.PDF"), open.join("data/notes.pdf")).unwrap();
    describe(&root, "open-cortex", "[notes](data/notes.pdf)");
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("datasets/open-cortex/files/data/notes.pdf: has the same bytes as private dataset 'secret-hydra''s `Review Notes.PDF`"),
        "{stderr}"
    );

    // A symlink out of the folder is refused like an image's.
    fs::remove_file(open.join("data/notes.pdf")).unwrap();
    std::os::unix::fs::symlink(root.join("content/site.yaml"), open.join("data/notes.pdf"))
        .unwrap();
    let out = vitrine(&root, &["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("'data/notes.pdf' in the description leads outside the dataset folder"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_failed_build_leaves_the_previous_site_untouched() {
    let (_tmp, root) = fixture("sites/basic");
    assert!(vitrine(&root, &["build"]).status.success());
    let before = snapshot(&root.join("public"));
    let descriptor = root.join("content/datasets/open-cortex/dataset.yaml");
    let broken = fs::read_to_string(&descriptor)
        .unwrap()
        .replace("display_name:", "display_nme:");
    fs::write(&descriptor, broken).unwrap();
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean 'display_name'"),
        "{}",
        text(&out)
    );
    assert_eq!(before, snapshot(&root.join("public")));
}

#[test]
fn hostile_files_are_refused_with_the_dataset_named() {
    let (_tmp, root) = fixture("sites/basic");
    let ds = root.join("content/datasets/open-cortex");
    // A PNG header claiming 200000 × 200000 pixels: refused from the header, never decoded.
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(200_000u32.to_be_bytes());
    png.extend(200_000u32.to_be_bytes());
    png.extend([8, 0, 0, 0, 0]);
    png.extend(crc32(&png[12..]).to_be_bytes());
    // One tiny IDAT (a stored zlib block holding one filter byte) and IEND, so decoders
    // that read up to the first image data see a complete, well-formed file.
    let zlib = [
        0x78, 0x01, 0x01, 0x01, 0x00, 0xfe, 0xff, 0x00, 0x00, 0x01, 0x00, 0x01,
    ];
    let mut idat = b"IDAT".to_vec();
    idat.extend(zlib);
    png.extend((zlib.len() as u32).to_be_bytes());
    png.extend(&idat);
    png.extend(crc32(&idat).to_be_bytes());
    png.extend(0u32.to_be_bytes());
    png.extend(b"IEND");
    png.extend(crc32(b"IEND").to_be_bytes());
    fs::write(ds.join("thumb.png"), &png).unwrap();
    // A symlink out of the dataset folder.
    let outside = root.join("outside.png");
    fs::copy(root.join("content/datasets/older-retina/r.png"), &outside).unwrap();
    std::os::unix::fs::symlink(
        &outside,
        root.join("content/datasets/older-retina/link.png"),
    )
    .unwrap();
    let descriptor = root.join("content/datasets/older-retina/dataset.yaml");
    let text_ = fs::read_to_string(&descriptor)
        .unwrap()
        .replace("thumbnail: r.png", "thumbnail: link.png");
    fs::write(&descriptor, text_).unwrap();

    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("older-retina/dataset.yaml")
            && stderr.contains("outside the dataset folder"),
        "{stderr}"
    );
    // Content errors stop the build before images are read; fix the symlink to see the bomb.
    let text_ = fs::read_to_string(&descriptor)
        .unwrap()
        .replace("thumbnail: link.png", "thumbnail: r.png");
    fs::write(&descriptor, text_).unwrap();
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("open-cortex") && stderr.contains("megapixels"),
        "{stderr}"
    );
}

#[test]
fn a_private_key_inside_the_site_stops_the_build() {
    let (_tmp, root) = fixture("sites/basic");
    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n";
    fs::write(root.join("content/datasets/open-cortex/notes.txt"), pem).unwrap();
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("private key material"),
        "{}",
        text(&out)
    );
    assert!(!root.join("public").exists());
}

#[test]
fn an_edit_renders_only_the_pages_that_show_it() {
    use std::os::unix::fs::MetadataExt;
    let (_tmp, root) = fixture("sites/basic");
    let public = root.join("public");
    let first = vitrine(&root, &["build"]);
    assert!(first.status.success(), "{}", text(&first));
    let inode = |rel: &str| fs::metadata(public.join(rel)).unwrap().ino();
    let untouched = inode("datasets/older-retina/index.html");
    // The private page is published sealed; its rendering is kept in the page cache.
    let private_page = || -> Vec<u64> {
        let outputs = root.join(".vitrine-cache/outputs");
        walkdir::WalkDir::new(outputs)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| {
                e.path()
                    .parent()
                    .unwrap()
                    .to_string_lossy()
                    .ends_with(".pages")
            })
            .filter(|e| {
                fs::read_to_string(e.path())
                    .is_ok_and(|t| t.contains("<h1>Unpublished Hydra nerve net</h1>"))
            })
            .map(|e| e.metadata().unwrap().ino())
            .collect()
    };
    let rendered = private_page();
    assert_eq!(rendered.len(), 1, "the private page is kept once");

    let yaml = root.join("content/datasets/open-cortex/dataset.yaml");
    let edited = fs::read_to_string(&yaml)
        .unwrap()
        .replace("Open cortex volume", "Renamed cortex volume");
    fs::write(&yaml, edited).unwrap();
    let second = vitrine(&root, &["build"]);
    assert!(second.status.success(), "{}", text(&second));
    for page in ["index.html", "datasets/open-cortex/index.html"] {
        let html = fs::read_to_string(public.join(page)).unwrap();
        assert!(
            html.contains("Renamed cortex volume"),
            "{page} shows the edit"
        );
    }
    assert_eq!(
        inode("datasets/older-retina/index.html"),
        untouched,
        "a page that does not show the edited dataset is not rewritten"
    );
    assert_eq!(
        private_page(),
        rendered,
        "a private page that does not show the edit is not rendered again"
    );
}

#[test]
fn a_key_file_added_later_is_found_whatever_its_date() {
    let (_tmp, root) = fixture("sites/basic");
    let first = vitrine(&root, &["build"]);
    assert!(first.status.success(), "{}", text(&first));
    // Unpacked from an old archive: a new path with an old modification time must still be read.
    let notes = root.join("content/datasets/older-retina/notes.txt");
    let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n";
    fs::write(&notes, pem).unwrap();
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    fs::File::options()
        .write(true)
        .open(&notes)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("notes.txt"),
        "{}",
        text(&out)
    );
}

#[test]
fn init_makes_a_site_that_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new-site");
    let out = vitrine(tmp.path(), &["init", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let gitignore = fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(gitignore.contains("/public/") && gitignore.contains("*.key"));
    assert!(dir.join("netlify.toml").is_file());
    let out = vitrine(&dir, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(dir
        .join("public/datasets/example-section/index.html")
        .is_file());
    let again = vitrine(tmp.path(), &["init", dir.to_str().unwrap()]);
    assert_eq!(
        again.status.code(),
        Some(1),
        "init refuses an existing site"
    );
}

#[test]
fn usage_errors_exit_with_2() {
    let tmp = tempfile::tempdir().unwrap();
    let out = vitrine(tmp.path(), &["build", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

/// CRC-32 (PNG's), so the bomb's header is well-formed and only its size is hostile.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The output of a clean build of a copy of `root`'s inputs, for comparing with an incremental one.
fn clean_build(root: &Path) -> Vec<(String, Vec<u8>)> {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("site");
    for dir in ["content", "themes"] {
        if root.join(dir).is_dir() {
            crate::common::copy_dir(&root.join(dir), &copy.join(dir));
        }
    }
    // The same content secret seals the same files to the same bytes.
    let secret = ".vitrine-cache/unshared.secret";
    if root.join(secret).is_file() {
        fs::create_dir_all(copy.join(".vitrine-cache")).unwrap();
        fs::copy(root.join(secret), copy.join(secret)).unwrap();
    }
    let out = vitrine(&copy, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    snapshot(&copy.join("public"))
}

#[test]
fn cards_follow_edits_and_the_theme_and_match_a_clean_build() {
    let (_tmp, root) = fixture("sites/basic");
    let public = root.join("public");
    let build = || {
        let out = vitrine(&root, &["build"]);
        assert!(out.status.success(), "{}", text(&out));
    };
    build();
    let yaml = root.join("content/datasets/open-cortex/dataset.yaml");
    let edited = fs::read_to_string(&yaml)
        .unwrap()
        .replace("Open cortex volume", "Renamed cortex volume");
    fs::write(&yaml, edited).unwrap();
    build();
    for page in [
        "index.html",
        "spotlight/index.html",
        "tags/cortex/index.html",
    ] {
        let html = fs::read_to_string(public.join(page)).unwrap();
        assert!(html.contains("Renamed cortex volume"), "{page}");
        assert!(
            !html.contains("Open cortex volume"),
            "{page} keeps no old card"
        );
    }

    // A theme's own card: every listing shows it, and the cards rendered before are not reused.
    let card = root.join("themes/lab/templates/partials/card.html");
    fs::create_dir_all(card.parent().unwrap()).unwrap();
    fs::write(
        &card,
        "<li class=\"lab-card\" data-page=\"{{ page.path }}\">{{ dataset.display_name }}{% if eager %} (first row){% endif %}</li>",
    )
    .unwrap();
    let site_yaml = root.join("content/site.yaml");
    let config = fs::read_to_string(&site_yaml).unwrap() + "theme: lab\n";
    fs::write(&site_yaml, config).unwrap();
    build();
    let gallery = fs::read_to_string(public.join("index.html")).unwrap();
    assert!(
        gallery.contains(
            "<li class=\"lab-card\" data-page=\"\">Renamed cortex volume (first row)</li>"
        ),
        "{gallery}"
    );
    let tag = fs::read_to_string(public.join("tags/cortex/index.html")).unwrap();
    assert!(tag.contains("data-page=\"tags/cortex/\""), "{tag}");
    assert!(
        !tag.contains("class=\"card\""),
        "no card of the built-in theme is left"
    );

    assert_eq!(
        snapshot(&public),
        clean_build(&root),
        "the incremental builds end where a clean build does"
    );
}

#[test]
fn a_watched_build_looks_again_at_the_paths_it_is_told_changed() {
    use vitrine::site::{BuildOptions, Site};
    let (_tmp, root) = fixture("sites/basic");
    let opts = BuildOptions {
        out: root.join("public"),
        base_url: None,
        progress: false,
        preview: false,
        against_live: false,
    };
    let mut site = Site::new(&root.canonicalize().unwrap());
    site.build(&opts).unwrap();

    let yaml = root.join("content/datasets/open-cortex/dataset.yaml");
    let edited = fs::read_to_string(&yaml)
        .unwrap()
        .replace("Open cortex volume", "Renamed cortex volume");
    fs::write(&yaml, edited).unwrap();
    let report = site
        .build_after(&opts, &[yaml.canonicalize().unwrap()])
        .unwrap();
    assert!(report
        .changed
        .contains(&"datasets/open-cortex/index.html".to_string()));

    // A new dataset folder, then a new image in it, then the folder gone again.
    let datasets = root.canonicalize().unwrap().join("content/datasets");
    let added = datasets.join("added-cortex");
    crate::common::copy_dir(&datasets.join("open-cortex"), &added);
    site.build_after(&opts, std::slice::from_ref(&added))
        .unwrap();
    let page = root.join("public/datasets/added-cortex/index.html");
    let before = fs::read_to_string(&page).unwrap();
    let thumb = added.join("thumb.png");
    let mut pixels = image::open(&thumb).unwrap().to_rgb8();
    pixels.put_pixel(0, 0, image::Rgb([255, 0, 255]));
    pixels.save(&thumb).unwrap();
    site.build_after(&opts, &[thumb]).unwrap();
    assert_ne!(
        fs::read_to_string(&page).unwrap(),
        before,
        "the new pixels get a new media folder"
    );
    assert_eq!(
        snapshot(&root.join("public")),
        clean_build(&root),
        "a watched build ends where a clean build does"
    );

    // The site's title is in every dataset's page and card: nothing made before may be reused.
    let site_yaml = root.canonicalize().unwrap().join("content/site.yaml");
    let config = fs::read_to_string(&site_yaml)
        .unwrap()
        .replace("title: Fixture lab", "title: Renamed lab");
    fs::write(&site_yaml, config).unwrap();
    site.build_after(&opts, std::slice::from_ref(&site_yaml))
        .unwrap();
    assert!(fs::read_to_string(&page).unwrap().contains("Renamed lab"));
    assert_eq!(snapshot(&root.join("public")), clean_build(&root));

    fs::remove_dir_all(&added).unwrap();
    let report = site.build_after(&opts, &[added]).unwrap();
    assert!(!page.exists(), "{:?}", report.changed);
    assert_eq!(snapshot(&root.join("public")), clean_build(&root));
}

#[test]
fn the_output_holds_exactly_what_the_build_wrote() {
    let (_tmp, root) = fixture("sites/basic");
    let public = root.join("public");
    let spare = root.join(".public.spare");
    let build = || {
        let out = vitrine(&root, &["build"]);
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    build();
    // Dropped in by hand after a build; nothing vitrine reads has changed.
    fs::write(public.join("old-alpha.html"), "an old page").unwrap();
    fs::create_dir_all(public.join("uploads/2024")).unwrap();
    fs::write(public.join("uploads/2024/stray.bin"), [0u8; 10]).unwrap();
    let summary = build();
    assert!(
        summary.contains(
            "removed 2 files vitrine did not write: old-alpha.html, uploads/2024/stray.bin"
        ),
        "{summary}"
    );
    assert!(!public.join("old-alpha.html").exists());
    assert!(!public.join("uploads").exists(), "emptied folders go too");

    // One dropped into the spare never swaps back into the output.
    let yaml = root.join("content/datasets/open-cortex/dataset.yaml");
    let edit = |to: &str| {
        let text = fs::read_to_string(&yaml).unwrap();
        let name = text
            .lines()
            .find(|l| l.starts_with("display_name:"))
            .unwrap();
        fs::write(&yaml, text.replace(name, &format!("display_name: {to}"))).unwrap();
    };
    edit("First edit");
    build();
    assert!(spare.is_dir(), "the spare generation exists");
    fs::write(spare.join("from-the-spare.html"), "stale").unwrap();
    edit("Second edit");
    let summary = build();
    assert!(summary.contains("from-the-spare.html"), "{summary}");
    for _ in 0..2 {
        build();
        for dir in [&public, &spare] {
            assert!(!dir.join("from-the-spare.html").exists());
            assert!(!dir.join("old-alpha.html").exists());
        }
    }
    assert!(!build().contains("removed"), "nothing left to remove");
}
