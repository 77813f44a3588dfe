#!/usr/bin/env node
// The skeleton overlay in headless Chromium: one `<g>` per tree with a `<title>`, the tree's
// colour, slice emphasis on a z-stack, the per-tree toggles, and axe-core on both pages.
//
//   node tests/browser/annotations.mjs [built-site-dir | site-root]
//
// Defaults to the fixture site tests/sites/annotations, built first with target/debug/vitrine
// (VITRINE_BIN overrides). Prints `N passed, N failed` last; exits 1 on any failure.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { assert, checks, launch, REPO, siteDir } from "./lib.mjs";
import { serve } from "./serve.mjs";

const { test, finish } = checks();

const site = siteDir(process.argv[2] || process.env.VITRINE_SITE || join(REPO, "tests/sites/annotations"));
const server = await serve(site.dir, site.open);
const browser = await launch();

/** Opens a page, failing on any script error, and waits until the overlay is drawn. */
async function open(path, trees) {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // Chromium asks every site for /favicon.ico on its own; a 404 there is not the page's doing.
  page.on("console", (m) => {
    if (m.type() === "error" && !/\/favicon\.ico$/.test(m.location().url)) errors.push(m.text());
  });
  await page.goto(server.url + path);
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
} finally {
  await browser.close();
  await server.close();
  site.cleanup();
}

finish();
