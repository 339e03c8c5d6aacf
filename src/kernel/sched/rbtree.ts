/*
 * Red-black tree, modelled on the Linux kernel's lib/rbtree.c,
 * include/linux/rbtree_augmented.h and struct rb_root_cached.
 *
 * Invariants (checked by RbTree.check()):
 *   1. every node is red or black; the root is black;
 *   2. a red node has no red child;
 *   3. every path from a node down to a null link crosses the same number
 *      of black nodes (the "black height").
 * Together they bound the height by 2*log2(n+1), so insert, erase and
 * lookup are O(log n). Rebalancing is iterative (no recursion) and the
 * tree never allocates: nodes are intrusive, i.e. embedded in their owner
 * (a scheduling entity) and linked/unlinked in place, as in the kernel.
 *
 * Leftmost cache (rb_root_cached): the tree remembers its smallest node,
 * so first() is O(1). CFS keys the tree by vruntime and only ever needs
 * the leftmost entity.
 *
 * Augmentation: each node carries a number `aug` that summarises its
 * whole subtree, computed from the node's own value and its children's
 * `aug` (e.g. the minimum of some field). The tree keeps it exact across
 * inserts, erases and rotations with the kernel's three callbacks:
 * propagate (recompute up a path, stopping once nothing changes), copy
 * (a node taking another's place inherits its summary) and rotate (the
 * new subtree top inherits the old top's summary; the old top is
 * recomputed). EEVDF keys the tree by virtual deadline and augments each
 * node with the minimum vruntime of its subtree, so the eligible entity
 * with the earliest deadline can be found in O(log n) by pruning subtrees
 * whose minimum vruntime proves nothing in them is eligible.
 *
 * Keys. Every tree here orders by one number (a deadline or a vruntime),
 * so the tree takes a `keyOf` function instead of a comparator, and the
 * augmentation is the minimum of a second number (`auxOf`) over the
 * subtree. Both are read once, when a node is inserted. As in the kernel
 * (where changing the key of a linked node in place corrupts the tree), a
 * value's key and aux must not change while its node is on a tree: take it
 * off, change it, put it back; `updateAug` re-reads aux for an in-place
 * change. check() reports a key that changed behind the tree's back.
 *
 * Storage: struct of arrays. While on a tree, a node occupies a slot of
 * that tree's typed arrays (left, right and parent slots, colour, key,
 * aux, subtree minimum); the RbNode object is the owner's handle (the
 * rb_node embedded in the kernel's sched_entity) and remembers its tree
 * and slot. Slots are taken at insert and given back at erase, so a tree's
 * nodes sit together in a few small arrays however scattered their owners
 * are in memory: a descent compares neighbouring doubles instead of
 * chasing node -> entity -> boxed number at every level, which is where a
 * simulation with thousands of tasks spends its time (cache misses).
 * Rebalancing relinks slots in place; a node never changes slot while on
 * a tree.
 */

/** The number a tree orders its values by (smaller first; equal keys in insertion order). */
export type RbKey<T> = (value: T) => number;

/** The null link. */
const NIL = -1;

/** The owner's handle on its tree node (rb_node). */
export class RbNode<T> {
  /** The tree it is on, or null. */
  tree: RbTree<T> | null = null;
  /** Its slot in that tree's arrays while on it, else -1. */
  slot = NIL;

  constructor(public value: T) {}

  /** True while the node is linked into a tree. */
  get onTree(): boolean {
    return this.tree !== null;
  }
  get left(): RbNode<T> | null {
    return this.tree === null ? null : this.tree.nodeAt(this.tree.L[this.slot]!);
  }
  get right(): RbNode<T> | null {
    return this.tree === null ? null : this.tree.nodeAt(this.tree.R[this.slot]!);
  }
  get parent(): RbNode<T> | null {
    return this.tree === null ? null : this.tree.nodeAt(this.tree.P[this.slot]!);
  }
  /** Colour; writable only so tests can break an invariant on purpose. */
  get red(): boolean {
    return this.tree !== null && this.tree.C[this.slot] === 1;
  }
  set red(v: boolean) {
    if (this.tree !== null) this.tree.C[this.slot] = v ? 1 : 0;
  }
  /** The key it was inserted with (NaN when not on a tree). */
  get key(): number {
    return this.tree === null ? NaN : this.tree.K[this.slot]!;
  }
  /** Augmented subtree summary: the minimum aux in its subtree (NaN when not on a tree). */
  get aug(): number {
    return this.tree === null ? NaN : this.tree.G[this.slot]!;
  }
}

