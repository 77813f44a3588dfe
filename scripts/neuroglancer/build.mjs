#!/usr/bin/env node
// Builds the 3D view's bundle into themes/default/static/neuroglancer/ (or the folder given as
// the first argument, which `tests/neuroglancer-bundle` uses to check that the committed bundle
// is exactly this script's output): `npm ci --ignore-scripts && node build.mjs` in this folder.
//
// The inputs are pinned by package-lock.json (neuroglancer 2.41.2, esbuild 0.28.1), and
// esbuild's output depends only on them, so the bundle is reproducible byte for byte.
//
// What is compiled in is chosen with Neuroglancer's own package conditions: the image and
// annotation layers, the zarr, n5 and precomputed sources, the http, gcs, s3, gzip and
// byte-range stores; nothing that asks a credentials server (middleauth, ngauth, brainmaps,
// boss), and no state server.
//
// Beside the code it writes LICENSE (Neuroglancer's Apache-2.0 text; the package has no NOTICE
// file) and THIRD_PARTY_LICENSES.txt with the licence of every other package the bundle
// contains, read from the files esbuild reports as inputs.
import { build } from "esbuild";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, "../../themes/default/static/neuroglancer"));
const lib = join(here, "node_modules/neuroglancer/lib");

const enabled = [
  "layer/image",
  "layer/annotation",
  "datasource/zarr",
  "datasource/n5",
  "datasource/precomputed",
  "kvstore/http",
  "kvstore/gcs",
  "kvstore/s3",
  "kvstore/gzip",
  "kvstore/byte_range",
];

// esbuild has no notion of `new Worker(new URL(literal, import.meta.url))` (its issue #312), so
// the two worker addresses Neuroglancer writes are rewritten to the names this build gives the
// workers; the chunk worker's address can be overridden by the page (view3d.js), so that a
// private dataset's page can start it from inside its service worker's scope.
const workerUrls = {
  name: "vitrine-worker-urls",
  setup(b) {
    const rewrite = (file, from, to) =>
      b.onLoad({ filter: new RegExp(file.replace(/[.]/g, "\\.") + "$") }, (args) => {
        const text = readFileSync(args.path, "utf8");
        if (!text.includes(from)) throw new Error(`${args.path} no longer contains ${from}`);
        return { contents: text.replace(from, to), loader: "js" };
      });
    rewrite(
      "lib/data_management_context.js",
      'new URL("./chunk_worker.bundle.js", import.meta.url)',
      'new URL(globalThis.VITRINE_CHUNK_WORKER ?? "./chunk_worker.js", import.meta.url)',
    );
    rewrite(
      "lib/async_computation/request.js",
      'new URL("../async_computation.bundle.js", import.meta.url)',
      'new URL("./async_computation.js", import.meta.url)',
    );
  },
};

// Neuroglancer imports its icons as `x.svg?raw` (a webpack/vite idiom): the text of the file.
// It pins ikonate to a git commit, which only a registry install can bring here; ikonate 1.1.1
// from the registry lacks three of the icons it names, so vitrine's own drawings in icons/
// stand in for those.
const rawImports = {
  name: "vitrine-raw-imports",
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, async (args) => {
      const name = args.path.slice(0, -4);
      const own = join(here, "icons", name.replace(/^ikonate\/icons\//, ""));
      if (name.startsWith("ikonate/icons/") && existsSync(own)) return { path: own };
      const found = await b.resolve(name, { kind: args.kind, resolveDir: args.resolveDir });
      return { path: found.path, errors: found.errors };
    });
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = await build({
  absWorkingDir: here,
  entryPoints: {
    view3d: join(here, "view3d.js"),
    chunk_worker: join(lib, "chunk_worker.bundle.js"),
    async_computation: join(lib, "async_computation.bundle.js"),
  },
  outdir: out,
  bundle: true,
  splitting: true,
  format: "esm",
  chunkNames: "chunk-[hash]",
  minify: true,
  target: ["chrome120", "firefox121", "safari17"],
  conditions: [
    "neuroglancer/layer:none_by_default",
    "neuroglancer/datasource:none_by_default",
    "neuroglancer/kvstore:none_by_default",
    ...enabled.map((e) => `neuroglancer/${e}:enabled`),
  ],
  loader: { ".svg": "text" },
  legalComments: "none",
  metafile: true,
  logLevel: "warning",
  plugins: [rawImports, workerUrls],
});

// The decoders Neuroglancer fetches next to its code (`new URL("x.wasm", import.meta.url)`).
const inputs = Object.keys(result.metafile.inputs);
for (const input of inputs) {
  const text = readFileSync(join(here, input), "utf8");
  for (const [, wasm] of text.matchAll(/new URL\("\.\/([a-z_]+\.wasm)", import\.meta\.url\)/g)) {
    // JPEG XL chunks of a precomputed volume: 1.7 MB of decoder for a rare encoding, which the
    // "Open in Neuroglancer" link still shows.
    if (wasm === "jxl_decoder.wasm") continue;
    copyFileSync(join(here, dirname(input), wasm), join(out, wasm));
  }
}

// Licences: Neuroglancer's own, then every other package whose files went in.
copyFileSync(join(here, "node_modules/neuroglancer/LICENSE"), join(out, "LICENSE"));
const packages = new Map();
for (const input of inputs) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (m && m[1] !== "neuroglancer") packages.set(m[1], join(here, "node_modules", m[1]));
}
let third =
  "Third-party software in this folder's JavaScript bundle, besides Neuroglancer (LICENSE).\n" +
  "Three icons (code-alt, controls-alt, layers) are vitrine's own drawings, under vitrine's licence.\n";
for (const [name, dir] of [...packages].sort()) {
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  if (!file) throw new Error(`${name} has no licence file: add its text here by hand`);
  third += `\n${"=".repeat(72)}\n${name} ${meta.version} (${meta.license})\n${"=".repeat(72)}\n\n`;
  third += readFileSync(join(dir, file), "utf8").trim() + "\n";
}
writeFileSync(join(out, "THIRD_PARTY_LICENSES.txt"), third);
