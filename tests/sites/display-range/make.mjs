#!/usr/bin/env node
// Writes the display-range fixture site (tests/browser/display-range.mjs builds it): a public
// dataset of a two-page 16-bit gray TIFF (a z-stack), counts in a narrow band (a gradient
// from 1000) with three flat blocks at known values and one hot spot, so the 0.5–99.5 %
// window, the data's range and a chosen display range all differ (page 2 is page 1 plus 100),
// with a uint16 segmentation layer over it; and a private dataset of another 16-bit TIFF, so
// its lossless tiles are sealed under private/. Deterministic: the same bytes on every run.
//
//   node tests/sites/display-range/make.mjs [ROOT]   (default: this folder)
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tiff } from "../segmentation/make.mjs";

/** Image size. */
export const SIZE = { width: 512, height: 384 };

/** The flat blocks, 40 × 40 pixels each: their top-left corner and value. */
export const BLOCKS = {
  low: { x: 100, y: 100, value: 2000 },
  high: { x: 200, y: 100, value: 3000 },
  mid: { x: 300, y: 100, value: 2500 },
};

/** The count at pixel (x, y) of page z: the blocks, a hot spot of 60000 and a gradient
 * elsewhere; page 2 adds 100 to everything but the hot spot. */
export function count(x, y, z = 0) {
  for (const b of Object.values(BLOCKS)) if (x >= b.x && x < b.x + 40 && y >= b.y && y < b.y + 40) return b.value + 100 * z;
  if (x >= 450 && x < 460 && y >= 330 && y < 340) return 60000;
  return 1000 + x * 4 + y * 2 + 100 * z;
}

/** The segment at pixel (x, y): 64-pixel squares on a checkerboard, the others background. */
export function segment(x, y) {
  const cell = Math.floor(x / 64) + 10 * Math.floor(y / 64);
  return (Math.floor(x / 64) + Math.floor(y / 64)) % 2 ? 0 : 100 + cell;
}

// Run as a script (not imported): write the fixture.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = process.argv[2] || dirname(fileURLToPath(import.meta.url));
  const write = (path, bytes) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), bytes);
  };
  write("content/site.yaml", `title: Display range fixture
base_url: https://example.org
description: 16-bit counts for the display range's browser test (tests/browser/display-range.mjs).
hosting: netlify
`);
  write("content/datasets/counts/dataset.yaml", `display_name: Photon counts
description: One 16-bit image of photon counts.
visibility: public
images: counts.tif
# The browser test reads the first page (the default is the middle one).
preview_slice: 0
voxel_size_nm: [100, 100, 100]
layers:
  - id: cells
    kind: segmentation
    images: cells.tif
    visibility: public
`);
  write("content/datasets/counts/counts.tif", tiff(SIZE.width, SIZE.height, 2, 16, count));
  write("content/datasets/counts/cells.tif", tiff(SIZE.width, SIZE.height, 2, 16, segment));
  write("content/datasets/hidden-counts/dataset.yaml", `display_name: Unpublished counts
description: Another 16-bit image, shared by link only.
visibility: private
images: hidden.tif
`);
  write("content/datasets/hidden-counts/hidden.tif", tiff(300, 200, 1, 16, (x, y) => 5000 + x * 7 + y));
}
