#!/usr/bin/env node
// Label pyramids: build time and output size of a segmentation layer against its source.
// Writes a site with one SIDE × SIDE 8-bit image and two layers over it, uint16 and uint32
// labels of the same blocky segmentation (cells of 40–160 px, a quarter background), builds
// it cold and again with no change, and prints the source size, the label pyramid's size
// (every tile file) and their ratio for each layer.
//
//   node bench/label-pyramids.mjs [SIDE=4096]     (VITRINE_BIN: default target/release/vitrine)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { png, tiff } from "../tests/sites/segmentation/make.mjs";
import { mkdirSync, writeFileSync } from "node:fs";

const side = Number(process.argv[2] || 4096);
const repo = resolve(import.meta.dirname, "..");
const bin = process.env.VITRINE_BIN || join(repo, "target/release/vitrine");
const root = mkdtempSync(join(process.env.TMPDIR || tmpdir(), "vitrine-labels-"));
const dir = join(root, "content/datasets/big");
mkdirSync(dir, { recursive: true });

// A deterministic blocky segmentation: rows of varying height, cells of varying width.
let seed = 1;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const rows = [];
for (let y = 0; y < side; ) {
  const h = 40 + Math.floor(rand() * 120);
  const cuts = [];
  for (let x = 0; x < side; ) {
    const w = 40 + Math.floor(rand() * 120);
    cuts.push([x + w, rand() < 0.25 ? 0 : 1 + Math.floor(rand() * 60000)]);
    x += w;
  }
  rows.push([y + h, cuts]);
  y += h;
}
const idAt = (x, y) => {
  const [, cuts] = rows.find(([end]) => y < end);
  return cuts.find(([end]) => x < end)[1];
};
writeFileSync(join(root, "content/site.yaml"), "title: Label bench\nbase_url: https://example.org\nhosting: netlify\n");
writeFileSync(join(dir, "dataset.yaml"), `display_name: Big
visibility: public
images: raw.png
voxel_size_nm: [8, 8, 30]
layers:
  - id: u16
    kind: segmentation
    images: u16.tif
    visibility: public
  - id: u32
    kind: segmentation
    images: u32.tif
    visibility: public
`);
writeFileSync(join(dir, "raw.png"), png(side, side, (x, y) => (x ^ y) & 255));
writeFileSync(join(dir, "u16.tif"), tiff(side, side, 1, 16, idAt));
writeFileSync(join(dir, "u32.tif"), tiff(side, side, 1, 32, (x, y) => (idAt(x, y) ? 2_000_000_000 + idAt(x, y) * 7 : 0)));

const size = (p) => {
  const s = statSync(p);
  return s.isDirectory() ? readdirSync(p).reduce((n, f) => n + size(join(p, f)), 0) : s.size;
};
const build = () => {
  const t = process.hrtime.bigint();
  const r = spawnSync(bin, ["build", "--root", root], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(process.hrtime.bigint() - t) / 1e9;
};
const cold = build();
const warm = build();
const mb = (n) => (n / 1e6).toFixed(2);
console.log(`${side} × ${side}, ${bin.replace(repo + "/", "")}`);
console.log(`build: cold ${cold.toFixed(2)} s (image pyramid included), no change ${warm.toFixed(3)} s`);
console.log("| layer | source MB | label pyramid MB | tiles | pyramid / source |");
console.log("|---|--:|--:|--:|--:|");
for (const id of ["u16", "u32"]) {
  const src = statSync(join(dir, `${id}.tif`)).size;
  const tiles = join(root, "public/datasets/big/layers", id, "tiles");
  const bytes = size(tiles);
  let count = 0;
  const walk = (p) => statSync(p).isDirectory() ? readdirSync(p).forEach((f) => walk(join(p, f))) : count++;
  walk(tiles);
  console.log(`| ${id} | ${mb(src)} | ${mb(bytes)} | ${count} | ${(bytes / src).toFixed(4)} |`);
}
rmSync(root, { recursive: true, force: true });
