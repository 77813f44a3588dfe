//! Z-stacks as OME-Zarr volumes: a real build, read back by the reference Python reader
//! (zarr-python, `tests/zarr/read_back.py`) voxel for voxel; private volumes sealed file by file;
//! a rebuild after an edit leaves every chunk file as it was.
//!
//! Python's `zarr` comes from `tests/install-tools` (a venv in `.tools/python`). Without it
//! the read-back is skipped with a loud message, unless `VITRINE_REQUIRE_TOOLS` is set (as
//! `tests/run-all` sets it), when its absence fails the test.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use image::{ImageBuffer, Luma};

use crate::common::{repo, text, unseal, vitrine};

/// Writes a site of three z-stacks: 70 16-bit gray PNG slices (more than one chunk deep) with a
/// voxel size, an RGB multi-page TIFF without one, and a private stack. Returns the root.
fn stack_site(tmp: &Path) -> PathBuf {
    let root = tmp.join("site");
    let write = |rel: &str, text: &str| {
        let path = root.join("content").join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "site.yaml",
        "title: Volumes\nbase_url: https://lab.example.org/\nhosting: netlify\n",
    );
    write(
        "datasets/gray16/dataset.yaml",
        "display_name: Sixteen-bit stack\nvisibility: public\nthumbnail: slice-00.png\n\
         images: \"slice-*.png\"\nvoxel_size_nm: [4, 5, 40]\nlayers:\n\
         \x20 - id: cells\n    kind: segmentation\n    images: cells.tif\n    visibility: public\n\
         \x20 - id: draft\n    kind: segmentation\n    images: draft.tif\n    visibility: private\n",
    );
    // Segmentations of the stack: 32-bit ids past 65535, and a private 16-bit draft.
    let (mut cells_tif, mut draft_tif) =
        (std::io::Cursor::new(vec![]), std::io::Cursor::new(vec![]));
    let mut cells = tiff::encoder::TiffEncoder::new(&mut cells_tif).unwrap();
    let mut draft = tiff::encoder::TiffEncoder::new(&mut draft_tif).unwrap();
    for z in 0..70 {
        let ids: Vec<u32> = (0..150 * 97).map(|i| cell(i % 150, i / 150, z)).collect();
        cells
            .write_image::<tiff::encoder::colortype::Gray32>(150, 97, &ids)
            .unwrap();
        let ids: Vec<u16> = (0..150 * 97).map(|i| ((i % 150) / 50) as u16).collect();
        draft
            .write_image::<tiff::encoder::colortype::Gray16>(150, 97, &ids)
            .unwrap();
    }
    let dir = root.join("content/datasets/gray16");
    fs::write(dir.join("cells.tif"), cells_tif.into_inner()).unwrap();
    fs::write(dir.join("draft.tif"), draft_tif.into_inner()).unwrap();
    for z in 0..70 {
        let slice = ImageBuffer::from_fn(150, 97, |x, y| Luma([gray16(x, y, z)]));
        slice
            .save(root.join(format!("content/datasets/gray16/slice-{z:02}.png")))
            .unwrap();
    }
    write(
        "datasets/rgb/dataset.yaml",
        "display_name: Colour stack\nvisibility: public\nthumbnail: stack.tif\nimages: [stack.tif]\n",
    );
    let mut tiff = std::io::Cursor::new(Vec::new());
    {
        let mut encoder = tiff::encoder::TiffEncoder::new(&mut tiff).unwrap();
        for z in 0..3 {
            let pixels: Vec<u8> = (0..50 * 70).flat_map(|i| rgb(i % 70, i / 70, z)).collect();
            encoder
                .write_image::<tiff::encoder::colortype::RGB8>(70, 50, &pixels)
                .unwrap();
        }
    }
    fs::write(
        root.join("content/datasets/rgb/stack.tif"),
        tiff.into_inner(),
    )
    .unwrap();
    write(
        "datasets/hidden/dataset.yaml",
        "display_name: Hidden stack\nvisibility: private\nthumbnail: a.png\nimages: [a.png, b.png]\n",
    );
    for (name, z) in [("a.png", 0), ("b.png", 1)] {
        let slice = ImageBuffer::from_fn(40, 30, |x, y| Luma([(x + y * 3 + z * 50) as u8]));
        slice
            .save(root.join("content/datasets/hidden").join(name))
            .unwrap();
    }
    root
}

