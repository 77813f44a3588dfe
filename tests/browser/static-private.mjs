#!/usr/bin/env node
// Private datasets on a host without a gate (`hosting: static`), end to end, in Chromium:
// `vitrine keygen`, `share` (a dataset link, an annotation link, and one that is then revoked)
// and `build` on a temporary site, `public/` served by a plain file server (python3 -m
// http.server, no gate), then the links opened as a reader would (docs/share-links.md, "Links
// without a gate").
//
//   node tests/browser/static-private.mjs
//
// Checks: the dataset link opens the page (the secret leaves the address bar), tiles load and
// decrypt through the service worker as the viewer zooms, the annotation downloads with its
// bytes; an annotation link opens its annotation and not the dataset, and a dataset link then
// adds to it; a layer link of a public dataset opens its private segmentation, whose label
// tiles decrypt through the worker over the public image (and its secret on another page of
// that dataset is wrong-scope); no link, a tampered secret, a malformed one and the revoked link each show their
// refusal and decrypt nothing; the same at a base path (/lab/); no file of public/ holds the
// private dataset's marker strings, every private file is sealed and readable by a web server,
// the loader and the worker are generic; axe-core and the Nu checker on the loader.
// Prints (does not assert) the first view through the loader and the per-tile cost of the
// worker. Prints `N passed, N failed` last; exits 1 on any failure.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createInterface } from "node:readline";
import { deflateSync } from "node:zlib";
import { assert, checks, launch, REPO } from "./lib.mjs";

const BIN = process.env.VITRINE_BIN || join(REPO, "target/debug/vitrine");
const AXE = join(REPO, "node_modules/axe-core/axe.min.js");
const VNU = join(REPO, "node_modules/vnu-jar/build/dist/vnu.jar");
const SLUG = "cortex-draft";
const NOTE = "axon-one";
const LAYER = "retina-draft"; // a private layer of the public dataset open-retina
// Only the private dataset's own text holds these; none may reach public/ unencrypted.
const MARK = {
  title: "Okapi-Zanzibar-4417",
  description: "Quillfeather-Marmoset-5520",
  annotation: "Narwhal-Tamarind-8812",
  file: "Pangolin-Xylophone-3390",
  segment: "Wombat-Quasar-6631",
};
const MARKS = Object.values(MARK);

const { test, fail, finish } = checks();
const tmp = mkdtempSync(join(tmpdir(), "vitrine-static-private-"));
const cleanups = [() => rmSync(tmp, { recursive: true, force: true })];

// ---------- the site ----------
const root = join(tmp, "site");
const data = join(root, "content/datasets");
mkdirSync(join(data, SLUG), { recursive: true });
mkdirSync(join(data, "open-retina"), { recursive: true });
writeFileSync(join(root, "content/site.yaml"), "title: Static lab\nbase_url: https://lab.example.org\nhosting: static\n");
// 3000 × 2000: the first view needs a coarser level than the finest, which has many tiles.
writeFileSync(join(data, SLUG, "slice.png"), specimen(3000, 2000));
const SWC = `# ${MARK.file}: a private trace\n1 1 20 20 0 3 -1\n2 3 60 50 0 1 1\n3 3 400 300 0 1 2\n`;
writeFileSync(join(data, SLUG, "trace.swc"), SWC);
writeFileSync(join(data, SLUG, "dataset.yaml"), `display_name: ${MARK.title} cortex
description: ${MARK.description}, a dataset under review.
visibility: private
images: [slice.png]
voxel_size_nm: [8, 8, 8]
annotations:
  - id: ${NOTE}
    display_name: ${MARK.annotation} trace
    file: trace.swc
`);
copyFileSync(join(REPO, "tests/sites/annotations/content/datasets/retina-unpublished/retina.png"), join(data, "open-retina/retina.png"));
writeFileSync(join(data, "open-retina/dataset.yaml"), `display_name: Open retina
visibility: public
images: [retina.png]
annotations:
  - id: retina-trace
    display_name: ${MARK.annotation} retina trace
    file: trace.swc
layers:
  - id: ${LAYER}
    kind: segmentation
    images: draft.png
    segments: draft.csv
`);
writeFileSync(join(data, "open-retina/trace.swc"), "1 1 10 10 0 3 -1\n2 3 60 50 0 1 1\n");
// retina.png is 120 × 90: labels in 30-pixel blocks, every id named.
writeFileSync(join(data, "open-retina/draft.png"), specimen(120, 90, (x, y) => 1 + Math.floor(x / 30) + 4 * Math.floor(y / 30)));
writeFileSync(join(data, "open-retina/draft.csv"), Array.from({ length: 12 }, (_, i) => `${i + 1},${MARK.segment} ${i + 1}\n`).join(""));

