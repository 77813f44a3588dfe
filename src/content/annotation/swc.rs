//! NeuroMorpho SWC: one node per line, `n type x y z radius parent`, positions and radii in µm,
//! `#` starting a comment, `parent` -1 for a root.
//!
//! Parents may be declared after their children (many exporters do this), so references are
//! checked once the whole file is read; each root with the nodes below it becomes one [`Tree`].

use std::collections::BTreeMap;
use std::path::Path;

use super::{first_seen, Edge, Format, Node, Skeleton, Tree};
use crate::content::Diagnostic;

/// The structure type names of the SWC specification.
pub fn type_label(swc_type: u32) -> String {
    match swc_type {
        0 => "undefined".into(),
        1 => "soma".into(),
        2 => "axon".into(),
        3 => "basal dendrite".into(),
        4 => "apical dendrite".into(),
        5 => "fork point".into(),
        6 => "end point".into(),
        other => format!("custom type {other}"),
    }
}

/// One data line, before references are checked.
struct Row {
    line: usize,
    node: Node,
    parent: Option<u64>,
}

/// Parses SWC text; `path` is only used in messages.
pub(super) fn parse(path: &Path, text: &str) -> Result<Skeleton, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let mut lines_of: BTreeMap<u64, usize> = BTreeMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let data = raw.split('#').next().unwrap_or("");
        if data.trim().is_empty() {
            continue;
        }
        match parse_row(path, line, raw, data) {
            Ok(row) => {
                if let Some(first) = first_seen(&mut lines_of, row.node.id, line) {
                    errors.push(Diagnostic::at(
                        path,
                        line,
                        column_of(raw, 0),
                        format!(
                            "node {} is already defined on line {first}: node ids must be unique",
                            row.node.id
                        ),
                    ));
                } else {
                    rows.push(row);
                }
            }
            Err(d) => errors.push(d),
        }
    }
    for row in &rows {
        if let Some(parent) = row.parent {
            if !lines_of.contains_key(&parent) {
                errors.push(Diagnostic::at(
                    path,
                    row.line,
                    1,
                    format!(
                        "node {}: parent {parent} is not a node of this file (use -1 for a root)",
                        row.node.id
                    ),
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    let index: BTreeMap<u64, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.node.id, i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    for (i, row) in rows.iter().enumerate() {
        if let Some(parent) = row.parent {
            children[index[&parent]].push(i);
        }
    }
    let mut tree_of: Vec<Option<usize>> = vec![None; rows.len()];
    let mut trees = Vec::new();
    for (root, row) in rows.iter().enumerate().filter(|(_, r)| r.parent.is_none()) {
        let number = trees.len();
        let mut members = vec![root];
        let mut todo = vec![root];
        while let Some(i) = todo.pop() {
            tree_of[i] = Some(number);
            members.extend(&children[i]);
            todo.extend(&children[i]);
        }
        members.sort_unstable();
        let root_type = row.node.swc_type.unwrap_or(0);
        trees.push(Tree {
            id: number as u64 + 1,
            name: format!(
                "Tree {} ({} root, node {})",
                number + 1,
                type_label(root_type),
                row.node.id
            ),
            color: None,
            nodes: members.iter().map(|&i| rows[i].node.clone()).collect(),
            edges: members
                .iter()
                .filter_map(|&i| {
                    rows[i].parent.map(|parent| Edge {
                        source: rows[i].node.id,
                        target: parent,
                    })
                })
                .collect(),
        });
    }
    // Whatever no root reaches hangs in a parent cycle.
    for (i, row) in rows.iter().enumerate() {
        if tree_of[i].is_none() {
            errors.push(Diagnostic::at(
                path,
                row.line,
                1,
                format!(
                    "node {} is its own ancestor (its parents form a cycle): one node of the cycle needs parent -1",
                    row.node.id
                ),
            ));
            break;
        }
    }
    if rows.is_empty() {
        errors.push(Diagnostic::new(
            path,
            "the file has no node lines (`n type x y z radius parent`): check that this is the traced file",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Skeleton {
        format: Format::Swc,
        scale_nm: [1000.0; 3],
        experiment: None,
        trees,
        comments: Vec::new(),
        marked_branch_points: Vec::new(),
    })
}

/// Column (1-based, in characters) where the byte offset `at` of `raw` is.
fn column_of(raw: &str, at: usize) -> usize {
    raw[..at].chars().count() + 1
}

fn parse_row(path: &Path, line: usize, raw: &str, data: &str) -> Result<Row, Diagnostic> {
    let fields: Vec<(usize, &str)> = data
        .split_whitespace()
        .map(|f| (f.as_ptr() as usize - raw.as_ptr() as usize, f))
        .collect();
    if fields.len() != 7 {
        return Err(Diagnostic::at(
            path,
            line,
            column_of(raw, fields[0].0),
            format!(
                "expected 7 columns `n type x y z radius parent`, found {}: SWC has one node per line",
                fields.len()
            ),
        ));
    }
    const NAMES: [&str; 7] = ["n", "type", "x", "y", "z", "radius", "parent"];
    let error = |i: usize, what: &str| {
        Diagnostic::at(
            path,
            line,
            column_of(raw, fields[i].0),
            format!(
                "column {} (`{}`) must be {what}, found \"{}\"",
                i + 1,
                NAMES[i],
                fields[i].1
            ),
        )
    };
    let whole = |i: usize| -> Option<i64> {
        let s = fields[i].1;
        s.parse::<i64>().ok().or_else(|| {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.fract() == 0.0 && v.abs() < 9.0e15)
                .map(|v| v as i64)
        })
    };
    let real = |i: usize| -> Result<f64, Diagnostic> {
        fields[i]
            .1
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| error(i, "a number"))
    };
    let id = whole(0)
        .and_then(|v| u64::try_from(v).ok())
        .ok_or_else(|| error(0, "a whole number ≥ 0 (the node id)"))?;
    let swc_type = whole(1)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| {
            error(
                1,
                "a whole number ≥ 0 (1 soma, 2 axon, 3 basal dendrite, 4 apical dendrite, …)",
            )
        })?;
    let position = [real(2)?, real(3)?, real(4)?];
    let radius = real(5)?;
    let parent = match whole(6) {
        Some(-1) => None,
        Some(p) if p >= 0 => Some(p as u64),
        _ => return Err(error(6, "-1 (a root) or the id of another node")),
    };
    if parent == Some(id) {
        return Err(error(6, "another node's id, not the node's own id"));
    }
    Ok(Row {
        line,
        node: Node {
            id,
            position,
            radius: Some(radius),
            swc_type: Some(swc_type),
        },
        parent,
    })
}