fn gray16(x: u32, y: u32, z: u32) -> u16 {
    ((x * 401 + y * 97 + z * 7919) % 65536) as u16
}

/// A segment id of the stack's segmentation: blocks of 20 × 20 × 8 voxels, a third of them
/// background, the others ids beyond 16 bits.
fn cell(x: u32, y: u32, z: u32) -> u32 {
    let (bx, by, bz) = (x / 20, y / 20, z / 8);
    match (bx + by + bz) % 3 {
        0 => 0,
        _ => 100_000 + bx * 1000 + by * 10 + bz,
    }
}

fn rgb(x: u32, y: u32, z: u32) -> [u8; 3] {
    [(x * 3) as u8, (y * 5) as u8, (z * 80 + x) as u8]
}

/// The one `volume.ome.zarr` folder under `public/<dir>`.
fn zarr_dir(root: &Path, dir: &str) -> PathBuf {
    let media = root.join("public").join(dir).join("media");
    let found: Vec<PathBuf> = fs::read_dir(&media)
        .unwrap()
        .map(|e| e.unwrap().path().join("volume.ome.zarr"))
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(found.len(), 1, "one volume under {}", media.display());
    found.into_iter().next().unwrap()
}

/// Every file under `dir`, by its path relative to it, with its inode and modification time.
fn files_of(dir: &Path) -> BTreeMap<PathBuf, (u64, i64, i64)> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let meta = e.metadata().unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().to_owned();
            (rel, (meta.ino(), meta.mtime(), meta.mtime_nsec()))
        })
        .collect()
}

/// A Python with `zarr`: the venv `tests/install-tools` makes, else `python3`; `None` (after a
/// loud message) when neither has it and `VITRINE_REQUIRE_TOOLS` is unset.
fn python_with_zarr() -> Option<PathBuf> {
    let candidates = [repo().join(".tools/python/bin/python"), "python3".into()];
    let found = candidates.into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import zarr, numpy"])
            .output()
            .is_ok_and(|out| out.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("VITRINE_REQUIRE_TOOLS").is_none(),
            "VITRINE_REQUIRE_TOOLS is set but no Python has `zarr`: run tests/install-tools"
        );
        eprintln!(
            "\n!!! SKIPPED the OME-Zarr read-back: no Python with `zarr` (run tests/install-tools) !!!\n"
        );
    }
    found
}

