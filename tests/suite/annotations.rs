//! Annotations: the NML and SWC parsers against hand-made files whose numbers were worked out
//! by hand, the `path:line:col` messages for broken files, and the fixture site
//! `tests/sites/annotations` built by the real binary (pages where their visibility says, and
//! nowhere else).

use std::path::{Path, PathBuf};

use vitrine::content::annotation::{parse_file, Format, Skeleton};
use vitrine::render::overlay::Decoded;

use crate::common::{fixture, read_private, text, unseal, vitrine};

fn annotation(name: &str) -> PathBuf {
    crate::common::repo().join("tests/annotations").join(name)
}

fn parse_ok(name: &str) -> Skeleton {
    parse_file(&annotation(name)).unwrap_or_else(|ds| {
        panic!(
            "{name} should parse: {}",
            ds.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// The messages for a broken file, with the path shortened to the file name.
fn errors(name: &str) -> Vec<String> {
    let path = annotation(name);
    match parse_file(&path) {
        Ok(_) => panic!("{name} should be refused"),
        Err(ds) => ds
            .into_iter()
            .map(|d| d.relative_to(&annotation("invalid")).to_string())
            .collect(),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn nml_trees_scale_comments_and_statistics() {
    let sk = parse_ok("two-trees.nml");
    assert_eq!(sk.format, Format::Nml);
    assert_eq!(sk.scale_nm, [10.0, 10.0, 40.0]);
    assert_eq!(sk.experiment.as_deref(), Some("cortex-em-sample"));
    let names: Vec<_> = sk.trees.iter().map(|t| (t.id, t.name.as_str())).collect();
    assert_eq!(
        names,
        [(1, "axon & bouton"), (2, "dendrite"), (7, "Tree 7")]
    );
    assert_eq!(sk.trees[0].color, Some([1.0, 0.0, 0.0, 1.0]));
    // webKnossos writes -1 for "no colour".
    assert_eq!(sk.trees[1].color, None);
    assert_eq!(sk.trees[0].nodes[1].position, [103.0, 104.0, 10.0]);
    assert_eq!(sk.trees[0].nodes[1].radius, Some(1.5));
    assert_eq!(sk.comments.len(), 2);
    assert_eq!(sk.comments[1].node, 12);
    assert_eq!(sk.comments[1].content, "spine & synapse <3");
    assert_eq!(sk.marked_branch_points, [2, 11]);

    let stats = sk.stats();
    assert_eq!((stats.trees, stats.nodes, stats.edges), (3, 9, 6));
    // Tree 1: 1–2 (30,40,0) nm = 50, 2–3 (0,0,40) = 40, 4–2 = 50, 2–5 (0,40,0) = 40 → 180;
    // tree 2: 10–11 = 40, 11–12 = 50 → 90.
    assert!(
        close(stats.path_length_nm, 270.0),
        "{}",
        stats.path_length_nm
    );
    // Node 2 has four neighbours; ends: 1, 3, 4, 5, 10, 12 (the lone node 20 has none).
    assert_eq!((stats.branch_points, stats.end_points), (1, 6));
    assert_eq!((stats.marked_branch_points, stats.comments), (2, 2));
}

#[test]
fn swc_roots_types_forward_parents_and_statistics() {
    let sk = parse_ok("neuron.swc");
    assert_eq!(sk.format, Format::Swc);
    assert_eq!(sk.scale_nm, [1000.0; 3]);
    assert_eq!(sk.trees.len(), 2);
    assert_eq!(sk.trees[0].name, "Tree 1 (soma root, node 1)");
    assert_eq!(sk.trees[1].name, "Tree 2 (axon root, node 10)");
    let ids: Vec<u64> = sk.trees[1].nodes.iter().map(|n| n.id).collect();
    assert_eq!(ids, [10, 11, 12, 13]);
    assert_eq!(sk.trees[0].nodes[0].swc_type, Some(1));
    assert_eq!(sk.trees[0].nodes[3].radius, Some(0.5));

    let stats = sk.stats();
    assert_eq!((stats.trees, stats.nodes, stats.edges), (2, 9, 7));
    // Tree 1: 5 + 12 + 2 + 5 µm; tree 2: 5 + 5 + 12 µm → 46 µm.
    assert!(
        close(stats.path_length_nm, 46_000.0),
        "{}",
        stats.path_length_nm
    );
    // Node 2 (parent 1, children 3 and 5) branches; ends: 3, 4, 5, 10, 12.
    assert_eq!((stats.branch_points, stats.end_points), (1, 5));
    assert_eq!((stats.marked_branch_points, stats.comments), (0, 0));
}

#[test]
fn broken_nml_files_point_at_the_line() {
    let malformed = errors("invalid/malformed.nml");
    assert_eq!(malformed.len(), 1, "{malformed:?}");
    assert!(
        malformed[0].starts_with("malformed.nml:8:") && malformed[0].contains("malformed XML"),
        "{malformed:?}"
    );
    assert_eq!(
        errors("invalid/missing-node.nml"),
        ["missing-node.nml:12:7: edge 2–99: there is no node 99"]
    );
    assert_eq!(
        errors("invalid/duplicate-node.nml"),
        ["duplicate-node.nml:14:7: node id 1 is already used on line 13 in the same tree: give one of them an id no node of tree 2 has"]
    );
    let no_scale = errors("invalid/no-scale.nml");
    assert_eq!(no_scale.len(), 1);
    assert!(
        no_scale[0].starts_with("no-scale.nml:2:3: missing <scale"),
        "{no_scale:?}"
    );
    assert_eq!(
        errors("invalid/bad-number.nml"),
        ["bad-number.nml:7:26: <node> attribute `y` must be a number, found \"twelve\""]
    );
}

#[test]
fn nml_scale_is_read_in_its_unit() {
    // 0.5 × 0.5 × 2 µm voxels: the 3-4-0 voxel edge is (1.5, 2, 0) µm = 2.5 µm.
    let sk = parse_ok("scale-micrometer.nml");
    assert_eq!(sk.scale_nm, [500.0, 500.0, 2000.0]);
    assert!(close(sk.stats().path_length_nm, 2500.0));

    // Every unit webKnossos writes, full and abbreviated; none is nanometres when absent.
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, f64)] = &[
        ("", 1.0),
        ("yoctometer", 1e-15),
        ("ym", 1e-15),
        ("zeptometer", 1e-12),
        ("zm", 1e-12),
        ("attometer", 1e-9),
        ("am", 1e-9),
        ("femtometer", 1e-6),
        ("fm", 1e-6),
        ("picometer", 1e-3),
        ("pm", 1e-3),
        ("angstrom", 0.1),
        ("Å", 0.1),
        ("nanometer", 1.0),
        ("nm", 1.0),
        ("micrometer", 1e3),
        ("µm", 1e3),
        ("um", 1e3),
        ("millimeter", 1e6),
        ("mm", 1e6),
        ("centimeter", 1e7),
        ("cm", 1e7),
        ("decimeter", 1e8),
        ("dm", 1e8),
        ("meter", 1e9),
        ("m", 1e9),
        ("hectometer", 1e11),
        ("hm", 1e11),
        ("kilometer", 1e12),
        ("km", 1e12),
        ("megameter", 1e15),
        ("Mm", 1e15),
        ("gigameter", 1e18),
        ("Gm", 1e18),
        ("terameter", 1e21),
        ("Tm", 1e21),
        ("petameter", 1e24),
        ("Pm", 1e24),
        ("exameter", 1e27),
        ("Em", 1e27),
        ("zettameter", 1e30),
        ("Zm", 1e30),
        ("yottameter", 1e33),
        ("Ym", 1e33),
        ("inch", 25.4e6),
        ("in", 25.4e6),
        ("foot", 304.8e6),
        ("ft", 304.8e6),
        ("yard", 914.4e6),
        ("yd", 914.4e6),
        ("mile", 1.609344e12),
        ("mi", 1.609344e12),
        ("parsec", 3.085677581e25),
        ("pc", 3.085677581e25),
    ];
    for (unit, nm) in cases {
        let attr = if unit.is_empty() {
            String::new()
        } else {
            format!(" unit=\"{unit}\"")
        };
        let path = dir.path().join("unit.nml");
        std::fs::write(
            &path,
            format!(
                "<things><parameters><scale x=\"2\" y=\"2\" z=\"2\"{attr}/></parameters>\
                 <thing id=\"1\"><nodes><node id=\"1\" x=\"0\" y=\"0\" z=\"0\"/></nodes></thing></things>"
            ),
        )
        .unwrap();
        let sk = parse_file(&path).unwrap_or_else(|e| panic!("{unit}: {}", e[0]));
        assert!(
            (sk.scale_nm[0] / (2.0 * nm) - 1.0).abs() < 1e-12,
            "{unit}: {:?}",
            sk.scale_nm
        );
    }

    let unknown = errors("invalid/unknown-unit.nml");
    assert_eq!(unknown.len(), 1, "{unknown:?}");
    assert!(
        unknown[0].starts_with(
            "unknown-unit.nml:3:30: <scale> unit \"furlong\" is not a length unit webKnossos writes; use one of: "
        ) && unknown[0].contains("micrometer (µm, um, μm)"),
        "{unknown:?}"
    );
}

#[test]
fn nml_node_ids_may_repeat_across_trees_as_in_webknossos() {
    let sk = parse_ok("reused-node-ids.nml");
    let stats = sk.stats();
    assert_eq!((stats.trees, stats.nodes, stats.edges), (2, 5, 3));
    // 50 nm in the first tree, 2 × 10 nm in the second.
    assert!(
        close(stats.path_length_nm, 70.0),
        "{}",
        stats.path_length_nm
    );
    // Ends: both nodes of the first tree, nodes 1 and 3 of the second.
    assert_eq!((stats.branch_points, stats.end_points), (0, 4));
}

#[test]
fn nml_without_skeleton_nodes_says_what_it_holds() {
    assert_eq!(
        errors("invalid/empty-trees.nml"),
        ["empty-trees.nml:5:3: all 2 trees (<thing>) have no nodes: there is nothing to draw; trace in webKnossos and download the annotation again"]
    );
    assert_eq!(
        errors("invalid/volume-only.nml"),
        ["volume-only.nml:5:3: the file holds a volume annotation and no skeleton trees: volume-only annotations are not supported; name an NML with traced trees"]
    );
}

#[test]
fn broken_swc_files_point_at_the_line() {
    assert_eq!(
        errors("invalid/columns.swc"),
        ["columns.swc:3:1: expected 7 columns `n type x y z radius parent`, found 6: SWC has one node per line"]
    );
    assert_eq!(
        errors("invalid/not-a-number.swc"),
        ["not-a-number.swc:2:7: column 4 (`y`) must be a number, found \"abc\""]
    );
    assert_eq!(
        errors("invalid/unknown-parent.swc"),
        ["unknown-parent.swc:3:1: node 3: parent 7 is not a node of this file (use -1 for a root)"]
    );
    assert_eq!(
        errors("invalid/duplicate-id.swc"),
        ["duplicate-id.swc:4:1: node 2 is already defined on line 2: node ids must be unique"]
    );
}

#[test]
fn other_extensions_are_refused_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("tracing.zip");
    std::fs::write(&zip, b"PK").unwrap();
    let err = parse_file(&zip).unwrap_err();
    assert!(err[0].to_string().contains("unpack it first"), "{}", err[0]);
}

// ---- the fixture site `tests/sites/annotations`, built by the real binary ----

/// Builds a copy of the fixture (after `edit`), returning the temp dir, site root and run output.
fn build(edit: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf, std::process::Output) {
    let (tmp, root) = fixture("sites/annotations");
    edit(&root);
    let out = vitrine(&root, &["build"]);
    (tmp, root, out)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every file under `dir`, except those under `dir/private/`.
fn public_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != dir.join("private") {
                    todo.push(path);
                }
            } else {
                files.push(path);
            }
        }
    }
    files
}

