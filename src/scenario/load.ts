/**
 * Parse workload text (YAML or JSON; JSON goes through the same YAML parser,
 * YAML being a superset) into a {@link Workload}, reporting problems as
 * {@link WorkloadError}s that point at `file:line:col` and the field path.
 *
 * No node:* imports: the caller reads the file and passes text + name.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node as YamlNode } from "yaml";
import { parse as parseJson, type ParseError } from "jsonc-parser";
import type { z } from "zod";
import { issueIsAboutKey, issuePath, workloadSchema, type Workload } from "./workload.ts";

export class WorkloadError extends Error {
  override name = "WorkloadError";
  constructor(
    readonly file: string,
    /** 1-based */
    readonly line: number,
    /** 1-based */
    readonly column: number,
    /** Field path like `tasks[0].run[2].compute`; empty for syntax errors and the top level. */
    readonly field: string,
    /** What is wrong and what is allowed. */
    readonly reason: string,
  ) {
    const oneLine = reason.replace(/\s*\n\s*/g, " ");
    super(`${file}:${line}:${column}: ${field ? `${field}: ` : ""}${oneLine}`);
  }
}

type Path = readonly PropertyKey[];

/** `tasks[0].run[2].compute`; keys that are not identifiers are quoted: `programs["my prog"][0]`. */
export function formatPath(path: Path): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const s = String(seg);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(s)) out += out ? `.${s}` : s;
      else out += `[${JSON.stringify(s)}]`;
    }
  }
  return out;
}

/** The string a mapping key becomes in the decoded data. */
function keyString(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  if (key === null || key === undefined) return "";
  return String(key);
}

interface Pos {
  line: number;
  col: number;
}

/** Parse workload text. `file` is only used in error messages. */
export function parseWorkload(text: string, file: string): Workload {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark (Windows editors write one)
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    keepSourceTokens: true,
    prettyErrors: false,
    uniqueKeys: true,
  });

  const posAt = (offset: number): Pos => lineCounter.linePos(offset);
  if (/\.json$/i.test(file)) {
    // JSON is parsed as YAML for the positions, but must be JSON: no trailing commas, no single quotes.
    try {
      JSON.parse(text);
    } catch (e) {
      // Where: jsonc-parser's strict mode reports the offending token (Node's messages often give no position).
      let off: number;
      try {
        const errors: ParseError[] = [];
        parseJson(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false });
        off = errors[0]?.offset ?? 0;
      } catch {
        // Nested too deeply for its recursion: where JSON.parse says, if it says.
        const msg = (e as Error).message;
        off = /end of JSON input/.test(msg) ? text.length : Number(/at position (\d+)/.exec(msg)?.[1] ?? 0);
      }
      const { line, col } = posAt(off);
      const what = off >= text.length ? "unexpected end of the file" : `unexpected ${JSON.stringify(String.fromCodePoint(text.codePointAt(off)!))}`;
      throw new WorkloadError(file, line, col, "", `JSON syntax error: ${what}`);
    }
  }
  const nodePos = (node: { range?: readonly number[] | null } | null | undefined): Pos | undefined =>
    node?.range ? posAt(node.range[0]!) : undefined;

  if (doc.errors.length > 0) {
    const err = doc.errors[0]!;
    const { line, col } = posAt(err.pos[0]);
    const reason =
      err.code === "MULTIPLE_DOCS"
        ? "YAML syntax error: a workload file must hold a single YAML document (found a second one)"
        : `YAML syntax error: ${err.message.length > 200 ? `${err.message.slice(0, 200)}...` : err.message}`;
    throw new WorkloadError(file, line, col, "", /\.json$/i.test(file) ? reason.replace(/^YAML/, "JSON") : reason);
  }

  const raw = toPlain(doc, file, posAt);
  const schema = workloadSchema({ lineOf: (obj) => nodePos(raw.nodes.get(obj))?.line });
  const result = schema.safeParse(raw.value);
  if (result.success) return result.data;

  // Report the issue that comes first in the file; a missing key last of all, as an unknown key
  // elsewhere is often the same key misspelled ("task:" for "tasks:"), and says more.
  let best: { pos: Pos; path: Path; iss: z.core.$ZodIssue } | undefined;
  const missing = (iss: z.core.$ZodIssue): boolean => iss.message.startsWith("missing;");
  for (const iss of result.error.issues) {
    const path = issuePath(iss);
    const pos = locate(doc, path, issueIsAboutKey(iss), nodePos);
    const before = !best || (missing(best.iss) && !missing(iss)) || (missing(best.iss) === missing(iss) && (pos.line < best.pos.line || (pos.line === best.pos.line && pos.col < best.pos.col)));
    if (before) best = { pos, path, iss };
  }
  const { pos, path, iss } = best!;
  throw new WorkloadError(file, pos.line, pos.col, formatPath(path), iss.message);
}