/// Runs `tests/zarr/read_back.py` on `zarr` against level-0 samples `raw` (little-endian).
fn read_back(python: &Path, tmp: &Path, zarr: &Path, expected: serde_json::Value, raw: &[u8]) {
    let name = zarr
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    let raw_path = tmp.join(format!("{name}.raw"));
    fs::write(&raw_path, raw).unwrap();
    let mut expected = expected;
    expected["zarr"] = zarr.to_string_lossy().into();
    expected["raw"] = raw_path.to_string_lossy().into();
    let json_path = tmp.join(format!("{name}.json"));
    fs::write(&json_path, expected.to_string()).unwrap();
    let out = Command::new(python)
        .arg(repo().join("tests/zarr/read_back.py"))
        .arg(&json_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn z_stacks_are_ome_zarr_that_python_reads_voxel_for_voxel() {
    let tmp = tempfile::tempdir().unwrap();
    let root = stack_site(tmp.path());
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));

    let gray = zarr_dir(&root, "datasets/gray16");
    let colour = zarr_dir(&root, "datasets/rgb");
    // A private stack's volume is under private/ only, every file of it sealed for its path.
    let public_trees: Vec<_> = walkdir::WalkDir::new(root.join("public"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_name() == "volume.ome.zarr")
        .map(|e| {
            e.path()
                .strip_prefix(root.join("public"))
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(public_trees.len(), 3, "{public_trees:?}");
    let hidden = zarr_dir(&root, "private/hidden");
    let hidden_files = files_of(&hidden);
    assert!(hidden_files.len() >= 3, "{hidden_files:?}");
    let hidden_rel = hidden.strip_prefix(root.join("public")).unwrap();
    for rel in hidden_files.keys() {
        let plain = unseal(
            &root,
            &format!("{}/{}", hidden_rel.display(), rel.display()),
        );
        if rel.ends_with("zarr.json") {
            let json: serde_json::Value = serde_json::from_slice(&plain).unwrap();
            assert_eq!(json["zarr_format"], 3, "{}", rel.display());
        }
    }
    // The public layer is in the volume's labels/ group; the private one is not named there
    // but is a label image of its own in its layer's folder, pointing back at the volume.
    let group: serde_json::Value =
        serde_json::from_slice(&fs::read(gray.join("labels/zarr.json")).unwrap()).unwrap();
    assert_eq!(
        group["attributes"]["ome"]["labels"],
        serde_json::json!(["cells"])
    );
    for (rel, _) in files_of(&gray) {
        assert!(
            !rel.to_string_lossy().contains("draft"),
            "{}",
            rel.display()
        );
    }
    let layer_page =
        fs::read_to_string(root.join("public/datasets/gray16/layers/cells/index.html")).unwrap();
    let labels_rel = gray.join("labels/cells");
    let labels_rel = labels_rel.strip_prefix(root.join("public")).unwrap();
    assert!(
        layer_page.contains(&format!("../../../../{}/zarr.json", labels_rel.display())),
        "the layer's page links its OME-Zarr labels"
    );
    let draft = "private/gray16/layers/draft/labels.ome.zarr";
    let meta: serde_json::Value =
        serde_json::from_slice(&unseal(&root, &format!("{draft}/zarr.json"))).unwrap();
    let image = meta["attributes"]["ome"]["image-label"]["source"]["image"]
        .as_str()
        .unwrap();
    let pointed = root.join("public").join(draft).join(image);
    assert_eq!(
        fs::canonicalize(pointed).unwrap(),
        fs::canonicalize(&gray).unwrap(),
        "{image}"
    );
    let level0: serde_json::Value =
        serde_json::from_slice(&unseal(&root, &format!("{draft}/0/zarr.json"))).unwrap();
    assert_eq!(level0["data_type"], "uint16");

    // The dataset page names its volume.
    let page = fs::read_to_string(root.join("public/datasets/gray16/index.html")).unwrap();
    let gray_rel = gray
        .strip_prefix(root.join("public/datasets/gray16"))
        .unwrap();
    assert!(
        page.contains(&format!("{}/", gray_rel.display())),
        "the page links its OME-Zarr volume"
    );

    // A rebuild after an edit rewrites no chunk: the output's files are the same inodes.
    let before = (files_of(&gray), files_of(&colour));
    let yaml = root.join("content/datasets/gray16/dataset.yaml");
    let edited = fs::read_to_string(&yaml).unwrap() + "description: Edited.\n";
    fs::write(&yaml, edited).unwrap();
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        zarr_dir(&root, "datasets/gray16"),
        gray,
        "same content, same address"
    );
    assert_eq!((files_of(&gray), files_of(&colour)), before);

    let Some(python) = python_with_zarr() else {
        return;
    };
    let space =
        |name: &str| serde_json::json!({"name": name, "type": "space", "unit": "nanometer"});
    let mut raw = Vec::new();
    for z in 0..70 {
        for y in 0..97 {
            for x in 0..150 {
                raw.extend_from_slice(&gray16(x, y, z).to_le_bytes());
            }
        }
    }
    let expected = serde_json::json!({
        "dtype": "uint16",
        "shape": [70, 97, 150],
        "axes": [space("z"), space("y"), space("x")],
        "scale": [40.0, 5.0, 4.0],
    });
    read_back(&python, tmp.path(), &gray, expected, &raw);

    // The public segmentation is OME-Zarr labels of that image, ids exact at every level.
    let mut raw = Vec::new();
    for z in 0..70 {
        for y in 0..97 {
            for x in 0..150 {
                raw.extend_from_slice(&cell(x, y, z).to_le_bytes());
            }
        }
    }
    let expected = serde_json::json!({
        "dtype": "uint32",
        "shape": [70, 97, 150],
        "axes": [space("z"), space("y"), space("x")],
        "scale": [40.0, 5.0, 4.0],
        "labels_of": gray.to_string_lossy(),
    });
    read_back(
        &python,
        tmp.path(),
        &gray.join("labels/cells"),
        expected,
        &raw,
    );

    let mut raw = Vec::new();
    for c in 0..3 {
        for z in 0..3 {
            for y in 0..50 {
                for x in 0..70 {
                    raw.push(rgb(x, y, z)[c]);
                }
            }
        }
    }
    let voxel = |name: &str| serde_json::json!({"name": name, "type": "space"});
    let expected = serde_json::json!({
        "dtype": "uint8",
        "shape": [3, 3, 50, 70],
        "axes": [{"name": "c", "type": "channel"}, voxel("z"), voxel("y"), voxel("x")],
        "scale": [1.0, 1.0, 1.0, 1.0],
    });
    read_back(&python, tmp.path(), &colour, expected, &raw);
}

#[test]
fn a_stack_of_unequal_slices_builds_without_a_volume_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    let dir = root.join("content/datasets/mixed");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        root.join("content/site.yaml"),
        "title: Volumes\nbase_url: https://lab.example.org/\n",
    )
    .unwrap();
    fs::write(
        dir.join("dataset.yaml"),
        "display_name: Mixed\nvisibility: public\nthumbnail: a.png\nimages: [a.png, b.png]\n",
    )
    .unwrap();
    ImageBuffer::from_pixel(40, 30, Luma([9u8]))
        .save(dir.join("a.png"))
        .unwrap();
    ImageBuffer::from_pixel(41, 30, Luma([9u8]))
        .save(dir.join("b.png"))
        .unwrap();
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("content/datasets/mixed/dataset.yaml:")
            && said.contains("warning: ")
            && said.contains("slice 2 is a 41 × 30 8-bit gray image but slice 1 is 40 × 30"),
        "{said}"
    );
    let volumes = walkdir::WalkDir::new(root.join("public"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_name() == "volume.ome.zarr")
        .count();
    assert_eq!(volumes, 0);
}

