#!/usr/bin/env node
// The browser suite: drives Debian's Chromium (playwright-core) over a built vitrine site.
//
//   node tests/browser/run.mjs <built-site-dir | site-root>     (or VITRINE_SITE=<dir>)
//
// A site root (a folder with content/site.yaml and no index.html) is first built with
// `target/debug/vitrine build` (VITRINE_BIN overrides) into a temporary folder.
// Checks the viewer (tiles, levels, fragment, slices, scale bar, overlay, keyboard, fallbacks,
// private copy button), console errors, axe-core and the Nu HTML checker. Prints
// `N passed, N failed` last; exits 1 on any failure.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { launch, pickStack, readOutput, REPO, siteDir, viewerPages } from "./lib.mjs";
import { serve } from "./serve.mjs";

const AXE = join(REPO, "node_modules/axe-core/axe.min.js");
const VNU = join(REPO, "node_modules/vnu-jar/build/dist/vnu.jar");

let passed = 0, failed = 0;
const cleanups = [];

function ok(name) {
  passed++;
  console.log(`ok    ${name}`);
}
function fail(name, why) {
  failed++;
  console.log(`FAIL  ${name}\n      ${String(why).split("\n").join("\n      ")}`);
}
async function test(name, fn) {
  try {
    await fn();
    ok(name);
  } catch (e) {
    fail(name, e && e.message ? e.message : e);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

let dir, site;
try {
  site = siteDir(process.argv[2] || process.env.VITRINE_SITE);
  dir = site.dir;
  cleanups.push(site.cleanup);
} catch (e) {
  console.log(`FAIL  setup\n      ${e.message}\n0 passed, 1 failed`);
  process.exit(1);
}
const server = await serve(dir, site.open);
cleanups.push(() => server.close());
const browser = await launch();
cleanups.push(() => browser.close());

const consoleErrors = [];
/** A page that records console errors, uncaught exceptions and the tile requests it makes. */
async function open(path, { context, viewport = { width: 900, height: 700 } } = {}) {
  const ctx = context || (await browser.newContext({ viewport }));
  if (!context) cleanups.push(() => ctx.close());
  const page = await ctx.newPage();
  page.tiles = [];
  page.on("console", (m) => {
    // Chromium asks every site for /favicon.ico on its own; a 404 there is not the page's doing.
    if (m.type() === "error" && !/\/favicon\.ico$/.test(m.location().url)) {
      consoleErrors.push(`${path}: ${m.text()} (${m.location().url})`);
    }
  });
  page.on("pageerror", (e) => consoleErrors.push(`${path}: uncaught ${e.message}`));
  page.on("requestfinished", async (req) => {
    const m = req.url().match(/\/([^/]+)_files\/(\d+)\/(\d+)_(\d+)\.\w+$/);
    const res = await req.response();
    if (m) page.tiles.push({ url: req.url(), level: +m[2], col: +m[3], row: +m[4], status: res && res.status() });
  });
  if (path) await page.goto(server.url + path);
  return page;
}
const view = (page) => page.evaluate(() => document.querySelector(".viewer").vitrine.view());
const settle = (page) =>
  page.evaluate(
    () =>
      new Promise((done) => {
        // Resolves once no view event has arrived for 300 ms (easing finished).
        const root = document.querySelector(".viewer");
        let t = setTimeout(fin, 300);
        function fin() {
          root.removeEventListener("vitrine:view", again);
          done();
        }
        function again() {
          clearTimeout(t);
          t = setTimeout(fin, 300);
        }
        root.addEventListener("vitrine:view", again);
      })
  );
/** Polls a Node-side condition (e.g. on recorded requests) for up to `ms`. */
async function until(fn, ms = 5000) {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    if (fn()) return true;
  }
  return fn();
}
const waitFor = (page, fn, arg, timeout = 5000) => page.waitForFunction(fn, arg, { timeout, polling: 50 });
const sliceBase = (cfg, i) => new URL(cfg.slices[i].dzi.replace(/\.dzi$/, "_files/"), "http://x/p/").pathname.slice(3);

const publicPages = viewerPages(site, "datasets");
const privatePages = viewerPages(site, "private");
const stack = pickStack(publicPages);

await test("site has a public dataset page with a deep-zoom z-stack viewer", () => {
  assert(stack, `no datasets/*/index.html with a data-viewer pyramid in ${dir}`);
  assert(stack.config.slices.length > 1, `${stack.path} has a single slice; the fixture needs a z-stack`);
  assert(Array.isArray(stack.config.voxel_size_nm), `${stack.path} has no voxel_size_nm`);
});

await test("viewer JS + CSS under 40 KB uncompressed", () => {
  const size = ["viewer.js", "viewer.css"].reduce((n, f) => n + statSync(join(dir, "assets", f)).size, 0);
  assert(size < 40 * 1024, `${size} bytes`);
  console.log(`      ${size} bytes`);
});

// What a z-stack's page downloads beyond every page's own CSS and script, gzipped as the
// platforms serve it: the viewer and the add-ons its images need (the display range's script).
await test("a z-stack page's viewer assets under 24 KB gzipped", () => {
  assert(stack, "no z-stack page");
  const html = readOutput(site, stack.path.slice(1) + "index.html").toString("utf8");
  const assets = [...html.matchAll(/(?:src|href)="(?:\.\.\/)*assets\/([a-z-]+\.(?:js|css))"/g)]
    .map((m) => m[1])
    .filter((f, i, all) => all.indexOf(f) === i && f !== "gallery.js" && f !== "vitrine.css");
  assert(assets.includes("viewer.js"), `the page loads ${assets}`);
  const size = assets.reduce((n, f) => n + gzipSync(readFileSync(join(dir, "assets", f)), { level: 9 }).length, 0);
  console.log(`      ${assets.join(" + ")}: ${size} bytes gzipped`);
  assert(size < 24 * 1024, `${size} bytes`);
});

if (stack) {
  const s0 = sliceBase(stack.config, 0);
  const ofSlice = (page, i) => page.tiles.filter((t) => t.url.includes(sliceBase(stack.config, i)));

  await test("tiles load and are painted", async () => {
    const page = await open(stack.path);
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    await settle(page);
    const bad = page.tiles.filter((t) => t.status !== 200);
    assert(!bad.length, `failed tiles: ${bad.map((t) => `${t.url} ${t.status}`).join(", ")}`);
    assert(ofSlice(page, 0).length > 0, `no tile of slice 0 (${s0}) requested`);
    // The centre of the canvas must hold image data, not the empty background.
    const painted = await page.evaluate(() => {
      const c = document.querySelector(".viewer-canvas");
      const d = c.getContext("2d").getImageData(c.width / 2 - 5, c.height / 2 - 5, 10, 10).data;
      for (let i = 3; i < d.length; i += 4) if (d[i] === 0) return false;
      return true;
    });
    assert(painted, "canvas centre is transparent after the first tile");
  });

  await test("zooming in loads finer levels; only visible tiles are fetched", async () => {
    const page = await open(stack.path, { viewport: { width: 700, height: 600 } });
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    await settle(page);
    const first = Math.max(...ofSlice(page, 0).map((t) => t.level));
    const dzi = await (await fetch(server.url + stack.path + stack.config.slices[0].dzi)).text();
    const W = +dzi.match(/Width="(\d+)"/)[1], H = +dzi.match(/Height="(\d+)"/)[1];
    const T = +dzi.match(/TileSize="(\d+)"/)[1];
    const max = Math.ceil(Math.log2(Math.max(W, H)));
    assert(first < max, `the fixture's first view already needs the full-resolution level ${max}; use larger images`);
    // A 2× screen needs one level finer for the same view, on a canvas of device pixels.
    const ctx2 = await browser.newContext({ viewport: { width: 700, height: 600 }, deviceScaleFactor: 2 });
    cleanups.push(() => ctx2.close());
    const hidpi = await open(stack.path, { context: ctx2 });
    await until(() => ofSlice(hidpi, 0).some((t) => t.level === Math.min(first + 1, max)));
    const hiLevel = Math.max(...ofSlice(hidpi, 0).map((t) => t.level));
    assert(hiLevel === Math.min(first + 1, max), `at 2× the first view used level ${hiLevel}, at 1× level ${first}`);
    const crisp = await hidpi.$eval(".viewer-canvas", (c) => c.width === Math.round(c.getBoundingClientRect().width * 2));
    assert(crisp, "the canvas is not sized in device pixels");
    await page.focus(".viewer-stage");
    for (let i = 0; i < 3; i++) await page.keyboard.press("+");
    await settle(page);
    await until(() => ofSlice(page, 0).some((t) => t.level > first));
    const finer = Math.max(...ofSlice(page, 0).map((t) => t.level));
    assert(finer > first, `levels requested stayed at ${first}`);
    // Links deep into the bottom-right corner (edge tiles) and the middle: only visible
    // full-resolution tiles may be fetched.
    for (const [x, y] of [[W - 10, H - 10], [W / 2, H / 2]]) {
      const deep = await open(`${stack.path}#v=${x},${y},1000,0`, { viewport: { width: 700, height: 600 } });
      await until(() => ofSlice(deep, 0).some((t) => t.level === max));
      await settle(deep);
      await deep.waitForTimeout(300); // any stray extra tile would arrive now
      const v = await view(deep);
      const top = ofSlice(deep, 0).filter((t) => t.level === max);
      assert(top.length > 0, "no full-resolution tile requested at maximum zoom");
      const vis = await deep.evaluate(() => {
        const r = document.querySelector(".viewer-stage").getBoundingClientRect();
        return { w: r.width, h: r.height };
      });
      const first0 = (c, half) => Math.floor(Math.max(0, c - half) / T);
      const last0 = (c, half, size) => Math.floor((Math.min(size, c + half) - 1e-9) / T);
      const c0 = first0(v.x, vis.w / 2 / v.scale), c1 = last0(v.x, vis.w / 2 / v.scale, W);
      const r0 = first0(v.y, vis.h / 2 / v.scale), r1 = last0(v.y, vis.h / 2 / v.scale, H);
      const outside = top.filter((t) => t.col < c0 || t.col > c1 || t.row < r0 || t.row > r1);
      assert(!outside.length, `at ${x},${y}: tiles outside the view (cols ${c0}-${c1}, rows ${r0}-${r1}) fetched: ${outside.map((t) => `${t.col}_${t.row}`)}`);
      assert(top.some((t) => t.col === c1 && t.row === r1), `at ${x},${y}: tile ${c1}_${r1} was not fetched`);
      const bad = deep.tiles.filter((t) => t.status !== 200);
      assert(!bad.length, `failed tiles: ${bad.map((t) => `${t.url} ${t.status}`).join(", ")}`);
    }
  });

  await test("neighbouring slices are preloaded", async () => {
    const page = await open(stack.path);
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    await until(() => ofSlice(page, 1).length > 0);
    assert(ofSlice(page, 1).length > 0, "no tile of slice 1 fetched while slice 0 is shown");
  });

  await test("the URL fragment round-trips the view", async () => {
    const page = await open(stack.path);
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    const box = await page.locator(".viewer-stage").boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.4);
    await page.mouse.wheel(0, -400);
    await settle(page);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.6, { steps: 5 });
    await page.mouse.up();
    await page.focus(".viewer-stage");
    await page.keyboard.press("PageDown");
    await settle(page);
    await waitFor(page, () => /[#&]v=[^,]+,[^,]+,[^,]+,1\b/.test(location.hash));
    const a = await view(page);
    assert(a.zoom > 1.5 && a.slice === 1, `interaction did not change the view: ${JSON.stringify(a)}`);
    const url = page.url();
    const again = await open(null);
    await again.goto(url);
    await waitFor(again, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    const b = await view(again);
    const close = Math.abs(a.x - b.x) <= 0.1 && Math.abs(a.y - b.y) <= 0.1 && Math.abs(a.zoom / b.zoom - 1) < 1e-3;
    assert(close && a.slice === b.slice, `before ${JSON.stringify(a)}, after reload ${JSON.stringify(b)} (${url})`);
  });

  await test("the slice control and the keyboard change slice", async () => {
    const page = await open(stack.path);
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    const n = stack.config.slices.length;
    const range = page.locator("input.viewer-slice");
    assert(await range.isVisible(), "no visible slice control");
    await range.focus();
    await page.keyboard.press("ArrowRight");
    assert((await view(page)).slice === 1, "the range input did not move to slice 1");
    assert(/2 of/.test(await range.getAttribute("aria-valuetext")), "aria-valuetext does not name slice 2");
    await page.focus(".viewer-stage");
    await page.keyboard.press("End");
    assert((await view(page)).slice === n - 1, "End did not go to the last slice");
    assert((await range.inputValue()) === String(n - 1), "the range input does not follow the keyboard");
    await page.keyboard.press("[");
    assert((await view(page)).slice === n - 2, "[ did not go back one slice");
    await until(() => ofSlice(page, n - 1).some((t) => t.status === 200));
    assert(ofSlice(page, n - 1).some((t) => t.status === 200), "no tile of the last slice loaded");
  });

  await test("the scale bar shows a round physical length and follows the zoom", async () => {
    const page = await open(stack.path);
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    const read = () =>
      page.evaluate(() => ({
        text: document.querySelector(".viewer-scalebar-text").textContent,
        px: document.querySelector(".viewer-scalebar-line").getBoundingClientRect().width,
        scale: document.querySelector(".viewer").vitrine.view().scale,
      }));
    const check = ({ text, px, scale }) => {
      const m = text.match(/^(\d+(?:\.\d+)?) (nm|µm|mm)$/);
      assert(m, `scale bar text ${JSON.stringify(text)}`);
      const nm = +m[1] * { nm: 1, µm: 1e3, mm: 1e6 }[m[2]];
      const lead = +(nm / 10 ** Math.floor(Math.log10(nm))).toPrecision(6);
      assert([1, 2, 5].includes(lead), `${text} is not 1, 2 or 5 × 10ⁿ`);
      const expected = (nm / stack.config.voxel_size_nm[0]) * scale;
      assert(Math.abs(px - expected) < 1.5, `bar is ${px}px, ${text} at this zoom is ${expected}px`);
    };
    const a = await read();
    check(a);
    await page.focus(".viewer-stage");
    for (let i = 0; i < 4; i++) await page.keyboard.press("+");
    await settle(page);
    const b = await read();
    check(b);
    assert(a.text !== b.text, `scale bar stayed ${a.text}`);
  });

  await test("keyboard pans, zooms and resets", async () => {
    const page = await open(stack.path);
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    await page.focus(".viewer-stage");
    await page.keyboard.press("+");
    await settle(page);
    const a = await view(page);
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowDown");
    await settle(page);
    const b = await view(page);
    assert(b.x > a.x && b.y > a.y, `arrows did not pan: ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
    await page.keyboard.press("-");
    await settle(page);
    assert((await view(page)).zoom < b.zoom, "- did not zoom out");
    await page.keyboard.press("0");
    await settle(page);
    const c = await view(page);
    assert(c.zoom === 1 && Math.abs(c.x - stack.config.slices[0].width / 2) < 0.01, `0 did not reset: ${JSON.stringify(c)}`);
  });

  await test("touch: a pinch zooms about the fingers and a one-finger drag pans", async () => {
    const ctx = await browser.newContext({ viewport: { width: 600, height: 800 }, hasTouch: true, isMobile: true });
    cleanups.push(() => ctx.close());
    const page = await open(stack.path, { context: ctx });
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    const cdp = await ctx.newCDPSession(page);
    const box = await page.locator(".viewer-stage").boundingBox();
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    const touch = (type, pts) =>
      cdp.send("Input.dispatchTouchEvent", { type, touchPoints: pts.map(([x, y], id) => ({ x, y, id })) });
    await touch("touchStart", [[cx - 20, cy], [cx + 20, cy]]);
    for (let d = 30; d <= 120; d += 10) await touch("touchMove", [[cx - d, cy], [cx + d, cy]]);
    await touch("touchEnd", []);
    await settle(page);
    const a = await view(page);
    assert(a.zoom > 4 && a.zoom < 8, `a 6× pinch gave zoom ${a.zoom}`);
    await touch("touchStart", [[cx, cy]]);
    for (let d = 10; d <= 60; d += 10) await touch("touchMove", [[cx - d, cy]]);
    await touch("touchEnd", []);
    await settle(page);
    const b = await view(page);
    assert(Math.abs(b.x - a.x - 60 / a.scale) < 1, `a 60 px drag moved x by ${b.x - a.x}, expected ${60 / a.scale}`);
  });

  await test("without WebGL2, brightness/contrast filter the image; full screen fills the screen", async () => {
    // With WebGL2 the display range (tests/browser/display-range.mjs) takes their place.
    const bare = await browser.newContext({ viewport: { width: 900, height: 700 } });
    cleanups.push(() => bare.close());
    await bare.addInitScript(() => {
      for (const C of [HTMLCanvasElement, OffscreenCanvas]) {
        const get = C.prototype.getContext;
        C.prototype.getContext = function (kind, ...rest) {
          return kind === "webgl2" ? null : get.call(this, kind, ...rest);
        };
      }
    });
    const page = await open(stack.path, { context: bare });
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    await page.locator("input.viewer-brightness").fill("150");
    await page.locator("input.viewer-contrast").fill("60");
    const filter = await page.$eval(".viewer-canvas", (c) => c.style.filter);
    assert(filter === "brightness(150%) contrast(60%)", `canvas filter: ${filter}`);
    await page.click('button[data-action="reset-image"]');
    assert((await page.$eval(".viewer-canvas", (c) => c.style.filter)) === "", "reset image left a filter");
    await page.click('button[data-action="fullscreen"]');
    await waitFor(page, () => document.fullscreenElement === document.querySelector(".viewer"));
    await settle(page);
    const r = await page.evaluate(() => {
      const c = document.querySelector(".viewer-canvas");
      return { ch: c.height, wh: innerHeight, pressed: document.querySelector('[data-action="fullscreen"]').getAttribute("aria-pressed") };
    });
    assert(r.ch > r.wh * 0.6 && r.pressed === "true", `full screen: canvas ${r.ch}px high in a ${r.wh}px window, aria-pressed ${r.pressed}`);
    await page.keyboard.press("f");
    await waitFor(page, () => !document.fullscreenElement);
  });

  await test("the overlay SVG sits exactly over the image and view events fire", async () => {
    const page = await open(stack.path);
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    await page.evaluate(() => {
      window.__views = [];
      document.querySelector(".viewer").addEventListener("vitrine:view", (e) => window.__views.push(e.detail));
    });
    const box = await page.locator(".viewer-stage").boundingBox();
    await page.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.3);
    await page.mouse.wheel(0, -300);
    await settle(page);
    const r = await page.evaluate(() => {
      const root = document.querySelector(".viewer");
      const svg = root.querySelector("svg.viewer-overlay");
      const s = root.querySelector(".viewer-stage").getBoundingClientRect();
      const o = svg.getBoundingClientRect();
      return { vb: svg.getAttribute("viewBox"), s, o, v: root.vitrine.view(), n: window.__views.length, last: window.__views.at(-1) };
    });
    const { width: W, height: H } = stack.config.slices[0];
    assert(r.vb === `0 0 ${W} ${H}`, `viewBox ${r.vb}`);
    const left = r.s.left + r.s.width / 2 - r.v.x * r.v.scale;
    const top = r.s.top + r.s.height / 2 - r.v.y * r.v.scale;
    const near = (a, b) => Math.abs(a - b) < 0.5;
    assert(near(r.o.left, left) && near(r.o.top, top) && near(r.o.width, W * r.v.scale) && near(r.o.height, H * r.v.scale),
      `overlay at ${JSON.stringify(r.o)}, image at ${left},${top} ${W * r.v.scale}×${H * r.v.scale}`);
    assert(r.n > 1 && JSON.stringify(r.last) === JSON.stringify(r.v), `${r.n} vitrine:view events, last ${JSON.stringify(r.last)}`);
  });

  await test("copy link to this view copies the page URL with the view", async () => {
    const ctx = await browser.newContext({ viewport: { width: 900, height: 700 }, permissions: ["clipboard-read", "clipboard-write"] });
    cleanups.push(() => ctx.close());
    const page = await open(stack.path, { context: ctx });
    await waitFor(page, () => performance.getEntriesByName("vitrine:first-tile").length > 0);
    await page.focus(".viewer-stage");
    await page.keyboard.press("+");
    await settle(page);
    await page.click('button[data-action="copy"]');
    await waitFor(page, () => document.querySelector(".viewer-status").textContent !== "");
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert(copied === page.url() && /#v=/.test(copied), `copied ${copied}, page is ${page.url()}`);
  });

  await test("without JavaScript the fallback image is shown", async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 900, height: 700 } });
    cleanups.push(() => ctx.close());
    const page = await open(stack.path, { context: ctx });
    const img = page.locator("img.viewer-fallback");
    await img.waitFor({ state: "visible" });
    assert(await img.evaluate((i) => i.complete && i.naturalWidth > 0), "fallback image did not load");
    assert(!(await page.locator(".viewer-controls").isVisible()), "controls that need JavaScript are shown");
  });

  await test("with pyramids off the fallback image pans and zooms", async () => {
    const ctx = await browser.newContext({ viewport: { width: 900, height: 700 } });
    cleanups.push(() => ctx.close());
    // The same page as `viewer.pyramids: false` renders it: every slice's dzi is null.
    await ctx.route(server.url + stack.path, async (route) => {
      const res = await route.fetch();
      const body = (await res.text())
        .replace(/(&quot;dzi&quot;:)&quot;.*?&quot;/g, "$1null")
        .replace(/<link rel="preload"[^>]*>/g, "");
      await route.fulfill({ response: res, body });
    });
    const page = await open(stack.path, { context: ctx });
    await waitFor(page, () => {
      const c = document.querySelector(".viewer-canvas");
      if (!c || !c.width) return false;
      return c.getContext("2d").getImageData(c.width / 2, c.height / 2, 1, 1).data[3] > 0;
    });
    await page.focus(".viewer-stage");
    await page.keyboard.press("+");
    await page.keyboard.press("ArrowLeft");
    await settle(page);
    const v = await view(page);
    assert(v.zoom > 1, `did not zoom: ${JSON.stringify(v)}`);
    assert(page.tiles.length === 0, `${page.tiles.length} tiles fetched with pyramids off`);
  });
}

const priv = privatePages.find((p) => p.config);
await test("site has a private dataset page with a viewer", () => assert(priv, `no private/*/index.html with a viewer in ${dir}`));
if (priv) {
  await test("on a private page the copy button explains share links and copies no URL", async () => {
    const ctx = await browser.newContext({ viewport: { width: 900, height: 700 }, permissions: ["clipboard-read", "clipboard-write"] });
    cleanups.push(() => ctx.close());
    const page = await open(priv.path, { context: ctx });
    await page.locator(".viewer-ready").waitFor();
    await page.evaluate(() => navigator.clipboard.writeText(""));
    await page.click('button[data-action="copy"]');
    await waitFor(page, () => document.querySelector(".viewer-status").textContent !== "");
    const status = await page.textContent(".viewer-status");
    assert(/share link/i.test(status), `status says: ${status}`);
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert(!/^https?:|\/private\//.test(copied), `copied a private URL: ${copied}`);
    assert(/^#v=/.test(copied), `copied ${JSON.stringify(copied)}, expected the view fragment`);
  });
}

// axe-core on the gallery, a dataset page and a private page, after the viewer started.
const axePages = [["gallery", "/"], ["dataset page", stack && stack.path], ["private page", priv && priv.path]];
for (const [name, path] of axePages) {
  await test(`axe-core: no serious or critical findings on the ${name}`, async () => {
    assert(path, `no ${name} to check`);
    const page = await open(path);
    if (path !== "/") await page.locator(".viewer-ready").waitFor();
    await page.addScriptTag({ path: AXE });
    const found = await page.evaluate(async () => {
      const r = await axe.run(document, { resultTypes: ["violations"] });
      return r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
    });
    assert(!found.length, found.join("\n"));
  });
}

/** A dataset's annotation pages (they embed the viewer too). */
function annotationPages(datasetDir) {
  const base = join(datasetDir, "annotations");
  return existsSync(base) ? readdirSync(base).map((id) => join(base, id, "index.html")) : [];
}

await test("Nu HTML checker: no errors on the main pages", () => {
  const found = [join(dir, "index.html"), join(dir, "spotlight/index.html"), join(dir, "404.html"),
    ...[...publicPages, ...privatePages].flatMap((p) => [p.file, ...annotationPages(dirname(p.file))])].filter((f) => existsSync(f));
  // Private pages are sealed on disk: the checker reads them opened, as a gate serves them.
  const opened = mkdtempSync(join(tmpdir(), "vitrine-vnu-"));
  cleanups.push(() => rmSync(opened, { recursive: true, force: true }));
  const files = found.map((f) => {
    const rel = relative(dir, f);
    if (!rel.startsWith("private/")) return f;
    const copy = join(opened, rel);
    mkdirSync(dirname(copy), { recursive: true });
    writeFileSync(copy, readOutput(site, rel));
    return copy;
  });
  try {
    execFileSync("java", ["-jar", VNU, "--errors-only", ...files], { encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    throw new Error(((e.stderr || "") + (e.stdout || "")).split(dir + "/").join("").split(opened + "/").join("").trim() || e.message);
  }
  console.log(`      ${files.length} files: ${found.map((f) => relative(dir, f)).join(", ")}`);
});

await test("no console errors on any page visited", () => assert(!consoleErrors.length, consoleErrors.join("\n")));

for (const c of cleanups.reverse()) await c();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
