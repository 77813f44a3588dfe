//! The overlay file `skeleton.bin`: an annotation's trees in image pixels, compact enough that a
//! million-node tracing loads in well under two seconds (issue 17), read by
//! `assets/skeleton.js` with `fetch` and a `DataView`.
//!
//! Why this shape:
//! - **Binary, delta-coded.** The JSON it replaces spent ~35 bytes a node (`[1234.56,789.01,0.0]`
//!   plus an edge pair); here a node is three zigzag LEB128 varints of the step from the previous
//!   node (1–2 bytes each along a tracing), an edge two (the step from the previous edge's first
//!   node, then the offset to its second): ~5 bytes a node in all, and no parse beyond a byte
//!   loop. The file is served as is (a static host may not compress `.bin`), so it is compact
//!   uncompressed.
//! - **Quantised to a power-of-two step.** Positions are kept in hundredths of a pixel (what the
//!   JSON rounded to) relative to the bounding box's corner, then divided by 2^k, the smallest
//!   step that spans the box in 16 bits, so precision follows the tracing's extent as in a
//!   16-bit quantisation; k is capped at 3 (0.08 px) so no position is ever more than 0.04 px
//!   off. A tracing under 655 px across is exact to 0.01 px, as before, so small overlays draw
//!   exactly where they did.
//! - **Coarser levels for far zoom.** A browser cannot draw a million SVG segments quickly, and
//!   at "whole image" zoom one screen pixel covers many image pixels anyway. Big tracings
//!   (more than [`LOD_MIN_EDGES`] edges) get extra edge lists, one per cell size of 2, 4, 8, …
//!   image pixels: every node is replaced by the first node of its cell (x, y by the cell,
//!   z by slice; cells nest, so each level is made from the one before) and edges inside a cell
//!   or repeated are dropped — vertex clustering, which bounds the count by the grid even when
//!   a tracing fills the image, where Douglas–Peucker keeps nearly every node of a wiggly path.
//!   A level adds no nodes (its edges index the tree's nodes), and a level that would save
//!   less than a third of the edges of the last one kept is not stored (`null`: use the finer
//!   one). The script picks the finest level whose edges in view fit its budget.
//!
//! Layout (little-endian):
//!
//! ```text
//! "VSK1"  u32 header length  header (UTF-8 JSON)  sections
//! header: {"slices", "origin": [x, y, z], "step": [x, y, z], "levels": [0, cell, …],
//!          "trees": [{"id", "name", "color", "nodes", "bytes", "edges": [[count, bytes] | null, …]}]}
//! sections, tree after tree: its nodes, then its edge list of each level that is not null
//! ```
//!
//! `origin` and `step` are in hundredths of an image pixel (z: of a slice): node i of a tree is
//! at `(origin + q · step) / 100` where `q` sums the deltas read so far. `levels` gives each
//! level's cell size in image pixels; level 0 (cell 0) holds the file's own edges, in file order
//! and direction (source → target), so a page draws the same paths the JSON made.

use std::collections::HashMap;

use anyhow::{bail, ensure, Context as _, Result};
use serde::{Deserialize, Serialize};

/// The file's first four bytes.
pub const MAGIC: &[u8; 4] = b"VSK1";

/// Tracings with fewer edges than this in all get no coarser levels: the script draws them
/// whole at any zoom, as it always did.
pub const LOD_MIN_EDGES: usize = 20_000;

/// The widest a quantisation step gets, as a power of two of hundredths of a pixel (0.08 px).
const MAX_SHIFT: u32 = 3;

/// The coarsest level's grid: at most this many cells along the tracing's longer side.
const COARSEST_CELLS: i64 = 128;

/// A level is kept only when it has at most this share of the edges of the last one kept.
const KEEP_RATIO: f64 = 2.0 / 3.0;

