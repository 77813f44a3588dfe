// Reads tests/vectors/share-tokens.json (written from the Rust verifier) into the arguments of the
// edge module's verify(token, scopes, now, keys, revoked) and the answer it must give.

export function tokenCases(file) {
  if (file.format !== "vitrine-share-token-vectors-v1") throw new Error(`share-tokens.json: unknown format ${file.format}`);
  return file.tokens.map((t) => ({
    name: t.name,
    token: t.token,
    scopes: t.scopes,
    now: t.now,
    keys: new Map(t.keys.map((k) => [k.kid, k.public_key])),
    revoked: new Set(t.revoked),
    expect: t.expected.result === "valid" ? "valid" : t.expected.error,
    claims: t.expected.claims,
  }));
}
