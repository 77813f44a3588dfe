// Shared by the Deno and workerd gate tests: a small site of files sealed in JS (tests/edge/seal.mjs,
// written from docs/share-links.md) under the test edge key of tests/vectors/sealed-files.json, the
// requests to send through a gate, and the check of each answer, so both runtimes are judged by
// the same rules. The gate data is the fixture's (tests/vectors/gate-cases.json): the cookies
// below open dataset:cortex and annotation:cortex/trace-1.

import { data, repo } from "./cases.js";
import { hex, seal, unhex } from "./seal.mjs";

export const vectors = JSON.parse(await Deno.readTextFile(new URL("tests/vectors/sealed-files.json", repo)));
export const EDGE_KEY = vectors.edge_key;
const te = new TextEncoder();

// Words that appear only in the plaintexts: no answer but a decrypted one may contain them.
export const MARKERS = ["Confidential cortex volume", "SECRET-TILE-MARKER", "trace-one-nodes"];
const page = te.encode(`<!doctype html>\n<html><head><title>${MARKERS[0]}</title></head><body><p>the page</p></body></html>\n`);
// A tile of 4 KB: the marker, then bytes that are not text.
const tile = new Uint8Array(4096);
tile.set(te.encode(MARKERS[1]));
for (let i = 64; i < tile.length; i++) tile[i] = (i * 131 + 7) & 255;
const swc = te.encode(`# ${MARKERS[2]}\n1 1 10 20 0 1 -1\n`);
const TILE = "private/cortex/media/00ff00ff00ff00ff/tiles_files/9/0_0.jpg";

