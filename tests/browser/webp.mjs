#!/usr/bin/env node
// `images.format: webp` in Chromium: the example site (the repository's own content/) built with
// WebP tiles and thumbnails.
//
//   node tests/browser/webp.mjs
//
// The gallery's `<picture>` makes the browser choose the WebP thumbnail (and a browser without
// WebP the JPEG one); the viewer reads `Format="webp"` from the DZI, asks only for `.webp` tiles,
// gets them as `image/webp` and paints them. Prints `N passed, N failed` last; exits 1 on any
// failure.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { assert, checks, launch, pickStack, REPO, viewerPages } from "./lib.mjs";
import { serve } from "./serve.mjs";

const BIN = process.env.VITRINE_BIN || join(REPO, "target/debug/vitrine");
const { test, fail, finish } = checks();

const tmp = mkdtempSync(join(tmpdir(), "vitrine-webp-"));
const root = join(tmp, "site");
cpSync(join(REPO, "content"), join(root, "content"), { recursive: true });
appendFileSync(join(root, "content/site.yaml"), "\nimages:\n  format: webp\n");
let server, browser;
try {
  const r = spawnSync(BIN, ["--root", root, "build", "--out", join(tmp, "public")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`vitrine build failed (${r.status}):\n${r.stderr}`);
  const stack = pickStack(viewerPages({ dir: join(tmp, "public"), open: (_, bytes) => bytes }, "datasets"));
  assert(stack, "the example has no public dataset with a deep-zoom pyramid");
  server = await serve(join(tmp, "public"));
  browser = await launch();

  await test("the gallery's thumbnails are the WebP ones, JPEG kept in <img>", async () => {
    const page = await browser.newPage();
    await page.goto(server.url + "/");
    const imgs = await page.locator("[data-grid] .card picture img").evaluateAll((all) =>
      Promise.all(all.map(async (img) => {
        img.loading = "eager";
        await img.decode().catch(() => {});
        return { chosen: img.currentSrc, fallback: img.getAttribute("src"), w: img.naturalWidth };
      })));
    assert(imgs.length > 0, "no <picture> thumbnail on the gallery");
    for (const i of imgs) {
      assert(/\.webp$/.test(i.chosen), `the browser chose ${i.chosen}`);
      assert(/\.jpg$/.test(i.fallback), `<img src> is ${i.fallback}`);
      assert(i.w > 0, `${i.chosen} did not decode`);
    }
    await page.close();
  });

  await test("the viewer asks for .webp tiles, gets image/webp and paints them", async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
    const tiles = [];
    page.on("response", (res) => {
      if (/_files\/\d+\/\d+_\d+\.\w+$/.test(res.url())) tiles.push({ url: res.url(), status: res.status(), type: res.headers()["content-type"] });
    });
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(server.url + stack.path);
    await page.waitForFunction(() => performance.getEntriesByName("vitrine:first-tile").length > 0, null, { timeout: 10000 });
    assert(tiles.length > 0, "no tile requested");
    const other = tiles.filter((t) => !/\.webp$/.test(t.url) || t.status !== 200 || t.type !== "image/webp");
    assert(!other.length, `tiles: ${other.map((t) => `${t.url} ${t.status} ${t.type}`).join(", ")}`);
    // The canvas centre holds opaque image data that is not one flat colour.
    await page.waitForFunction(() => {
      const c = document.querySelector(".viewer-canvas");
      const d = c.getContext("2d").getImageData(c.width / 2 - 8, c.height / 2 - 8, 16, 16).data;
      const seen = new Set();
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3] === 0) return false;
        seen.add(d[i]);
      }
      return seen.size > 1;
    }, null, { timeout: 10000 }).catch(() => {
      throw new Error("the canvas centre stayed empty or one flat colour");
    });
    assert(errors.length === 0, errors.join("; "));
    await page.close();
  });
} catch (e) {
  fail("setup", e);
} finally {
  await browser?.close();
  await server?.close();
  rmSync(tmp, { recursive: true, force: true });
}
finish();
