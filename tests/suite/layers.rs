//! Segmentation layers: descriptor checks (`path:line:col` messages), label images that must
//! line up with the dataset's images (checked when media is derived), the exact label tiles
//! and statistics of a public layer, a private dataset's layer kept under `private/`, and a
//! private layer of a public dataset shared by its own link (`share --layer`, `verify`,
//! `revoke`, `shares`, `--qr`, behind a gate and on `hosting: static`).

use std::path::Path;

use crate::common::{fixture, text, vitrine};

/// Writes a `width` × `height` label TIFF of `pages` pages, 16- or 32-bit, id = `f(x, y, z)`.
fn label_tiff(
    path: &Path,
    width: u32,
    height: u32,
    pages: u32,
    bits: u8,
    f: fn(u32, u32, u32) -> u32,
) {
    use tiff::encoder::{colortype, TiffEncoder};
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = TiffEncoder::new(file).unwrap();
    for z in 0..pages {
        let ids: Vec<u32> = (0..width * height)
            .map(|i| f(i % width, i / width, z))
            .collect();
        match bits {
            16 => {
                let v: Vec<u16> = ids.iter().map(|&i| i as u16).collect();
                encoder
                    .write_image::<colortype::Gray16>(width, height, &v)
                    .unwrap();
            }
            _ => encoder
                .write_image::<colortype::Gray32>(width, height, &ids)
                .unwrap(),
        }
    }
}

fn blocks(x: u32, y: u32, _: u32) -> u32 {
    if x < 48 {
        0
    } else {
        4_000_000_000 + y / 32
    }
}

/// `basic`, with `layers` appended to dataset `slug`'s descriptor.
fn site_with(slug: &str, layers: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, root) = fixture("sites/basic");
    let descriptor = root.join(format!("content/datasets/{slug}/dataset.yaml"));
    let mut text = std::fs::read_to_string(&descriptor).unwrap();
    text.push_str(layers);
    std::fs::write(&descriptor, text).unwrap();
    (tmp, root)
}

