// Time to first tile painted: from navigation start to the viewer's `vitrine:first-tile` mark
// (set in the animation frame that draws the first tile), on a local server, cold cache each run.
//
//   bench/viewer [built-site-dir | site-root] [runs]     (default: tests/sites/viewer, 15 runs)
import { join } from "node:path";
import { launch, pickStack, REPO, siteDir, viewerPages } from "../tests/browser/lib.mjs";
import { serve } from "../tests/browser/serve.mjs";

const TARGET_MS = 300;
const site = siteDir(process.argv[2] || process.env.VITRINE_SITE || join(REPO, "tests/sites/viewer"));
const runs = Number(process.argv[3] || 15);
const stack = pickStack(viewerPages(site.dir, "datasets"));
if (!stack) throw new Error(`no dataset page with a deep-zoom viewer in ${site.dir}`);
const server = await serve(site.dir);
const browser = await launch();
const samples = [];
for (let i = 0; i <= runs; i++) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  await page.goto(server.url + stack.path);
  const t = await page.evaluate(
    () =>
      new Promise((done) => {
        const read = () => performance.getEntriesByName("vitrine:first-tile")[0];
        const poll = () => (read() ? done(read().startTime) : setTimeout(poll, 5));
        poll();
      })
  );
  if (i > 0) samples.push(t); // the first run warms the browser process, not the page
  await ctx.close();
}
await browser.close();
await server.close();
site.cleanup();
samples.sort((a, b) => a - b);
const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
const median = q(0.5);
console.log(`viewer: ${stack.path}, ${runs} cold loads, 1280×800`);
console.log(`time to first tile painted: median ${median.toFixed(0)} ms, p90 ${q(0.9).toFixed(0)} ms, min ${samples[0].toFixed(0)} ms, max ${samples.at(-1).toFixed(0)} ms (target < ${TARGET_MS} ms: ${median < TARGET_MS ? "met" : "MISSED"})`);
