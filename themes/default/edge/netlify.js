// vitrine share gate (Netlify edge function), written by `vitrine build`: do not edit.
// Netlify runs it before serving anything under /private/; context.next() serves the file.
{% include "gate.js" %}

export default async (request, context) => {
  const r = await gate(request);
  return r == FILE ? privately(await context.next()) : r || context.next();
};

export const config = { path: "/private/*" };
