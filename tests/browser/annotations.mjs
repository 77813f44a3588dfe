#!/usr/bin/env node
// The skeleton overlay in headless Chromium: one `<g>` per tree with a `<title>`, the tree's
// colour, slice emphasis on a z-stack, the per-tree toggles, axe-core on both pages, and a
// 200,000-node tracing (generated here) drawn simplified at full view and exactly when zoomed.
//
//   node tests/browser/annotations.mjs [built-site-dir | site-root]
//
// Defaults to the fixture site tests/sites/annotations, built first with target/debug/vitrine
// (VITRINE_BIN overrides). Prints `N passed, N failed` last; exits 1 on any failure.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { assert, checks, launch, REPO, siteDir } from "./lib.mjs";
import { serve } from "./serve.mjs";

const { test, finish } = checks();

const site = siteDir(process.argv[2] || process.env.VITRINE_SITE || join(REPO, "tests/sites/annotations"));
const server = await serve(site.dir, site.open);
const browser = await launch();

/** Opens a page, failing on any script error, and waits until the overlay is drawn. */
async function open(path, trees, base = server) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Chromium asks every site for /favicon.ico on its own; a 404 there is not the page's doing.
  page.on("console", (m) => {
    if (m.type() === "error" && !/\/favicon\.ico$/.test(m.location().url)) errors.push(m.text());
  });
  await page.goto(base.url + path);
  await page.waitForFunction(
    (n) => document.querySelectorAll("svg.viewer-overlay g.skeleton-tree").length === n,
    trees,
    { timeout: 10000 },
  );
  return { page, errors };
}

const tree = (page, id) =>
  page.evaluate((id) => {
    const g = document.querySelector(`svg.viewer-overlay g.skeleton-tree[data-tree="${id}"]`);
    const d = (cls) => g.querySelector(`path.${cls}`).getAttribute("d");
    return {
      title: g.querySelector("title").textContent,
      stroke: g.getAttribute("stroke"),
      display: getComputedStyle(g).display,
      near: d("near"), far: d("far"), dots: d("dots"),
    };
  }, id);

/**
 * A site root with one 2048² image and an SWC of `n` nodes: a random walk (fixed seed) in
 * branches of 1,000 nodes, as bench/big-tracing makes. Returns the root and the nodes in image
 * pixels (10 nm voxels; the SWC is in µm with 3 decimals, so positions are 0.1 px multiples).
 */
