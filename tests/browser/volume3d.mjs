#!/usr/bin/env node
// The 3D view (docs/volumes.md) in headless Chromium, through `vitrine serve` and its gate, on
// tests/sites/volume3d: the link from the 2D viewer carries its view, and both open on the
// descriptor's preview_slice without one; the view renders
// non-blank planes, its xy plane showing the 2D view's slice at the 2D view's centre; its state
// is kept in the URL; the site's own volumes are fetched from the site alone (every request is
// recorded); a private volume's chunks answer 401 without the share cookie and 200 with it, and
// render, and with `hosting: static` render through the service worker; a tracing is drawn as an
// annotation layer, a public segmentation as a segmentation layer of the volume's labels; a `volume:` the lab hosts (served here on another port) is embedded and linked to
// webKnossos and Neuroglancer.
//
//   node tests/browser/volume3d.mjs
import { join } from "node:path";
import { assert, checks, REPO } from "./lib.mjs";
import { FIXTURE, firstPlane, launchWebgl, panels, startSite, startStaticSite } from "./view3d-lib.mjs";

const { test, fail, finish } = checks();
const site = await startSite();
const browser = await launchWebgl();

/** A fresh browser context that records every request it makes and every answer's status. */
async function recorded() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const requests = [], answers = new Map();
  ctx.on("request", (r) => requests.push(r.url()));
  ctx.on("response", (r) => answers.set(r.url(), r.status()));
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.log(`      page error: ${e.message}`));
  if (process.env.DEBUG) ctx.on("requestfinished", (r) => console.log("      done", r.url()));
  return { ctx, page, requests, answers };
}

/** The gray value of slice `z` of a fixture stack at pixel (x, y), read from its PNG in the page. */
async function sourceGray(page, dataset, z, x, y) {
  const png = (await import("node:fs")).readFileSync(join(FIXTURE, `content/datasets/${dataset}/slice-${z}.png`));
  return page.evaluate(
    async ([b64, x, y]) => {
      const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
      const c = new OffscreenCanvas(bitmap.width, bitmap.height).getContext("2d");
      c.drawImage(bitmap, 0, 0);
      return c.getImageData(x, y, 1, 1).data[0];
    },
    [png.toString("base64"), x, y],
  );
}

/** Mean gray of a `size`² block of panel `p` whose corner is `dx, dy` screen px up-left of its centre. */
function block(p, dx, dy, size) {
  const cx = Math.floor(p.width / 2) - dx, cy = Math.floor(p.height / 2) - dy;
  let sum = 0;
  for (let y = cy; y < cy + size; y++) for (let x = cx; x < cx + size; x++) sum += p.gray(x, y);
  return sum / size / size;
}

