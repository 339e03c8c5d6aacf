// Module hooks (module.register, after tsx's, so they see tsx's answer): a user's program file and the
// ES-module files it imports load as ES modules wherever they are. Node and tsx would otherwise load a .ts
// or .js file in a folder without a package.json saying "type": "module" as CommonJS, which cannot import
// TaskLab (an ES module) on Node 20. Packages (bare specifiers, even when linked outside node_modules),
// files under node_modules, .cjs/.cts files, and files written as CommonJS keep their format.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ESM_SYNTAX = /^\s*(import\s*[\w{*'"]|export\s)/m;

export async function resolve(specifier, context, nextResolve) {
  const r = await nextResolve(specifier, context);
  if (!r.url.startsWith("file:") || r.url.includes("/node_modules/")) return r;
  if (!(r.format === "commonjs" || r.format === "commonjs-typescript")) return r;
  const path = fileURLToPath(r.url);
  if (!/\.(ts|js)$/.test(path)) return r;
  const bare = !/^(\.{1,2}\/|\/|file:)/.test(specifier);
  if (bare) return r; // a package: its own package.json decides
  const entry = context.parentURL === undefined || /\/src\/cli\/main\.ts$/.test(context.parentURL);
  if (entry) return { ...r, format: "module" }; // the program file itself (its CommonJS is reported by the CLI)
  let src = "";
  try { src = readFileSync(path, "utf8"); } catch { return r; }
  return ESM_SYNTAX.test(src) ? { ...r, format: "module" } : r;
}