#[test]
fn descriptor_problems_are_located() {
    let (_tmp, root) = site_with(
        "open-cortex",
        "layers:\n  - id: cells\n    kind: segmentation\n    images: cells.tif\n    visiblity: public\n  - id: Bad_Id\n    kind: segmentation\n    images: ../escape.tif\n",
    );
    let out = vitrine(&root, &["check"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("dataset.yaml:16:5: unknown field 'visiblity' (did you mean 'visibility'?)"),
        "{t}"
    );

    let (_tmp, root) = site_with(
        "open-cortex",
        "layers:\n  - id: cells\n    kind: segmentation\n    images: cells.tif\n    segments: segments.csv\n    visibility: public\n  - id: cells\n    kind: segmentation\n    images: cells.tif\n    visibility: public\n  - id: more\n    kind: segmentation\n    images: cells.tif\n",
    );
    let dir = root.join("content/datasets/open-cortex");
    label_tiff(&dir.join("cells.tif"), 96, 64, 1, 32, blocks);
    std::fs::write(
        dir.join("segments.csv"),
        "id,name\n4000000000,first\nseven,second\n",
    )
    .unwrap();
    let out = vitrine(&root, &["check"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("segments.csv:3:1: id 'seven' is not a label value"),
        "{t}"
    );
    assert!(
        t.contains("dataset.yaml:18:9: layer id 'cells' is already the id"),
        "{t}"
    );
    // A private layer (the default) of a public dataset is no problem: it is shared on its own.
    assert!(!t.contains("layer 'more'"), "{t}");

    let (_tmp, root) = site_with(
        "secret-hydra",
        "layers:\n  - id: cells\n    kind: segmentation\n    images: cells.tif\n    visibility: public\n",
    );
    label_tiff(
        &root.join("content/datasets/secret-hydra/cells.tif"),
        96,
        64,
        1,
        32,
        blocks,
    );
    let t = text(&vitrine(&root, &["check"]));
    assert!(
        t.contains("layer 'cells' is public but dataset 'secret-hydra' is private"),
        "{t}"
    );
}

#[test]
fn label_images_must_line_up_with_the_images() {
    let (_tmp, root) = site_with(
        "open-cortex",
        "layers:\n  - id: cells\n    kind: segmentation\n    images: cells.tif\n    visibility: public\n",
    );
    let file = root.join("content/datasets/open-cortex/cells.tif");
    label_tiff(&file, 95, 64, 1, 32, blocks);
    let out = vitrine(&root, &["build"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("open-cortex/dataset.yaml:15:13: layer 'cells' images 'cells.tif': slice 1 (cells.tif, page 1) is 95 × 64 pixels but the dataset's slice 1 is 96 × 64"), "{t}");
    label_tiff(&file, 96, 64, 2, 32, blocks);
    let t = text(&vitrine(&root, &["build"]));
    assert!(
        t.contains("2 label slices for the dataset's 1 image slice"),
        "{t}"
    );
    image::GrayImage::new(96, 64)
        .save(root.join("content/datasets/open-cortex/rgb.png"))
        .unwrap();
    image::RgbImage::new(96, 64)
        .save(&file.with_extension("png"))
        .unwrap();
    let descriptor = root.join("content/datasets/open-cortex/dataset.yaml");
    let d = std::fs::read_to_string(&descriptor)
        .unwrap()
        .replace("cells.tif", "cells.png");
    std::fs::write(&descriptor, d).unwrap();
    let t = text(&vitrine(&root, &["check"]));
    assert!(
        t.contains("a label image holds one unsigned integer id a pixel"),
        "{t}"
    );
}

#[test]
fn a_public_layer_is_published_exactly_and_a_private_one_only_sealed() {
    let (_tmp, root) = site_with(
        "open-cortex",
        "voxel_size_nm: [10, 10, 40]\nlayers:\n  - id: cells\n    kind: segmentation\n    images: cells.tif\n    segments: segments.csv\n    visibility: public\n",
    );
    let dir = root.join("content/datasets/open-cortex");
    label_tiff(&dir.join("cells.tif"), 96, 64, 1, 32, blocks);
    std::fs::write(
        dir.join("segments.csv"),
        "4000000001,Purkinje cell,#FF0000\n",
    )
    .unwrap();
    let descriptor = root.join("content/datasets/secret-hydra/dataset.yaml");
    let mut d = std::fs::read_to_string(&descriptor).unwrap();
    d.push_str("layers:\n  - id: hidden-cells\n    kind: segmentation\n    images: hidden.tif\n    segments: names.csv\n");
    std::fs::write(&descriptor, d).unwrap();
    let hydra = root.join("content/datasets/secret-hydra");
    label_tiff(&hydra.join("hidden.tif"), 96, 64, 1, 16, |x, y, _| {
        x + 100 * y
    });
    std::fs::write(hydra.join("names.csv"), "1,Nematocyte\n").unwrap();
    // `check` derives the label pyramids like the build, into a scratch cache of its own.
    let out = vitrine(&root, &["check"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !root.join(".vitrine-cache/media/labels").exists(),
        "check wrote the site's cache"
    );
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let public = root.join("public");
    let page = std::fs::read_to_string(public.join("datasets/open-cortex/layers/cells/index.html"))
        .unwrap();
    // 48 columns × 32 rows per id, 10 × 10 × 40 nm voxels: 1536 × 4000 nm³ = 0.00614 µm³.
    assert!(
        page.contains("<dt>Segments</dt><dd>2 <small>(1 named)</small>"),
        "{page}"
    );
    assert!(
        page.contains("Purkinje cell</th><td class=\"num\">1536</td><td class=\"num\">0.00614 µm³"),
        "{page}"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(public.join("datasets/open-cortex/layers/cells/segments.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["segments"][1]["colour"], "#ff0000");
    assert_eq!(json["segments"][1]["min"], serde_json::json!([48, 32, 0]));
    // The original, byte for byte, and the full-resolution tile, exactly.
    assert_eq!(
        std::fs::read(public.join("datasets/open-cortex/layers/cells/cells.tif")).unwrap(),
        std::fs::read(dir.join("cells.tif")).unwrap()
    );
    let tiles = public.join("datasets/open-cortex/layers/cells/tiles");
    let hash = std::fs::read_dir(&tiles)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let packed = std::fs::read(hash.join("7/0_0.bin")).unwrap();
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&packed[..]), &mut raw).unwrap();
    let ids: Vec<u32> = raw
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    assert_eq!(ids.len(), 96 * 64);
    assert!(ids
        .iter()
        .enumerate()
        .all(|(i, &id)| id == blocks(i as u32 % 96, i as u32 / 96, 0)));
    let sitemap = std::fs::read_to_string(public.join("sitemap.xml")).unwrap();
    assert!(
        sitemap.contains("datasets/open-cortex/layers/cells/"),
        "{sitemap}"
    );
    let landing = std::fs::read_to_string(public.join("datasets/open-cortex/index.html")).unwrap();
    assert!(
        landing.contains("\"hasPart\":[{\"@type\":\"Dataset\""),
        "no JSON-LD part"
    );
    // The private dataset's layer: under private/, sealed, and named nowhere public.
    let private = public.join("private/secret-hydra/layers/hidden-cells");
    assert!(private.join("index.html").is_file());
    let sealed = std::fs::read(private.join("segments.json")).unwrap();
    assert!(
        !String::from_utf8_lossy(&sealed).contains("Nematocyte"),
        "segments.json is not sealed"
    );
    assert!(!public.join("datasets/secret-hydra").exists());
    assert!(!sitemap.contains("hidden-cells"));

    // A private dataset's layer has a link of its own too (its dataset's link also opens it).
    assert!(vitrine(&root, &["keygen"]).status.success());
    let out = vitrine(&root, &["share", "secret-hydra", "--layer", "hidden-cells"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(
            "https://lab.example.org/data/private/secret-hydra/layers/hidden-cells/?s="
        ),
        "{}",
        text(&out)
    );
    let out = vitrine(&root, &["share", "open-cortex", "--layer", "cells"]);
    assert!(
        text(&out).contains("is public, so it needs no share link"),
        "{}",
        text(&out)
    );

    // What the leak guard looks for: the private layer's segment names and label bytes.
    let content = vitrine::content::load(&root).unwrap();
    let (items, _) =
        vitrine::output::leak::needles::needles(&content, &Default::default()).unwrap();
    let layer = items
        .iter()
        .find(|i| i.label == "private layer 'hidden-cells' of dataset 'secret-hydra'")
        .expect("the private layer is a private item");
    assert!(layer
        .needles
        .iter()
        .any(|n| n.text == "Nematocyte" && n.kind == "segment name"));
    assert!(layer
        .needles
        .iter()
        .any(|n| n.kind == "label image (by content hash)"));
    // A public description publishing a copy of the private label image fails the build.
    std::fs::copy(hydra.join("hidden.tif"), dir.join("copy.tif")).unwrap();
    let descriptor = dir.join("dataset.yaml");
    let d = std::fs::read_to_string(&descriptor).unwrap();
    let d = d.replace(
        "A public volume of mouse cortex.",
        "A public volume of mouse cortex ([labels](copy.tif)).",
    );
    std::fs::write(&descriptor, d).unwrap();
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("private layer 'hidden-cells'"),
        "{}",
        text(&out)
    );
}

/// The output file `rel` of `root`'s build, as text.
fn output(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join("public").join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `basic` with a public and a private layer in the public dataset `open-cortex`, and a key.
fn public_dataset_with_a_private_layer() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, root) = site_with(
        "open-cortex",
        "layers:\n  - id: cells\n    kind: segmentation\n    images: cells.tif\n    visibility: public\n  - id: draft\n    kind: segmentation\n    images: draft.tif\n    segments: draft.csv\n",
    );
    let dir = root.join("content/datasets/open-cortex");
    label_tiff(&dir.join("cells.tif"), 96, 64, 1, 32, blocks);
    label_tiff(&dir.join("draft.tif"), 96, 64, 1, 16, |x, y, _| {
        1 + x / 10 + 10 * (y / 10)
    });
    std::fs::write(dir.join("draft.csv"), "1,Zanzibar interneuron\n").unwrap();
    let out = vitrine(&root, &["keygen"]);
    assert!(out.status.success(), "{}", text(&out));
    (tmp, root)
}

#[test]
fn a_private_layer_of_a_public_dataset_is_shared_by_its_own_link() {
    let (_tmp, root) = public_dataset_with_a_private_layer();
    // A gate serves a site from its host's root (docs/deploy.md): no base path here.
    let yaml = root.join("content/site.yaml");
    let site = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(
        &yaml,
        site.replace("https://lab.example.org/data", "https://lab.example.org"),
    )
    .unwrap();
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    // Its page, tiles, segments.json and download under private/, sealed; nothing public names it.
    let dir = "private/open-cortex/layers/draft/";
    for file in ["index.html", "segments.json", "draft.tif"] {
        let bytes = std::fs::read(root.join("public").join(dir).join(file)).unwrap();
        assert!(bytes.starts_with(b"vtr\x01"), "{dir}{file} is not sealed");
    }
    let page =
        String::from_utf8(crate::common::unseal(&root, &format!("{dir}index.html"))).unwrap();
    assert!(page.contains("Zanzibar interneuron"), "{page}");
    assert!(page.contains("noindex"), "{page}");
    for rel in [
        "datasets/open-cortex/index.html",
        "datasets/open-cortex/layers/cells/index.html",
        "index.html",
        "sitemap.xml",
        "search-index.json",
        "feed.xml",
    ] {
        let text = output(&root, rel);
        for secret in ["draft", "Zanzibar"] {
            assert!(!text.contains(secret), "{rel} names `{secret}`");
        }
    }
    assert!(output(&root, "sitemap.xml").contains("datasets/open-cortex/layers/cells/"));

    // The leak guard knows it by its id, its address and its segment names.
    let content = vitrine::content::load(&root).unwrap();
    let (items, _) =
        vitrine::output::leak::needles::needles(&content, &Default::default()).unwrap();
    let layer = items
        .iter()
        .find(|i| i.label == "private layer 'draft' of dataset 'open-cortex'")
        .expect("the private layer is a private item");
    let has = |text: &str, kind: &str| {
        layer
            .needles
            .iter()
            .any(|n| n.text == text && n.kind == kind)
    };
    assert!(has("draft", "layer id") && has("open-cortex/layers/draft/", "address"));
    assert!(has("Zanzibar interneuron", "segment name"));
    // A theme that lists every layer of a dataset fails the build, naming the layer.
    let templates = root.join("themes/leaky/templates");
    std::fs::create_dir_all(&templates).unwrap();
    let builtin = std::fs::read_to_string(
        crate::common::repo().join("themes/default/templates/dataset.html"),
    )
    .unwrap();
    std::fs::write(
        templates.join("dataset.html"),
        builtin.replace(
            "{% endblock content %}",
            "<a href=\"../../private/open-cortex/layers/draft/\">labels</a>{% endblock content %}",
        ),
    )
    .unwrap();
    let yaml = root.join("content/site.yaml");
    let site = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(&yaml, format!("{site}theme: leaky\n")).unwrap();
    let out = vitrine(&root, &["build"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("private layer 'draft'"),
        "{}",
        text(&out)
    );
    std::fs::write(&yaml, site).unwrap();

    // `share --layer` issues its link and records its scope; no dataset link for a public dataset.
    let qr = root.join("draft.svg");
    let out = vitrine(
        &root,
        &[
            "share",
            "open-cortex",
            "--layer",
            "draft",
            "--label",
            "Reviewer 2",
            "--qr",
            qr.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let link = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(
        link.starts_with("https://lab.example.org/private/open-cortex/layers/draft/?s="),
        "{link}"
    );
    let svg = std::fs::read_to_string(&qr).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
    let ledger = std::fs::read_to_string(root.join("content/shares.yaml")).unwrap();
    assert!(
        ledger.contains("    dataset: \"open-cortex\"\n    layer: \"draft\"\n"),
        "{ledger}"
    );
    let out = vitrine(&root, &["share", "open-cortex"]);
    assert!(
        text(&out).contains("is public, so it needs no share link"),
        "{}",
        text(&out)
    );
    let out = vitrine(&root, &["share", "open-cortex", "--layer", "nope"]);
    assert!(
        text(&out).contains("dataset `open-cortex` has no layer `nope` (it has: cells, draft)"),
        "{}",
        text(&out)
    );
    let out = vitrine(&root, &["shares", "--json"]);
    let shares: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(shares[0]["scope"], "layer:open-cortex/draft");
    assert_eq!(shares[0]["layer"], "draft");
    assert!(String::from_utf8_lossy(&vitrine(&root, &["shares"]).stdout)
        .contains("layer:open-cortex/draft"));

    // `verify` reads it as the gate does: valid where it points, wrong-scope anywhere else.
    let verify = |link: &str| {
        let out = vitrine(&root, &["verify", link]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, said) = verify(&link);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.starts_with("valid: opens layer:open-cortex/draft"),
        "{said}"
    );
    let (code, said) = verify(&link.replace("layers/draft/", "layers/other/"));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.starts_with("wrong-scope"), "{said}");
    let (_, said) = verify(&link.replace("layers/draft/", "annotations/draft/"));
    assert!(said.starts_with("wrong-scope"), "{said}");
    let out = vitrine(&root, &["revoke", &link]);
    assert!(out.status.success(), "{}", text(&out));
    let (code, said) = verify(&link);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.starts_with("revoked"), "{said}");
}

#[test]
fn a_private_layer_of_a_public_dataset_opens_without_a_gate_by_its_own_secret() {
    let (_tmp, root) = public_dataset_with_a_private_layer();
    let yaml = root.join("content/site.yaml");
    let site = std::fs::read_to_string(&yaml).unwrap();
    std::fs::write(&yaml, site.replace("hosting: netlify", "hosting: static")).unwrap();
    let out = vitrine(&root, &["share", "open-cortex", "--layer", "draft"]);
    assert!(out.status.success(), "{}", text(&out));
    let link = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (address, secret) = link.split_once('#').expect("a fragment");
    assert!(
        address.ends_with("/data/private/open-cortex/layers/draft/"),
        "{link}"
    );
    assert_eq!(secret.len(), 22);
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    // The loader at the page's address, the page sealed beside it, the worker and the slot.
    let dir = root.join("public/private/open-cortex");
    assert!(output(&root, "private/open-cortex/layers/draft/index.html").contains("unlock.js"));
    assert!(dir.join("layers/draft/index.html.sealed").is_file());
    assert!(dir.join("vitrine-sw.js").is_file());
    let slots: Vec<_> = std::fs::read_dir(dir.join("slots")).unwrap().collect();
    assert_eq!(slots.len(), 1);
    let page = String::from_utf8(crate::common::unseal(
        &root,
        "private/open-cortex/layers/draft/index.html",
    ))
    .unwrap();
    assert!(page.contains("Zanzibar interneuron"));
    let verify = |link: &str| {
        let out = vitrine(&root, &["verify", link]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, said) = verify(&link);
    assert_eq!(code, Some(0), "{said}");
    assert!(
        said.starts_with("valid: opens layer:open-cortex/draft"),
        "{said}"
    );
    let (code, said) = verify(&link.replace("layers/draft/", ""));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.starts_with("wrong-scope"), "{said}");
    // Revoked: the next build removes its slot.
    assert!(vitrine(&root, &["revoke", &link]).status.success());
    assert!(vitrine(&root, &["build"]).status.success());
    assert_eq!(
        std::fs::read_dir(dir.join("slots")).map_or(0, |d| d.count()),
        0
    );
}
