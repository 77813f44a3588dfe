//! Annotations: the NML and SWC parsers against hand-made files whose numbers were worked out
//! by hand (see the comments in each file), the `path:line:col` messages for broken files.

use std::path::PathBuf;

use vitrine::content::annotation::{parse_file, Format, Skeleton};

fn annotation(name: &str) -> PathBuf {
    crate::common::repo().join("tests/annotations").join(name)
}

fn parse_ok(name: &str) -> Skeleton {
    parse_file(&annotation(name)).unwrap_or_else(|ds| {
        panic!("{name} should parse: {}", ds.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))
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
    assert_eq!(names, [(1, "axon & bouton"), (2, "dendrite"), (7, "Tree 7")]);
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
    assert!(close(stats.path_length_nm, 270.0), "{}", stats.path_length_nm);
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
    assert!(close(stats.path_length_nm, 46_000.0), "{}", stats.path_length_nm);
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
    assert_eq!(errors("invalid/missing-node.nml"), ["missing-node.nml:12:7: edge 2–99: there is no node 99"]);
    assert_eq!(
        errors("invalid/duplicate-node.nml"),
        ["duplicate-node.nml:12:7: node id 1 is already used on line 7: node ids must be unique in the whole file"]
    );
    let no_scale = errors("invalid/no-scale.nml");
    assert_eq!(no_scale.len(), 1);
    assert!(no_scale[0].starts_with("no-scale.nml:2:3: missing <scale"), "{no_scale:?}");
    assert_eq!(
        errors("invalid/bad-number.nml"),
        ["bad-number.nml:7:26: <node> attribute `y` must be a number, found \"twelve\""]
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