/**
 * Position of the node at `path`, or of its nearest existing ancestor.
 * With `atKey`, points at the mapping key of the last segment instead of its value.
 */
function locate(
  doc: Document,
  path: Path,
  atKey: boolean,
  nodePos: (n: { range?: readonly number[] | null } | null | undefined) => Pos | undefined,
): Pos {
  const fallback: Pos = { line: 1, col: 1 };
  let node: unknown = doc.contents;
  let pos = nodePos(node as YamlNode | null) ?? fallback;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    for (let hops = 0; isAlias(node) && hops < 100; hops++) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyString(p.key) === String(seg));
      if (!pair) return pos;
      const value = pair.value as YamlNode | null;
      const keyPos = nodePos(pair.key as YamlNode | null) ?? pos;
      const r = value?.range;
      const emptyValue = !value || !r || (r[0] === r[1] && isScalar(value) && value.value === null);
      if (last && atKey) return keyPos;
      pos = emptyValue ? keyPos : (nodePos(value) ?? keyPos);
      node = value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg] as YamlNode | null | undefined;
      if (!item) return pos;
      pos = nodePos(item) ?? pos;
      node = item;
    } else {
      return pos;
    }
  }
  return pos;
}

/** Calls `f` once per node as written (aliases not followed). */
function visitCount(node: unknown, f: () => void): void {
  if (node === null || node === undefined) return;
  f();
  if (isMap(node)) for (const pair of node.items) visitCount(pair.value, f);
  else if (isSeq(node)) for (const item of node.items) visitCount(item, f);
}

/**
 * Decode the document into plain data (like `doc.toJS()`), remembering which
 * YAML node each decoded mapping/list came from so steps get a source line.
 */
function toPlain(
  doc: Document,
  file: string,
  posAt: (offset: number) => Pos,
): { value: unknown; nodes: WeakMap<object, YamlNode> } {
  const nodes = new WeakMap<object, YamlNode>();
  const active = new Set<unknown>();
  // Aliases may nest so that a few lines stand for billions of nodes ("billion laughs"): cap what
  // they expand to, at 1,000,000 nodes plus 100 per node written in the file (a 1,000-step program
  // shared by 200 tasks is 400,000; nine levels of nine-fold aliases are 387 million).
  let written = 0;
  visitCount(doc.contents, () => written++);
  const cap = 1_000_000 + 100 * written;
  let made = 0;
  let outerAlias: YamlNode | null = null; // the alias in the file whose expansion is in progress
  const resolved = new Map<object, unknown>();
  const fail = (node: YamlNode, reason: string): never => {
    const { line, col } = node.range ? posAt(node.range[0]) : { line: 1, col: 1 };
    throw new WorkloadError(file, line, col, "", reason);
  };

  const conv = (node: unknown): unknown => {
    if (node === null || node === undefined) return null;
    if (++made > cap) return fail(outerAlias ?? (node as YamlNode), `YAML aliases expand to more than ${cap} nodes (aliases inside aliases multiply); write repetition with count or repeat instead`);
    if (isAlias(node)) {
      // Alias.resolve searches the document for the anchor: once per alias node, not per expansion.
      let target = resolved.get(node);
      if (target === undefined) resolved.set(node, (target = node.resolve(doc) ?? null));
      if (!target) return fail(node, `YAML syntax error: unknown alias *${node.source}`);
      if (active.has(target)) return fail(node, `YAML syntax error: alias *${node.source} refers to a node that contains it`);
      if (outerAlias !== null) return conv(target);
      outerAlias = node;
      const v = conv(target);
      outerAlias = null;
      return v;
    }
    if (isScalar(node)) return node.value;
    if (isMap(node)) {
      active.add(node);
      const out: Record<string, unknown> = {};
      for (const pair of node.items) {
        // defineProperty: a "__proto__" key becomes an ordinary (and then unknown) key
        Object.defineProperty(out, keyString(pair.key), {
          value: conv(pair.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      active.delete(node);
      nodes.set(out, node);
      return out;
    }
    if (isSeq(node)) {
      active.add(node);
      const out = node.items.map(conv);
      active.delete(node);
      nodes.set(out, node);
      return out;
    }
    return fail(node as YamlNode, "YAML syntax error: unsupported node");
  };

  return { value: conv(doc.contents), nodes };
}