/// One tree as the encoder takes it: positions in image pixels (z in slices), edges as pairs of
/// indices into `nodes`.
pub struct TreeInput<'a> {
    pub id: u64,
    pub name: &'a str,
    pub color: String,
    pub nodes: Vec<[f64; 3]>,
    pub edges: Vec<[u32; 2]>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Header {
    pub slices: usize,
    pub origin: [i64; 3],
    pub step: [i64; 3],
    pub levels: Vec<i64>,
    pub trees: Vec<TreeHeader>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct TreeHeader {
    pub id: u64,
    pub name: String,
    pub color: String,
    /// Node count.
    pub nodes: usize,
    /// Byte length of the node section.
    pub bytes: usize,
    /// `[edge count, byte length]` per level, `None` where the level repeats the finer one.
    pub edges: Vec<Option<[usize; 2]>>,
}

/// Hundredths of a pixel; non-finite positions (which a file should not hold) land on 0 and
/// huge ones are clamped so differences cannot overflow.
fn hundredths(v: f64) -> i64 {
    const LIMIT: f64 = (1u64 << 50) as f64;
    if v.is_finite() {
        (v * 100.0).round().clamp(-LIMIT, LIMIT) as i64
    } else {
        0
    }
}

/// Writes trees one by one into a `skeleton.bin`, so only one tree's numbers are held at a
/// time beside the output (the positions must all be seen first, for the bounding box: pass
/// them to [`Encoder::new`] as an iterator).
pub struct Encoder {
    header: Header,
    body: Vec<u8>,
    lod: bool,
}

impl Encoder {
    /// `positions` are every node of every tree, in pixels; `edges` the total edge count, which
    /// decides whether coarser levels are made.
    pub fn new(slices: usize, positions: impl Iterator<Item = [f64; 3]>, edges: usize) -> Self {
        let mut lo = [i64::MAX; 3];
        let mut hi = [i64::MIN; 3];
        for p in positions {
            for i in 0..3 {
                let u = hundredths(p[i]);
                lo[i] = lo[i].min(u);
                hi[i] = hi[i].max(u);
            }
        }
        if lo[0] > hi[0] {
            lo = [0; 3];
            hi = [0; 3];
        }
        let step = [0, 1, 2].map(|i| {
            let extent = hi[i] - lo[i];
            let mut shift = 0;
            while shift < MAX_SHIFT && (extent + (1 << shift >> 1)) >> shift > 0xffff {
                shift += 1;
            }
            1i64 << shift
        });
        let lod = edges > LOD_MIN_EDGES;
        let mut levels = vec![0];
        if lod {
            // Powers of two from 2 px until the grid has COARSEST_CELLS along the longer side.
            let longer = (hi[0] - lo[0]).max(hi[1] - lo[1]) / 100;
            let mut cell = 2;
            loop {
                levels.push(cell);
                if cell * COARSEST_CELLS >= longer {
                    break;
                }
                cell *= 2;
            }
        }
        Encoder {
            header: Header {
                slices,
                origin: lo,
                step,
                levels,
                trees: Vec::new(),
            },
            body: Vec::new(),
            lod,
        }
    }

    /// Appends one tree.
    pub fn push(&mut self, tree: TreeInput) {
        let h = &self.header;
        let q: Vec<[i64; 3]> = tree
            .nodes
            .iter()
            .map(|p| {
                [0, 1, 2].map(|i| {
                    let d = hundredths(p[i]) - h.origin[i];
                    (d + h.step[i] / 2) / h.step[i]
                })
            })
            .collect();
        let start = self.body.len();
        let mut prev = [0i64; 3];
        for n in &q {
            for i in 0..3 {
                put_signed(&mut self.body, n[i] - prev[i]);
            }
            prev = *n;
        }
        let bytes = self.body.len() - start;
        let mut edges = vec![Some(put_edges(&mut self.body, &tree.edges))];
        if self.lod {
            // Cells in the same hundredths-of-a-pixel grid as `q`, so they nest exactly.
            let units: Vec<[i64; 3]> = q
                .iter()
                .map(|n| {
                    [
                        n[0] * h.step[0],
                        n[1] * h.step[1],
                        // Slices stay apart: one cell per slice index (z rounded).
                        (n[2] * h.step[2] + h.origin[2] + 50).div_euclid(100),
                    ]
                })
                .collect();
            drop(q);
            let mut current = tree.edges.clone();
            let mut kept = current.len();
            for &cell in &self.header.levels[1..] {
                current = coarsen(&current, &units, cell * 100);
                if (current.len() as f64) <= kept as f64 * KEEP_RATIO {
                    kept = current.len();
                    edges.push(Some(put_edges(&mut self.body, &current)));
                } else {
                    edges.push(None);
                }
            }
        }
        self.header.trees.push(TreeHeader {
            id: tree.id,
            name: tree.name.to_string(),
            color: tree.color,
            nodes: tree.nodes.len(),
            bytes,
            edges,
        });
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header).expect("a header always serialises");
        let mut out = Vec::with_capacity(8 + header.len() + self.body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.body);
        out
    }
}