try {
  // --- A public z-stack: from the 2D viewer to the 3D view at the same place.
  {
    const { ctx, page, requests, answers } = await recorded();
    const origin = new URL(site.base).origin;
    await page.goto(`${site.base}/datasets/stack/#v=100,40,4,5`);
    await page.waitForFunction(() => document.querySelector("a[data-carry-view]")?.hash.startsWith("#v="));
    const href = await page.$eval("a[data-carry-view]", (a) => a.href);
    await test("the dataset page's 3D link carries the 2D view", () =>
      assert(/\/datasets\/stack\/3d\/#v=100,40,4,5$/.test(href), href));
    await page.goto(href);
    const ready = await firstPlane(page);
    const state = await page.evaluate(() => ({
      position: Array.from(viewer.state.toJSON().position),
      scale: viewer.state.toJSON().crossSectionScale,
      hash: location.hash,
    }));
    await test("the 3D view opens at the 2D view's centre and slice", () =>
      assert(JSON.stringify(state.position) === "[100,40,5.5]", `position ${state.position}`));
    await test("its state is in the URL (Neuroglancer's #!)", () => {
      assert(state.hash.startsWith("#!"), state.hash.slice(0, 80));
      const json = JSON.parse(decodeURIComponent(state.hash.slice(2)));
      assert(json.layers?.[0]?.source?.includes?.("volume.ome.zarr") || JSON.stringify(json.layers).includes("volume.ome.zarr"), JSON.stringify(json.layers));
      assert(json.layout === "4panel", `layout ${json.layout}`);
    });
    const drawn = await panels(page);
    await test("four panels, each plane non-blank", () => {
      assert(drawn.length === 4, `${drawn.length} panels`);
      for (const [i, name] of ["xy", "xz", "3D", "yz"].entries()) {
        assert(drawn[i].sd > 8, `the ${name} panel is blank (mean ${drawn[i].mean.toFixed(1)}, sd ${drawn[i].sd.toFixed(2)})`);
      }
    });
    await test("the xy plane shows the 2D view's slice around its centre", async () => {
      // A block up-left of the centre (the axis lines run right and down from it), against the
      // same voxels of slice 5 in the source PNG.
      const [dx, dy, size] = [24, 24, 8];
      const shown = block(drawn[0], dx, dy, size);
      let sum = 0;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const vx = Math.floor(100 + (x - dx + 0.5) * state.scale), vy = Math.floor(40 + (y - dy + 0.5) * state.scale);
          sum += await sourceGray(page, "stack", 5, vx, vy);
        }
      }
      const source = sum / size / size;
      assert(Math.abs(shown - source) < 12, `the panel shows ${shown.toFixed(1)} where slice 5 has ${source.toFixed(1)}`);
    });
    await test("the tracing is an annotation layer of its edges, drawn in its colour", async () => {
      const layers = await page.evaluate(() => viewer.state.toJSON().layers.filter((l) => l.type === "annotation"));
      assert(layers.length === 1, `${layers.length} annotation layers`);
      const lines = layers[0].annotations;
      assert(lines.length === 3 && lines.every((l) => l.type === "line"), JSON.stringify(lines));
      // Node 2 of trace.swc is (0.32, 0.24, 0.24) µm: pixel (80, 60) of slice 6, voxel centre z 6.5.
      assert(lines.some((l) => JSON.stringify(l.pointA) === "[80,60,6.5]"), JSON.stringify(lines[0]));
      const colour = [0xe6, 0x9f, 0x00];
      assert(drawn[2].near(colour, 60) > 20, `the 3D panel has ${drawn[2].near(colour, 60)} pixels of the tracing's colour`);
    });
    await test("the public segmentation is a segmentation layer of the volume's OME-Zarr labels", async () => {
      const layers = await page.evaluate(() => viewer.state.toJSON().layers.filter((l) => l.type === "segmentation"));
      assert(layers.length === 1, `${layers.length} segmentation layers`);
      const source = JSON.stringify(layers[0].source);
      assert(/volume\.ome\.zarr\/labels\/cells\/?"/.test(source), source);
      await page.waitForFunction(() => viewer.isReady(), null, { timeout: 30_000 });
      const chunks = requests.filter((u) => /volume\.ome\.zarr\/labels\/cells\/\d+\/\d+\.\d+\.\d+$/.test(u));
      // A chunk of background only is not written (Zarr's fill value): 404 is its answer.
      const statuses = chunks.map((u) => answers.get(u));
      assert(statuses.includes(200), `no label chunk was fetched: ${statuses}`);
      assert(statuses.every((s) => s === 200 || s === 404), `label chunks answered ${statuses}`);
    });
    await test("no request leaves the site (its own volume, fonts, no state server)", () => {
      const away = requests.filter((u) => !u.startsWith("data:") && new URL(u).origin !== origin);
      assert(away.length === 0, away.join("\n"));
      assert(requests.some((u) => /volume\.ome\.zarr\/0\/\d+\.\d+\.\d+$/.test(u)), "no full-resolution chunk was fetched");
    });
    await test("the licence ships beside the bundle", async () => {
      const res = await page.request.get(`${site.base}/neuroglancer/LICENSE`);
      assert(res.status() === 200 && (await res.text()).includes("Apache License"), `LICENSE: ${res.status()}`);
    });
    await test("axe-core finds nothing on the page around the viewer", async () => {
      // Neuroglancer's own controls are its project's; the page's are vitrine's.
      await page.addScriptTag({ path: join(REPO, "node_modules/axe-core/axe.min.js") });
      const found = await page.evaluate(async () => {
        const r = await axe.run({ exclude: [["#neuroglancer"]] }, { resultTypes: ["violations"] });
        return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`);
      });
      assert(!found.length, found.join("\n"));
    });
    console.log(`      first complete render ${ready.toFixed(0)} ms after navigation`);
    // Back to 2D with the 3D view's position.
    await page.evaluate(() => viewer.navigationState.position.value = Float32Array.of(30.5, 20.5, 2.5));
    await page.waitForFunction(() => document.querySelector("a[data-view-2d]").hash.startsWith("#v=30.5,20.5,"));
    await page.goto(await page.$eval("a[data-view-2d]", (a) => a.href));
    await page.waitForFunction(() => document.querySelector(".viewer-slice")?.value === "2");
    await test("the 2D link of the 3D view opens the 2D viewer at its slice", async () => {
      assert(await page.$eval(".viewer-slice", (s) => s.value) === "2", "slice");
    });
    await ctx.close();
  }

  // --- Without a fragment both views open on the descriptor's preview_slice (6).
  {
    const { ctx, page } = await recorded();
    await page.goto(`${site.base}/datasets/stack/`);
    await page.waitForFunction(() => document.querySelector("a[data-carry-view]")?.hash.startsWith("#v="));
    const hash = await page.$eval("a[data-carry-view]", (a) => a.hash);
    await test("the 2D viewer opens on preview_slice", () => assert(/^#v=80,60,1,6$/.test(hash), hash));
    await page.goto(`${site.base}/datasets/stack/3d/`);
    await firstPlane(page);
    const position = await page.evaluate(() => Array.from(viewer.state.toJSON().position));
    await test("so does the 3D view, at the volume's centre", () =>
      assert(JSON.stringify(position) === "[80,60,6.5]", `position ${position}`));
    await ctx.close();
  }

  // --- A private z-stack through the gate.
  {
    const { ctx, page, requests, answers } = await recorded();
    const chunkPath = "/private/sealed-stack/3d/";
    const refused = await ctx.request.get(`${site.base}${chunkPath}`, { maxRedirects: 0 });
    await test("a private 3D page answers 401 without the share cookie", () => assert(refused.status() === 401, `${refused.status()}`));
    await page.goto(`${site.base}/private/sealed-stack/?s=${site.token}`);
    await page.goto(`${site.base}${chunkPath}`);
    await firstPlane(page);
    const drawn = await panels(page);
    await test("the private volume renders through the gate", () => {
      for (const [i, name] of ["xy", "xz", "yz"].entries()) {
        const p = drawn[[0, 1, 3][i]];
        assert(p.sd > 8, `the ${name} panel is blank (sd ${p.sd.toFixed(2)})`);
      }
    });
    const chunks = requests.filter((u) => /\/private\/sealed-stack\/media\/[0-9a-f]+\/volume\.ome\.zarr\/0\/[\d.]+$/.test(u));
    await test("its chunks answer 200 with the cookie, 401 without", async () => {
      assert(chunks.length > 0, "no private chunk was fetched");
      for (const u of chunks) assert(answers.get(u) === 200, `${u}: ${answers.get(u)}`);
      const bare = await browser.newContext();
      const res = await bare.request.get(chunks[0], { maxRedirects: 0 });
      await bare.close();
      assert(res.status() === 401, `${chunks[0]} without the cookie: ${res.status()}`);
    });
    await test("the chunk worker starts from the dataset's folder, with no third-party app link", async () => {
      assert(requests.some((u) => u.endsWith("/private/sealed-stack/3d/chunk-worker.js")), "chunk-worker.js not loaded");
      assert(!(await page.$("a[href*='neuroglancer-demo']")), "a private page links the public Neuroglancer app");
    });
    await ctx.close();
  }

  // --- The same private stack with `hosting: static`: no gate, the service worker decrypts.
  {
    const fixed = await startStaticSite();
    try {
      const { ctx, page, requests, answers } = await recorded();
      await page.goto(fixed.link);
      await page.waitForFunction(() => navigator.serviceWorker?.controller && document.querySelector("h1")?.textContent.includes("Sealed ring stack"), null, { timeout: 30_000 });
      await page.goto(`${fixed.base}/private/sealed-stack/3d/`);
      await firstPlane(page);
      const drawn = await panels(page);
      await test("hosting: static: the private volume renders, decrypted by the service worker", () => {
        assert(drawn[0].sd > 8 && drawn[1].sd > 8, `blank panels (sd ${drawn[0].sd.toFixed(2)}, ${drawn[1].sd.toFixed(2)})`);
        const chunks = requests.filter((u) => /volume\.ome\.zarr\/0\/[\d.]+$/.test(u));
        assert(chunks.length > 0 && chunks.every((u) => answers.get(u) === 200), chunks.map((u) => `${u}: ${answers.get(u)}`).join("\n"));
      });
      await test("hosting: static: what a plain request gets is ciphertext", async () => {
        const chunk = requests.find((u) => /volume\.ome\.zarr\/0\/[\d.]+$/.test(u));
        const bare = await browser.newContext();
        const body = await (await bare.request.get(chunk)).body();
        await bare.close();
        assert(body.subarray(0, 4).equals(Buffer.from([0x76, 0x74, 0x72, 0x01])), `${chunk} is not sealed on the host`);
      });
      await ctx.close();
    } finally {
      await fixed.close();
    }
  }

  // --- A volume the lab hosts, on another origin.
  {
    const { ctx, page, requests } = await recorded();
    await page.goto(`${site.base}/datasets/lab-volume/3d/`);
    await firstPlane(page);
    const drawn = await panels(page);
    await test("a remote volume: is embedded and renders", () => {
      assert(drawn[0].sd > 8, `the xy panel is blank (sd ${drawn[0].sd.toFixed(2)})`);
      assert(site.lab.seen.some((p) => /\/0\/\d+\.\d+\.\d+$/.test(p)), `the lab server saw ${site.lab.seen.join(", ")}`);
    });
    await test("requests go only to the site and the lab's server", () => {
      const allowed = new Set([new URL(site.base).origin, new URL(site.lab.url).origin]);
      const away = requests.filter((u) => !u.startsWith("data:") && !allowed.has(new URL(u).origin));
      assert(away.length === 0, away.join("\n"));
    });
    await test("it links webKnossos (add remote dataset) and Neuroglancer on the volume", async () => {
      const links = await page.$$eval(".view3d-bar a", (as) => as.map((a) => a.href));
      const wk = links.find((h) => h.startsWith("https://webknossos.org/import?url="));
      assert(wk && new URL(wk).searchParams.get("url") === site.lab.url, `webKnossos link: ${wk}`);
      assert(links.some((h) => h.startsWith("https://neuroglancer-demo.appspot.com/#!")), links.join(" "));
    });
    await ctx.close();
  }
} catch (e) {
  fail("volume3d", e);
} finally {
  await browser.close();
  site.close();
}
finish();