fn overlay(path: &Path) -> Decoded {
    decode_overlay(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn decode_overlay(bytes: &[u8]) -> Decoded {
    vitrine::render::overlay::decode(bytes).unwrap_or_else(|e| panic!("skeleton.bin: {e:#}"))
}

#[test]
fn site_publishes_annotation_pages_where_their_visibility_says() {
    let (_tmp, root, out) = build(|_| {});
    assert!(out.status.success(), "{}", text(&out));
    let public = root.join("public");

    // The public NML annotation of the public dataset: page, original file, overlay.
    let dir = public.join("datasets/cortex/annotations/axon-tracing");
    let html = read(&dir.join("index.html"));
    for needle in [
        "<h1>Axon tracing</h1>",
        "<dt>Trees</dt><dd>2</dd>",
        "<dt>Nodes</dt><dd>6</dd>",
        "<dt>Edges</dt><dd>4</dd>",
        // 1044.80 + 1077.78 + 1300 + 2001.60 nm, worked out in axons.nml's comment.
        "<dt>Total path length</dt><dd>5.42 µm</dd>",
        "<dt>Branch points</dt><dd>1 ",
        // Ends: 1, 3, 4 of Axon A and both nodes of Dendrite B.
        "<dt>End points</dt><dd>5 ",
        "bouton",
        "href=\"axon-tracing.nml\" download=\"axon-tracing.nml\"",
        "<a href=\"../../../../datasets/cortex/\">Layer 4 cortex</a>",
        "class=\"viewer-overlay\"",
        "data-skeleton=\"skeleton.bin\"",
        "assets/skeleton.js",
    ] {
        assert!(html.contains(needle), "page lacks {needle:?}:\n{html}");
    }
    assert!(
        !html.contains("Draft neuron"),
        "a public page names a private annotation"
    );
    assert_eq!(
        std::fs::read(dir.join("axon-tracing.nml"))
            .expect("original NML published beside its page"),
        std::fs::read(root.join("content/datasets/cortex/axons.nml")).unwrap(),
        "the download must be the original file byte for byte"
    );
    let bin = overlay(&dir.join("skeleton.bin"));
    assert_eq!(bin.header.slices, 3);
    assert_eq!(
        bin.header.levels,
        [0],
        "a small tracing has no coarser levels"
    );
    assert_eq!(bin.header.trees[0].name, "Axon A");
    assert_eq!(bin.header.trees[0].color, "#ff3333");
    assert_eq!(bin.trees[0].nodes[0], [50.0, 50.0, 0.0]);
    assert_eq!(bin.trees[0].edges[0].as_ref().unwrap().len(), 3);
    assert_eq!(
        bin.header.trees[1].color, "#56b4e9",
        "palette colour for a tree without one"
    );

    // The dataset page lists the public annotation only.
    let dataset_page = read(&public.join("datasets/cortex/index.html"));
    assert!(dataset_page.contains("Axon tracing"));
    assert!(!dataset_page.contains("Draft neuron") && !dataset_page.contains("draft-neuron"));

    // The private SWC of the public dataset: only under private/, in image pixels (10 nm voxels).
    assert!(!public
        .join("datasets/cortex/annotations/draft-neuron")
        .exists());
    let draft = "private/cortex/annotations/draft-neuron";
    let draft_html = read_private(&root, &format!("{draft}/index.html"));
    assert!(draft_html.contains("<h1>Draft neuron reconstruction</h1>"));
    assert!(draft_html.contains("noindex"));
    assert!(
        draft_html.contains("href=\"../../../../datasets/cortex/\""),
        "links back to the public dataset page"
    );
    let bin = decode_overlay(&unseal(&root, &format!("{draft}/skeleton.bin")));
    assert_eq!(
        bin.trees[0].nodes[..2],
        [[100.0, 100.0, 0.0], [200.0, 100.0, 1.0]]
    );
    assert!(!unseal(&root, &format!("{draft}/draft-neuron.swc")).is_empty());

    // The private dataset: its page lists its annotation, whose page says how it is drawn.
    assert!(read_private(&root, "private/retina-unpublished/index.html")
        .contains("Ganglion cell trace"));
    let secret = "private/retina-unpublished/annotations/secret-trace";
    assert!(read_private(&root, &format!("{secret}/index.html")).contains("1 µm = 1 pixel"));
    assert_eq!(
        unseal(&root, &format!("{secret}/secret-trace.swc")),
        std::fs::read(root.join("content/datasets/retina-unpublished/Trace.SWC")).unwrap(),
        "the original, under a lowercase download name"
    );

    // Nothing outside private/ names a private annotation.
    for file in public_files(&public) {
        let bytes = std::fs::read(&file).unwrap();
        let body = String::from_utf8_lossy(&bytes);
        for secret in [
            "draft-neuron",
            "Draft neuron",
            "secret-trace",
            "Ganglion cell trace",
        ] {
            assert!(
                !body.contains(secret),
                "{} names {secret:?}",
                file.display()
            );
        }
    }
}

#[test]
fn static_hosting_seals_private_annotations_behind_a_loader() {
    let (_tmp, root, out) = build(|root| {
        let site = root.join("content/site.yaml");
        let yaml = read(&site).replace("hosting: netlify", "hosting: static");
        std::fs::write(site, yaml).unwrap();
    });
    assert!(out.status.success(), "{}", text(&out));
    let public = root.join("public");
    assert!(public
        .join("datasets/cortex/annotations/axon-tracing/index.html")
        .is_file());
    // A private annotation's address answers with the generic loader; its page is sealed beside.
    let draft = "private/cortex/annotations/draft-neuron";
    let loader = read(&public.join(draft).join("index.html"));
    assert!(!loader.contains("Draft neuron") && loader.contains("unlock.js"));
    assert!(read_private(&root, &format!("{draft}/index.html"))
        .contains("<h1>Draft neuron reconstruction</h1>"));
}

#[test]
fn public_annotation_on_private_dataset_is_refused() {
    let (_tmp, root, out) = build(|root| {
        let yaml_path = root.join("content/datasets/retina-unpublished/dataset.yaml");
        let yaml = read(&yaml_path) + "    visibility: public\n";
        std::fs::write(yaml_path, yaml).unwrap();
    });
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("content/datasets/retina-unpublished/dataset.yaml:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("a public annotation needs a public dataset"),
        "{stderr}"
    );
    assert!(
        !root.join("public").exists(),
        "a refused build writes nothing"
    );
}

#[test]
fn broken_annotation_file_fails_the_build_with_its_line() {
    let (_tmp, _root, out) = build(|root| {
        let nml = root.join("content/datasets/cortex/axons.nml");
        let text = read(&nml).replace(
            "<edge source=\"5\" target=\"6\"/>",
            "<edge source=\"5\" target=\"60\"/>",
        );
        std::fs::write(nml, text).unwrap();
    });
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("content/datasets/cortex/axons.nml:27:7: edge 5–60: there is no node 60"),
        "{stderr}"
    );
}

#[test]
fn units_and_offsets_place_tracings_and_a_miss_is_told() {
    let (_tmp, root) = fixture("sites/annotation-placement");
    let out = vitrine(&root, &["build"]);
    assert!(out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let dir = root.join("public/datasets/placed/annotations");
    let nodes = |id: &str| {
        overlay(&dir.join(id).join("skeleton.bin")).trees[0]
            .nodes
            .clone()
    };
    // nm with offset_nm; µm in the NML's <scale unit>; another voxel size through nm.
    assert_eq!(nodes("swc-nm"), [[30.0, 15.0, 0.0], [60.0, 45.0, 0.0]]);
    assert_eq!(nodes("nml-um"), [[40.0, 30.0, 0.0], [80.0, 60.0, 0.0]]);
    assert_eq!(
        nodes("nml-other-scale"),
        [[20.0, 15.0, 0.0], [40.0, 30.0, 0.0]]
    );

    let descriptor = "content/datasets/placed/dataset.yaml";
    assert!(
        stderr.contains(&format!("{descriptor}:14:9: warning: annotation 'nml-other-scale': its NML scale is 50 × 50 × 500 nm per voxel but the dataset's voxel size is 100 × 100 × 1000 nm")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{descriptor}:17:9: warning: annotation 'swc-far': 2 of its 2 nodes fall outside the image: the tracing spans 500–510 × 500–500 × 0–0 µm, the image 0–12 × 0–9 × 0–1 µm")),
        "{stderr}"
    );
    assert_eq!(stderr.matches("warning:").count(), 2, "{stderr}");
    let far = read(&dir.join("swc-far/index.html"));
    assert!(
        far.contains("Most of this tracing is not drawn over the image"),
        "{far}"
    );
    let placed = read(&dir.join("nml-um/index.html"));
    assert!(!placed.contains("<p class=\"overlay-note\">"), "{placed}");
}
