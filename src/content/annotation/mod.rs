//! Skeleton annotations (tracings): webKnossos NML and NeuroMorpho SWC files parsed into one
//! [`Skeleton`], with the statistics an annotation page shows.
//!
//! Positions stay in the file's own units (NML: voxels, SWC: µm) and [`Skeleton::scale_nm`]
//! turns them into nanometres, so no precision is lost and the overlay can map voxels to image
//! pixels directly. Like the rest of `content`, this module only reads.

mod nml;
mod swc;
pub mod unit;

pub use swc::type_label as swc_type_label;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::Diagnostic;

/// The file format an annotation was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// webKnossos NML (XML): positions in voxels, with the dataset scale in nm per voxel.
    Nml,
    /// NeuroMorpho SWC: seven columns per node, positions in µm.
    Swc,
}

impl Format {
    /// The lowercase file extension, used for the published copy of the original file.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Nml => "nml",
            Format::Swc => "swc",
        }
    }

    /// The format's name for people.
    pub fn label(self) -> &'static str {
        match self {
            Format::Nml => "webKnossos NML",
            Format::Swc => "SWC",
        }
    }
}

/// One node of a tree.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// The node id from the file, unique in its tree (webKnossos files may reuse an id in
    /// another tree).
    pub id: u64,
    /// `[x, y, z]` in the file's units: voxels (NML) or µm (SWC).
    pub position: [f64; 3],
    /// Radius in the file's units, when the file gives one.
    pub radius: Option<f64>,
    /// SWC structure type (1 soma, 2 axon, 3 basal dendrite, 4 apical dendrite, …); `None` for NML.
    pub swc_type: Option<u32>,
}

/// An undirected edge between two node ids of the same tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// Node id (NML `source`; SWC: the child).
    pub source: u64,
    /// Node id (NML `target`; SWC: the parent).
    pub target: u64,
}

/// One connected tracing (an NML `<thing>`, or an SWC tree below one root).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tree {
    /// NML tree id, or the 1-based index of the SWC root in file order.
    pub id: u64,
    /// The tree's name (NML `name`; for SWC, made from the root's type).
    pub name: String,
    /// RGBA in 0..=1 when the file gives a colour (NML `color.r/g/b/a`).
    pub color: Option<[f32; 4]>,
    /// Nodes in file order.
    pub nodes: Vec<Node>,
    /// Edges in file order.
    pub edges: Vec<Edge>,
}

/// A comment attached to a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// The node the comment is on.
    pub node: u64,
    /// The comment text, unescaped.
    pub content: String,
}

/// A parsed skeleton annotation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skeleton {
    /// Which format the file was.
    pub format: Format,
    /// Nanometres per position unit along x, y, z (NML `<scale>`; SWC: 1000, since it is in µm).
    pub scale_nm: [f64; 3],
    /// The dataset name the annotation was traced on (NML `<experiment name>`).
    pub experiment: Option<String>,
    /// The trees, in file order.
    pub trees: Vec<Tree>,
    /// Node comments, in file order.
    pub comments: Vec<Comment>,
    /// Branch points the tracer marked (NML `<branchpoints>`), in file order; empty for SWC.
    pub marked_branch_points: Vec<u64>,
}

/// The numbers an annotation page shows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Number of trees.
    pub trees: usize,
    /// Number of nodes.
    pub nodes: usize,
    /// Number of edges.
    pub edges: usize,
    /// Sum of all edge lengths in nanometres (positions × scale).
    pub path_length_nm: f64,
    /// Nodes with three or more neighbours (topological branch points).
    pub branch_points: usize,
    /// Branch points the tracer marked in webKnossos (NML only).
    pub marked_branch_points: usize,
    /// Nodes with exactly one neighbour (tips, and a root with a single child).
    pub end_points: usize,
    /// Number of comments.
    pub comments: usize,
}

impl Skeleton {
    /// Counts, lengths and branch structure, computed from the trees; cheap enough to call per page.
    pub fn stats(&self) -> Stats {
        // Keyed by tree too: node ids may repeat across the trees of an NML file.
        let mut degree: BTreeMap<(usize, u64), usize> = BTreeMap::new();
        let mut path_length_nm = 0.0;
        let mut nodes = 0;
        let mut edges = 0;
        for (t, tree) in self.trees.iter().enumerate() {
            nodes += tree.nodes.len();
            edges += tree.edges.len();
            let position: BTreeMap<u64, [f64; 3]> =
                tree.nodes.iter().map(|n| (n.id, n.position)).collect();
            for node in &tree.nodes {
                degree.entry((t, node.id)).or_insert(0);
            }
            for edge in &tree.edges {
                *degree.entry((t, edge.source)).or_insert(0) += 1;
                *degree.entry((t, edge.target)).or_insert(0) += 1;
                if let (Some(a), Some(b)) = (position.get(&edge.source), position.get(&edge.target))
                {
                    path_length_nm += self.distance_nm(*a, *b);
                }
            }
        }
        Stats {
            trees: self.trees.len(),
            nodes,
            edges,
            path_length_nm,
            branch_points: degree.values().filter(|&&d| d >= 3).count(),
            marked_branch_points: self.marked_branch_points.len(),
            end_points: degree.values().filter(|&&d| d == 1).count(),
            comments: self.comments.len(),
        }
    }

