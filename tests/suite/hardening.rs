//! Hostile content and crashes: every input either works or fails fast naming the dataset, with
//! bounded memory and no panic, and a killed build never damages the last good site.

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::common::{fixture, text, vitrine, vitrine_bin};

fn write_dataset(root: &Path, slug: &str, descriptor: &str, image: &[u8]) {
    let dir = root.join("content/datasets").join(slug);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("dataset.yaml"), descriptor).unwrap();
    fs::write(dir.join("t.png"), image).unwrap();
}

fn small_png(seed: u8, side: u32) -> Vec<u8> {
    let img = image::GrayImage::from_fn(side, side, |x, y| {
        image::Luma([(x * 7 + y * 13 + seed as u32 * 31) as u8])
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    bytes
}

fn assert_fails_naming(root: &Path, needles: &[&str]) {
    let out = vitrine(root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for n in needles {
        assert!(stderr.contains(n), "expected `{n}` in:\n{stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn yaml_alias_bomb_fails_fast_naming_the_descriptor() {
    let (_tmp, root) = fixture("sites/basic");
    let mut bomb = String::from(
        "display_name: x\nthumbnail: t.png\nlinks:\n  a: &a [x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..10 {
        let p = if i == 1 {
            "a".to_string()
        } else {
            format!("a{}", i - 1)
        };
        bomb.push_str(&format!(
            "  a{i}: &a{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        ));
    }
    write_dataset(&root, "bomb", &bomb, &small_png(1, 8));
    assert_fails_naming(&root, &["content/datasets/bomb/dataset.yaml"]);
}

#[test]
fn truncated_and_corrupt_images_name_their_dataset() {
    let (_tmp, root) = fixture("sites/basic");
    let png = small_png(2, 64);
    write_dataset(
        &root,
        "truncated",
        "display_name: T\nvisibility: public\nthumbnail: t.png\n",
        &png[..png.len() / 2],
    );
    let mut corrupt = png.clone();
    for b in corrupt.iter_mut().skip(40).take(40) {
        *b ^= 0x5a;
    }
    write_dataset(
        &root,
        "corrupt",
        "display_name: C\nvisibility: public\nthumbnail: t.png\n",
        &corrupt,
    );
    // Each once, at the line that names the image, with the path once.
    assert_fails_naming(
        &root,
        &[
            "content/datasets/truncated/dataset.yaml:3:12: thumbnail 't.png': cannot decode",
            "content/datasets/corrupt/dataset.yaml:3:12: thumbnail 't.png': cannot decode",
        ],
    );
}

#[test]
fn a_ten_megabyte_description_builds() {
    let (_tmp, root) = fixture("sites/basic");
    let mut desc =
        String::from("display_name: Long\nvisibility: public\nthumbnail: t.png\ndescription: |\n");
    let line = "  Serial sections were imaged at 4 nm with a fast detector and aligned by hand.\n";
    while desc.len() < 10_000_000 {
        desc.push_str(line);
        desc.push('\n');
    }
    write_dataset(&root, "long", &desc, &small_png(3, 32));
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        root.join("public/datasets/long/index.html")
            .metadata()
            .unwrap()
            .len()
            > 5_000_000
    );
}

#[test]
fn odd_folder_names_are_refused_or_ignored() {
    use std::os::unix::ffi::OsStrExt;
    let (_tmp, root) = fixture("sites/basic");
    // A non-UTF-8 file nobody refers to is ignored; a non-UTF-8 or upper-case folder is refused.
    fs::write(
        root.join("content/datasets/open-cortex")
            .join(std::ffi::OsStr::from_bytes(b"notes-\xff.txt")),
        "x",
    )
    .unwrap();
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let bad = root
        .join("content/datasets")
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    fs::create_dir_all(&bad).unwrap();
    fs::write(
        bad.join("dataset.yaml"),
        "display_name: x\nthumbnail: t.png\n",
    )
    .unwrap();
    write_dataset(
        &root,
        "Open-Cortex",
        "display_name: Dup\nvisibility: public\nthumbnail: t.png\n",
        &small_png(4, 8),
    );
    assert_fails_naming(
        &root,
        &[
            "not valid UTF-8",
            "folder name 'Open-Cortex' is not a valid slug",
        ],
    );
}

#[test]
fn ten_thousand_small_datasets_build_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    fs::create_dir_all(root.join("content")).unwrap();
    fs::write(
        root.join("content/site.yaml"),
        "title: Many\nbase_url: https://many.example.org\nviewer:\n  pyramids: false\n",
    )
    .unwrap();
    for i in 0..10_000u32 {
        // Each image distinct: a private image reused as a public one would (rightly) fail.
        let img = image::GrayImage::from_fn(24, 24, |x, y| {
            image::Luma([(i >> ((x + y) % 2 * 8)) as u8 ^ (x * 9 + y) as u8])
        });
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let visibility = if i % 5 == 0 { "private" } else { "public" };
        write_dataset(
            &root,
            &format!("ds-{i:05}"),
            &format!("display_name: Dataset number {i}\nvisibility: {visibility}\nthumbnail: t.png\ntags: [t{}]\n", i % 50),
            &png,
        );
    }
    // Under an 8 GB address-space limit, as the hardening issue asks.
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 8000000 && exec '{}' --root '{}' build",
            vitrine_bin().display(),
            root.display()
        ))
        .env("XDG_CONFIG_HOME", tmp.path().join("xdg"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(root.join("public/datasets/ds-09999/index.html").is_file());
    assert!(root.join("public/private/ds-09995/index.html").is_file());
}

#[test]
fn a_killed_build_leaves_the_previous_site_intact() {
    let (_tmp, root) = fixture("sites/basic");
    // Enough fresh image work that a kill lands mid-build.
    for i in 0..12 {
        write_dataset(
            &root,
            &format!("big-{i}"),
            "display_name: Big\nvisibility: public\nthumbnail: t.png\n",
            &small_png(i, 900),
        );
    }
    assert!(vitrine(&root, &["build"]).status.success());
    let public = root.join("public");
    let snapshot = |dir: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<_> = walkdir::WalkDir::new(dir)
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
        v.sort();
        v
    };
    let mut before = snapshot(&public);
    for (round, delay_ms) in [30u64, 120, 300, 600].into_iter().enumerate() {
        for i in 0..12 {
            write_dataset(
                &root,
                &format!("big-{i}"),
                &format!("display_name: Big round {round}\nvisibility: public\nthumbnail: t.png\n"),
                &small_png(i + 20 * (round as u8 + 1), 900),
            );
        }
        let mut child = Command::new(vitrine_bin())
            .arg("--root")
            .arg(&root)
            .arg("build")
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let now = snapshot(&public);
        if status.success() {
            // The build won the race: the site is the complete new one, never a mix.
            for i in 0..12 {
                let page = fs::read_to_string(public.join(format!("datasets/big-{i}/index.html")))
                    .unwrap();
                assert!(
                    page.contains(&format!("Big round {round}")),
                    "round {round}: big-{i} is stale"
                );
            }
            before = now;
        } else {
            assert_eq!(
                before, now,
                "round {round}: a killed build changed the live site"
            );
        }
    }
    // The next build cleans up and succeeds.
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let leftovers: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("staging"))
        .collect();
    assert!(leftovers.is_empty(), "staging folders left: {leftovers:?}");
}

#[test]
fn a_share_killed_mid_write_leaves_a_readable_ledger() {
    let (tmp, root) = fixture("sites/share-basic");
    assert!(vitrine(&root, &["keygen"]).status.success());
    let ledger = root.join("content/shares.yaml");
    let mut recorded = 0;
    for round in 0..12u64 {
        let mut child = Command::new(vitrine_bin())
            .arg("--root")
            .arg(&root)
            .args([
                "share",
                "cortex-l4",
                "--label",
                &format!("reviewer {round}"),
            ])
            .env("XDG_CONFIG_HOME", tmp.path().join("xdg-config"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill at a different moment each round: before, during and after the ledger write.
        std::thread::sleep(Duration::from_millis(round * 4));
        let _ = child.kill();
        let finished = child.wait().unwrap().success();
        let out = vitrine(&root, &["shares", "--json"]);
        assert!(
            out.status.success(),
            "round {round}: the ledger no longer reads\n{}",
            text(&out)
        );
        let shares: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let count = shares.as_array().map_or(0, Vec::len);
        assert!(
            count == recorded || count == recorded + 1,
            "round {round}: {count} shares after {recorded}"
        );
        assert!(
            !finished || count == recorded + 1,
            "round {round}: a finished share was lost"
        );
        recorded = count;
        assert!(ledger.exists() || recorded == 0);
    }
    // A run killed mid-write may leave its temporary file; the next write replaces it.
    let last = vitrine(&root, &["share", "cortex-l4", "--label", "after the kills"]);
    assert!(last.status.success(), "{}", text(&last));
    let leftovers: Vec<_> = fs::read_dir(root.join("content"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary ledger files left: {leftovers:?}"
    );
}
