// vitrine share gate for Netlify Edge Functions (Deno), written by `vitrine build`; do not edit.
// Netlify runs it before serving anything under /private/; context.next() serves the file.
{% include "gate.js" %}

export default async (request, context) => {
  const d = await gate(request);
  if (d.response) return d.response;
  return d.kind == FILE ? privateFile(await context.next()) : context.next();
};

export const config = { path: "/private/*" };
