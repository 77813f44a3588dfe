// What the 3D view's browser test (volume3d.mjs) and its benchmark (bench/volume3d.mjs) share:
// the fixture site served by `vitrine serve` (the gate included) beside a "lab" server that
// hosts a volume on another port, Chromium with WebGL, and reading the rendered panels.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join, normalize, sep } from "node:path";
import { createInterface } from "node:readline";
import { CHROMIUM_ARGS, REPO } from "./lib.mjs";
import { serve } from "./serve.mjs";

const BIN = process.env.VITRINE_BIN || join(REPO, "target/debug/vitrine");
export const FIXTURE = join(REPO, "tests/sites/volume3d");

/** Chromium as the suite runs it, with WebGL 2 in software (SwiftShader): Neuroglancer needs it. */
export async function launchWebgl() {
  const { chromium } = await import(join(REPO, "node_modules/playwright-core/index.mjs"));
  const args = CHROMIUM_ARGS.filter((a) => a !== "--disable-gpu");
  args.push("--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist");
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args });
}

/** Serves `dir` read-only on 127.0.0.1 with CORS open, as a lab's bucket does; counts requests. */
function labServer(dir) {
  const root = normalize(dir + sep);
  const seen = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    seen.push(path);
    const file = normalize(join(root, path));
    const headers = { "Access-Control-Allow-Origin": "*" };
    let body;
    try {
      if (!file.startsWith(root)) throw new Error("outside");
      body = readFileSync(file);
    } catch {
      res.writeHead(404, headers).end();
      return;
    }
    const type = path.endsWith(".json") ? "application/json" : "application/octet-stream";
    res.writeHead(200, { ...headers, "Content-Type": type, "Content-Length": body.length });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() }),
    ),
  );
}

/**
 * A pass-through proxy on 127.0.0.1 in front of `upstream` that opens one upstream connection per
 * request. `vitrine serve`'s tiny_http pool can leave a new connection queued behind kept-alive
 * ones when a browser opens several at once (the preview bug tests/browser/layout.mjs names),
 * and Neuroglancer's page opens a dozen at once; with no kept-alive connection upstream, no
 * thread of the pool is held between requests. Everything else (status, headers, cookies,
 * bodies) passes as is.
 */
function oneConnectionPerRequest(upstream) {
  const target = new URL(upstream);
  const server = createServer((req, res) => {
    const up = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: { ...req.headers, connection: "close" }, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() }),
    ),
  );
}

/**
 * The fixture in a temporary folder: built once so the public stack's OME-Zarr can be served by
 * the lab server as the lab's volume, `lab-volume`'s `volume:` pointed at it, a key made and the
 * private stack shared, then `vitrine serve` started (behind `oneConnectionPerRequest`). Resolves
 * to `{base, lab, token, close}`.
 */
