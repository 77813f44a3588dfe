#!/usr/bin/env node
// Writes the segmentation fixture site (tests/browser/segmentation.mjs builds it): two public
// datasets of 8-bit gray PNG images, each with a public segmentation layer: `cells`, a
// two-page uint32 TIFF (ids above 2^31) with a segments.csv, over a two-slice z-stack; and
// `nuclei`, a uint16 TIFF without names. Each public dataset also has a private layer, shared
// by its own link: `draft-cells` (uint16, two pages, a segments.csv of names found nowhere
// public) and `nuclei-draft`. The site lists no key: the browser test makes one. Deterministic:
// the same bytes on every run.
//
//   node tests/sites/segmentation/make.mjs [ROOT]   (default: this folder)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { crc32, deflateSync } from "node:zlib";

const root = process.argv[2] || dirname(fileURLToPath(import.meta.url));

/** The id of pixel (x, y) on page `z`: blocks of 37 × 29 pixels, every fifth one background. */
export function cellId(x, y, z) {
  const cell = Math.floor(x / 37) + 100 * Math.floor(y / 29) + 7 * z;
  return cell % 5 === 0 ? 0 : 3_000_000_000 + cell * 65_537;
}
/** The private draft's ids: larger blocks, none of them background. */
export function draftId(x, y, z) {
  return 1 + Math.floor(x / 50) + 10 * Math.floor(y / 40) + 100 * z;
}
export function nucleusId(x, y) {
  const cell = Math.floor(x / 23) + 50 * Math.floor(y / 31);
  return cell % 4 === 0 ? 0 : 1000 + cell * 7;
}

export function png(width, height, pixel) {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = pixel(x, y);
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, "latin1");
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A little-endian baseline TIFF, one uncompressed strip a page, unsigned gray of `bits`. */
export function tiff(width, height, pages, bits, id) {
  const bytes = bits / 8;
  const parts = [];
  let at = 8;
  const header = Buffer.from([0x49, 0x49, 42, 0, 0, 0, 0, 0]);
  parts.push(header);
  let previousNext = 4; // where the offset of the next IFD is written
  const patches = [];
  for (let z = 0; z < pages; z++) {
    const data = Buffer.alloc(width * height * bytes);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * bytes;
        if (bytes === 2) data.writeUInt16LE(id(x, y, z), o);
        else data.writeUInt32LE(id(x, y, z), o);
      }
    }
    const dataAt = at;
    parts.push(data);
    at += data.length;
    const tags = [
      [256, 4, width], [257, 4, height], [258, 3, bits], [259, 3, 1], [262, 3, 1],
      [273, 4, dataAt], [277, 3, 1], [278, 4, height], [279, 4, data.length], [339, 3, 1],
    ];
    const ifd = Buffer.alloc(2 + 12 * tags.length + 4);
    ifd.writeUInt16LE(tags.length, 0);
    tags.forEach(([tag, type, value], i) => {
      const o = 2 + 12 * i;
      ifd.writeUInt16LE(tag, o);
      ifd.writeUInt16LE(type, o + 2);
      ifd.writeUInt32LE(1, o + 4);
      if (type === 3) ifd.writeUInt16LE(value, o + 8);
      else ifd.writeUInt32LE(value, o + 8);
    });
    patches.push([previousNext, at]);
    previousNext = at + 2 + 12 * tags.length;
    parts.push(ifd);
    at += ifd.length;
  }
  const out = Buffer.concat(parts);
  for (const [where, value] of patches) {
    if (where === 4) out.writeUInt32LE(value, 4);
    else out.writeUInt32LE(value, where);
  }
  return out;
}

function write(path, bytes) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), bytes);
}

// Run as a script (not imported by a benchmark): write the fixture.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
const gray = (x, y, z) => (40 + ((x * 3 + y * 5 + z * 60) % 160)) & 255;
write("content/site.yaml", `title: Segmentation fixture
base_url: https://example.org
description: Segmentation layers for the browser suite (tests/browser/segmentation.mjs).
hosting: netlify
`);
write("content/datasets/cells/dataset.yaml", `display_name: Cells
visibility: public
images: [raw-1.png, raw-2.png]
# The browser test starts from the first slice (the default is the middle one).
preview_slice: 0
voxel_size_nm: [10, 10, 40]
layers:
  - id: cells
    kind: segmentation
    images: cells.tif
    segments: segments.csv
    visibility: public
  - id: draft-cells
    kind: segmentation
    images: draft.tif
    segments: draft-segments.csv
    visibility: private
`);
write("content/datasets/cells/raw-1.png", png(300, 200, (x, y) => gray(x, y, 0)));
write("content/datasets/cells/raw-2.png", png(300, 200, (x, y) => gray(x, y, 1)));
write("content/datasets/cells/cells.tif", tiff(300, 200, 2, 32, cellId));
const named = [1, 2, 3, 101].map((cell) => 3_000_000_000 + cell * 65_537);
write("content/datasets/cells/segments.csv", `id,name,colour
${named[0]},Purkinje cell,#ff0000
${named[1]},"granule cell, small"
${named[2]},basket cell,#00FF7f
${named[3]},stellate cell
`);
write("content/datasets/cells/draft.tif", tiff(300, 200, 2, 16, draftId));
write("content/datasets/cells/draft-segments.csv", `id,name
${draftId(0, 0, 0)},Zanzibar interneuron
${draftId(60, 50, 0)},Quokka projection cell
`);
write("content/datasets/nuclei/dataset.yaml", `display_name: Nuclei
visibility: public
images: raw.png
layers:
  - id: nuclei
    kind: segmentation
    images: nuclei.tif
    visibility: public
  - id: nuclei-draft
    kind: segmentation
    images: nuclei-draft.tif
    visibility: private
`);
write("content/datasets/nuclei/raw.png", png(260, 180, (x, y) => gray(x, y, 2)));
write("content/datasets/nuclei/nuclei.tif", tiff(260, 180, 1, 16, (x, y) => nucleusId(x, y)));
write("content/datasets/nuclei/nuclei-draft.tif", tiff(260, 180, 1, 16, (x, y) => nucleusId(x, y) + 1));
}
