// Writes tests/vectors/sealed-files.json: sealed files as docs/share-links.md ("Encryption at rest")
// specifies them, for the gates (tests/edge/run checks every vector in Deno and workerd) and the
// Rust sealer to agree on. Sealed here with Web Crypto (tests/edge/seal.mjs) and vitrine's nonce,
// the first 12 bytes of BLAKE3 keyed with K over path 0x00 plaintext (blake3-wasm, which wrangler
// brings into node_modules), so a sealer that follows the page must write exactly these bytes.
// Run: node_modules/.bin/node tests/edge/make-sealed-files.mjs         (writes the file)
//      node_modules/.bin/node tests/edge/make-sealed-files.mjs --check (exit 1 if it differs)

import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { contentKey, edgeKey, hex, keyName, label, seal } from "./seal.mjs";

const blake3 = createRequire(import.meta.url)("blake3-wasm");
const te = new TextEncoder();
const target = new URL("../vectors/sealed-files.json", import.meta.url);

// The content secret C of the vectors: bytes 00 01 … 1f (a test value, public on purpose).
const C = Uint8Array.from({ length: 32 }, (_, i) => i);
const E = await edgeKey(C);

async function nonce(k, path, plain) {
  const h = blake3.createKeyed(Buffer.from(k));
  h.update(Buffer.concat([Buffer.from(path), Buffer.of(0), Buffer.from(plain)]));
  return new Uint8Array(h.digest()).slice(0, 12);
}

// One vector: `plain` sealed for `sealedFor` (default `path`), presented at `path`, then `tamper`ed.
async function vector(name, comment, path, plain, { ended = "", sealedFor = path, tamper, expected = "open" } = {}) {
  const bytes = typeof plain === "string" ? te.encode(plain) : plain;
  const kn = keyName(sealedFor);
  const lbl = await label(E, kn, ended);
  const n = await nonce(await contentKey(E, lbl), sealedFor, bytes);
  let sealed = await seal(E, sealedFor, bytes, { label: lbl, nonce: n });
  if (tamper) sealed = tamper(sealed.slice());
  return {
    name, comment, path, key_name: kn, ended, label: hex(lbl), nonce: hex(n),
    ...(typeof plain === "string" ? { plaintext: plain } : {}),
    plaintext_hex: hex(bytes), sealed: hex(sealed), expected,
  };
}

const page = "<!doctype html>\n<html><head><title>Confidential cortex volume</title></head><body><h1>Confidential cortex volume</h1></body></html>\n";
const tile = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 255);
const swc = "# a tracing\n1 1 10.0 20.0 0.0 1.0 -1\n2 3 11.0 21.0 0.0 0.5 1\n";
const media = "private/cortex-l4/media/1f2e3d4c5b6a7988/tiles_files/9/0_0.jpg";
const vectors = [
  await vector("dataset-page", "A folder's page: the request /private/cortex-l4/ reads private/cortex-l4/index.html, and that is the associated path.", "private/cortex-l4/index.html", page),
  await vector("media-tile", "A deep-zoom tile, binary, under the media: key name.", media, tile),
  await vector("annotation-file", "A file of an annotation: key name annotation:<slug>/<id>.", "private/cortex-l4/annotations/trace-1/skeleton.swc", swc),
  await vector("annotations-index", "annotations/ with no id after it: the dataset: key name.", "private/cortex-l4/annotations/index.html", "<p>annotations</p>"),
  await vector("empty-file", "No plaintext: the sealed file is the 32-byte header and the 16-byte tag.", "private/cortex-l4/files/empty.txt", ""),
  await vector("non-ascii-path", "The associated path is UTF-8 (the gate decodes the canonical request path /private/cortex-l4/files/caf%C3%A9.csv).", "private/cortex-l4/files/café.csv", "a,b\n1,2\n"),
  await vector("static-ended-shares", "hosting: static: the label covers the ids of the ended shares that could open the name, sorted and joined by `,`; a gate reads the label from the header and needs no more.", "private/cortex-l4/index.html", page, { ended: "0011223344556677,8899aabbccddeeff" }),
  await vector("tampered-ciphertext", "One ciphertext bit flipped: the tag fails, the gate answers 500.", media, tile, { tamper: (b) => (b[40] ^= 1, b), expected: "fail" }),
  await vector("tampered-tag", "The last tag byte changed: 500.", media, tile, { tamper: (b) => (b[b.length - 1] ^= 0x80, b), expected: "fail" }),
  await vector("tampered-nonce", "A nonce bit flipped (the nonce is in the associated data and the IV): 500.", media, tile, { tamper: (b) => (b[25] ^= 4, b), expected: "fail" }),
  await vector("tampered-label", "A label bit flipped: another content key, and the header is associated data: 500.", media, tile, { tamper: (b) => (b[4] ^= 1, b), expected: "fail" }),
  await vector("truncated", "The tag cut off: 500.", media, tile, { tamper: (b) => b.slice(0, b.length - 16), expected: "fail" }),
  await vector("header-only", "Only the 32 header bytes: no tag, 500.", media, tile, { tamper: (b) => b.slice(0, 32), expected: "fail" }),
  await vector("swapped-dataset", "Another dataset's sealed page copied to this path: the path is associated data, 500.", "private/hippo/index.html", page, { sealedFor: "private/cortex-l4/index.html", expected: "fail" }),
  await vector("swapped-file", "A sealed tile renamed to another tile of the same dataset (same key name, same label): 500.", media.replace("0_0.jpg", "0_1.jpg"), tile, { sealedFor: media, expected: "fail" }),
  await vector("swapped-folder-page", "A page sealed as private/cortex-l4/index.html served for /private/cortex-l4/index.html/ would be private/cortex-l4/index.html/index.html: 500.", "private/cortex-l4/index.html/index.html", page, { sealedFor: "private/cortex-l4/index.html", expected: "fail" }),
  await vector("other-version", "Magic 76 74 72 02 is not version 1: not a sealed file, the gate passes it as the host gave it.", media, tile, { tamper: (b) => (b[3] = 2, b), expected: "not-sealed" }),
];

const file = {
  description: "Sealed files (docs/share-links.md, \"Encryption at rest\"). content_secret is C; edge_key is E = HKDF(C, info \"vitrine/edge/v1\", 32 bytes). Each vector: `path` is where the file is presented (the associated path, from the output folder, no leading /); `key_name`, `ended` and `label` as the page derives them for the path it was sealed for; `nonce` is vitrine's (BLAKE3 keyed with K over path 0x00 plaintext, first 12 bytes); `sealed` is the file's bytes, hex; `expected` is `open` (decrypts to plaintext_hex), `fail` (a gate answers 500) or `not-sealed` (no version-1 magic: a gate passes it unchanged).",
  note: "Generated by tests/edge/make-sealed-files.mjs with Web Crypto and blake3-wasm, from the page alone, before the Rust sealer existed (not from the Rust sealer): tests/suite/sealed_files.rs checks that the Rust sealer reproduces every `open` vector byte for byte and refuses every `fail` one; tests/edge/run checks both gates against every vector and that regenerating does not change the file (`--check`).",
  content_secret: hex(C),
  edge_key: hex(E),
  vectors,
};
const text = JSON.stringify(file, null, 1) + "\n";
if (process.argv.includes("--check")) {
  const same = readFileSync(target, "utf8") === text;
  console.log(same ? "tests/vectors/sealed-files.json is what its generator writes" : "tests/vectors/sealed-files.json differs from what its generator writes");
  process.exit(same ? 0 : 1);
}
writeFileSync(target, text);
console.log(`wrote ${target.pathname}: ${vectors.length} vectors`);
