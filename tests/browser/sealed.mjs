// Opens a built site's sealed private files as a gate does (docs/share-links.md, "Encryption at
// rest"), so the browser suite can serve and read private pages like the edges serve them.
// node:crypto, synchronously: the suite reads pages from disk outside any event loop turn.
import { createDecipheriv, hkdfSync } from "node:crypto";

const MAGIC = Buffer.from("vtr\x01", "latin1");

/** A function `(path, bytes) → bytes` opening sealed files with the edge key (64 hex digits);
 * bytes that are not sealed come back as they are, a file that does not open throws. */
export function opener(edgeKeyHex) {
  const edge = Buffer.from(edgeKeyHex, "hex");
  const keys = new Map();
  return (path, bytes) => {
    if (!edgeKeyHex || bytes.length < 48 || !bytes.subarray(0, 4).equals(MAGIC)) return bytes;
    const label = bytes.subarray(4, 20);
    const hexLabel = label.toString("hex");
    if (!keys.has(hexLabel)) {
      const info = Buffer.concat([Buffer.from("vitrine/content/v1\0"), label]);
      keys.set(hexLabel, Buffer.from(hkdfSync("sha256", edge, Buffer.alloc(0), info, 32)));
    }
    const decipher = createDecipheriv("aes-256-gcm", keys.get(hexLabel), bytes.subarray(20, 32));
    decipher.setAAD(Buffer.concat([bytes.subarray(0, 32), Buffer.from(path.replace(/^\//, ""))]));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(32, bytes.length - 16)), decipher.final()]);
  };
}