/// Serves the files under `root` over HTTP on 127.0.0.1 (one request a connection) and records
/// each path asked for. Returns the port.
fn serve_files(root: PathBuf, asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>) -> u16 {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            // Headers up to the blank line.
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let path = request.split(' ').nth(1).unwrap_or("/").to_string();
            asked.lock().unwrap().push(path.clone());
            let file = root.join(path.trim_start_matches('/'));
            let mut stream = &stream;
            let _ = match fs::read(&file) {
                Ok(body) if !path.contains("..") => stream
                    .write_all(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(&body)),
                _ => stream.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                ),
            };
        }
    });
    port
}

#[test]
fn a_remote_volume_is_described_and_opened_where_it_is() {
    // The lab's server: an OME-Zarr vitrine wrote, and a precomputed volume's info file.
    let tmp = tempfile::tempdir().unwrap();
    let lab = stack_site(&tmp.path().join("lab"));
    let out = vitrine(&lab, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let zarr = zarr_dir(&lab, "datasets/gray16");
    let zarr_rel = zarr.strip_prefix(lab.join("public")).unwrap().to_owned();
    let precomputed = lab.join("public/em-precomputed");
    fs::create_dir_all(&precomputed).unwrap();
    fs::write(
        precomputed.join("info"),
        r#"{"type": "image", "data_type": "uint8", "num_channels": 1,
            "scales": [{"key": "8_8_40", "size": [4096, 2048, 300], "resolution": [8, 8, 40]},
                       {"key": "16_16_40", "size": [2048, 1024, 300], "resolution": [16, 16, 40]}]}"#,
    )
    .unwrap();
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let port = serve_files(lab.join("public"), asked.clone());
    let host = format!("http://127.0.0.1:{port}");

    let root = tmp.path().join("gallery");
    let write = |rel: &str, text: &str| {
        let path = root.join("content").join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    };
    write(
        "site.yaml",
        "title: Remote\nbase_url: https://gallery.example.org/\nhosting: netlify\n",
    );
    for (i, (slug, visibility, volume)) in [
        (
            "zarr-volume",
            "public",
            format!("zarr://{host}/{}", zarr_rel.display()),
        ),
        (
            "em-volume",
            "public",
            format!("precomputed://{host}/em-precomputed/"),
        ),
        (
            "gone-volume",
            "public",
            format!("zarr://{host}/nothing-here.zarr"),
        ),
        (
            "hidden-volume",
            "private",
            format!("precomputed://{host}/em-precomputed-private"),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        write(
            &format!("datasets/{slug}/dataset.yaml"),
            &format!(
                "display_name: {slug}\nvisibility: {visibility}\nthumbnail: t.png\nvolume: {volume}\n"
            ),
        );
        // Each dataset its own image: a private image reused publicly is a leak.
        ImageBuffer::from_pixel(40, 30, Luma([40 * i as u8]))
            .save(root.join(format!("content/datasets/{slug}/t.png")))
            .unwrap();
    }
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("content/datasets/gone-volume/dataset.yaml: warning: volume 'zarr://")
            && said.contains("its metadata could not be read"),
        "{said}"
    );
    let page = |slug: &str| {
        fs::read_to_string(root.join(format!("public/datasets/{slug}/index.html"))).unwrap()
    };

    let zarr_page = page("zarr-volume");
    assert!(
        zarr_page
            .contains("Zarr (OME-Zarr): 150 × 97 × 70 voxels, uint16, 4 × 5 × 40 nm, 3 levels"),
        "the OME-Zarr's own metadata is on the page"
    );
    let em_page = page("em-volume");
    assert!(
        em_page.contains(
            "Neuroglancer precomputed: 4096 × 2048 × 300 voxels, uint8, 8 × 8 × 40 nm, 2 levels"
        ),
        "the precomputed info is on the page"
    );
    // "Open in Neuroglancer" carries the source, the layout and the volume's centre.
    let link = em_page
        .split("href=\"")
        .find(|s| s.starts_with("https://neuroglancer-demo.appspot.com/#!"))
        .and_then(|s| s.split('"').next())
        .expect("an Open in Neuroglancer link");
    let state: serde_json::Value = serde_json::from_str(
        &percent_encoding::percent_decode_str(link.split_once("#!").unwrap().1)
            .decode_utf8()
            .unwrap()
            .replace("&amp;", "&"),
    )
    .unwrap();
    assert_eq!(
        state["layers"][0]["source"],
        format!("precomputed://{host}/em-precomputed/")
    );
    assert_eq!(
        state["position"],
        serde_json::json!([2048.0, 1024.0, 150.0])
    );
    assert_eq!(state["dimensions"]["z"], serde_json::json!([4e-8, "m"]));
    assert!(
        page("gone-volume").contains("Open in Neuroglancer"),
        "linked without metadata"
    );

    // Only metadata files were read, never a chunk.
    let asked = asked.lock().unwrap().clone();
    assert!(
        asked
            .iter()
            .all(|p| p.ends_with("zarr.json") || p.ends_with("/info") || p.ends_with(".zattrs")),
        "{asked:?}"
    );
    // A private dataset's volume address is on its private page only.
    assert!(
        crate::common::read_private(&root, "private/hidden-volume/index.html")
            .contains("em-precomputed-private")
    );
    for entry in walkdir::WalkDir::new(root.join("public")) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() && !entry.path().starts_with(root.join("public/private")) {
            let bytes = fs::read(entry.path()).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains("em-precomputed-private"),
                "{} names the private volume",
                entry.path().display()
            );
        }
    }
}

