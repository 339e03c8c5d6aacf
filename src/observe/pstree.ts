/**
 * pstree (psmisc): the process tree drawn with line characters, as psmisc's
 * dump_tree draws it.
 *
 * - A parent's first child goes on the parent's line after `───` (only child) or
 *   `─┬─`; later children go on new lines under it after `├─`, the last after `└─`.
 * - Threads are children of their process, named `{comm}`.
 * - Without pids, identical sibling subtrees (same names, same shape) are merged into
 *   the first of them as `N*[subtree]`, as psmisc does (pids make every node distinct).
 * - Children are ordered by pid (`pstree -n`); `sort: "name"` gives psmisc's default order.
 *
 * @example
 * pstree(k, 1, { pids: true })
 * // init(1)─┬─a(2)───b(4)
 * //         └─c(3)
 */
import type { Kernel } from "../kernel/kernel.ts";
import type { Task } from "../kernel/task/task.ts";
import { ppidOf } from "./proc.ts";

export interface PstreeOptions {
  /** Show pids as `name(pid)` (pstree -p); turns compaction off. */
  pids?: boolean;
  /** Show threads as `{name}` children (default true, as pstree; -T hides them). */
  threads?: boolean;
  /** ASCII line drawing (pstree -A) instead of Unicode box drawing (-U). */
  ascii?: boolean;
  /** Do not merge identical subtrees (pstree -c). */
  noCompact?: boolean;
  /** Children order: "pid" (pstree -n, the default here) or "name" (psmisc's default). */
  sort?: "pid" | "name";
}

interface Node {
  name: string;
  pid: number;
  children: Node[];
}

interface Symbols {
  empty: string;
  branch: string;
  vert: string;
  last: string;
  single: string;
  first: string;
}

const UTF: Symbols = { empty: "  ", branch: "├─", vert: "│ ", last: "└─", single: "───", first: "─┬─" };
const ASCII: Symbols = { empty: "  ", branch: "|-", vert: "| ", last: "`-", single: "---", first: "-+-" };

/** Builds the tree under root: child processes by parent tgid, threads under their process. */
function buildTree(k: Kernel, root: Task, opts: PstreeOptions): Node {
  const kids = new Map<number, Task[]>();
  for (const t of k.tasks.values()) {
    const parent = t.pid === t.tgid ? ppidOf(t) : opts.threads === false ? -1 : t.tgid;
    if (parent < 0 || t.pid === root.pid) continue;
    let list = kids.get(parent);
    if (!list) kids.set(parent, (list = []));
    list.push(t);
  }
  const byName = opts.sort === "name";
  const make = (t: Task): Node => {
    const children = (t.pid === t.tgid ? kids.get(t.pid) ?? [] : []).map(make);
    children.sort((a, b) => (byName && a.name !== b.name ? (a.name < b.name ? -1 : 1) : a.pid - b.pid));
    const name = escapeComm(t.comm);
    return { name: t.pid === t.tgid ? name : `{${name}}`, pid: t.pid, children };
  };
  return make(root);
}

/** dump_tree's name output: a backslash doubled, a control character as a 3-digit octal escape (psmisc, UTF-8 locale). */
function escapeComm(comm: string): string {
  return comm.replace(/[\\\x00-\x1f\x7f]/g, (ch) => (ch === "\\" ? "\\\\" : "\\" + ch.charCodeAt(0).toString(8).padStart(3, "0")));
}

/** tree_equal: same names and, recursively, the same children. */
function treeEqual(a: Node, b: Node): boolean {
  if (a.name !== b.name || a.children.length !== b.children.length) return false;
  return a.children.every((c, i) => treeEqual(c, b.children[i]!));
}

class Printer {
  readonly lines: string[] = [];
  private line = "";
  private readonly width: number[] = [];
  private readonly more: boolean[] = [];

  constructor(
    private readonly sym: Symbols,
    private readonly pids: boolean,
    private readonly compact: boolean,
  ) {}

  /** dump_tree: prints node at `level`; `leaf` means it continues the parent's line. */
  dump(node: Node, level: number, rep: number, leaf: boolean, last: boolean, closing: number): void {
    if (!leaf) this.indent(level, last);
    const prefix = rep < 2 ? "" : `${rep}*[`;
    this.line += prefix + node.name;
    const offset = this.line.length;
    if (this.pids) this.line += `(${node.pid})`;
    if (node.children.length === 0) this.newline("]".repeat(closing));
    this.more[level] = !last;
    this.width[level] = node.name.length + (this.line.length - offset) + prefix.length;
    this.dumpChildren(node, level, closing);
  }

  private dumpChildren(node: Node, level: number, closing: number): void {
    const rest = [...node.children];
    let first = true;
    while (rest.length > 0) {
      const walk = rest.shift()!;
      let count = 0;
      if (this.compact) {
        for (let i = 0; i < rest.length; ) {
          if (treeEqual(walk, rest[i]!)) {
            rest.splice(i, 1);
            count++;
          } else i++;
        }
      }
      if (first) this.line += rest.length > 0 ? this.sym.first : this.sym.single;
      this.dump(walk, level + 1, count + 1, first, rest.length === 0, closing + (count ? 1 : 0));
      first = false;
    }
  }

  private indent(level: number, last: boolean): void {
    for (let lvl = 0; lvl < level; lvl++) {
      this.line += " ".repeat(this.width[lvl]! + 1);
      if (lvl === level - 1) this.line += last ? this.sym.last : this.sym.branch;
      else this.line += this.more[lvl + 1] ? this.sym.vert : this.sym.empty;
    }
  }

  private newline(tail: string): void {
    this.lines.push(this.line + tail);
    this.line = "";
  }
}

/**
 * The tree of processes under `rootPid` (default init) as pstree prints it, one
 * line per leaf, ending with "\n"; "" when there is no such process.
 */
export function pstree(k: Kernel, rootPid = 1, opts: PstreeOptions = {}): string {
  const root = k.tasks.get(rootPid);
  if (!root || root.pid !== root.tgid) return "";
  const tree = buildTree(k, root, opts);
  const p = new Printer(opts.ascii ? ASCII : UTF, opts.pids === true, !opts.pids && !opts.noCompact);
  p.dump(tree, 0, 1, true, true, 0);
  return p.lines.join("\n") + "\n";
}
