// Time to the first rendered plane of the 3D view: from navigation start until Neuroglancer has
// drawn every panel with all the chunks it asked for (`viewer.isReady()`, polled each animation
// frame), in headless Chromium (WebGL 2 in software, SwiftShader) from a loopback static
// server, a cold browser context each run. Also the bytes the page transferred.
//
//   node bench/volume3d.mjs [site-root | built-site] [runs]    (default: tests/sites/volume3d, 10)
//
// The site's first public dataset with a 3D view of its own volume is measured. Target (issue 20): under 3 s.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { REPO, siteDir } from "../tests/browser/lib.mjs";
import { serve } from "../tests/browser/serve.mjs";
import { firstPlane, launchWebgl, panels } from "../tests/browser/view3d-lib.mjs";

const TARGET_MS = 3000;
const site = siteDir(process.argv[2] || join(REPO, "tests/sites/volume3d"));
const runs = Number(process.argv[3] || 10);
// A page on the site's own volume (a `volume:` elsewhere would time the lab's server).
const slug = readdirSync(join(site.dir, "datasets")).find((s) => {
  const page = join(site.dir, "datasets", s, "3d/index.html");
  return existsSync(page) && readFileSync(page, "utf8").includes("zarr3://");
});
if (!slug) {
  site.cleanup();
  throw new Error(`no public dataset with a 3D view of its own volume in ${site.dir}`);
}
const server = await serve(site.dir, site.open);
const browser = await launchWebgl();
const samples = [], bytes = [];
try {
  for (let i = 0; i <= runs; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    let total = 0;
    page.on("requestfinished", async (r) => {
      const s = await r.sizes().catch(() => null);
      if (s) total += s.responseBodySize + s.responseHeadersSize;
    });
    await page.goto(`${server.url}/datasets/${slug}/3d/`);
    const t = await firstPlane(page);
    const [xy] = await panels(page);
    if (!(xy.sd > 8)) throw new Error(`run ${i}: the xy plane is blank when the view says it is ready`);
    // The first run warms the browser process, not the page.
    if (i > 0) {
      samples.push(t);
      bytes.push(total);
    }
    await ctx.close();
  }
} finally {
  await browser.close();
  await server.close();
  site.cleanup();
}
samples.sort((a, b) => a - b);
const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
console.log(`3D view of datasets/${slug}/, ${runs} cold runs, ${cpus().length} cores, load ${loadavg()[0].toFixed(2)}`);
console.log(`time to first rendered plane: median ${q(0.5).toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, max ${samples.at(-1).toFixed(0)} ms (target < ${TARGET_MS} ms: ${samples.at(-1) < TARGET_MS ? "met" : "MISSED"})`);
console.log(`bytes transferred: ${(bytes.reduce((a, b) => a + b, 0) / bytes.length / 1e6).toFixed(2)} MB a load`);
