// Module hooks (module.register, after tsx's, so they see tsx's answer): a user's program file and the
// files it imports load as ES modules wherever they are. Node and tsx would otherwise load a .ts or .js
// file in a folder without a package.json saying "type": "module" as CommonJS, which cannot import
// TaskLab (an ES module) on Node 20. Files under node_modules, and .cjs and .cts files, keep their format.
export async function resolve(specifier, context, nextResolve) {
  const r = await nextResolve(specifier, context);
  if (!r.url.startsWith("file:") || r.url.includes("/node_modules/")) return r;
  if ((r.format === "commonjs" || r.format === "commonjs-typescript") && /\.(ts|js)$/.test(new URL(r.url).pathname)) return { ...r, format: "module" };
  return r;
}