/** A grayscale PNG of rings and noise (so tiles differ), or of `pixel(x, y)` when given,
 * encoded here: no image library. */
function specimen(w, h, pixel) {
  const raw = Buffer.alloc((w + 1) * h);
  let seed = 7;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const ring = Math.sin(Math.hypot(x - w / 3, y - h / 2) / 9) * 60;
      raw[y * (w + 1) + 1 + x] = pixel ? pixel(x, y) : Math.max(0, Math.min(255, 140 + ring + ((seed >>> 24) & 31) - 16));
    }
  }
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    for (let k = 0; k < 8; k++) n = n & 1 ? 0xedb88320 ^ (n >>> 1) : n >>> 1;
    return n >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, body) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length);
    head.write(type, 4, "ascii");
    const tail = Buffer.alloc(4);
    tail.writeUInt32BE(crc(Buffer.concat([head.subarray(4), body])));
    return Buffer.concat([head, body, tail]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth; colour type 0 (gray), no interlace
  return Buffer.concat([Buffer.from("89504e470d0a1a0a", "hex"), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

const env = { ...process.env, XDG_CONFIG_HOME: join(tmp, "config") };
delete env.VITRINE_KEY;
delete env.VITRINE_CONTENT_SECRET;
const vitrine = (...args) => {
  const r = spawnSync(BIN, ["--root", root, ...args], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`vitrine ${args.join(" ")} failed (${r.status}):\n${r.stderr}${r.error || ""}`);
  return r.stdout.trim();
};

/** Serves `dir` with Python's plain file server on 127.0.0.1 at a free port. */
function pythonServer(dir) {
  const child = spawn("python3", ["-u", "-m", "http.server", "--bind", "127.0.0.1", "0", "--directory", dir], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  cleanups.push(() => child.kill());
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("python3 -m http.server printed no port in 20 s")), 20_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = line.match(/port (\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
    child.on("exit", (code) => reject(new Error(`python3 -m http.server exited with ${code}`)));
  });
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]);
}

let links, server, labServer, browser;
const pub = join(root, "public");
try {
  vitrine("keygen");
  links = {
    dataset: vitrine("share", SLUG, "--label", "reviewer"),
    note: vitrine("share", SLUG, "--annotation", NOTE, "--label", "annotation reader"),
    revoked: vitrine("share", SLUG, "--label", "withdrawn"),
    layer: vitrine("share", "open-retina", "--layer", LAYER, "--label", "segmentation reader"),
  };
  vitrine("revoke", "withdrawn");
  vitrine("build");
  // The same site under a base path, as on a project's GitHub Pages (`<user>.github.io/lab/`).
  vitrine("build", "--base-url", "https://lab.example.org/lab", "--out", join(tmp, "under-lab/lab"));
  server = await pythonServer(pub);
  labServer = await pythonServer(join(tmp, "under-lab"));
  browser = await launch();
  cleanups.push(() => browser.close());
} catch (e) {
  fail("setup", e);
  for (const c of cleanups.reverse()) await c();
  finish();
}

// ---------- the links and the files ----------
const secretOf = (link) => link.slice(link.indexOf("#") + 1);
/** The link's address on `base` (the links name https://lab.example.org). */
const at = (link, base = server) => base + new URL(link).pathname + new URL(link).hash;

await test("vitrine share prints fragment links: <base>/private/<slug>/[annotations/<id>/]#<22 base62>", () => {
  assert(new RegExp(`^https://lab\\.example\\.org/private/${SLUG}/#[0-9A-Za-z]{22}$`).test(links.dataset), links.dataset);
  assert(new RegExp(`^https://lab\\.example\\.org/private/${SLUG}/annotations/${NOTE}/#[0-9A-Za-z]{22}$`).test(links.note), links.note);
  assert(new RegExp(`^https://lab\\.example\\.org/private/open-retina/layers/${LAYER}/#[0-9A-Za-z]{22}$`).test(links.layer), links.layer);
});

const files = walk(pub).map((f) => ({ path: relative(pub, f), abs: f }));
const privateFiles = files.filter((f) => f.path.startsWith("private/"));

await test("no file of public/ holds a marker string of the private dataset", () => {
  const found = [];
  for (const f of files) {
    const bytes = readFileSync(f.abs);
    for (const m of MARKS) if (bytes.includes(m)) found.push(`${f.path}: ${m}`);
  }
  assert(privateFiles.length > 20, `only ${privateFiles.length} files under private/`);
  assert(!found.length, found.join("\n"));
});

await test("every private file is sealed, except the loader at each page, the worker and the slots", () => {
  const sw = readFileSync(join(REPO, "themes/default/edge/vitrine-sw.js"));
  const loaders = privateFiles.filter((f) => f.path.endsWith("/index.html"));
  assert(loaders.length === 4, `loaders: ${loaders.map((f) => f.path)}`);
  const loader = readFileSync(loaders[0].abs);
  const bad = [];
  for (const f of privateFiles) {
    const bytes = readFileSync(f.abs);
    if (f.path.endsWith("/index.html")) {
      if (!bytes.equals(loader)) bad.push(`${f.path}: not the same loader as ${loaders[0].path}`);
      if (!privateFiles.some((g) => g.path === f.path + ".sealed")) bad.push(`${f.path}: no ${f.path}.sealed`);
    } else if (f.path.endsWith("/vitrine-sw.js")) {
      if (!bytes.equals(sw)) bad.push(`${f.path}: not themes/default/edge/vitrine-sw.js`);
    } else if (/^private\/[^/]+\/slots\/[0-9a-f]{32}$/.test(f.path)) {
      // nonce, JSON, tag
    } else if (!bytes.subarray(0, 4).equals(Buffer.from([0x76, 0x74, 0x72, 0x01]))) {
      bad.push(`${f.path}: not sealed`);
    }
  }
  const text = loader.toString("utf8");
  if (text.includes(SLUG) || text.includes(NOTE) || text.includes(LAYER)) bad.push("the loader names the private dataset, its annotation or the private layer");
  const slots = privateFiles.filter((f) => f.path.includes("/slots/"));
  if (slots.length !== 3) bad.push(`${slots.length} slots for 3 active shares: ${slots.map((f) => f.path)}`);
  assert(!bad.length, bad.join("\n"));
});

await test("every file and folder of public/ can be read by a web server running as another user", () => {
  const closed = [];
  for (const f of files) if ((statSync(f.abs).mode & 0o004) === 0) closed.push(`${f.path} (mode ${(statSync(f.abs).mode & 0o777).toString(8)})`);
  const dirs = [...new Set(files.map((f) => f.abs.slice(0, f.abs.lastIndexOf("/"))))];
  for (const d of dirs) if ((statSync(d).mode & 0o005) !== 0o005) closed.push(`${relative(pub, d)}/ (mode ${(statSync(d).mode & 0o777).toString(8)})`);
  assert(!closed.length, `${closed.length} not world-readable:\n${closed.slice(0, 12).join("\n")}`);
});

// ---------- the browser ----------
const consoleErrors = [];
/** A new context and page that records errors and what the worker answered. */
async function reader() {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 }, acceptDownloads: true });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  page.answers = [];
  page.on("pageerror", (e) => consoleErrors.push(`uncaught ${e.message}`));
  page.on("console", (m) => {
    // A slot that is not there (revoked, tampered) is a 404 the browser reports on its own.
    const url = m.location().url || "";
    if (m.type() === "error" && !/\/favicon\.ico$|\/slots\/[0-9a-f]{32}$/.test(url)) consoleErrors.push(`${m.text()} (${url})`);
  });
  page.on("response", (res) => page.answers.push({ url: res.url(), status: res.status(), sw: res.fromServiceWorker() }));
  return { context, page };
}
/** Polls `fn` in the page until it holds; survives the loader's reload. */
async function until(page, fn, arg, ms = 10_000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await page.evaluate(fn, arg);
      if (last) return last;
    } catch {
      // the page is reloading
    }
    if (Date.now() > end) {
      const where = await page.evaluate(() => `${document.title} | ${document.querySelector("main h1")?.textContent.trim()}`).catch(() => "?");
      throw new Error(`timed out after ${ms} ms at ${page.url()} (${where})`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
const heading = (page) => page.evaluate(() => document.querySelector("main h1")?.textContent.trim());
const hasMarker = (page) => page.evaluate((marks) => marks.filter((m) => document.documentElement.outerHTML.includes(m) || document.title.includes(m)), MARKS);
const tiles = (page) => page.answers.filter((a) => /\/tiles_files\/\d+\/\d+_\d+\.jpg$/.test(a.url));
const level = (a) => +a.url.match(/\/tiles_files\/(\d+)\//)[1];

const figures = {};
const { page: main } = await reader();

await test("the dataset link opens the private page through the loader, and its secret leaves the address bar", async () => {
  const t0 = Date.now();
  await main.goto(at(links.dataset));
  const shown = await until(main, (m) => document.title.includes(m) && performance.getEntriesByName("vitrine:first-tile").length > 0
    && { origin: performance.timeOrigin, tile: performance.getEntriesByName("vitrine:first-tile")[0].startTime, dcl: performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd }, MARK.title);
  figures.reload = shown.origin - t0;
  figures.page = shown.origin + shown.dcl - t0;
  figures.firstTile = shown.origin + shown.tile - t0;
  assert(!main.url().includes("#"), `address bar: ${main.url()}`);
  assert((await main.textContent("main")).includes(MARK.description), "the description is not on the page");
  const keys = await main.evaluate(async (scope) => {
    const res = await (await caches.open("vitrine-keys")).match(new URL(scope + "vitrine-keys", location.href).href);
    return res && Object.keys((await res.json()).keys).length;
  }, `/private/${SLUG}/`);
  assert(keys >= 3, `${keys} keys stored in Cache Storage for the dataset`);
});

await test("tiles load through the worker, decrypted, and zooming in loads finer ones", async () => {
  await until(main, () => !!document.querySelector(".viewer-ready"));
  const before = tiles(main);
  assert(before.length > 0 && before.every((a) => a.status === 200 && a.sw), `first tiles: ${before.map((a) => `${a.url} ${a.status}${a.sw ? " (worker)" : ""}`).join(", ")}`);
  const first = Math.max(...before.map(level));
  await main.focus(".viewer-stage");
  for (let i = 0; i < 4; i++) await main.keyboard.press("+");
  await until(main, (n) => performance.getEntriesByType("resource").filter((e) => e.name.includes("/tiles_files/")).length > n, before.length);
  await main.waitForTimeout(800);
  const after = tiles(main);
  const finer = after.filter((a) => level(a) > first);
  assert(finer.length > 0, `no tile finer than level ${first} after zooming in`);
  const bad = after.filter((a) => a.status !== 200 || !a.sw);
  assert(!bad.length, `tiles not answered 200 by the worker: ${bad.map((a) => `${a.url} ${a.status}`).join(", ")}`);
  const painted = await main.evaluate(() => {
    const c = document.querySelector(".viewer-canvas");
    return c.getContext("2d").getImageData(c.width / 2, c.height / 2, 1, 1).data[3] > 0;
  });
  assert(painted, "the canvas centre is empty after zooming");
  const heads = await main.evaluate(async (url) => {
    const inside = new Uint8Array(await (await fetch(url)).arrayBuffer()).slice(0, 4);
    return Array.from(inside);
  }, finer[0].url);
  assert(heads[0] === 0xff && heads[1] === 0xd8, `a tile through the worker starts ${heads}, not a JPEG`);
});

await test("the annotation page opens and its file downloads with the right bytes", async () => {
  await main.goto(`${server}/private/${SLUG}/annotations/${NOTE}/`);
  await until(main, (m) => document.title.includes(m) || document.body.textContent.includes(m), MARK.annotation);
  const [download] = await Promise.all([main.waitForEvent("download"), main.click("a[download]")]);
  const got = readFileSync(await download.path(), "utf8");
  assert(got === SWC, `downloaded ${JSON.stringify(got.slice(0, 80))}…, expected the SWC file`);
});

// Per-tile cost of the worker: the same tiles fetched one after another by the private page
// (through the worker, decrypted) and by the public gallery of the same origin, which the worker
// does not control (the ciphertext, as the host serves it), in alternating rounds; and the
// decryption alone, in the gallery with the stored key.
await test("figures: the worker's cost per tile", async () => {
  const urls = [...new Set(tiles(main).map((a) => a.url))];
  // Pages of their own: the recording of answers on `main` costs time per request.
  const via = await main.context().newPage();
  await via.goto(`${server}/private/${SLUG}/`);
  await until(via, (m) => document.title.includes(m), MARK.title);
  // `lanes` fetches at a time: 1 for the latency a tile gains, 6 (a browser's connections to
  // one host, as the viewer loads them) for the cost to a whole view.
  const round = (page, lanes = 1) =>
    page.evaluate(async ({ urls, lanes }) => {
      const queue = [...urls];
      const t = performance.now();
      await Promise.all(Array.from({ length: lanes }, async () => {
        for (let u; (u = queue.shift());) await (await fetch(u, { cache: "no-store" })).arrayBuffer();
      }));
      return (performance.now() - t) / urls.length;
    }, { urls, lanes });
  const plain = await main.context().newPage();
  await plain.goto(`${server}/`);
  assert(!(await plain.evaluate(() => navigator.serviceWorker.controller)), "the gallery is controlled by a worker");
  const head = await plain.evaluate(async (u) => Array.from(new Uint8Array(await (await fetch(u)).arrayBuffer()).slice(0, 4)), urls[0]);
  assert(head.join() === "118,116,114,1", `outside the worker a tile starts ${head}, not the sealed magic`);
  const worker = [], direct = [];
  await round(via);
  await round(plain);
  for (let i = 0; i < Math.max(5, Math.ceil(400 / urls.length)); i++) {
    worker.push(await round(via));
    direct.push(await round(plain));
  }
  const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  figures.viaWorker = median(worker);
  figures.plain = median(direct);
  const worker6 = [], direct6 = [];
  for (let i = 0; i < Math.max(5, Math.ceil(400 / urls.length)); i++) {
    worker6.push(await round(via, 6));
    direct6.push(await round(plain, 6));
  }
  figures.viaWorker6 = median(worker6);
  figures.plain6 = median(direct6);
  figures.tiles = urls.length;
  figures.decrypt = await plain.evaluate(async ({ urls, keysUrl }) => {
    const stored = (await (await (await caches.open("vitrine-keys")).match(keysUrl)).json()).keys;
    const hex = (h) => new Uint8Array(h.match(/../g).map((b) => parseInt(b, 16)));
    const sealed = await Promise.all(urls.map(async (u) => [new URL(u).pathname.slice(1), new Uint8Array(await (await fetch(u)).arrayBuffer())]));
    const label = Array.from(sealed[0][1].subarray(4, 20), (b) => b.toString(16).padStart(2, "0")).join("");
    const key = await crypto.subtle.importKey("raw", hex(stored[label].key), "AES-GCM", false, ["decrypt"]);
    const t = performance.now();
    let n = 0;
    for (let i = 0; i < 10; i++) {
      for (const [path, s] of sealed) {
        const ad = new Uint8Array([...s.subarray(0, 32), ...new TextEncoder().encode(path)]);
        await crypto.subtle.decrypt({ name: "AES-GCM", iv: s.subarray(20, 32), additionalData: ad }, key, s.subarray(32));
        n++;
      }
    }
    return (performance.now() - t) / n;
  }, { urls, keysUrl: `${server}/private/${SLUG}/vitrine-keys` });
  await plain.close();
  await via.close();
});

await test("an annotation link opens its annotation only; the dataset link then adds the dataset", async () => {
  const { page } = await reader();
  await page.goto(at(links.note));
  await until(page, (m) => document.body && document.body.textContent.includes(m), MARK.annotation);
  assert(!page.url().includes("#"), `address bar: ${page.url()}`);
  await page.goto(`${server}/private/${SLUG}/`);
  await page.waitForLoadState("networkidle");
  assert((await heading(page)) === "This dataset is private", `the dataset page says ${await heading(page)}`);
  assert(!(await hasMarker(page)).length, "the dataset page shows private text");
  await page.goto(at(links.dataset));
  await until(page, (m) => document.title.includes(m), MARK.title);
});

await test("a layer link of a public dataset opens its private segmentation; its label tiles decrypt through the worker", async () => {
  const { page } = await reader();
  await page.goto(at(links.layer));
  await until(page, (m) => document.body && document.body.textContent.includes(m), MARK.segment);
  assert(!page.url().includes("#"), `address bar: ${page.url()}`);
  await until(page, () => {
    const seg = document.querySelector(".viewer")?.segmentation;
    return seg && [...seg.tiles.values()].some((t) => t.ids);
  });
  const labels = page.answers.filter((a) => a.url.includes(`/private/open-retina/layers/${LAYER}/tiles/`));
  assert(labels.length && labels.every((a) => a.status === 200 && a.sw), `label tiles: ${labels.map((a) => `${a.url} ${a.status}${a.sw ? " (worker)" : ""}`).join(", ")}`);
  // Ids read from the decrypted full-resolution tile are the source's labels.
  const ids = await page.evaluate(() => {
    const seg = document.querySelector(".viewer").segmentation;
    return Promise.all([[60, 45], [0, 0], [119, 89]].map(([x, y]) => seg.idAt(x, y)));
  });
  assert(ids.join() === [1 + 2 + 4, 1, 1 + 3 + 8].join(), `ids at (60, 45), (0, 0), (119, 89): ${ids}`);
  const shown = await page.evaluate(() => document.body.textContent);
  assert(!shown.includes(MARK.title) && !shown.includes(MARK.annotation), "the layer page shows the private dataset's text");
});

const refusals = [
  ["no link", () => `${server}/private/${SLUG}/`, "This dataset is private"],
  ["a tampered secret (one character changed)", () => {
    const s = secretOf(links.dataset);
    const c = s[10] === "a" ? "b" : "a";
    return `${server}/private/${SLUG}/#${s.slice(0, 10)}${c}${s.slice(11)}`;
  }, "This share link no longer opens anything"],
  ["a malformed secret", () => `${server}/private/${SLUG}/#${secretOf(links.dataset).slice(1)}-`, "This share link is not valid"],
  ["the revoked link", () => at(links.revoked), "This share link no longer opens anything"],
  ["the annotation link's secret on the dataset page", () => `${server}/private/${SLUG}/#${secretOf(links.note)}`, "This link opens something else"],
  ["the layer link's secret on a private annotation of its dataset", () => `${server}/private/open-retina/annotations/retina-trace/#${secretOf(links.layer)}`, "This link opens something else"],
];
for (const [name, url, expected] of refusals) {
  await test(`${name}: the refusal, and nothing decrypted`, async () => {
    const { page } = await reader();
    await page.goto(url());
    await page.waitForLoadState("networkidle");
    await page.waitForTimeout(300);
    assert((await heading(page)) === expected, `the page says ${JSON.stringify(await heading(page))}`);
    assert(!page.url().includes("#"), `the secret stays in the address bar: ${page.url()}`);
    const marks = await hasMarker(page);
    assert(!marks.length, `private text on the page: ${marks}`);
    const opened = page.answers.filter((a) => a.sw && a.status === 200);
    assert(!opened.length, `the worker answered: ${opened.map((a) => a.url)}`);
    const workers = await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length);
    assert(workers === 0, `${workers} service workers registered`);
  });
}

await test("under a base path (/lab/) the link opens the page and tiles decrypt", async () => {
  const { page } = await reader();
  const u = new URL(links.dataset);
  await page.goto(`${labServer}/lab${u.pathname}${u.hash}`);
  await until(page, (m) => document.title.includes(m) && performance.getEntriesByName("vitrine:first-tile").length > 0, MARK.title);
  const bad = tiles(page).filter((a) => a.status !== 200 || !a.sw || !a.url.includes("/lab/private/"));
  assert(tiles(page).length && !bad.length, `tiles: ${bad.map((a) => `${a.url} ${a.status}`).join(", ")}`);
});

await test("axe-core: nothing serious on the loader's refusals", async () => {
  const found = [];
  for (const url of [`${server}/private/${SLUG}/`, at(links.revoked)]) {
    const { page } = await reader();
    await page.goto(url);
    await page.waitForLoadState("networkidle");
    await page.addScriptTag({ path: AXE });
    found.push(...(await page.evaluate(async () =>
      (await axe.run(document, { resultTypes: ["violations"] })).violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => `${location.pathname}: ${v.id} ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`))));
  }
  assert(!found.length, found.join("\n"));
});

await test("Nu HTML checker: no errors on the loader", () => {
  try {
    execFileSync("java", ["-jar", VNU, "--errors-only", join(pub, "private", SLUG, "index.html")], { encoding: "utf8", stdio: "pipe" });
  } catch (e) {
    throw new Error(((e.stderr || "") + (e.stdout || "")).split(pub + "/").join("").trim() || e.message);
  }
});

await test("no uncaught errors or unexpected console errors", () => assert(!consoleErrors.length, consoleErrors.join("\n")));

if (figures.firstTile) {
  console.log(`      first view through the loader: reload at ${Math.round(figures.reload)} ms, page at ${Math.round(figures.page)} ms, first tile at ${Math.round(figures.firstTile)} ms (target < 1500 ms)`);
}
if (figures.viaWorker) {
  console.log(`      per tile (${figures.tiles} tiles fetched one after another, median of rounds): ${figures.viaWorker.toFixed(2)} ms through the worker, ${figures.plain.toFixed(2)} ms plain: ${(figures.viaWorker - figures.plain).toFixed(2)} ms overhead (target < 3 ms), of which decryption ${figures.decrypt.toFixed(2)} ms`);
  console.log(`      per tile, 6 at a time: ${figures.viaWorker6.toFixed(2)} ms through the worker, ${figures.plain6.toFixed(2)} ms plain: ${(figures.viaWorker6 - figures.plain6).toFixed(2)} ms overhead`);
}

for (const c of cleanups.reverse()) await c();
finish();
