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

/// What has been read of one NML file so far, element by element.
struct Reading<'t> {
    path: &'t Path,
    text: &'t str,
    lines: &'t LineIndex<'t>,
    errors: Vec<Diagnostic>,
    saw_root: bool,
    parameters_at: Option<usize>,
    first_tree_at: Option<usize>,
    volume_at: Option<usize>,
    scale: Option<[f64; 3]>,
    /// A <scale> that was refused has its own message; only a missing one needs another.
    saw_scale: bool,
    experiment: Option<String>,
    trees: Vec<Tree>,
    /// The tree being read; `None` inside a <thing> that was refused (its error is reported).
    current: Option<usize>,
    tree_lines: BTreeMap<u64, usize>,
    /// (tree index, node id) → line declared. webKnossos's own library reads node ids per tree
    /// (each tree is its own graph), and real exports reuse ids across trees, so only a repeat
    /// within one tree is an error.
    tree_nodes: BTreeMap<(usize, u64), usize>,
    /// node id → index of the first tree that has it: comments and branch points name a node
    /// by id alone, and webKnossos's library takes the first one too.
    nodes: BTreeMap<u64, usize>,
    /// (tree index, edge, offset of the <edge> tag)
    edges: Vec<(usize, Edge, usize)>,
    refs: Vec<NodeRef>,
    comments: Vec<Comment>,
    branch_points: Vec<u64>,
}

/// Parses NML text; `path` is only used in messages. Every problem of the file is reported,
/// except after one that makes the rest unreadable (malformed XML, another root, truncation).
pub(super) fn parse(path: &Path, text: &str) -> Result<Skeleton, Vec<Diagnostic>> {
    let lines = LineIndex::new(text);
    let mut reading = Reading::new(path, text, &lines);
    if reading.read_elements().is_err() || reading.check_document().is_err() {
        return Err(reading.errors);
    }
    reading.attach_edges();
    reading.check_node_refs();
    reading.check_something_to_draw();
    reading.finish()
}

