#!/usr/bin/env node
// Display range: frame times while panning a 16-bit SIDE × SIDE pyramid windowed on the GPU.
// Writes a site with one 16-bit gray TIFF (a 12-bit camera range: texture plus shot noise, so
// its PNG tiles compress like real data), builds it, opens the dataset page in headless
// Chromium with a display range in the URL (so the WebGL2 painter and the lossless tiles are
// in use from the start), and pans at 1:1 (one image pixel per device pixel, the finest
// level) and at the whole-image view for FRAMES frames each, 12 px a frame; then, at 1:1,
// changes the gamma every frame (every visible tile windowed again), as dragging the slider
// does (frames are capped at ~10 ms of windowing, so the figure to watch with it is how long
// one change takes to reach the whole view, also printed). Chromium runs with vsync and the frame-rate limit off, so a frame's interval is what
// it costs, not 16.7 ms. BENCH_2D=1 measures the plain 8-bit viewer instead, for comparison.
// Prints the median and p90 frame interval per case, the GL renderer (SwiftShader where there
// is no GPU), the build time and the lossless pyramid's size against the source and the
// 8-bit pyramid.
//
//   node bench/display-range.mjs [SIDE=8192] [FRAMES=240]
//   (VITRINE_BIN: default target/release/vitrine when built, else target/debug/vitrine)
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CHROMIUM_ARGS, REPO, siteDir } from "../tests/browser/lib.mjs";
import { serve } from "../tests/browser/serve.mjs";
import { tiff } from "../tests/sites/segmentation/make.mjs";

const TARGET_MS = 16;
const side = Number(process.argv[2] || 8192);
const frames = Number(process.argv[3] || 240);
const release = join(REPO, "target/release/vitrine");
const bin = process.env.VITRINE_BIN || (existsSync(release) ? release : join(REPO, "target/debug/vitrine"));
process.env.VITRINE_BIN = bin;

const root = mkdtempSync(join(process.env.TMPDIR || tmpdir(), "vitrine-range-bench-"));
const dir = join(root, "content/datasets/counts");
mkdirSync(dir, { recursive: true });
writeFileSync(join(root, "content/site.yaml"), "title: Display range bench\nbase_url: https://example.org\nhosting: netlify\n");
writeFileSync(join(dir, "dataset.yaml"), "display_name: Counts\nvisibility: public\nimages: counts.tif\n");
let seed = 1;
const noise = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) & 63;
const counts = (x, y) => 400 + ((((x >> 4) * 37 + (y >> 4) * 91) & 255) << 3) + (((x * x + y * y) >> 9) & 1023) + noise();
writeFileSync(join(dir, "counts.tif"), tiff(side, side, 1, 16, counts));
const source = statSync(join(dir, "counts.tif")).size;

const started = process.hrtime.bigint();
const site = siteDir(root);
const buildS = Number(process.hrtime.bigint() - started) / 1e9;
const media = join(site.dir, "datasets/counts/media");
const [hash] = readdirSync(media);
const size = (d) => readdirSync(d, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile()).reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
const rawBytes = size(join(media, hash, "raw_files"));
const jpgBytes = size(join(media, hash, "tiles_files"));

const server = await serve(site.dir, site.open);
const { chromium } = await import(join(REPO, "node_modules/playwright-core/index.mjs"));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [...CHROMIUM_ARGS, "--disable-gpu-vsync", "--disable-frame-rate-limit"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
// BENCH_2D=1: the 8-bit tiles on the 2D canvas instead, for comparison.
const gl = !process.env.BENCH_2D;
await page.goto(`${server.url}/datasets/counts/${gl ? "#d=600,2600,1,0" : ""}`);
await page.waitForFunction((gl) => document.querySelector(".viewer")?.displayRange?.engaged() === gl, gl);
const renderer = await page.evaluate(() => {
  const gl = document.createElement("canvas").getContext("webgl2");
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
});

/** Pans (or, with `gamma`, changes the gamma) for `frames` frames at `zoom` (null: 1:1), one
 * change a frame; resolves to the frame intervals in ms after the first 10 (warm-up). */
const pan = (zoom, gamma) => page.evaluate(async ([zoom, frames, gamma]) => {
  const v = document.querySelector(".viewer").vitrine;
  const at = v.view();
  const z = zoom || at.zoom / (at.scale * devicePixelRatio);
  v.setView({ x: at.x / 2, y: at.y / 2, zoom: z });
  const next = () => new Promise((r) => requestAnimationFrame(r));
  for (let i = 0; i < 30; i++) await next(); // the first tiles of the start
  const times = [];
  let last = await next();
  const slider = document.querySelector(".viewer-gamma");
  for (let i = 0; i < frames + 10; i++) {
    const s = v.view().scale;
    if (!gamma) v.setView({ x: v.view().x + 12 / s, y: v.view().y + 6 / s });
    else {
      slider.value = String(((i % 40) - 20) / 40);
      slider.dispatchEvent(new Event("input"));
    }
    const now = await next();
    if (i >= 10) times.push(now - last);
    last = now;
  }
  return times;
}, [zoom, frames, gamma]);

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), p90: q(0.9), max: s.at(-1) };
};
const load = loadavg()[0];
const cases = [["pan at 1:1 (finest level)", null], ["pan at the whole image", 1]];
if (gl) cases.push(["gamma changed every frame, at 1:1", null, true]);
const results = [];
for (const [name, zoom, gamma] of cases) results.push([name, stats(await pan(zoom, gamma))]);
/** Milliseconds from one gamma change until every tile in view shows it, at 1:1. */
const settle = () => page.evaluate(async () => {
  const root = document.querySelector(".viewer"), slider = root.querySelector(".viewer-gamma");
  const next = () => new Promise((r) => requestAnimationFrame(r));
  const times = [];
  for (let i = 0; i < 12; i++) {
    for (let k = 0; k < 5; k++) await next();
    const t0 = performance.now();
    slider.value = String(i % 2 ? 0.2 : -0.2);
    slider.dispatchEvent(new Event("input"));
    do await next(); while (!root.displayRange.painter.settled);
    times.push(performance.now() - t0);
  }
  return times;
});
const settled = gl ? stats(await settle()) : null;
await browser.close();
server.close();
site.cleanup();
rmSync(root, { recursive: true, force: true });

const mb = (n) => (n / 1e6).toFixed(1);
console.log(`display range: ${side} × ${side} 16-bit, 1280×800, ${frames} frames a case; ${gl ? "windowed on the GPU" : "plain 8-bit viewer"}; GL: ${renderer}`);
console.log(`build ${buildS.toFixed(1)} s (${bin.replace(REPO + "/", "")}); source ${mb(source)} MB, lossless pyramid ${mb(rawBytes)} MB (${(rawBytes / source).toFixed(2)} × source), 8-bit pyramid ${mb(jpgBytes)} MB`);
for (const [name, s] of results) {
  console.log(`${name}: median ${s.median.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms, max ${s.max.toFixed(1)} ms (target median < ${TARGET_MS} ms: ${s.median < TARGET_MS ? "met" : "MISSED"})`);
}
if (settled) console.log(`one gamma change until the whole view shows it, at 1:1: median ${settled.median.toFixed(0)} ms, p90 ${settled.p90.toFixed(0)} ms`);
console.log(`load average ${load.toFixed(1)} on ${cpus().length} CPUs`);
