//! webKnossos NML: `<things>` with `<parameters>` (`<scale>`: the voxel size, in its `unit` or
//! nm, `<experiment>`),
//! `<thing>` trees of `<node>`s and `<edge>`s, `<comments>` and `<branchpoints>`.
//!
//! Read with quick-xml's pull parser over the whole text, so every element's byte offset is
//! known and each message points at the line and attribute that is wrong. Elements vitrine does
//! not use (groups, volume layers, camera state) are skipped, so newer webKnossos files still load.

use std::collections::BTreeMap;
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{
    edge_key, first_seen, Comment, Edge, EdgeSet, Format, LineIndex, Node, Skeleton, Tree,
};
use crate::content::Diagnostic;

/// One start or empty tag with its attributes decoded and located.
struct Tag<'t> {
    name: String,
    /// `(name, unescaped value, byte offset of the name)`.
    attrs: Vec<(String, String, usize)>,
    offset: usize,
    lines: &'t LineIndex<'t>,
    path: &'t Path,
}

impl Tag<'_> {
    fn error(&self, offset: usize, message: String) -> Diagnostic {
        let (line, col) = self.lines.locate(offset);
        Diagnostic::at(self.path, line, col, message)
    }

    fn line(&self) -> usize {
        self.lines.locate(self.offset).0
    }

    fn get(&self, key: &str) -> Option<(&str, usize)> {
        self.attrs
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, at)| (v.as_str(), *at))
    }

    fn required(&self, key: &str) -> Result<(&str, usize), Diagnostic> {
        self.get(key).ok_or_else(|| {
            self.error(
                self.offset,
                format!("<{}> has no `{key}` attribute: add {key}=\"…\"", self.name),
            )
        })
    }

    fn number(&self, key: &str) -> Result<Option<f64>, Diagnostic> {
        let Some((value, at)) = self.get(key) else {
            return Ok(None);
        };
        match value.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(self.error(
                at,
                format!(
                    "<{}> attribute `{key}` must be a number, found \"{value}\"",
                    self.name
                ),
            )),
        }
    }

    fn required_number(&self, key: &str) -> Result<f64, Diagnostic> {
        self.required(key)?;
        Ok(self.number(key)?.expect("present"))
    }

    fn id(&self, key: &str) -> Result<u64, Diagnostic> {
        let (value, at) = self.required(key)?;
        value.trim().parse::<u64>().map_err(|_| {
            self.error(
                at,
                format!(
                    "<{}> attribute `{key}` must be a whole number ≥ 0, found \"{value}\"",
                    self.name
                ),
            )
        })
    }

    /// `color.r/g/b` (and optional `color.a`) in 0..=1; webKnossos writes -1 for "no colour".
    fn color(&self) -> Result<Option<[f32; 4]>, Diagnostic> {
        let rgb = [
            self.number("color.r")?,
            self.number("color.g")?,
            self.number("color.b")?,
        ];
        if rgb.iter().all(Option::is_none) {
            return Ok(None);
        }
        let [Some(r), Some(g), Some(b)] = rgb else {
            return Err(self.error(
                self.offset,
                "<thing> gives only some of `color.r`, `color.g`, `color.b`: give all three (0 to 1) or none"
                    .into(),
            ));
        };
        if [r, g, b].iter().any(|c| *c < 0.0) {
            return Ok(None);
        }
        let a = self.number("color.a")?.unwrap_or(1.0);
        for (key, c) in [
            ("color.r", r),
            ("color.g", g),
            ("color.b", b),
            ("color.a", a),
        ] {
            if !(0.0..=1.0).contains(&c) {
                let at = self.get(key).map_or(self.offset, |(_, at)| at);
                return Err(self.error(
                    at,
                    format!("<thing> `{key}` is {c}: colours go from 0 to 1"),
                ));
            }
        }
        Ok(Some([r as f32, g as f32, b as f32, a as f32]))
    }
}

/// A reference to a node id, checked once the whole file is read.
struct NodeRef {
    node: u64,
    offset: usize,
    what: &'static str,
}