/// The next level's edges: each end replaced by the first node (lowest index) of its cell of
/// `cell` hundredths of a pixel, edges within a cell dropped, the rest sorted and deduplicated
/// (as undirected pairs, lower index first). Ends of `edges` are already the first nodes of
/// their finer cells, and a coarse cell is a union of finer ones, so the first of the firsts
/// found here is the first node of the coarse cell among those still drawn.
fn coarsen(edges: &[[u32; 2]], units: &[[i64; 3]], cell: i64) -> Vec<[u32; 2]> {
    let key = |n: u32| {
        let u = units[n as usize];
        (u[0].div_euclid(cell), u[1].div_euclid(cell), u[2])
    };
    let mut first: HashMap<(i64, i64, i64), u32> = HashMap::new();
    for &[a, b] in edges {
        for n in [a, b] {
            first
                .entry(key(n))
                .and_modify(|f| *f = (*f).min(n))
                .or_insert(n);
        }
    }
    let mut out: Vec<[u32; 2]> = edges
        .iter()
        .filter_map(|&[a, b]| {
            let (a, b) = (first[&key(a)], first[&key(b)]);
            (a != b).then(|| [a.min(b), a.max(b)])
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn put_edges(out: &mut Vec<u8>, edges: &[[u32; 2]]) -> [usize; 2] {
    let start = out.len();
    let mut prev = 0i64;
    for &[a, b] in edges {
        put_signed(out, i64::from(a) - prev);
        put_signed(out, i64::from(b) - i64::from(a));
        prev = i64::from(a);
    }
    [edges.len(), out.len() - start]
}

/// Zigzag, then LEB128: small steps of either sign take one byte.
fn put_signed(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// A `skeleton.bin` read back, for tests and tools: positions in pixels, edges per level.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub header: Header,
    pub trees: Vec<DecodedTree>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodedTree {
    pub nodes: Vec<[f64; 3]>,
    /// Per level, `None` where the level repeats the finer one.
    pub edges: Vec<Option<Vec<[u32; 2]>>>,
}

/// Reads a `skeleton.bin`, checking that every section is where the header says and every
/// edge names a node of its tree.
pub fn decode(bytes: &[u8]) -> Result<Decoded> {
    ensure!(
        bytes.len() >= 8 && &bytes[..4] == MAGIC,
        "not a skeleton.bin"
    );
    let len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    let header_bytes = bytes.get(8..8 + len).context("truncated header")?;
    let header: Header = serde_json::from_slice(header_bytes).context("header")?;
    let mut at = 8 + len;
    let mut trees = Vec::new();
    for t in &header.trees {
        let mut r = Reader {
            bytes: bytes.get(at..at + t.bytes).context("truncated nodes")?,
            at: 0,
        };
        let mut q = [0i64; 3];
        let mut nodes = Vec::with_capacity(t.nodes);
        for _ in 0..t.nodes {
            for v in &mut q {
                *v += r.signed()?;
            }
            nodes
                .push([0, 1, 2].map(|i| (header.origin[i] + q[i] * header.step[i]) as f64 / 100.0));
        }
        ensure!(
            r.at == t.bytes,
            "node section of tree {} has extra bytes",
            t.id
        );
        at += t.bytes;
        let mut levels = Vec::new();
        for level in &t.edges {
            let Some([count, len]) = *level else {
                levels.push(None);
                continue;
            };
            let mut r = Reader {
                bytes: bytes.get(at..at + len).context("truncated edges")?,
                at: 0,
            };
            let mut prev = 0i64;
            let mut edges = Vec::with_capacity(count);
            for _ in 0..count {
                let a = prev + r.signed()?;
                let b = a + r.signed()?;
                prev = a;
                let ok = |n: i64| (0..t.nodes as i64).contains(&n);
                if !ok(a) || !ok(b) {
                    bail!("tree {}: edge {a}–{b} names no node", t.id);
                }
                edges.push([a as u32, b as u32]);
            }
            ensure!(r.at == len, "edge section of tree {} has extra bytes", t.id);
            at += len;
            levels.push(Some(edges));
        }
        ensure!(levels.len() == header.levels.len(), "tree {}: levels", t.id);
        trees.push(DecodedTree {
            nodes,
            edges: levels,
        });
    }
    ensure!(at == bytes.len(), "bytes after the last section");
    Ok(Decoded { header, trees })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn signed(&mut self) -> Result<i64> {
        let mut z = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.bytes.get(self.at).context("truncated varint")?;
            self.at += 1;
            z |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok((z >> 1) as i64 ^ -((z & 1) as i64));
            }
        }
        bail!("varint longer than 64 bits")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random walk over a 4096² image in branches of 1,000 nodes, each branch starting from
    /// an earlier node, as `bench/big-tracing` makes (a small xorshift, so the test needs no
    /// crate).
    fn walk(n: usize, seed: u64) -> (Vec<[f64; 3]>, Vec<[u32; 2]>) {
        let mut s = seed;
        let mut rand = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let (mut x, mut y) = (2000.0f64, 2000.0f64);
        let mut nodes = Vec::with_capacity(n);
        let mut edges = Vec::with_capacity(n);
        for i in 0..n {
            x = (x + (rand() - 0.5) * 10.0).clamp(50.0, 4000.0);
            y = (y + (rand() - 0.5) * 10.0).clamp(50.0, 4000.0);
            nodes.push([x, y, 0.0]);
            if i > 0 {
                let parent = if i % 1000 == 0 {
                    (rand() * i as f64) as u32
                } else {
                    i as u32 - 1
                };
                edges.push([i as u32, parent]);
            }
        }
        (nodes, edges)
    }

    fn encode(slices: usize, trees: Vec<TreeInput>) -> Vec<u8> {
        let total = trees.iter().map(|t| t.edges.len()).sum();
        let mut enc = Encoder::new(
            slices,
            trees.iter().flat_map(|t| t.nodes.iter().copied()),
            total,
        );
        for t in trees {
            enc.push(t);
        }
        enc.finish()
    }

    #[test]
    fn varints_round_trip_at_their_edges() {
        let values = [
            0,
            1,
            -1,
            63,
            -64,
            64,
            -65,
            8191,
            1 << 40,
            -(1 << 50),
            i64::MAX,
            i64::MIN,
        ];
        let mut out = Vec::new();
        for v in values {
            put_signed(&mut out, v);
        }
        assert_eq!(out[..3], [0, 2, 1], "zigzag: 0, 1, -1 take a byte each");
        let mut r = Reader { bytes: &out, at: 0 };
        for v in values {
            assert_eq!(r.signed().unwrap(), v);
        }
        assert_eq!(r.at, out.len());
    }

    #[test]
    fn a_small_tracing_is_exact_to_a_hundredth_and_has_one_level() {
        let nodes = vec![[50.0, 50.0, 0.0], [150.0, 80.0, 1.0], [250.123, 120.0, 2.0]];
        let bytes = encode(
            3,
            vec![TreeInput {
                id: 7,
                name: "Axon A",
                color: "#ff3333".into(),
                nodes: nodes.clone(),
                edges: vec![[0, 1], [1, 2]],
            }],
        );
        let d = decode(&bytes).unwrap();
        assert_eq!(d.header.levels, [0]);
        assert_eq!(d.header.step, [1, 1, 1]);
        assert_eq!(d.header.trees[0].name, "Axon A");
        assert_eq!(d.header.trees[0].color, "#ff3333");
        assert_eq!(
            d.trees[0].nodes,
            [[50.0, 50.0, 0.0], [150.0, 80.0, 1.0], [250.12, 120.0, 2.0]]
        );
        assert_eq!(d.trees[0].edges, [Some(vec![[0, 1], [1, 2]])]);
    }

    #[test]
    fn a_200k_node_tracing_decodes_within_the_step_and_shrinks_per_level() {
        let (nodes, edges) = walk(200_000, 17);
        let bytes = encode(
            1,
            vec![TreeInput {
                id: 1,
                name: "big",
                color: "#e69f00".into(),
                nodes: nodes.clone(),
                edges: edges.clone(),
            }],
        );
        // ~5 bytes a node against ~35 in the JSON it replaces.
        assert!(bytes.len() < 200_000 * 8, "{} bytes", bytes.len());
        let d = decode(&bytes).unwrap();
        let step = d.header.step;
        // The finest power-of-two step that spans the extent in 16 bits (z: flat, exact).
        for i in 0..2 {
            let (lo, hi) = nodes.iter().fold((f64::MAX, f64::MIN), |(lo, hi), n| {
                (lo.min(n[i]), hi.max(n[i]))
            });
            let extent = ((hi - lo) * 100.0).round() as i64;
            assert!(extent > 0xffff, "the walk spans more than 655 px");
            assert!(extent / step[i] <= 0xffff && extent / (step[i] / 2) > 0xffff);
        }
        assert_eq!(step[2], 1);
        let t = &d.trees[0];
        assert_eq!(t.nodes.len(), nodes.len());
        for (got, want) in t.nodes.iter().zip(&nodes) {
            for i in 0..3 {
                // Half a step, plus the hundredth the positions are first rounded to.
                let tolerance = (step[i] as f64 / 2.0 + 0.5) / 100.0;
                assert!((got[i] - want[i]).abs() <= tolerance, "{got:?} vs {want:?}");
            }
        }
        assert_eq!(
            t.edges[0].as_deref(),
            Some(&edges[..]),
            "level 0: the file's edges"
        );

        // Coarser levels: each kept one has at most 2/3 of the edges of the one before, every
        // edge joins nodes in different cells, and the coarsest is small enough to draw.
        let levels = &d.header.levels;
        assert!(levels.len() > 4, "{levels:?}");
        let mut last = edges.len();
        for (cell, level) in levels.iter().zip(&t.edges).skip(1) {
            let Some(level) = level else { continue };
            assert!(
                level.len() * 3 <= last * 2,
                "cell {cell}: {} of {last}",
                level.len()
            );
            last = level.len();
            let cell_of = |p: [f64; 3]| {
                [0, 1].map(|i| {
                    ((p[i] * 100.0).round() as i64 - d.header.origin[i]).div_euclid(cell * 100)
                })
            };
            for &[a, b] in level {
                assert!(a < b);
                let (p, q) = (t.nodes[a as usize], t.nodes[b as usize]);
                assert_ne!(
                    cell_of(p),
                    cell_of(q),
                    "cell {cell}: edge {a}–{b} within one cell"
                );
            }
        }
        assert!(last < 20_000, "coarsest level: {last} edges");
    }

    #[test]
    fn trees_keep_their_own_sections_and_a_corrupt_file_is_refused() {
        let (nodes, edges) = walk(30_000, 5);
        let small = TreeInput {
            id: 2,
            name: "small",
            color: "#56b4e9".into(),
            nodes: vec![[10.0, 10.0, 0.0], [20.0, 10.0, 0.0]],
            edges: vec![[1, 0]],
        };
        let big = TreeInput {
            id: 1,
            name: "big",
            color: "#e69f00".into(),
            nodes,
            edges,
        };
        let bytes = encode(1, vec![big, small]);
        let d = decode(&bytes).unwrap();
        assert_eq!(d.trees.len(), 2);
        assert_eq!(d.trees[1].nodes, [[10.0, 10.0, 0.0], [20.0, 10.0, 0.0]]);
        // The small tree's edge survives at every level it has, in its own index space.
        assert_eq!(d.trees[1].edges[0], Some(vec![[1, 0]]));
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(b"{\"slices\":1}").is_err());
    }
}