/// Writes a site with one public stack of five slices (slice k is all gray 40·k + 10, so each
/// has its own hash), `extra` appended to its descriptor; returns the root.
fn five_slices(tmp: &Path, extra: &str) -> PathBuf {
    let root = tmp.join("site");
    let dir = root.join("content/datasets/five");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        root.join("content/site.yaml"),
        "title: Previews\nbase_url: https://lab.example.org/\n",
    )
    .unwrap();
    fs::write(
        dir.join("dataset.yaml"),
        format!("display_name: Five\nvisibility: public\nimages: \"s-*.png\"\n{extra}"),
    )
    .unwrap();
    for k in 0..5u8 {
        ImageBuffer::from_pixel(32, 24, Luma([40 * k + 10]))
            .save(dir.join(format!("s-{k}.png")))
            .unwrap();
    }
    root
}

/// The media folder (`media/<hash>/`) of the page's preview (`og:image`) and of each viewer
/// slice's fallback image, and the viewer's first slice.
fn preview_and_slices(page: &str) -> (String, Vec<String>, u64) {
    let folder = |url: &str| {
        let at = url.find("media/").expect("a media URL");
        url[at..at + "media/".len() + 17].to_string()
    };
    let og = page
        .split("<meta property=\"og:image\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("og:image");
    let json = page
        .split("data-viewer=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("data-viewer")
        .replace("&quot;", "\"");
    let viewer: serde_json::Value = serde_json::from_str(&json).unwrap();
    let slices = viewer["slices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| folder(s["fallback"]["src"].as_str().unwrap()))
        .collect();
    (folder(og), slices, viewer["slice"].as_u64().unwrap())
}

#[test]
fn the_middle_slice_or_preview_slice_feeds_the_thumbnail_the_2d_viewer_and_the_3d_view() {
    for (extra, expect) in [
        ("", 2),
        ("preview_slice: 4\n", 4),
        ("preview_slice: 0\n", 0),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let root = five_slices(tmp.path(), extra);
        let out = vitrine(&root, &["build"]);
        assert!(out.status.success(), "{}", text(&out));
        let page = fs::read_to_string(root.join("public/datasets/five/index.html")).unwrap();
        let (preview, slices, first) = preview_and_slices(&page);
        assert_eq!(first, expect, "{extra:?}: the viewer's first slice");
        assert_eq!(
            preview, slices[expect as usize],
            "{extra:?}: the thumbnail is that slice"
        );
        // Without JavaScript the viewer shows that slice too.
        assert!(
            page.contains(&format!("(slice {} of 5)", expect + 1)),
            "{extra:?}"
        );
        let view3d = fs::read_to_string(root.join("public/datasets/five/3d/index.html")).unwrap();
        assert!(
            view3d.contains(&format!("&quot;slice&quot;:{expect}")),
            "{extra:?}: the 3D view opens on the same slice"
        );
    }
}

#[test]
fn a_preview_slice_past_the_stack_is_refused_where_it_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let root = five_slices(tmp.path(), "preview_slice: 5\n");
    let out = vitrine(&root, &["build"]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("content/datasets/five/dataset.yaml:4:")
            && said.contains("preview_slice 5 is past the last slice: the stack has 5 (0 to 4"),
        "{said}"
    );
}

#[test]
fn only_datasets_with_a_volume_get_a_3d_page_and_only_then_the_site_the_bundle() {
    let tmp = tempfile::tempdir().unwrap();
    let root = stack_site(tmp.path());
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let public = root.join("public");
    for file in [
        "view3d.js",
        "chunk_worker.js",
        "LICENSE",
        "THIRD_PARTY_LICENSES.txt",
    ] {
        assert!(public.join("neuroglancer").join(file).is_file(), "{file}");
    }
    let page = fs::read_to_string(public.join("datasets/gray16/3d/index.html")).unwrap();
    let zarr = zarr_dir(&root, "datasets/gray16");
    let hash = zarr
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        page.contains(&format!(
            "&quot;source&quot;:&quot;zarr3://../../../datasets/gray16/media/{hash}/volume.ome.zarr/&quot;"
        )) && page.contains("&quot;worker&quot;:&quot;../../../neuroglancer/chunk_worker.js&quot;"),
        "the page shows the site's own volume, relative to itself: {page}"
    );
    // Public 3D pages are in the sitemap; a private one is not.
    let sitemap = fs::read_to_string(public.join("sitemap.xml")).unwrap();
    assert!(sitemap.contains("<loc>https://lab.example.org/datasets/gray16/3d/</loc>"));
    assert!(!sitemap.contains("hidden"), "{sitemap}");
    // A private stack's page and its chunk worker are sealed under its folder; the worker
    // imports the public bundle.
    let private = crate::common::read_private(&root, "private/hidden/3d/index.html");
    assert!(private.contains("&quot;worker&quot;:&quot;chunk-worker.js&quot;"));
    assert!(
        !private.contains("neuroglancer-demo"),
        "no third-party app is offered a private volume"
    );
    assert_eq!(
        crate::common::read_private(&root, "private/hidden/3d/chunk-worker.js"),
        "import \"../../../neuroglancer/chunk_worker.js\";\n"
    );
    // Every chunk file name has a dot, so the gates serve it as a file.
    for entry in walkdir::WalkDir::new(&zarr) {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            assert!(
                entry.file_name().to_str().unwrap().contains('.'),
                "{}",
                entry.path().display()
            );
        }
    }

    // The same site without z-stacks: no 3D page, no bundle.
    let plain = tmp.path().join("plain");
    let dir = plain.join("content/datasets/flat");
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        plain.join("content/site.yaml"),
        "title: Flat\nbase_url: https://lab.example.org/\n",
    )
    .unwrap();
    fs::write(
        dir.join("dataset.yaml"),
        "display_name: Flat\nvisibility: public\nthumbnail: a.png\n",
    )
    .unwrap();
    ImageBuffer::from_pixel(40, 30, Luma([9u8]))
        .save(dir.join("a.png"))
        .unwrap();
    let out = vitrine(&plain, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!plain.join("public/neuroglancer").exists());
    assert!(!plain.join("public/datasets/flat/3d").exists());
}