/// Parses NML text; `path` is only used in messages.
pub(super) fn parse(path: &Path, text: &str) -> Result<Skeleton, Vec<Diagnostic>> {
    let lines = LineIndex::new(text);
    let mut reader = Reader::from_str(text);
    let mut errors = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut saw_root = false;
    let mut parameters_at: Option<usize> = None;
    let mut first_tree_at: Option<usize> = None;
    let mut volume_at: Option<usize> = None;
    let mut scale: Option<[f64; 3]> = None;
    // A <scale> that was refused has its own message; only a missing one needs this.
    let mut saw_scale = false;
    let mut experiment = None;
    let mut trees: Vec<Tree> = Vec::new();
    // The tree being read; `None` inside a <thing> that was refused (its error is reported).
    let mut current: Option<usize> = None;
    let mut tree_lines: BTreeMap<u64, usize> = BTreeMap::new();
    // (tree index, node id) → line declared. webKnossos's own library reads node ids per tree
    // (each tree is its own graph), and real exports reuse ids across trees, so only a repeat
    // within one tree is an error.
    let mut tree_nodes: BTreeMap<(usize, u64), usize> = BTreeMap::new();
    // node id → index of the first tree that has it: comments and branch points name a node
    // by id alone, and webKnossos's library takes the first one too.
    let mut nodes: BTreeMap<u64, usize> = BTreeMap::new();
    // (tree index, edge, offset of the <edge> tag)
    let mut edges: Vec<(usize, Edge, usize)> = Vec::new();
    let mut refs: Vec<NodeRef> = Vec::new();
    let mut comments = Vec::new();
    let mut branch_points = Vec::new();

    loop {
        let offset = reader.buffer_position() as usize;
        let (start, empty) = match reader.read_event() {
            Err(e) => {
                let (line, col) = lines.locate(reader.error_position() as usize);
                errors.push(Diagnostic::at(
                    path,
                    line,
                    col,
                    format!(
                        "malformed XML: {e}; fix it or export the annotation again from webKnossos"
                    ),
                ));
                return Err(errors);
            }
            Ok(Event::Eof) => break,
            Ok(Event::End(_)) => {
                stack.pop();
                continue;
            }
            Ok(Event::Start(e)) => (e, false),
            Ok(Event::Empty(e)) => (e, true),
            Ok(_) => continue,
        };
        let tag = match read_tag(&start, offset, text, &lines, path) {
            Ok(tag) => tag,
            Err(d) => {
                errors.push(d);
                if !empty {
                    stack.push(String::from_utf8_lossy(start.name().as_ref()).into_owned());
                }
                continue;
            }
        };
        let parent: Vec<&str> = stack.iter().map(String::as_str).collect();
        let result = match (parent.as_slice(), tag.name.as_str()) {
            ([], "things") => {
                saw_root = true;
                Ok(())
            }
            ([], other) => {
                errors.push(tag.error(
                    offset,
                    format!("not a webKnossos NML file: the root element is <{other}>, expected <things>"),
                ));
                return Err(errors);
            }
            (["things"], "parameters") => {
                parameters_at = Some(offset);
                Ok(())
            }
            (["things", "parameters"], "experiment") => {
                experiment = tag.get("name").map(|(v, _)| v.to_string());
                Ok(())
            }
            (["things", "parameters"], "scale") => {
                saw_scale = true;
                read_scale(&tag).map(|s| scale = Some(s))
            }
            (["things"], "volume") => {
                volume_at.get_or_insert(offset);
                Ok(())
            }
            (["things"], "thing") => {
                first_tree_at.get_or_insert(offset);
                current = None;
                read_tree(&tag).and_then(|tree| {
                if let Some(first) = first_seen(&mut tree_lines, tree.id, tag.line()) {
                    return Err(tag.error(
                        offset,
                        format!("tree id {} is already used on line {first}: tree ids must be unique", tree.id),
                    ));
                }
                trees.push(tree);
                current = Some(trees.len() - 1);
                Ok(())
            })
            }
            (["things", "thing", "nodes"], "node") => match current {
                None => Ok(()),
                Some(tree) => read_node(&tag).and_then(|node| {
                    if let Some(first) = first_seen(&mut tree_nodes, (tree, node.id), tag.line()) {
                        return Err(tag.error(
                            offset,
                            format!(
                                "node id {} is already used on line {first} in the same tree: give one of them an id no node of tree {} has",
                                node.id, trees[tree].id
                            ),
                        ));
                    }
                    nodes.entry(node.id).or_insert(tree);
                    trees[tree].nodes.push(node);
                    Ok(())
                }),
            },
            (["things", "thing", "edges"], "edge") => match current {
                None => Ok(()),
                Some(tree) => tag.id("source").and_then(|source| {
                    let target = tag.id("target")?;
                    edges.push((tree, Edge { source, target }, offset));
                    Ok(())
                }),
            },
            (["things", "comments"], "comment") => tag.id("node").map(|node| {
                let content = tag.get("content").map_or("", |(v, _)| v).to_string();
                refs.push(NodeRef { node, offset, what: "comment" });
                comments.push(Comment { node, content });
            }),
            (["things", "branchpoints"], "branchpoint") => tag.id("id").map(|node| {
                refs.push(NodeRef { node, offset, what: "branch point" });
                branch_points.push(node);
            }),
            _ => Ok(()),
        };
        if let Err(d) = result {
            errors.push(d);
        }
        if !empty {
            stack.push(tag.name);
        }
    }

    let end = text.len();
    let at_end = |message: String| {
        let (line, col) = lines.locate(end);
        Diagnostic::at(path, line, col, message)
    };
    if !saw_root {
        errors.push(at_end(
            "not a webKnossos NML file: there is no <things> element".into(),
        ));
        return Err(errors);
    }
    if let Some(open) = stack.last() {
        errors.push(at_end(format!(
            "the file ends inside <{open}>: it looks truncated, export it again"
        )));
        return Err(errors);
    }
    if !saw_scale {
        let offset = parameters_at.unwrap_or(0);
        let (line, col) = lines.locate(offset);
        errors.push(Diagnostic::at(
            path,
            line,
            col,
            "missing <scale x=\"…\" y=\"…\" z=\"…\"/> in <parameters>: add the dataset's voxel size in nm, \
             which path lengths are computed from",
        ));
    }

    let mut seen_edges: Vec<EdgeSet> = vec![EdgeSet::new(); trees.len()];
    for (tree, edge, offset) in edges {
        let (line, col) = lines.locate(offset);
        let mut bad = false;
        for end in [edge.source, edge.target] {
            if tree_nodes.contains_key(&(tree, end)) {
                continue;
            }
            let message = match nodes.get(&end) {
                None => format!("edge {}–{}: there is no node {end}", edge.source, edge.target),
                Some(other) => format!(
                    "edge {}–{}: node {end} belongs to tree {}, not to tree {}: an edge joins nodes of one tree",
                    edge.source, edge.target, trees[*other].id, trees[tree].id
                ),
            };
            errors.push(Diagnostic::at(path, line, col, message));
            bad = true;
        }
        if bad {
            continue;
        }
        if edge.source == edge.target {
            errors.push(Diagnostic::at(
                path,
                line,
                col,
                format!(
                    "edge {0}–{0} joins a node to itself: remove it",
                    edge.source
                ),
            ));
        } else if !seen_edges[tree].insert(edge_key(edge.source, edge.target)) {
            errors.push(Diagnostic::at(
                path,
                line,
                col,
                format!(
                    "edge {}–{} is listed twice: remove one",
                    edge.source, edge.target
                ),
            ));
        } else {
            trees[tree].edges.push(edge);
        }
    }
    for r in refs {
        if !nodes.contains_key(&r.node) {
            let (line, col) = lines.locate(r.offset);
            errors.push(Diagnostic::at(
                path,
                line,
                col,
                format!(
                    "{} on node {}, but there is no node {}",
                    r.what, r.node, r.node
                ),
            ));
        }
    }
    if errors.is_empty() && trees.iter().all(|t| t.nodes.is_empty()) {
        let message = match (trees.len(), volume_at) {
            (0, Some(_)) => "the file holds a volume annotation and no skeleton trees: \
                 volume-only annotations are not supported; name an NML with traced trees"
                .to_string(),
            (0, None) => "the file has no trees (<thing> elements): check that this is the traced file".to_string(),
            (n, _) => format!(
                "{} no nodes: there is nothing to draw; trace in webKnossos and download the annotation again",
                if n == 1 { "the one tree (<thing>) has".to_string() } else { format!("all {n} trees (<thing>) have") }
            ),
        };
        let (line, col) = lines.locate(volume_at.or(first_tree_at).unwrap_or(0));
        errors.push(Diagnostic::at(path, line, col, message));
    }
    match scale {
        Some(scale_nm) if errors.is_empty() => Ok(Skeleton {
            format: Format::Nml,
            scale_nm,
            experiment,
            trees,
            comments,
            marked_branch_points: branch_points,
        }),
        _ => Err(errors),
    }
}

