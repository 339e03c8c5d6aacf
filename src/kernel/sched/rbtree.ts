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
 * Keys: every user here orders by one number (vruntime, a deadline), so
 * the tree copies it into the node when the node is inserted (`key`) and
 * compares nodes, never their owners. A descent then touches one object per
 * level instead of two, which matters: with thousands of tasks the owners
 * are rarely in cache. The key must not change while the node is on the
 * tree (the kernel's rule too: an entity leaves the tree before its key
 * moves); check() verifies the copies.
 *
 * Augmentation: each node can carry `aug`, the minimum over its subtree of a
 * second number of its owner (copied at insert as `sub`). The tree keeps it
 * exact across inserts, erases and rotations with the kernel's three
 * callbacks: propagate (recompute up a path, stopping once nothing
 * changes), copy (a node taking another's place inherits its summary) and
 * rotate (the new subtree top inherits the old top's summary; the old top
 * is recomputed). Linux's callbacks are generic; the minimum is the one
 * summary the kernel's fair class needs. EEVDF keys the tree by virtual
 * deadline and augments each node with the minimum vruntime of its
 * subtree, so the eligible entity with the earliest deadline can be found
 * in O(log n) by pruning subtrees whose minimum vruntime proves nothing in
 * them is eligible.
 */

/** The number a value is ordered by; equal keys keep insertion order. */
export type RbKeyOf<T> = (value: T) => number;

export class RbNode<T> {
  left: RbNode<T> | null = null;
  right: RbNode<T> | null = null;
  parent: RbNode<T> | null = null;
  red = false;
  /** The owner's sort key, copied at insert. */
  key = 0;
  /** The owner's augmented number, copied at insert (only in an augmented tree). */
  sub = 0;
  /** The minimum of `sub` over the subtree (only in an augmented tree). */
  aug = 0;
  /** True while the node is linked into a tree. */
  onTree = false;

  constructor(public value: T) {}
}

const isRed = <T>(n: RbNode<T> | null): boolean => n !== null && n.red;

/** A node's subtree minimum from its own number and its children's minima. */
function augOf<T>(n: RbNode<T>): number {
  let m = n.sub;
  const l = n.left;
  const r = n.right;
  if (l !== null && l.aug < m) m = l.aug;
  if (r !== null && r.aug < m) m = r.aug;
  return m;
}

const sameNumber = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

export class RbTree<T> {
  root: RbNode<T> | null = null;
  size = 0;
  private leftmost: RbNode<T> | null = null;

  /**
   * @param keyOf the sort key of a value
   * @param subOf in an augmented tree, the number whose subtree minimum each node keeps in `aug`
   */
  constructor(
    readonly keyOf: RbKeyOf<T>,
    readonly subOf: RbKeyOf<T> | null = null,
  ) {}

  /** Smallest node, O(1). */
  first(): RbNode<T> | null {
    return this.leftmost;
  }

  /** Largest node, O(log n). */
  last(): RbNode<T> | null {
    let n = this.root;
    while (n !== null && n.right !== null) n = n.right;
    return n;
  }

  next(node: RbNode<T>): RbNode<T> | null {
    if (node.right !== null) {
      let n = node.right;
      while (n.left !== null) n = n.left;
      return n;
    }
    let n = node;
    while (n.parent !== null && n === n.parent.right) n = n.parent;
    return n.parent;
  }

  prev(node: RbNode<T>): RbNode<T> | null {
    if (node.left !== null) {
      let n = node.left;
      while (n.right !== null) n = n.right;
      return n;
    }
    let n = node;
    while (n.parent !== null && n === n.parent.left) n = n.parent;
    return n.parent;
  }

  /** In-order nodes. The yielded node may be erased during iteration. */
  *[Symbol.iterator](): IterableIterator<RbNode<T>> {
    let n = this.leftmost;
    while (n !== null) {
      const nx = this.next(n);
      yield n;
      n = nx;
    }
  }

  /** Insert `node`; equal keys go after existing ones (FIFO). */
  insert(node: RbNode<T>): void {
    if (node.onTree) throw new Error("rbtree: insert of a node already on a tree");
    const key = this.keyOf(node.value);
    node.key = key;
    let parent: RbNode<T> | null = null;
    let cur = this.root;
    let goLeft = false;
    let isLeftmost = true;
    while (cur !== null) {
      parent = cur;
      goLeft = key < cur.key;
      if (goLeft) cur = cur.left;
      else {
        cur = cur.right;
        isLeftmost = false;
      }
    }
    node.parent = parent;
    node.left = node.right = null;
    node.red = true;
    node.onTree = true;
    if (parent === null) this.root = node;
    else if (goLeft) parent.left = node;
    else parent.right = node;
    if (isLeftmost) this.leftmost = node;
    this.size++;
    if (this.subOf !== null) {
      node.aug = node.sub = this.subOf(node.value);
      this.propagate(parent, null);
    }
    this.insertFixup(node);
  }

  /** Remove `node`; its links are reset so it can be inserted again. */
  erase(node: RbNode<T>): void {
    if (!node.onTree) throw new Error("rbtree: erase of a node not on a tree");
    if (this.leftmost === node) this.leftmost = this.next(node);
    const rebalance = this.unlink(node);
    if (rebalance !== null) this.eraseFixup(rebalance);
    node.left = node.right = node.parent = null;
    node.red = false;
    node.onTree = false;
    this.size--;
  }

  /** Re-reads the owner's augmented number and recomputes `aug` from `node` up. */
  updateAug(node: RbNode<T>): void {
    if (this.subOf === null) return;
    node.sub = this.subOf(node.value);
    this.propagate(node, null);
  }

  /** Remove every node, resetting each one's links. O(n), no allocation. */
  clear(): void {
    let n = this.root;
    while (n !== null) {
      if (n.left !== null) n = n.left;
      else if (n.right !== null) n = n.right;
      else {
        const p: RbNode<T> | null = n.parent;
        if (p !== null) {
          if (p.left === n) p.left = null;
          else p.right = null;
        }
        n.parent = null;
        n.red = false;
        n.onTree = false;
        n = p;
      }
    }
    this.root = this.leftmost = null;
    this.size = 0;
  }

  // ---- augment callbacks -------------------------------------------------

  /** Recompute aug from `n` upwards until `stop` (exclusive) or no change. */
  private propagate(n: RbNode<T> | null, stop: RbNode<T> | null): void {
    if (this.subOf === null) return;
    while (n !== null && n !== stop) {
      const v = augOf(n);
      if (v === n.aug) return;
      n.aug = v;
      n = n.parent;
    }
  }

  // ---- structure ---------------------------------------------------------

  private replaceChild(old: RbNode<T>, nu: RbNode<T> | null, parent: RbNode<T> | null): void {
    if (parent === null) this.root = nu;
    else if (parent.left === old) parent.left = nu;
    else parent.right = nu;
  }

  /** Rotate `x` down to the left; its right child takes its place. */
  private rotateLeft(x: RbNode<T>): void {
    const y = x.right!;
    x.right = y.left;
    if (y.left !== null) y.left.parent = x;
    y.parent = x.parent;
    this.replaceChild(x, y, x.parent);
    y.left = x;
    x.parent = y;
    this.rotateAug(x, y);
  }

  /** Rotate `x` down to the right; its left child takes its place. */
  private rotateRight(x: RbNode<T>): void {
    const y = x.left!;
    x.left = y.right;
    if (y.right !== null) y.right.parent = x;
    y.parent = x.parent;
    this.replaceChild(x, y, x.parent);
    y.right = x;
    x.parent = y;
    this.rotateAug(x, y);
  }

  /** Rotate callback: new top covers the old top's subtree set. */
  private rotateAug(oldTop: RbNode<T>, newTop: RbNode<T>): void {
    if (this.subOf === null) return;
    newTop.aug = oldTop.aug;
    oldTop.aug = augOf(oldTop);
  }

  private insertFixup(node: RbNode<T>): void {
    for (;;) {
      let parent = node.parent;
      if (parent === null) {
        node.red = false;
        return;
      }
      if (!parent.red) return;
      const gp = parent.parent!; // a red parent is never the root
      const uncle = parent === gp.left ? gp.right : gp.left;
      if (isRed(uncle)) {
        parent.red = uncle!.red = false;
        gp.red = true;
        node = gp;
        continue;
      }
      if (parent === gp.left) {
        if (node === parent.right) {
          this.rotateLeft(parent);
          parent = node;
        }
        this.rotateRight(gp);
      } else {
        if (node === parent.left) {
          this.rotateRight(parent);
          parent = node;
        }
        this.rotateLeft(gp);
      }
      parent.red = false;
      gp.red = true;
      return;
    }
  }

  /**
   * Splice `node` out (as __rb_erase_augmented). Returns the parent of a
   * black-deficient position that needs rebalancing, or null.
   */
  private unlink(node: RbNode<T>): RbNode<T> | null {
    const { left, right, parent } = node;
    if (left === null || right === null) {
      const child = left ?? right;
      this.replaceChild(node, child, parent);
      if (child !== null) {
        child.parent = parent;
        child.red = false; // a lone child is always red; it takes node's black
      }
      this.propagate(parent, null);
      return child === null && !node.red ? parent : null;
    }
    // Two children: the successor (leftmost of right) takes node's place.
    let succ = right;
    let succParent = right;
    let child2: RbNode<T> | null;
    if (succ.left === null) {
      child2 = succ.right; // succ keeps its right subtree
    } else {
      while (succ.left !== null) {
        succParent = succ;
        succ = succ.left;
      }
      child2 = succ.right;
      succParent.left = child2;
      if (child2 !== null) child2.parent = succParent;
      succ.right = right;
      right.parent = succ;
    }
    const succWasRed = succ.red;
    succ.left = left;
    left.parent = succ;
    succ.parent = parent;
    succ.red = node.red;
    this.replaceChild(node, succ, parent);
    succ.aug = node.aug; // copy callback
    this.propagate(succParent, succ);
    this.propagate(succ, null);
    if (child2 !== null) {
      child2.red = false; // red lone child absorbs the missing black
      return null;
    }
    return succWasRed ? null : succParent;
  }

  /** Restore black height after a black node left `parent`'s null side. */
  private eraseFixup(parent: RbNode<T>): void {
    let node: RbNode<T> | null = null;
    for (;;) {
      const leftSide = node === parent.left;
      let sib = (leftSide ? parent.right : parent.left)!;
      if (sib.red) {
        sib.red = false;
        parent.red = true;
        if (leftSide) this.rotateLeft(parent);
        else this.rotateRight(parent);
        sib = (leftSide ? parent.right : parent.left)!;
      }
      let far = leftSide ? sib.right : sib.left;
      const near = leftSide ? sib.left : sib.right;
      if (!isRed(far) && !isRed(near)) {
        sib.red = true;
        if (parent.red) {
          parent.red = false;
          return;
        }
        node = parent;
        if (node.parent === null) return;
        parent = node.parent;
        continue;
      }
      if (!isRed(far)) {
        near!.red = false;
        sib.red = true;
        if (leftSide) this.rotateRight(sib);
        else this.rotateLeft(sib);
        far = sib;
        sib = (leftSide ? parent.right : parent.left)!;
      }
      sib.red = parent.red;
      parent.red = false;
      far!.red = false;
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
    if (this.root === null) {
      if (this.size !== 0) fail("size (empty tree with nonzero size)");
      if (this.leftmost !== null) fail("leftmost cache (empty tree)");
      return;
    }
    if (this.root.parent !== null) fail("parent link (root has a parent)");
    if (this.root.red) fail("root is black");
    this.checkSubtree(this.root, fail, { count: 0 });
    let lm = this.root;
    while (lm.left !== null) lm = lm.left;
    if (this.leftmost !== lm) fail("leftmost cache");
    let count = 0;
    let prev: RbNode<T> | null = null;
    for (let n: RbNode<T> | null = lm; n !== null; n = this.next(n)) {
      if (++count > this.size) fail("size (more nodes than size)");
      if (prev !== null && n.key < prev.key) fail("BST order");
      prev = n;
    }
    if (count !== this.size) fail("size");
  }

  /** Returns black height of `n`; checks colours, links and aug below it. */
  private checkSubtree(n: RbNode<T> | null, fail: (w: string) => never, seen: { count: number }): number {
    if (n === null) return 1;
    if (++seen.count > this.size) fail("size (cycle or more nodes than size)");
    if (!n.onTree) fail("onTree flag");
    for (const c of [n.left, n.right]) {
      if (c === null) continue;
      if (c.parent !== n) fail("parent link");
      if (n.red && c.red) fail("red node has a red child");
    }
    const bl = this.checkSubtree(n.left, fail, seen);
    const br = this.checkSubtree(n.right, fail, seen);
    if (bl !== br) fail("equal black height");
    if (!sameNumber(n.key, this.keyOf(n.value))) fail("key copy (the owner's key changed while on the tree)");
    if (this.subOf !== null) {
      if (!sameNumber(n.sub, this.subOf(n.value))) fail("aug source copy (the owner's number changed while on the tree)");
      if (!sameNumber(augOf(n), n.aug)) fail("aug value");
    }
    return bl + (n.red ? 0 : 1);
  }
}
