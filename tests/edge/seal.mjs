// Encryption at rest as docs/share-links.md ("Encryption at rest") specifies it, written from that
// page with Web Crypto alone, independently of the gates and of the Rust sealer: the tests seal
// files with it, and tests/edge/make-sealed-files.mjs writes tests/vectors/sealed-files.json.
// Runs in Deno and Node alike.

const te = new TextEncoder();
export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
export const unhex = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
export const MAGIC = Uint8Array.of(0x76, 0x74, 0x72, 0x01);
const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
};

// HKDF-SHA256 with an empty salt, `length` bytes.
async function hkdf(ikm, info, length) {
  const key = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: new Uint8Array(), info }, key, length * 8));
}

async function hmac(key, message) {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message));
}

// The edge key E = HKDF(C, "vitrine/edge/v1", 32 bytes) of a content secret C.
export const edgeKey = (c) => hkdf(c, te.encode("vitrine/edge/v1"), 32);

// The key name of a file's path `private/<slug>/<rest>`.
export function keyName(path) {
  const [, slug, ...rest] = path.split("/");
  if (rest[0] === "annotations" && rest.length > 2) return `annotation:${slug}/${rest[1]}`;
  return rest[0] === "media" ? `media:${slug}` : `dataset:${slug}`;
}

// The 16-byte label of a key name: HMAC(E, "vitrine/label/v1" 0x00 name 0x00 ended), cut to 16.
export async function label(e, name, ended = "") {
  return (await hmac(e, te.encode(`vitrine/label/v1\0${name}\0${ended}`))).slice(0, 16);
}

// The content key K = HKDF(E, "vitrine/content/v1" 0x00 label, 32 bytes).
export const contentKey = (e, lbl) => hkdf(e, cat(te.encode("vitrine/content/v1\0"), lbl), 32);

// The associated data: the 32 header bytes, then the file's path (UTF-8, no leading "/").
export const associated = (header, path) => cat(header, te.encode(path));

// A sealed file: magic | label | nonce | AES-256-GCM(K, nonce) of `plain`, tag last. `path` is the
// file's path from the output folder (`private/x/index.html`). `label` defaults to the label of
// the path's key name on a gated hosting; `nonce` to 12 random bytes.
export async function seal(e, path, plain, { label: lbl, nonce } = {}) {
  lbl ??= await label(e, keyName(path));
  nonce ??= crypto.getRandomValues(new Uint8Array(12));
  const header = cat(MAGIC, lbl, nonce);
  const k = await crypto.subtle.importKey("raw", await contentKey(e, lbl), "AES-GCM", false, ["encrypt"]);
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: associated(header, path) }, k, plain));
  return cat(header, sealed);
}

// The plaintext of a sealed file at `path`, or null when it does not decrypt (or is not sealed).
export async function open(e, path, bytes) {
  if (bytes.length < 48 || MAGIC.some((b, i) => bytes[i] !== b)) return null;
  const k = await crypto.subtle.importKey("raw", await contentKey(e, bytes.subarray(4, 20)), "AES-GCM", false, ["decrypt"]);
  try {
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(20, 32), additionalData: associated(bytes.subarray(0, 32), path) }, k, bytes.subarray(32)));
  } catch {
    return null;
  }
}

export const isSealed = (bytes) => bytes.length >= 4 && MAGIC.every((b, i) => bytes[i] === b);