function bigSite(n) {
  const root = mkdtempSync(join(tmpdir(), "vitrine-big-"));
  const dir = join(root, "content/datasets/big");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(root, "content/site.yaml"), "title: Big tracing\nbase_url: https://example.org\n");
  writeFileSync(join(dir, "dataset.yaml"),
    "display_name: Big\nvisibility: public\nthumbnail: em.png\nvoxel_size_nm: [10, 10, 40]\n" +
    "annotations:\n  - id: big\n    file: big.swc\n    visibility: public\n");
  const w = 2048;
  const chunk = (kind, data) => {
    const len = Buffer.alloc(4), crc = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(kind), data])));
    return Buffer.concat([len, Buffer.from(kind), data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(w, 4);
  ihdr[8] = 8; // 8-bit grey
  const raw = Buffer.alloc((w + 1) * w, 96);
  for (let r = 0; r < w; r++) raw[r * (w + 1)] = 0;
  writeFileSync(join(dir, "em.png"), Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0)),
  ]));
  let seed = 17;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines = [], nodes = [];
  let x = 10000, y = 10000; // nanometres ×1 = 0.001 µm units
  for (let i = 1; i <= n; i++) {
    const parent = i === 1 ? -1 : i % 1000 === 1 ? 1 + Math.floor(rand() * (i - 1)) : i - 1;
    // Steps of up to ±15 px, reflected at the edges, so the walk covers the image evenly.
    const reflect = (v) => (v < 500 ? 1000 - v : v > 20000 ? 40000 - v : v);
    x = reflect(x + Math.round((rand() - 0.5) * 300));
    y = reflect(y + Math.round((rand() - 0.5) * 300));
    lines.push(`${i} 3 ${(x / 1000).toFixed(3)} ${(y / 1000).toFixed(3)} 0.0 0.1 ${parent}`);
    nodes.push([x / 10, y / 10]); // 1 nm = 0.1 px at 10 nm voxels
  }
  writeFileSync(join(dir, "big.swc"), lines.join("\n") + "\n");
  return { root, nodes, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** The `[x, y]` of every `M x y…` in a path's `d`. */
const points = (d) => [...d.matchAll(/M([-\d.]+) ([-\d.]+)/g)].map((m) => [+m[1], +m[2]]);

try {
  await test("NML on a z-stack: a <g> per tree with its title and colour", async () => {
    const { page, errors } = await open("/datasets/cortex/annotations/axon-tracing/", 2);
    const a = await tree(page, "1"), b = await tree(page, "2");
    assert(a.title === "Axon A" && b.title === "Dendrite B", `titles: ${a.title}, ${b.title}`);
    assert(a.stroke === "#ff3333", `NML colour: ${a.stroke}`);
    assert(b.stroke === "#56b4e9", `palette colour: ${b.stroke}`);
    assert(!(await page.locator("fieldset.tree-toggles").isHidden()), "toggles stay hidden");
    assert(errors.length === 0, errors.join("\n"));
    await page.close();
  });

  await test("z-stack: the current slice's nodes and edges are emphasised", async () => {
    const { page } = await open("/datasets/cortex/annotations/axon-tracing/", 2);
    let a = await tree(page, "1");
    // Slice 0: node 1 only; edge 1–2 (z 0→1) crosses it, 2–3 and 2–4 (z ≥ 1) do not.
    assert(a.dots === "M50 50h0", `slice 0 dots: ${a.dots}`);
    assert(a.near === "M50 50L150 80", `slice 0 near edges: ${a.near}`);
    assert(a.far.split("M").length - 1 === 2, `slice 0 far edges: ${a.far}`);
    await page.evaluate(() => {
      const root = document.querySelector(".viewer");
      root.vitrine.setView({ ...root.vitrine.view(), slice: 2 });
    });
    await page.waitForFunction(() =>
      document.querySelector('g.skeleton-tree[data-tree="1"] path.dots').getAttribute("d") === "M250 120h0");
    a = await tree(page, "1");
    assert(a.near === "M150 80L250 120", `slice 2 near edges: ${a.near}`);
    await page.close();
  });

  await test("a tree's checkbox hides and shows it", async () => {
    const { page } = await open("/datasets/cortex/annotations/axon-tracing/", 2);
    await page.locator('fieldset.tree-toggles input[value="1"]').uncheck();
    assert((await tree(page, "1")).display === "none", "tree 1 still shown");
    assert((await tree(page, "2")).display !== "none", "tree 2 hidden too");
    await page.locator('fieldset.tree-toggles input[value="1"]').check();
    assert((await tree(page, "1")).display !== "none", "tree 1 not shown again");
    await page.close();
  });

  await test("SWC on a single image: every node drawn, in image pixels", async () => {
    const { page, errors } = await open("/private/retina-unpublished/annotations/secret-trace/", 1);
    const t = await tree(page, "1");
    // No voxel size: 1 µm = 1 px.
    assert(t.dots === "M20 20h0M60 50h0", `dots: ${t.dots}`);
    assert(t.near === "M60 50L20 20", `edges: ${t.near}`);
    assert(errors.length === 0, errors.join("\n"));
    await page.close();
  });
  await test("axe-core finds nothing on either annotation page", async () => {
    const axe = readFileSync(join(REPO, "node_modules/axe-core/axe.min.js"), "utf8");
    for (const [path, trees] of [
      ["/datasets/cortex/annotations/axon-tracing/", 2],
      ["/private/retina-unpublished/annotations/secret-trace/", 1],
    ]) {
      const { page } = await open(path, trees);
      await page.addScriptTag({ content: axe });
      const found = await page.evaluate(async () =>
        (await window.axe.run()).violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`));
      assert(found.length === 0, `${path}: ${found.join("; ")}`);
      await page.close();
    }
  });

  await test("200,000 nodes: a simplified drawing at full view, every node exact when zoomed", async () => {
    const made = bigSite(200000);
    const built = siteDir(made.root);
    const big = await serve(built.dir);
    try {
      const { page, errors } = await open("/datasets/big/annotations/big/", 1, big);
      await page.waitForFunction(() => performance.getEntriesByName("vitrine:skeleton-drawn").length, null, { timeout: 20000 });
      let t = await tree(page, "1");
      const segments = (t.near.match(/M/g) || []).length;
      assert(segments > 1000 && segments <= 50000, `full view: ${segments} segments (budget 50,000)`);
      assert(t.dots === "", "full view: no dots on a simplified level");
      // Zoom on node 100,000 as far as the viewer goes (32 screen px an image px): the view is
    // small enough for every edge and node in it, even where the walk crosses itself most.
      const [cx, cy] = made.nodes[99999];
      await page.evaluate(([x, y]) => {
        const root = document.querySelector(".viewer");
        root.vitrine.setView({ x, y, zoom: 128, slice: 0 });
      }, [cx, cy]);
      await page.waitForFunction(() =>
        document.querySelector('g.skeleton-tree[data-tree="1"] path.dots').getAttribute("d") !== "", null, { timeout: 10000 });
      t = await tree(page, "1");
      const dots = points(t.dots);
      assert(dots.length > 10 && dots.length <= 20000, `zoomed: ${dots.length} dots`);
      // Positions are 0.1 px multiples spanning ~1950 px: a step of 0.04 px, so each drawn dot
      // is within 0.02 px (and the 0.01 px the path is written to) of a node of the file.
      const at = new Map(made.nodes.map(([x, y]) => [`${Math.round(x * 10)},${Math.round(y * 10)}`, [x, y]]));
      for (const [x, y] of dots) {
        const n = at.get(`${Math.round(x * 10)},${Math.round(y * 10)}`);
        assert(n && Math.abs(n[0] - x) <= 0.03 && Math.abs(n[1] - y) <= 0.03, `dot ${x} ${y} is no node of the file`);
      }
      assert(dots.some(([x, y]) => Math.abs(x - cx) <= 0.03 && Math.abs(y - cy) <= 0.03), `node 100000 (${cx}, ${cy}) not drawn`);
      assert(errors.length === 0, errors.join("\n"));
      await page.close();
    } finally {
      await big.close();
      built.cleanup();
      made.cleanup();
    }
  });
} finally {
  await browser.close();
  await server.close();
  site.cleanup();
}

finish();