    /// Euclidean distance in nanometres between two positions in file units.
    pub fn distance_nm(&self, a: [f64; 3], b: [f64; 3]) -> f64 {
        (0..3)
            .map(|i| ((a[i] - b[i]) * self.scale_nm[i]).powi(2))
            .sum::<f64>()
            .sqrt()
    }
}

/// Reads an NML or SWC file (chosen by its extension) into a [`Skeleton`].
///
/// Every problem found is returned, each as `path:line:col: message` with `path` as given, so
/// a caller can make it relative to the site root with [`Diagnostic::relative_to`].
pub fn parse_file(path: &Path) -> Result<Skeleton, Vec<Diagnostic>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let format = match ext.as_deref() {
        Some("nml") => Format::Nml,
        Some("swc") => Format::Swc,
        _ => {
            return Err(vec![Diagnostic::new(
            path,
            "unsupported annotation file: name a webKnossos `.nml` or a NeuroMorpho `.swc` file \
                 (a webKnossos `.zip` download holds the `.nml`: unpack it first)",
        )])
        }
    };
    let bytes = std::fs::read(path).map_err(|e| {
        vec![Diagnostic::new(
            path,
            format!("cannot read annotation file: {e}"),
        )]
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let bytes = e.as_bytes();
            let at = e.utf8_error().valid_up_to();
            let (line, col) = LineIndex::new(&String::from_utf8_lossy(&bytes[..at])).locate(at);
            return Err(vec![Diagnostic::at(
                path,
                line,
                col,
                "the file is not UTF-8 text: save it as UTF-8 (webKnossos and NeuroMorpho files are)",
            )]);
        }
    };
    match format {
        Format::Nml => nml::parse(path, &text),
        Format::Swc => swc::parse(path, &text),
    }
}

/// Turns byte offsets into 1-based line and column (in characters) for messages.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// `(line, column)` of a byte offset; offsets past the end land on the last position.
    fn locate(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, col)
    }
}

/// A set of node ids that remembers where each was declared, for "already declared" messages.
fn first_seen<K: Ord + Copy>(seen: &mut BTreeMap<K, usize>, key: K, line: usize) -> Option<usize> {
    match seen.get(&key) {
        Some(&first) => Some(first),
        None => {
            seen.insert(key, line);
            None
        }
    }
}

/// Undirected edge key, so `a–b` and `b–a` count as the same edge.
fn edge_key(a: u64, b: u64) -> (u64, u64) {
    (a.min(b), a.max(b))
}

/// Dedupe helper used by both parsers for duplicate-edge checks.
type EdgeSet = BTreeSet<(u64, u64)>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_counts_lines_and_characters() {
        let idx = LineIndex::new("ab\nµm x\n");
        assert_eq!(idx.locate(0), (1, 1));
        assert_eq!(idx.locate(3), (2, 1));
        // "µ" is two bytes but one column.
        assert_eq!(idx.locate(6), (2, 3));
        assert_eq!(idx.locate(100), (3, 1));
    }

    #[test]
    fn stats_scale_positions_anisotropically() {
        let sk = Skeleton {
            format: Format::Nml,
            scale_nm: [10.0, 10.0, 40.0],
            experiment: None,
            trees: vec![Tree {
                id: 1,
                name: "t".into(),
                color: None,
                nodes: vec![
                    Node {
                        id: 1,
                        position: [0.0, 0.0, 0.0],
                        radius: None,
                        swc_type: None,
                    },
                    Node {
                        id: 2,
                        position: [3.0, 0.0, 1.0],
                        radius: None,
                        swc_type: None,
                    },
                ],
                edges: vec![Edge {
                    source: 1,
                    target: 2,
                }],
            }],
            comments: vec![],
            marked_branch_points: vec![],
        };
        // (30 nm, 0, 40 nm) → 50 nm.
        let stats = sk.stats();
        assert!((stats.path_length_nm - 50.0).abs() < 1e-9);
        assert_eq!((stats.end_points, stats.branch_points), (2, 0));
    }
}
