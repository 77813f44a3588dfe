// The public Ed25519 suites in tests/vectors/ed25519/, each with ed25519-dalek's verify_strict
// answer as measured (measured-results.json): the answer every vitrine verifier must give.

import { repo } from "./cases.js";

const hexBytes = (h) => Uint8Array.from(h.match(/../g) || [], (x) => parseInt(x, 16));

const vectorsDir = new URL("tests/vectors/ed25519/", repo).pathname;

const load = async (rel) => JSON.parse(await Deno.readTextFile(`${vectorsDir}/${rel}`));

// Every vector as {id, pk, msg, sig, strict} (byte arrays, and the expected boolean).
export async function ed25519Vectors() {
  const measured = (await load("measured-results.json")).results;
  const out = [];
  const add = (id, pk, msg, sig) => {
    if (!(id in measured)) throw new Error(`${id} has no measured result`);
    out.push({ id, pk: hexBytes(pk), msg, sig: hexBytes(sig), strict: measured[id].dalek_verify_strict });
  };
  for (const g of (await load("wycheproof/ed25519_test.json")).testGroups) {
    for (const t of g.tests) add(`wycheproof:${t.tcId}`, g.publicKey.pk, hexBytes(t.msg), t.sig);
  }
  for (const v of (await load("rfc8032-ed25519.json")).vectors) add(`rfc8032:${v.name}`, v.public_key, hexBytes(v.message), v.signature);
  (await load("speccheck/cases.json")).forEach((v, i) => add(`speccheck:${i}`, v.pub_key, hexBytes(v.message), v.signature));
  for (const v of await load("cctv-ed25519/ed25519vectors.json")) add(`cctv:${v.number}`, v.key, new TextEncoder().encode(v.msg), v.sig);
  if (out.length !== Object.keys(measured).length) throw new Error(`loaded ${out.length} vectors, measured ${Object.keys(measured).length}`);
  return out;
}