#[test]
fn the_3d_view_draws_the_public_tracings_of_a_public_dataset_and_no_private_one() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("site");
    crate::common::copy_dir(&repo().join("content"), &root.join("content"));
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let page =
        fs::read_to_string(root.join("public/datasets/cortex-fibsem/3d/index.html")).unwrap();
    assert!(
        page.contains("&quot;skeletons&quot;:[{&quot;name&quot;:&quot;Axon and dendrite"),
        "the public tracing is in the 3D view"
    );
    assert!(
        !page.contains("Draft soma tracing"),
        "the private tracing stays off the public 3D page"
    );
}

#[test]
fn tracings_past_the_3d_views_limit_stay_on_their_pages_and_the_page_says_so() {
    let lines = vitrine::render::view3d::MAX_SKELETON_LINES;
    for (nodes, drawn) in [(lines + 1, true), (lines + 2, false)] {
        let tmp = tempfile::tempdir().unwrap();
        let root = five_slices(
            tmp.path(),
            "annotations:\n  - id: long\n    display_name: Long trace\n    file: long.swc\n    visibility: public\n",
        );
        // A chain of `nodes` nodes: one edge fewer.
        let swc: String = (1..=nodes)
            .map(|i| {
                format!(
                    "{i} 3 {} 1 0 1 {}\n",
                    i % 30,
                    if i == 1 { -1 } else { i as i64 - 1 }
                )
            })
            .collect();
        fs::write(root.join("content/datasets/five/long.swc"), swc).unwrap();
        let out = vitrine(&root, &["build"]);
        assert!(out.status.success(), "{}", text(&out));
        let page = fs::read_to_string(root.join("public/datasets/five/3d/index.html")).unwrap();
        assert_eq!(
            page.contains("&quot;skeletons&quot;:[]"),
            !drawn,
            "{nodes} nodes"
        );
        assert_eq!(
            page.contains("drawn on their annotation pages"),
            !drawn,
            "{nodes} nodes"
        );
    }
}
