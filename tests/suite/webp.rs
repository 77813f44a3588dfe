//! `images.format: webp`: WebP tiles named by the DZI, `<picture>` with a JPEG fallback, and
//! private WebP files sealed like any other.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::{fixture, text, unseal, vitrine, webp_site};

/// The one media folder under `dir` (`<dataset>/media/<hash>/`).
fn media_dir(dir: &Path) -> PathBuf {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir.join("media"))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.pop().unwrap()
}

fn decode_webp(bytes: &[u8]) -> image::DynamicImage {
    assert_eq!(
        image::guess_format(bytes).unwrap(),
        image::ImageFormat::WebP,
        "WebP bytes"
    );
    image::load_from_memory_with_format(bytes, image::ImageFormat::WebP).unwrap()
}

#[test]
fn webp_sites_write_webp_tiles_and_pictures_with_a_jpeg_fallback() {
    let (_tmp, root) = fixture("sites/serve");
    webp_site(&root);
    assert!(vitrine(&root, &["keygen"]).status.success());
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let public = root.join("public");

    // The pyramid: the DZI names WebP, and every full-resolution tile is a WebP of its size.
    let media = media_dir(&public.join("datasets/open-cortex"));
    let dzi = fs::read_to_string(media.join("tiles.dzi")).unwrap();
    assert!(dzi.contains(r#"Format="webp""#), "{dzi}");
    assert!(dzi.contains(r#"Width="600" Height="400""#), "{dzi}");
    let top = media.join("tiles_files/10");
    let mut tiles: Vec<String> = fs::read_dir(&top)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    tiles.sort();
    assert_eq!(
        tiles,
        ["0_0.webp", "0_1.webp", "1_0.webp", "1_1.webp", "2_0.webp", "2_1.webp"]
    );
    let first = decode_webp(&fs::read(top.join("0_0.webp")).unwrap());
    assert_eq!((first.width(), first.height()), (255, 255));
    let last = decode_webp(&fs::read(top.join("2_1.webp")).unwrap());
    assert_eq!((last.width(), last.height()), (600 - 507, 400 - 253));

    // Thumbnails: `<picture>` offers the WebP ones first, `<img>` keeps JPEG, and every URL of
    // both lists is a file of that format.
    let page = fs::read_to_string(public.join("datasets/open-cortex/index.html")).unwrap();
    let gallery = fs::read_to_string(public.join("index.html")).unwrap();
    // The dataset page shows the viewer, so its `<picture>` (no viewer) is not there to check.
    for (html, base) in [(&gallery, "")] {
        let picture = html
            .split("<picture>")
            .nth(1)
            .unwrap_or_else(|| panic!("no <picture> in {base}index.html"));
        let picture = picture.split("</picture>").next().unwrap();
        assert!(
            picture.contains(r#"<source type="image/webp" srcset=""#),
            "{picture}"
        );
        assert!(
            picture.contains(r#" width=""#) && picture.contains(r#" alt=""#),
            "{picture}"
        );
        let srcsets: Vec<&str> = picture
            .split(r#"srcset=""#)
            .skip(1)
            .map(|s| s.split('"').next().unwrap())
            .collect();
        assert_eq!(srcsets.len(), 2, "{picture}");
        for (srcset, format) in srcsets
            .iter()
            .zip([image::ImageFormat::WebP, image::ImageFormat::Jpeg])
        {
            for candidate in srcset.split(", ") {
                let url = candidate.split(' ').next().unwrap();
                let bytes = fs::read(public.join(base).join(url))
                    .unwrap_or_else(|e| panic!("{url} in {base}index.html: {e}"));
                assert_eq!(image::guess_format(&bytes).unwrap(), format, "{url}");
            }
        }
    }
    // Social previews stay JPEG.
    let og = page
        .split(r#"property="og:image" content=""#)
        .nth(1)
        .unwrap();
    assert!(og.split('"').next().unwrap().ends_with(".jpg"), "{og}");

    // The private dataset's WebP tiles are sealed, and open to WebP.
    let private = media_dir(&public.join("private/closed-retina"));
    let rel = private
        .join("tiles_files/10/0_0.webp")
        .strip_prefix(&public)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let sealed = fs::read(public.join(&rel)).unwrap();
    assert!(
        image::guess_format(&sealed).is_err(),
        "a private tile is sealed"
    );
    let opened = decode_webp(&unseal(&root, &rel));
    assert_eq!((opened.width(), opened.height()), (255, 255));
}