impl<'t> Reading<'t> {
    fn new(path: &'t Path, text: &'t str, lines: &'t LineIndex<'t>) -> Reading<'t> {
        Reading {
            path,
            text,
            lines,
            errors: Vec::new(),
            saw_root: false,
            parameters_at: None,
            first_tree_at: None,
            volume_at: None,
            scale: None,
            saw_scale: false,
            experiment: None,
            trees: Vec::new(),
            current: None,
            tree_lines: BTreeMap::new(),
            tree_nodes: BTreeMap::new(),
            nodes: BTreeMap::new(),
            edges: Vec::new(),
            refs: Vec::new(),
            comments: Vec::new(),
            branch_points: Vec::new(),
        }
    }

    /// Reads every element in document order; `Err` when the rest cannot be read (the error is
    /// in `errors`).
    fn read_elements(&mut self) -> Result<(), ()> {
        let mut reader = Reader::from_str(self.text);
        let mut stack: Vec<String> = Vec::new();
        loop {
            let offset = reader.buffer_position() as usize;
            let (start, empty) = match reader.read_event() {
                Err(e) => {
                    let (line, col) = self.lines.locate(reader.error_position() as usize);
                    self.errors.push(Diagnostic::at(
                        self.path,
                        line,
                        col,
                        format!(
                            "malformed XML: {e}; fix it or export the annotation again from webKnossos"
                        ),
                    ));
                    return Err(());
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
            let tag = match read_tag(&start, offset, self.text, self.lines, self.path) {
                Ok(tag) => tag,
                Err(d) => {
                    self.errors.push(d);
                    if !empty {
                        stack.push(String::from_utf8_lossy(start.name().as_ref()).into_owned());
                    }
                    continue;
                }
            };
            let parent: Vec<&str> = stack.iter().map(String::as_str).collect();
            if let ([], other) = (parent.as_slice(), tag.name.as_str()) {
                if other != "things" {
                    let message = format!(
                        "not a webKnossos NML file: the root element is <{other}>, expected <things>"
                    );
                    self.errors.push(tag.error(offset, message));
                    return Err(());
                }
            }
            if let Err(d) = self.element(&parent, &tag, offset) {
                self.errors.push(d);
            }
            if !empty {
                stack.push(tag.name);
            }
        }
        if let Some(open) = stack.last() {
            let message =
                format!("the file ends inside <{open}>: it looks truncated, export it again");
            self.errors.push(self.at_end(message));
            return Err(());
        }
        Ok(())
    }

    /// Takes in one element inside `parent` (the names of the open elements, outermost first).
    fn element(&mut self, parent: &[&str], tag: &Tag, offset: usize) -> Result<(), Diagnostic> {
        match (parent, tag.name.as_str()) {
            ([], _) => self.saw_root = true,
            (["things"], "parameters") => self.parameters_at = Some(offset),
            (["things", "parameters"], "experiment") => {
                self.experiment = tag.get("name").map(|(v, _)| v.to_string());
            }
            (["things", "parameters"], "scale") => {
                self.saw_scale = true;
                self.scale = Some(read_scale(tag)?);
            }
            (["things"], "volume") => {
                self.volume_at.get_or_insert(offset);
            }
            (["things"], "thing") => {
                self.first_tree_at.get_or_insert(offset);
                self.current = None;
                let tree = read_tree(tag)?;
                if let Some(first) = first_seen(&mut self.tree_lines, tree.id, tag.line()) {
                    return Err(tag.error(
                        offset,
                        format!(
                            "tree id {} is already used on line {first}: tree ids must be unique",
                            tree.id
                        ),
                    ));
                }
                self.trees.push(tree);
                self.current = Some(self.trees.len() - 1);
            }
            (["things", "thing", "nodes"], "node") => {
                if let Some(tree) = self.current {
                    self.node(tree, tag, offset)?;
                }
            }
            (["things", "thing", "edges"], "edge") => {
                if let Some(tree) = self.current {
                    let source = tag.id("source")?;
                    let target = tag.id("target")?;
                    self.edges.push((tree, Edge { source, target }, offset));
                }
            }
            (["things", "comments"], "comment") => {
                let node = tag.id("node")?;
                let content = tag.get("content").map_or("", |(v, _)| v).to_string();
                let what = "comment";
                self.refs.push(NodeRef { node, offset, what });
                self.comments.push(Comment { node, content });
            }
            (["things", "branchpoints"], "branchpoint") => {
                let node = tag.id("id")?;
                let what = "branch point";
                self.refs.push(NodeRef { node, offset, what });
                self.branch_points.push(node);
            }
            _ => {}
        }
        Ok(())
    }

    /// A <node> of tree `tree`.
    fn node(&mut self, tree: usize, tag: &Tag, offset: usize) -> Result<(), Diagnostic> {
        let node = read_node(tag)?;
        if let Some(first) = first_seen(&mut self.tree_nodes, (tree, node.id), tag.line()) {
            return Err(tag.error(
                offset,
                format!(
                    "node id {} is already used on line {first} in the same tree: give one of them an id no node of tree {} has",
                    node.id, self.trees[tree].id
                ),
            ));
        }
        self.nodes.entry(node.id).or_insert(tree);
        self.trees[tree].nodes.push(node);
        Ok(())
    }

    /// A message at the end of the file.
    fn at_end(&self, message: String) -> Diagnostic {
        let (line, col) = self.lines.locate(self.text.len());
        Diagnostic::at(self.path, line, col, message)
    }

    /// The document as a whole: a <things> root, and a <scale> to compute lengths from.
    fn check_document(&mut self) -> Result<(), ()> {
        if !self.saw_root {
            let message = "not a webKnossos NML file: there is no <things> element".into();
            self.errors.push(self.at_end(message));
            return Err(());
        }
        if !self.saw_scale {
            let (line, col) = self.lines.locate(self.parameters_at.unwrap_or(0));
            self.errors.push(Diagnostic::at(
                self.path,
                line,
                col,
                "missing <scale x=\"…\" y=\"…\" z=\"…\"/> in <parameters>: add the dataset's voxel size in nm, \
                 which path lengths are computed from",
            ));
        }
        Ok(())
    }

    /// Adds each edge to its tree once both its nodes are known to be in that tree.
    fn attach_edges(&mut self) {
        let mut seen_edges: Vec<EdgeSet> = vec![EdgeSet::new(); self.trees.len()];
        for (tree, edge, offset) in std::mem::take(&mut self.edges) {
            let (line, col) = self.lines.locate(offset);
            let mut bad = false;
            for end in [edge.source, edge.target] {
                if self.tree_nodes.contains_key(&(tree, end)) {
                    continue;
                }
                let message = match self.nodes.get(&end) {
                    None => format!("edge {}–{}: there is no node {end}", edge.source, edge.target),
                    Some(other) => format!(
                        "edge {}–{}: node {end} belongs to tree {}, not to tree {}: an edge joins nodes of one tree",
                        edge.source, edge.target, self.trees[*other].id, self.trees[tree].id
                    ),
                };
                self.errors
                    .push(Diagnostic::at(self.path, line, col, message));
                bad = true;
            }
            if bad {
                continue;
            }
            let problem = if edge.source == edge.target {
                Some(format!(
                    "edge {0}–{0} joins a node to itself: remove it",
                    edge.source
                ))
            } else if !seen_edges[tree].insert(edge_key(edge.source, edge.target)) {
                Some(format!(
                    "edge {}–{} is listed twice: remove one",
                    edge.source, edge.target
                ))
            } else {
                None
            };
            match problem {
                Some(message) => self
                    .errors
                    .push(Diagnostic::at(self.path, line, col, message)),
                None => self.trees[tree].edges.push(edge),
            }
        }
    }

    /// Comments and branch points name nodes that exist.
    fn check_node_refs(&mut self) {
        for r in &self.refs {
            if !self.nodes.contains_key(&r.node) {
                let (line, col) = self.lines.locate(r.offset);
                let message = format!(
                    "{} on node {}, but there is no node {}",
                    r.what, r.node, r.node
                );
                self.errors
                    .push(Diagnostic::at(self.path, line, col, message));
            }
        }
    }

    /// A file with nothing to draw says why, once the rest is right.
    fn check_something_to_draw(&mut self) {
        if !self.errors.is_empty() || self.trees.iter().any(|t| !t.nodes.is_empty()) {
            return;
        }
        let message = match (self.trees.len(), self.volume_at) {
            (0, Some(_)) => "the file holds a volume annotation and no skeleton trees: \
                 volume-only annotations are not supported; name an NML with traced trees"
                .to_string(),
            (0, None) => "the file has no trees (<thing> elements): check that this is the traced file".to_string(),
            (n, _) => format!(
                "{} no nodes: there is nothing to draw; trace in webKnossos and download the annotation again",
                if n == 1 { "the one tree (<thing>) has".to_string() } else { format!("all {n} trees (<thing>) have") }
            ),
        };
        let (line, col) = self
            .lines
            .locate(self.volume_at.or(self.first_tree_at).unwrap_or(0));
        self.errors
            .push(Diagnostic::at(self.path, line, col, message));
    }

    fn finish(self) -> Result<Skeleton, Vec<Diagnostic>> {
        match self.scale {
            Some(scale_nm) if self.errors.is_empty() => Ok(Skeleton {
                format: Format::Nml,
                scale_nm,
                experiment: self.experiment,
                trees: self.trees,
                comments: self.comments,
                marked_branch_points: self.branch_points,
            }),
            _ => Err(self.errors),
        }
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
