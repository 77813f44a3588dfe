// What the browser suite and the viewer benchmark share: Chromium's flags, finding the site.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { opener } from "./sealed.mjs";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Without the background-networking flags Chromium dials out, and this sandbox refuses it. */
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export async function launch() {
  const { chromium } = await import(join(REPO, "node_modules/playwright-core/index.mjs"));
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/**
 * Resolves the folder to test: a built site as is, or a site root (content/site.yaml, no
 * index.html) built first with `target/debug/vitrine` (VITRINE_BIN overrides) into a temporary
 * folder, which `cleanup` removes.
 */
export function siteDir(arg) {
  if (!arg) throw new Error("usage: <built-site-dir | site-root> (or VITRINE_SITE)");
  const dir = resolve(arg);
  // A folder built elsewhere: its private files stay sealed (no key here to open them).
  if (existsSync(join(dir, "index.html"))) return { dir, open: opener(""), cleanup() {} };
  if (!existsSync(join(dir, "content/site.yaml"))) throw new Error(`${dir}: neither a built site nor a site root`);
  const bin = process.env.VITRINE_BIN || join(REPO, "target/debug/vitrine");
  const out = mkdtempSync(join(tmpdir(), "vitrine-browser-"));
  const cleanup = () => rmSync(out, { recursive: true, force: true });
  const r = spawnSync(bin, ["build", "--root", dir, "--out", join(out, "public")], { encoding: "utf8" });
  if (r.status !== 0) {
    cleanup();
    throw new Error(`${bin} build --root ${dir} failed (${r.status}):\n${r.stderr}${r.error || ""}`);
  }
  if (!existsSync(join(out, "public/index.html"))) {
    cleanup();
    throw new Error(`${bin} build --root ${dir} exited 0 but wrote no index.html (is ${bin} really vitrine? try VITRINE_BIN)`);
  }
  // The key the gates open private files with, so pages are served as a gate serves them.
  const key = spawnSync(bin, ["secret", "--edge", "--root", dir], { encoding: "utf8" });
  if (key.status !== 0) {
    cleanup();
    throw new Error(`${bin} secret --edge --root ${dir} failed (${key.status}):\n${key.stderr}`);
  }
  return { dir: join(out, "public"), open: opener(key.stdout.trim()), cleanup };
}

/** The bytes of output file `rel` of a built site, opened when sealed (see `siteDir`). */
export function readOutput(site, rel) {
  return site.open(rel, readFileSync(join(site.dir, rel)));
}

const unescape = (s) =>
  s.replace(/&(quot|amp|lt|gt|#x27|#39|#x2F|#47);/g, (m, e) =>
    ({ quot: '"', amp: "&", lt: "<", gt: ">", "#x27": "'", "#39": "'", "#x2F": "/", "#47": "/" })[e]);

/** Dataset pages under `sub` (`datasets` or `private`) of a built `site` (from `siteDir`) with
 * their viewer configuration. */
export function viewerPages(site, sub) {
  const dir = site.dir;
  const base = join(dir, sub);
  if (!existsSync(base)) return [];
  const out = [];
  for (const slug of readdirSync(base).sort()) {
    const file = join(base, slug, "index.html");
    if (!existsSync(file)) continue;
    const m = readOutput(site, `${sub}/${slug}/index.html`).toString("utf8").match(/data-viewer="([^"]*)"/);
    out.push({ path: `/${sub}/${slug}/`, file, config: m ? JSON.parse(unescape(m[1])) : null });
  }
  return out;
}

/** The public dataset page best suited to exercise the viewer: a z-stack with pyramids. */
export function pickStack(pages) {
  const withDzi = pages.filter((p) => p.config && p.config.slices.every((s) => s.dzi));
  return withDzi.find((p) => p.config.slices.length > 1) || withDzi[0];
}

/** A named check and its tally: `test` prints `ok`/`FAIL` for each, `finish` the closing
 * `N passed, N failed` line and exits 1 on any failure (also counting `fail`ed setup). */
export function checks() {
  let passed = 0, failed = 0;
  const fail = (name, e) => {
    failed++;
    console.log(`FAIL  ${name}\n      ${String(e && e.message ? e.message : e).split("\n").join("\n      ")}`);
  };
  return {
    async test(name, fn) {
      try {
        await fn();
        passed++;
        console.log(`ok    ${name}`);
      } catch (e) {
        fail(name, e);
      }
    },
    fail,
    finish() {
      console.log(`${passed} passed, ${failed} failed`);
      process.exit(failed ? 1 : 0);
    },
  };
}

/** Throws `msg` unless `cond` holds. */
export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
