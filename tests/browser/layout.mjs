#!/usr/bin/env node
// The first hour of a lab, in Chromium: the bundled example gallery (the repository's own
// content/) served by `vitrine serve` with its gate, at a desktop and a 390 px phone width.
//
//   node tests/browser/layout.mjs
//
// For the gallery, a dataset page, a private page (opened through a real share link) and the
// 401 page it shows without one: a screenshot of each (target/screenshots/<page>-<width>.png),
// no horizontal scrolling, a gap between the header and the content, axe-core clean; at 390 px
// the first card shows without scrolling; the refusal page's footer and the private citation
// say what fits who sees them. Prints `N passed, N failed` last; exits 1 on any failure.
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { assert, checks, launch, REPO } from "./lib.mjs";

const BIN = process.env.VITRINE_BIN || join(REPO, "target/debug/vitrine");
const AXE = join(REPO, "node_modules/axe-core/axe.min.js");
const SHOTS = join(REPO, "target/screenshots");
const WIDTHS = [[1280, 900], [390, 844]];
const PRIVATE = "drosophila-vnc";

const { test, fail, finish } = checks();

// A copy of the example site with its own key folder, one share of the private dataset.
const tmp = mkdtempSync(join(tmpdir(), "vitrine-layout-"));
const root = join(tmp, "site");
cpSync(join(REPO, "content"), join(root, "content"), { recursive: true });
const env = { ...process.env, XDG_CONFIG_HOME: join(tmp, "config") };
delete env.VITRINE_KEY;
const run = (...args) => {
  const r = spawnSync(BIN, ["--root", root, ...args], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`vitrine ${args.join(" ")} failed (${r.status}):\n${r.stderr}`);
  return r.stdout.trim();
};
let server, browser;
// tiny_http's connection pool can leave a connection queued behind kept-alive ones when a
// browser opens several at once, so a first page load may wait for a script until the browser
// gives a socket up (a known preview bug, named in the closing note): one retry after 15 s.
async function goto(page, url) {
  try {
    return await page.goto(url, { timeout: 15_000 });
  } catch {
    return page.goto(url);
  }
}
try {
  run("keygen");
  const link = run("share", PRIVATE, "--label", "layout test");
  const token = new URL(link).searchParams.get("s");

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
  browser = await launch();
  mkdirSync(SHOTS, { recursive: true });

  const pages = [
    ["gallery", "/"],
    ["dataset", "/datasets/hippocampus-sbem/"],
    ["private", `/private/${PRIVATE}/?s=${token}`],
    ["refusal", `/private/${PRIVATE}/`],
  ];
  for (const [width, height] of WIDTHS) {
    for (const [name, path] of pages) {
      const ctx = await browser.newContext({ viewport: { width, height } });
      const page = await ctx.newPage();
      const res = await goto(page, base + path);
      if (name === "refusal") {
        await test(`${name} page at ${width} px answers 401`, () => assert(res.status() === 401, `status ${res.status()}`));
      }
      await page.waitForLoadState("networkidle");
      await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
      const m = await page.evaluate(() => {
        const header = document.querySelector(".masthead").getBoundingClientRect();
        const first = document.querySelector("main").firstElementChild.getBoundingClientRect();
        const card = document.querySelector(".hero, .card");
        return {
          scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth,
          gap: first.top - header.bottom,
          card: card && card.getBoundingClientRect().top,
          footer: document.querySelector(".footer").textContent,
          cite: (document.querySelector("#cite-text") || {}).textContent || "",
        };
      });
      await test(`${name} page at ${width} px: no horizontal scroll`, () =>
        assert(m.scroll <= m.inner, `the page is ${m.scroll} px wide in a ${m.inner} px window`));
      await test(`${name} page at ${width} px: a gap under the header`, () =>
        assert(m.gap >= 16, `the content starts ${m.gap} px under the header`));
      if (name === "gallery" && width === 390) {
        await test("gallery at 390 px: the first card shows without scrolling", () =>
          assert(m.card !== null && m.card < height - 80, `the first card starts at ${m.card} px of ${height}`));
      }
      if (name === "refusal") {
        await test(`refusal page at ${width} px: no "shared with you" footer`, () =>
          assert(!/shared with you/.test(m.footer), m.footer));
      }
      if (name === "private") {
        await test(`private page at ${width} px: cited as under review at its future public address`, () =>
          assert(/under review/.test(m.cite) && !m.cite.includes("/private/") && m.cite.includes(`/datasets/${PRIVATE}/`), m.cite));
      }
      await page.addScriptTag({ path: AXE });
      const found = await page.evaluate(async () => {
        const r = await axe.run(document, { resultTypes: ["violations"] });
        return r.violations.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("; ")}`);
      });
      await test(`${name} page at ${width} px: axe-core finds nothing`, () => assert(!found.length, found.join("\n")));
      await ctx.close();
    }
  }
} catch (e) {
  fail("setup", e);
} finally {
  if (browser) await browser.close();
  if (server) server.kill("SIGINT");
  rmSync(tmp, { recursive: true, force: true });
}
finish();