export async function startSite() {
  const tmp = mkdtempSync(join(tmpdir(), "vitrine-volume3d-"));
  const root = join(tmp, "site");
  cpSync(join(FIXTURE, "content"), join(root, "content"), { recursive: true });
  const env = { ...process.env, XDG_CONFIG_HOME: join(tmp, "config") };
  delete env.VITRINE_KEY;
  const run = (...args) => {
    const r = spawnSync(BIN, ["--root", root, ...args], { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`vitrine ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
    return r.stdout.trim();
  };
  let server, lab, proxy;
  const close = () => {
    server?.kill();
    lab?.close();
    proxy?.close();
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    run("build", "--out", join(tmp, "first"));
    const zarr = spawnSync("find", [join(tmp, "first/datasets/stack/media"), "-name", "volume.ome.zarr"], { encoding: "utf8" })
      .stdout.trim();
    if (!zarr) throw new Error("the fixture's public stack has no volume.ome.zarr");
    lab = await labServer(zarr);
    const descriptor = join(root, "content/datasets/lab-volume/dataset.yaml");
    writeFileSync(descriptor, readFileSync(descriptor, "utf8").replace(/^volume: .*$/m, `volume: zarr://${lab.url}`));
    run("keygen");
    const token = new URL(run("share", "sealed-stack", "--label", "3d test")).searchParams.get("s");
    server = spawn(BIN, ["--root", root, "serve", "--port", "0", "--bind", "127.0.0.1"], { env, stdio: ["ignore", "pipe", "inherit"] });
    const base = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("`vitrine serve` printed no Serving line in 120 s")), 120_000);
      createInterface({ input: server.stdout }).on("line", (line) => {
        const m = line.match(/^Serving (http:\/\/127\.0\.0\.1:\d+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      server.on("exit", (code) => reject(new Error(`vitrine serve exited with ${code}`)));
    });
    proxy = await oneConnectionPerRequest(base);
    return { base: proxy.url, lab, token, close };
  } catch (e) {
    close();
    throw e;
  }
}

/**
 * The fixture with `hosting: static` and no `volume:` elsewhere, its private stack shared, built
 * and served as files by a plain server (no gate: private files stay sealed, the reader's
 * service worker opens them). Resolves to `{base, link, close}`, `link` the share link on the
 * server's address (its secret in the fragment).
 */
export async function startStaticSite() {
  const tmp = mkdtempSync(join(tmpdir(), "vitrine-volume3d-static-"));
  const root = join(tmp, "site");
  cpSync(join(FIXTURE, "content"), join(root, "content"), { recursive: true });
  rmSync(join(root, "content/datasets/lab-volume"), { recursive: true });
  const site = join(root, "content/site.yaml");
  writeFileSync(site, readFileSync(site, "utf8").replace(/^hosting: .*$/m, "hosting: static"));
  const env = { ...process.env, XDG_CONFIG_HOME: join(tmp, "config") };
  delete env.VITRINE_KEY;
  const run = (...args) => {
    const r = spawnSync(BIN, ["--root", root, ...args], { env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`vitrine ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
    return r.stdout.trim();
  };
  try {
    run("keygen");
    const link = new URL(run("share", "sealed-stack", "--label", "3d static test"));
    run("build");
    const server = await serve(join(root, "public"));
    return {
      base: server.url,
      link: `${server.url}${link.pathname}${link.hash}`,
      close: async () => {
        await server.close();
        rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Waits until Neuroglancer has drawn every panel with all the data it asked for
 * (`viewer.isReady()`, checked each animation frame) and resolves to that moment in ms since
 * navigation start; rejects after `timeout` ms.
 */
export function firstPlane(page, timeout = 30_000) {
  return page.evaluate(
    (timeout) =>
      new Promise((done, fail) => {
        const t0 = performance.now();
        const poll = () => {
          if (globalThis.viewer?.isReady()) done(performance.now());
          else if (performance.now() - t0 > timeout) fail(new Error(`the 3D view was not ready after ${timeout} ms`));
          else requestAnimationFrame(poll);
        };
        poll();
      }),
    timeout,
  );
}

/**
 * The pixels of Neuroglancer's four panels as drawn (a screenshot of each, decoded in the page):
 * `[{rect, width, height, gray(x, y), near([r, g, b], tolerance), mean, sd}]` in layout order
 * (xy, xz, 3D, yz); `gray` is the mean of R, G and B at panel pixel (x, y), `near` counts the
 * pixels within `tolerance` (sum of absolute differences) of a colour.
 */
export async function panels(page) {
  const rects = await page.$$eval(".neuroglancer-rendered-data-panel", (els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { x: Math.ceil(r.x), y: Math.ceil(r.y), width: Math.floor(r.width), height: Math.floor(r.height) };
    }),
  );
  const out = [];
  for (const rect of rects) {
    const png = await page.screenshot({ clip: rect });
    const data = await page.evaluate(async (b64) => {
      const bitmap = await createImageBitmap(await (await fetch(`data:image/png;base64,${b64}`)).blob());
      const c = new OffscreenCanvas(bitmap.width, bitmap.height).getContext("2d");
      c.drawImage(bitmap, 0, 0);
      const { data, width, height } = c.getImageData(0, 0, bitmap.width, bitmap.height);
      const gray = [], rgb = Array.from(data);
      for (let i = 0; i < data.length; i += 4) gray.push((data[i] + data[i + 1] + data[i + 2]) / 3);
      return { gray, rgb, width, height };
    }, png.toString("base64"));
    const n = data.gray.length;
    const mean = data.gray.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(data.gray.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const near = ([r, g, b], tolerance) => {
      let count = 0;
      for (let i = 0; i < data.rgb.length; i += 4) {
        if (Math.abs(data.rgb[i] - r) + Math.abs(data.rgb[i + 1] - g) + Math.abs(data.rgb[i + 2] - b) <= tolerance) count++;
      }
      return count;
    };
    out.push({ rect, width: data.width, height: data.height, gray: (x, y) => data.gray[y * data.width + x], near, mean, sd });
  }
  return out;
}
