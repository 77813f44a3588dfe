// Time to first tile painted: from navigation start to the viewer's `vitrine:first-tile` mark
// (set in the animation frame that draws the first tile), on a local server, cold cache each run.
//
//   bench/viewer [built-site-dir | site-root] [runs]     (default: tests/sites/viewer, 15 runs)
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { launch, pickStack, REPO, siteDir, viewerPages } from "../tests/browser/lib.mjs";
import { serve } from "../tests/browser/serve.mjs";

const TARGET_MS = 300;
const site = siteDir(process.argv[2] || process.env.VITRINE_SITE || join(REPO, "tests/sites/viewer"));
const runs = Number(process.argv[3] || 15);
const stack = pickStack(viewerPages(site, "datasets"));
if (!stack) {
  site.cleanup();
  throw new Error(`no dataset page with a deep-zoom viewer in ${site.dir}`);
}
const server = await serve(site.dir, site.open);
const browser = await launch();
const samples = [], fcps = [];
for (let i = 0; i <= runs; i++) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(server.url + stack.path);
  const t = await page.evaluate(
    () =>
      new Promise((done) => {
        const read = () => performance.getEntriesByName("vitrine:first-tile")[0];
        const fcp = () => performance.getEntriesByName("first-contentful-paint")[0];
        const poll = () => (read() && fcp() ? done([read().startTime, fcp().startTime]) : setTimeout(poll, 5));
        poll();
      })
  );
  // The first run warms the browser process, not the page.
  if (i > 0) {
    samples.push(t[0]);
    fcps.push(t[1]);
  }
  await ctx.close();
}
await browser.close();
await server.close();
site.cleanup();
samples.sort((a, b) => a - b);
fcps.sort((a, b) => a - b);
const q = (p, xs = samples) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const median = q(0.5);
const load = loadavg()[0];
console.log(`viewer: ${stack.path}, ${runs} cold loads, 1280×800`);
console.log(`time to first tile painted: median ${median.toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, min ${samples[0].toFixed(0)} ms, max ${samples.at(-1).toFixed(0)} ms (target < ${TARGET_MS} ms: ${median < TARGET_MS ? "met" : "MISSED"})`);
// The page's own first contentful paint and the machine's load put the figure in context.
console.log(`page first contentful paint: median ${q(0.5, fcps).toFixed(0)} ms; load average ${load.toFixed(1)} on ${cpus().length} CPUs`);