// Writes the site to a new temporary folder; returns its path.
export async function makeSealedSite(e = unhex(EDGE_KEY)) {
  const dir = await Deno.makeTempDir({ prefix: "vitrine-sealed-" });
  const put = async (path, bytes) => {
    await Deno.mkdir(`${dir}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeFile(`${dir}/${path}`, bytes);
  };
  await put("404.html", te.encode("<!doctype html><title>Not found</title>\n"));
  await put("private/cortex/index.html", await seal(e, "private/cortex/index.html", page));
  await put(TILE, await seal(e, TILE, tile));
  await put("private/cortex/annotations/trace-1/skeleton.swc", await seal(e, "private/cortex/annotations/trace-1/skeleton.swc", swc));
  // One ciphertext byte flipped.
  const tampered = await seal(e, "private/cortex/tampered.jpg", tile);
  tampered[100] ^= 1;
  await put("private/cortex/tampered.jpg", tampered);
  // Another dataset's page, and another tile of this one, copied where they do not belong.
  await put("private/cortex/swapped/index.html", await seal(e, "private/hippo/index.html", page));
  await put("private/cortex/media/00ff00ff00ff00ff/tiles_files/9/0_1.jpg", await seal(e, TILE, tile));
  // A file that is not sealed (a site built before encryption at rest): passed as the host gives it.
  await put("private/cortex/plain.txt", te.encode("not sealed\n"));
  return dir;
}

const D = `vitrine_d=${data.tokens.cortex}`, A = `vitrine_a_trace-1=${data.tokens.trace1}`;
// {name, method, path, cookie, headers, want: {status, body (bytes) | kind}, type}
export const sealedCases = [
  { name: "the dataset page, decrypted", path: "/private/cortex/", cookie: D, want: { status: 200, body: page }, type: "text/html; charset=utf-8" },
  { name: "the dataset page, HEAD", method: "HEAD", path: "/private/cortex/", cookie: D, want: { status: 200, body: new Uint8Array() }, type: "text/html; charset=utf-8" },
  { name: "a tile, decrypted", path: "/" + TILE, cookie: D, want: { status: 200, body: tile }, type: "image/jpeg" },
  { name: "a tile with an annotation's cookie", path: "/" + TILE, cookie: A, want: { status: 200, body: tile }, type: "image/jpeg" },
  { name: "a tile asked for by Range: the whole file, decrypted", path: "/" + TILE, cookie: D, headers: { Range: "bytes=0-99" }, want: { status: 200, body: tile }, type: "image/jpeg" },
  { name: "an annotation's file", path: "/private/cortex/annotations/trace-1/skeleton.swc", cookie: A, want: { status: 200, body: swc } },
  { name: "a tile without a cookie is refused before any decryption", path: "/" + TILE, want: { status: 401 } },
  { name: "a missing file is the host's 404", path: "/private/cortex/media/00ff00ff00ff00ff/tiles_files/9/9_9.jpg", cookie: D, want: { status: 404 } },
  { name: "a tampered ciphertext is a 500", path: "/private/cortex/tampered.jpg", cookie: D, want: { status: 500, kind: "broken" } },
  { name: "another dataset's page copied here is a 500", path: "/private/cortex/swapped/", cookie: D, want: { status: 500, kind: "broken" } },
  { name: "another tile copied here is a 500", path: "/private/cortex/media/00ff00ff00ff00ff/tiles_files/9/0_1.jpg", cookie: D, want: { status: 500, kind: "broken" } },
  { name: "a tampered ciphertext, HEAD, is a 500 without a body", method: "HEAD", path: "/private/cortex/tampered.jpg", cookie: D, want: { status: 500, body: new Uint8Array() } },
  { name: "a file without the magic passes as the host gave it", path: "/private/cortex/plain.txt", cookie: D, want: { status: 200, body: te.encode("not sealed\n") } },
];

// Without an edge key: every sealed file a 500 naming the fix, a plain file and a 404 as before.
export const keylessCases = [
  ...sealedCases.filter((c) => c.want.status === 200 && !c.name.includes("magic")).map((c) => ({ ...c, name: c.name + ", no edge key", want: { status: 500, kind: "no-key", body: c.method === "HEAD" ? new Uint8Array() : undefined } })),
  ...sealedCases.filter((c) => c.want.status === 404 || c.name.includes("magic")).map((c) => ({ ...c, name: c.name + ", no edge key" })),
];

// Problems with an answer {status, header(name), bytes} to a sealed case; `fix` is what the gate's
// no-key answer must name.
export function checkSealed(c, res, fix) {
  const bad = [];
  const text = new TextDecoder().decode(res.bytes);
  if (res.status !== c.want.status) bad.push(`status ${res.status}, want ${c.want.status}`);
  if (res.header("cache-control") !== data.gated_headers.cache_control) bad.push(`Cache-Control ${res.header("cache-control")}`);
  if (c.want.body && hex(res.bytes) !== hex(c.want.body)) bad.push(`body of ${res.bytes.length} bytes (${JSON.stringify(text.slice(0, 60))}), want ${c.want.body.length} bytes`);
  if (c.want.status === 200 && c.type && res.header("content-type") !== c.type) bad.push(`Content-Type ${res.header("content-type")}, want ${c.type}`);
  if (c.want.status === 200 && c.want.body !== undefined && c.name.includes("decrypted")) {
    // The host's headers described the ciphertext.
    if (res.header("etag")) bad.push(`ETag ${res.header("etag")} kept`);
    const length = res.header("content-length");
    if (length !== null && Number(length) !== c.want.body.length) bad.push(`Content-Length ${length}, the body is ${c.want.body.length}`);
  }
  if (c.want.status === 500 && c.method !== "HEAD") {
    if (c.want.kind === "no-key" && !text.includes(fix)) bad.push(`the 500 does not name the fix: ${JSON.stringify(text)}`);
    if (!/^text\/plain/.test(res.header("content-type") ?? "")) bad.push(`500 Content-Type ${res.header("content-type")}`);
  }
  // Nothing of a plaintext, and no ciphertext, in any answer that is not the decrypted file.
  if (c.want.status !== 200) {
    for (const m of MARKERS) if (text.includes(m)) bad.push(`the answer contains "${m}"`);
    if (res.bytes.slice(0, 4).join() === "118,116,114,1") bad.push("the answer is a sealed file");
    if (c.want.status === 500 && res.bytes.length > 300) bad.push(`the 500 has ${res.bytes.length} bytes: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return bad;
}