const grownF = (a: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> => {
  const b = new Float64Array(n);
  b.set(a);
  return b;
};
const grownI = (a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> => {
  const b = new Int32Array(n);
  b.set(a);
  return b;
};

export class RbTree<T> {
  size = 0;
  /** Slot arrays: left, right and parent links (NIL = none), colour (1 red), key, aux, subtree minimum of aux. */
  L: Int32Array<ArrayBuffer>;
  R: Int32Array<ArrayBuffer>;
  P: Int32Array<ArrayBuffer>;
  C: Uint8Array<ArrayBuffer>;
  K: Float64Array<ArrayBuffer>;
  X: Float64Array<ArrayBuffer>;
  G: Float64Array<ArrayBuffer>;
  /** The handle in each slot. */
  private nodes: (RbNode<T> | null)[] = [];
  /** The value in each slot (handle.value), so finding an owner does not touch its handle. */
  private vals: (T | null)[] = [];
  private free: Int32Array<ArrayBuffer>;
  private nFree = 0;
  private used = 0;
  private rootS = NIL;
  private leftS = NIL;
  private readonly augmented: boolean;

  /**
   * @param keyOf the order (read once per insert)
   * @param auxOf if given, each node's `aug` is kept as the minimum of auxOf over its subtree
   */
  constructor(
    readonly keyOf: RbKey<T>,
    readonly auxOf?: RbKey<T>,
    capacity = 16,
  ) {
    this.augmented = auxOf !== undefined;
    this.L = new Int32Array(capacity);
    this.R = new Int32Array(capacity);
    this.P = new Int32Array(capacity);
    this.C = new Uint8Array(capacity);
    this.K = new Float64Array(capacity);
    this.X = new Float64Array(capacity);
    this.G = new Float64Array(capacity);
    this.free = new Int32Array(capacity);
  }

  /** The handle in slot s, or null for NIL. */
  nodeAt(s: number): RbNode<T> | null {
    return s === NIL ? null : this.nodes[s]!;
  }

  get root(): RbNode<T> | null {
    return this.nodeAt(this.rootS);
  }

  /** Smallest node, O(1). */
  first(): RbNode<T> | null {
    return this.nodeAt(this.leftS);
  }

  /** Largest node, O(log n). */
  last(): RbNode<T> | null {
    let s = this.rootS;
    if (s === NIL) return null;
    while (this.R[s] !== NIL) s = this.R[s]!;
    return this.nodes[s]!;
  }

  next(node: RbNode<T>): RbNode<T> | null {
    return this.nodeAt(this.nextS(node.slot));
  }

  prev(node: RbNode<T>): RbNode<T> | null {
    const { L, P } = this;
    let s = node.slot;
    if (L[s] !== NIL) {
      s = L[s]!;
      while (this.R[s] !== NIL) s = this.R[s]!;
      return this.nodes[s]!;
    }
    while (P[s] !== NIL && s === L[P[s]!]) s = P[s]!;
    return this.nodeAt(P[s]!);
  }

  private nextS(s: number): number {
    const { L, R, P } = this;
    if (R[s] !== NIL) {
      s = R[s]!;
      while (L[s] !== NIL) s = L[s]!;
      return s;
    }
    while (P[s] !== NIL && s === R[P[s]!]) s = P[s]!;
    return P[s]!;
  }

  /** In-order nodes. The yielded node may be erased during iteration. */
  *[Symbol.iterator](): IterableIterator<RbNode<T>> {
    let n = this.first();
    while (n !== null) {
      const nx = this.next(n);
      yield n;
      n = nx;
    }
  }

  /** Slot of the smallest node, or -1 (for the slot accessors below). */
  firstSlot(): number {
    return this.leftS;
  }
  /** The value, key and aux in slot s (a slot on this tree). */
  valueAt(s: number): T {
    return this.vals[s]!;
  }
  keyAt(s: number): number {
    return this.K[s]!;
  }
  auxAt(s: number): number {
    return this.X[s]!;
  }

  /**
   * Slot of the leftmost node whose aux satisfies `ok`, or -1, where `ok`
   * holds for every value at or below some threshold (a monotone test such
   * as EEVDF's eligibility, v <= V): subtrees whose minimum aux fails are
   * skipped, so this is O(log n). The tree must be augmented.
   */
  leftmostWithAux(ok: (aux: number) => boolean): number {
    const { L, R, X, G } = this;
    let s = this.rootS;
    while (s !== NIL) {
      const l = L[s]!;
      if (l !== NIL && ok(G[l]!)) {
        s = l;
        continue;
      }
      if (ok(X[s]!)) return s;
      s = R[s]!;
    }
    return NIL;
  }

  /** The minimum aux over the whole tree (Infinity if empty). */
  minAux(): number {
    return this.rootS === NIL ? Infinity : this.G[this.rootS]!;
  }

  /** Insert `node`; equal keys go after existing ones (FIFO). */
  insert(node: RbNode<T>): void {
    if (node.tree !== null) throw new Error("rbtree: insert of a node already on a tree");
    const s = this.alloc();
    const key = this.keyOf(node.value);
    const { L, R, P, K } = this;
    K[s] = key;
    let parent = NIL;
    let cur = this.rootS;
    let goLeft = false;
    let isLeftmost = true;
    while (cur !== NIL) {
      parent = cur;
      goLeft = key < K[cur]!;
      if (goLeft) cur = L[cur]!;
      else {
        cur = R[cur]!;
        isLeftmost = false;
      }
    }
    node.tree = this;
    node.slot = s;
    this.nodes[s] = node;
    this.vals[s] = node.value;
    P[s] = parent;
    L[s] = R[s] = NIL;
    this.C[s] = 1;
    if (parent === NIL) this.rootS = s;
    else if (goLeft) L[parent] = s;
    else R[parent] = s;
    if (isLeftmost) this.leftS = s;
    this.size++;
    if (this.augmented) {
      const aux = this.auxOf!(node.value);
      this.X[s] = aux;
      this.G[s] = aux;
      this.propagate(parent, NIL);
    }
    this.insertFixup(s);
  }

  /** Remove `node`; it can be inserted again (here or in another tree). */
  erase(node: RbNode<T>): void {
    if (node.tree !== this) throw new Error(node.tree === null ? "rbtree: erase of a node not on a tree" : "rbtree: erase of a node on another tree");
    const s = node.slot;
    if (this.leftS === s) this.leftS = this.nextS(s);
    const rebalance = this.unlink(s);
    if (rebalance !== NIL) this.eraseFixup(rebalance);
    this.release(node);
    this.size--;
  }

  /** Re-reads the aux of `node` (on this tree) and repairs `aug` from it up. */
  updateAug(node: RbNode<T>): void {
    if (!this.augmented || node.tree !== this) return;
    this.X[node.slot] = this.auxOf!(node.value);
    this.propagate(node.slot, NIL);
  }

  /** Remove every node, resetting each one. O(n), no allocation. */
  clear(): void {
    for (let s = 0; s < this.used; s++) {
      const n = this.nodes[s];
      if (n) this.release(n);
    }
    this.rootS = this.leftS = NIL;
    this.size = 0;
  }

  // ---- slots ---------------------------------------------------------------

  private alloc(): number {
    if (this.nFree > 0) return this.free[--this.nFree]!;
    if (this.used === this.K.length) this.grow();
    return this.used++;
  }

  private release(node: RbNode<T>): void {
    this.nodes[node.slot] = null;
    this.vals[node.slot] = null;
    this.free[this.nFree++] = node.slot;
    node.tree = null;
    node.slot = NIL;
  }

  private grow(): void {
    const n = this.K.length * 2;
    this.L = grownI(this.L, n);
    this.R = grownI(this.R, n);
    this.P = grownI(this.P, n);
    const c = new Uint8Array(n);
    c.set(this.C);
    this.C = c;
    this.K = grownF(this.K, n);
    this.X = grownF(this.X, n);
    this.G = grownF(this.G, n);
    this.free = grownI(this.free, n);
  }

  // ---- augment callbacks -------------------------------------------------

  /** The minimum aux over s's subtree, from its aux and its children's aug. */
  private augOf(s: number): number {
    const G = this.G;
    let m = this.X[s]!;
    const l = this.L[s]!;
    const r = this.R[s]!;
    if (l !== NIL && G[l]! < m) m = G[l]!;
    if (r !== NIL && G[r]! < m) m = G[r]!;
    return m;
  }

  /** Recompute aug from `s` upwards until `stop` (exclusive) or no change. */
  private propagate(s: number, stop: number): void {
    if (!this.augmented) return;
    const { G, P } = this;
    while (s !== NIL && s !== stop) {
      const v = this.augOf(s);
      if (v === G[s]) return;
      G[s] = v;
      s = P[s]!;
    }
  }

  // ---- structure ---------------------------------------------------------

  private replaceChild(old: number, nu: number, parent: number): void {
    if (parent === NIL) this.rootS = nu;
    else if (this.L[parent] === old) this.L[parent] = nu;
    else this.R[parent] = nu;
  }

  /** Rotate `x` down to the left; its right child takes its place. */
  private rotateLeft(x: number): void {
    const { L, R, P } = this;
    const y = R[x]!;
    const yl = L[y]!;
    R[x] = yl;
    if (yl !== NIL) P[yl] = x;
    const xp = P[x]!;
    P[y] = xp;
    this.replaceChild(x, y, xp);
    L[y] = x;
    P[x] = y;
    this.rotateAug(x, y);
  }

  /** Rotate `x` down to the right; its left child takes its place. */
  private rotateRight(x: number): void {
    const { L, R, P } = this;
    const y = L[x]!;
    const yr = R[y]!;
    L[x] = yr;
    if (yr !== NIL) P[yr] = x;
    const xp = P[x]!;
    P[y] = xp;
    this.replaceChild(x, y, xp);
    R[y] = x;
    P[x] = y;
    this.rotateAug(x, y);
  }

  /** Rotate callback: new top covers the old top's subtree set. */
  private rotateAug(oldTop: number, newTop: number): void {
    if (!this.augmented) return;
    this.G[newTop] = this.G[oldTop]!;
    this.G[oldTop] = this.augOf(oldTop);
  }

  private isRed(s: number): boolean {
    return s !== NIL && this.C[s] === 1;
  }

  private insertFixup(node: number): void {
    const { L, R, P, C } = this;
    for (;;) {
      let parent = P[node]!;
      if (parent === NIL) {
        C[node] = 0;
        return;
      }
      if (C[parent] === 0) return;
      const gp = P[parent]!; // a red parent is never the root
      const uncle = parent === L[gp] ? R[gp]! : L[gp]!;
      if (this.isRed(uncle)) {
        C[parent] = C[uncle] = 0;
        C[gp] = 1;
        node = gp;
        continue;
      }
      if (parent === L[gp]) {
        if (node === R[parent]) {
          this.rotateLeft(parent);
          parent = node;
        }
        this.rotateRight(gp);
      } else {
        if (node === L[parent]) {
          this.rotateRight(parent);
          parent = node;
        }
        this.rotateLeft(gp);
      }
      C[parent] = 0;
      C[gp] = 1;
      return;
    }
  }

  /**
   * Splice slot `node` out (as __rb_erase_augmented). Returns the parent of a
   * black-deficient position that needs rebalancing, or NIL.
   */
  private unlink(node: number): number {
    const { L, R, P, C } = this;
    const left = L[node]!;
    const right = R[node]!;
    const parent = P[node]!;
    if (left === NIL || right === NIL) {
      const child = left !== NIL ? left : right;
      this.replaceChild(node, child, parent);
      if (child !== NIL) {
        P[child] = parent;
        C[child] = 0; // a lone child is always red; it takes node's black
      }
      this.propagate(parent, NIL);
      return child === NIL && C[node] === 0 ? parent : NIL;
    }
    // Two children: the successor (leftmost of right) takes node's place.
    let succ = right;
    let succParent = right;
    let child2: number;
    if (L[succ] === NIL) {
      child2 = R[succ]!; // succ keeps its right subtree
    } else {
      while (L[succ] !== NIL) {
        succParent = succ;
        succ = L[succ]!;
      }
      child2 = R[succ]!;
      L[succParent] = child2;
      if (child2 !== NIL) P[child2] = succParent;
      R[succ] = right;
      P[right] = succ;
    }
    const succWasRed = C[succ] === 1;
    L[succ] = left;
    P[left] = succ;
    P[succ] = parent;
    C[succ] = C[node]!;
    this.replaceChild(node, succ, parent);
    if (this.augmented) this.G[succ] = this.G[node]!; // copy callback
    this.propagate(succParent, succ);
    this.propagate(succ, NIL);
    if (child2 !== NIL) {
      C[child2] = 0; // red lone child absorbs the missing black
      return NIL;
    }
    return succWasRed ? NIL : succParent;
  }

  /** Restore black height after a black node left `parent`'s null side. */
  private eraseFixup(parent: number): void {
    const { L, R, P, C } = this;
    let node = NIL;
    for (;;) {
      const leftSide = node === L[parent];
      let sib = leftSide ? R[parent]! : L[parent]!;
      if (C[sib] === 1) {
        C[sib] = 0;
        C[parent] = 1;
        if (leftSide) this.rotateLeft(parent);
        else this.rotateRight(parent);
        sib = leftSide ? R[parent]! : L[parent]!;
      }
      let far = leftSide ? R[sib]! : L[sib]!;
      const near = leftSide ? L[sib]! : R[sib]!;
      if (!this.isRed(far) && !this.isRed(near)) {
        C[sib] = 1;
        if (C[parent] === 1) {
          C[parent] = 0;
          return;
        }
        node = parent;
        if (P[node] === NIL) return;
        parent = P[node]!;
        continue;
      }
      if (!this.isRed(far)) {
        C[near] = 0;
        C[sib] = 1;
        if (leftSide) this.rotateRight(sib);
        else this.rotateLeft(sib);
        far = sib;
        sib = leftSide ? R[parent]! : L[parent]!;
      }
      C[sib] = C[parent]!;
      C[parent] = 0;
      C[far] = 0;
      if (leftSide) this.rotateLeft(parent);
      else this.rotateRight(parent);
      return;
    }
  }

  // ---- debugging ---------------------------------------------------------

  /** Verify every invariant; throws an Error naming the first broken one. */
  check(): void {
    const fail = (what: string): never => {
      throw new Error(`rbtree invariant broken: ${what}`);
    };
    if (this.rootS === NIL) {
      if (this.size !== 0) fail("size (empty tree with nonzero size)");
      if (this.leftS !== NIL) fail("leftmost cache (empty tree)");
      return;
    }
    if (this.P[this.rootS] !== NIL) fail("parent link (root has a parent)");
    if (this.C[this.rootS] === 1) fail("root is black");
    this.checkSubtree(this.rootS, fail, { count: 0 });
    let lm = this.rootS;
    while (this.L[lm] !== NIL) lm = this.L[lm]!;
    if (this.leftS !== lm) fail("leftmost cache");
    let count = 0;
    let prev = NIL;
    for (let s = lm; s !== NIL; s = this.nextS(s)) {
      if (++count > this.size) fail("size (more nodes than size)");
      const n = this.nodes[s];
      if (!n || n.tree !== this || n.slot !== s) fail("slot handle");
      if (this.K[s] !== this.keyOf(n!.value)) fail("key changed while on the tree");
      if (prev !== NIL && this.K[s]! < this.K[prev]!) fail("BST order");
      prev = s;
    }
    if (count !== this.size) fail("size");
  }

  /** Returns black height of slot `s`; checks colours, links and aug below it. */
  private checkSubtree(s: number, fail: (w: string) => never, seen: { count: number }): number {
    if (s === NIL) return 1;
    if (++seen.count > this.size) fail("size (cycle or more nodes than size)");
    if (this.nodes[s] === null || this.nodes[s] === undefined) fail("onTree flag (a linked slot without a node)");
    for (const c of [this.L[s]!, this.R[s]!]) {
      if (c === NIL) continue;
      if (this.P[c] !== s) fail("parent link");
      if (this.C[s] === 1 && this.C[c] === 1) fail("red node has a red child");
    }
    const bl = this.checkSubtree(this.L[s]!, fail, seen);
    const br = this.checkSubtree(this.R[s]!, fail, seen);
    if (bl !== br) fail("equal black height");
    if (this.augmented) {
      if (this.X[s] !== this.auxOf!(this.nodes[s]!.value)) fail("aux changed while on the tree");
      const v = this.augOf(s);
      if (v !== this.G[s] && !(Number.isNaN(v) && Number.isNaN(this.G[s]!))) fail("aug value");
    }
    return bl + (this.C[s] === 1 ? 0 : 1);
  }
}