/// Decodes a tag's name and attributes, remembering where each attribute starts.
fn read_tag<'t>(
    start: &BytesStart<'_>,
    offset: usize,
    text: &str,
    lines: &'t LineIndex<'t>,
    path: &'t Path,
) -> Result<Tag<'t>, Diagnostic> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut tag = Tag {
        name,
        attrs: Vec::new(),
        offset,
        lines,
        path,
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| tag.error(offset, format!("malformed XML attribute: {e}")))?;
        let key = attr.key.as_ref();
        let at = offset_in(text, key).unwrap_or(offset);
        let value = attr
            .unescape_value()
            .map_err(|e| tag.error(at, format!("malformed XML attribute value: {e}")))?;
        tag.attrs.push((
            String::from_utf8_lossy(key).into_owned(),
            value.into_owned(),
            at,
        ));
    }
    Ok(tag)
}

/// Byte offset of a slice that borrows from `text` (quick-xml hands out borrowed slices).
fn offset_in(text: &str, slice: &[u8]) -> Option<usize> {
    let start = text.as_ptr() as usize;
    let p = slice.as_ptr() as usize;
    (p >= start && p + slice.len() <= start + text.len()).then(|| p - start)
}

/// The voxel size in nm: `x`, `y`, `z` in the `unit` webKnossos wrote (nanometres when the
/// attribute is absent, as in files from before webKnossos had units).
fn read_scale(tag: &Tag) -> Result<[f64; 3], Diagnostic> {
    let nm_per_unit = match tag.get("unit") {
        None => 1.0,
        Some((unit, at)) => super::unit::nm_per(unit).ok_or_else(|| {
            tag.error(
                at,
                format!(
                    "<scale> unit \"{unit}\" is not a length unit webKnossos writes; use one of: {}",
                    super::unit::accepted()
                ),
            )
        })?,
    };
    let mut scale = [0.0; 3];
    for (i, key) in ["x", "y", "z"].into_iter().enumerate() {
        scale[i] = tag.required_number(key)?;
        if scale[i] <= 0.0 {
            let at = tag.get(key).map_or(tag.offset, |(_, at)| at);
            return Err(tag.error(at, format!("<scale> `{key}` must be a voxel size above 0")));
        }
        scale[i] *= nm_per_unit;
    }
    Ok(scale)
}

fn read_tree(tag: &Tag) -> Result<Tree, Diagnostic> {
    let id = tag.id("id")?;
    let name = match tag.get("name") {
        Some((name, _)) if !name.trim().is_empty() => name.trim().to_string(),
        _ => format!("Tree {id}"),
    };
    Ok(Tree {
        id,
        name,
        color: tag.color()?,
        nodes: Vec::new(),
        edges: Vec::new(),
    })
}

fn read_node(tag: &Tag) -> Result<Node, Diagnostic> {
    Ok(Node {
        id: tag.id("id")?,
        position: [
            tag.required_number("x")?,
            tag.required_number("y")?,
            tag.required_number("z")?,
        ],
        radius: tag.number("radius")?,
        swc_type: None,
    })
}
