import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RbNode, RbTree } from "../src/kernel/sched/rbtree.ts";

interface Item {
  key: number;
  b: number;
  id: number;
}

const keyOf = (x: Item): number => x.key;
/** aug = min of `b` over the subtree. */
const minB = (x: Item): number => x.b;

let nextId = 0;
const mk = (key: number, b = 0): RbNode<Item> => new RbNode({ key, b, id: nextId++ });
const ids = (t: RbTree<Item>): number[] => [...t].map((n) => n.value.id);
const keys = (t: RbTree<Item>): number[] => [...t].map((n) => n.value.key);

/** Leftmost node whose b <= limit, by descending on the subtree minimum. */
function leftmostAtMost(t: RbTree<Item>, limit: number): { node: RbNode<Item> | null; visited: number } {
  let n = t.root;
  let visited = 0;
  if (n === null || n.aug > limit) return { node: null, visited };
  while (n !== null) {
    visited++;
    if (n.left !== null && n.left.aug <= limit) n = n.left;
    else if (n.value.b <= limit) return { node: n, visited };
    else n = n.right;
  }
  throw new Error("aug claimed a match that does not exist");
}

describe("RbTree basics", () => {
  it("empty tree", () => {
    const t = new RbTree<Item>(keyOf);
    expect(t.first()).toBeNull();
    expect(t.last()).toBeNull();
    expect(t.size).toBe(0);
    expect([...t]).toEqual([]);
    t.check();
  });

  it("insert keeps order; first/last/next/prev", () => {
    const t = new RbTree<Item>(keyOf);
    const nodes = [5, 3, 8, 1, 4, 7, 9, 2, 6].map((k) => mk(k));
    for (const n of nodes) {
      t.insert(n);
      t.check();
    }
    expect(t.size).toBe(9);
    expect(keys(t)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(t.first()!.value.key).toBe(1);
    expect(t.last()!.value.key).toBe(9);
    const n4 = nodes[4]!;
    expect(t.next(n4)!.value.key).toBe(5);
    expect(t.prev(n4)!.value.key).toBe(3);
    expect(t.prev(t.first()!)).toBeNull();
    expect(t.next(t.last()!)).toBeNull();
    const back: number[] = [];
    for (let n = t.last(); n !== null; n = t.prev(n)) back.push(n.value.key);
    expect(back).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it("erase updates first and keeps order", () => {
    const t = new RbTree<Item>(keyOf);
    const nodes = Array.from({ length: 50 }, (_, i) => mk((i * 37) % 50));
    nodes.forEach((n) => t.insert(n));
    const byKey = [...nodes].sort((a, b) => a.value.key - b.value.key);
    t.erase(byKey[0]!);
    t.check();
    expect(t.first()).toBe(byKey[1]);
    t.erase(byKey[25]!);
    t.erase(byKey[49]!);
    t.check();
    expect(t.size).toBe(47);
    expect(keys(t)).toEqual(byKey.filter((_, i) => i !== 0 && i !== 25 && i !== 49).map((n) => n.value.key));
    for (const n of byKey.slice(1)) if (n.onTree) t.erase(n);
    t.check();
    expect(t.root).toBeNull();
    expect(t.first()).toBeNull();
  });

  it("equal keys are FIFO (inserted to the right)", () => {
    const t = new RbTree<Item>(keyOf);
    const a = [mk(1), mk(0), mk(1), mk(1), mk(2), mk(1), mk(0)];
    a.forEach((n) => t.insert(n));
    t.check();
    expect(ids(t)).toEqual([a[1], a[6], a[0], a[2], a[3], a[5], a[4]].map((n) => n!.value.id));
    t.erase(a[1]!);
    expect(t.first()).toBe(a[6]);
  });

  it("a removed node is reset and can be re-inserted", () => {
    const t = new RbTree<Item>(keyOf, minB);
    const nodes = [3, 1, 4, 1, 5, 9, 2, 6].map((k) => mk(k, 10 - k));
    nodes.forEach((n) => t.insert(n));
    const n = nodes[2]!;
    t.erase(n);
    expect(n.onTree).toBe(false);
    expect([n.left, n.right, n.parent]).toEqual([null, null, null]);
    expect(() => t.erase(n)).toThrow();
    n.value.key = 0;
    t.insert(n);
    expect(() => t.insert(n)).toThrow();
    t.check();
    expect(t.first()).toBe(n);
    for (let i = 0; i < 20; i++) {
      t.erase(n);
      n.value.key = i % 11;
      t.insert(n);
      t.check();
    }
    expect(t.size).toBe(8);
  });

  it("erasing the yielded node during iteration is safe", () => {
    const t = new RbTree<Item>(keyOf);
    const nodes = Array.from({ length: 20 }, (_, i) => mk(i));
    nodes.forEach((n) => t.insert(n));
    const seen: number[] = [];
    for (const n of t) {
      seen.push(n.value.key);
      if (n.value.key % 2 === 0) t.erase(n);
    }
    t.check();
    expect(seen).toEqual(nodes.map((n) => n.value.key));
    expect(keys(t)).toEqual(nodes.filter((n) => n.value.key % 2 === 1).map((n) => n.value.key));
  });

  it("clear resets all nodes", () => {
    const t = new RbTree<Item>(keyOf, minB);
    const nodes = Array.from({ length: 100 }, (_, i) => mk(i % 13, i));
    nodes.forEach((n) => t.insert(n));
    t.clear();
    t.check();
    expect(t.size).toBe(0);
    expect(nodes.every((n) => !n.onTree && !n.left && !n.right && !n.parent)).toBe(true);
    nodes.forEach((n) => t.insert(n));
    t.check();
    expect(t.size).toBe(100);
  });

  it("updateAug repairs aug after a value's augmented field changes", () => {
    const t = new RbTree<Item>(keyOf, minB);
    const nodes = Array.from({ length: 64 }, (_, i) => mk(i, 100 + i));
    nodes.forEach((n) => t.insert(n));
    const n = nodes[40]!;
    n.value.b = 1;
    expect(() => t.check()).toThrow(/aug/);
    t.updateAug(n);
    t.check();
    expect(t.root!.aug).toBe(1);
  });

  it("check() names broken invariants", () => {
    const t = new RbTree<Item>(keyOf);
    const nodes = Array.from({ length: 10 }, (_, i) => mk(i));
    nodes.forEach((n) => t.insert(n));
    t.root!.red = true;
    expect(() => t.check()).toThrow(/root is black/);
    t.root!.red = false;
    t.size++;
    expect(() => t.check()).toThrow(/size/);
    t.size--;
    nodes[3]!.value.key = 100;
    expect(() => t.check()).toThrow(/key copy/); // an owner's key moved while its node is on the tree
    nodes[3]!.value.key = 3;
    t.check();
    nodes[3]!.key = 100; // the node's own copy out of order
    nodes[3]!.value.key = 100;
    expect(() => t.check()).toThrow(/BST order/);
  });

  it("stays balanced on sequential inserts", () => {
    const t = new RbTree<Item>(keyOf);
    for (let i = 0; i < 4096; i++) t.insert(mk(i));
    t.check();
    let depth = 0;
    for (let n = t.root; n !== null; n = n.right) depth++;
    expect(depth).toBeLessThanOrEqual(2 * Math.log2(4097));
  });
});

type Op = { kind: "ins"; key: number; b: number } | { kind: "del"; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("ins" as const), key: fc.integer({ min: 0, max: 60 }), b: fc.integer({ min: -1000, max: 1000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("del" as const), pick: fc.nat() }) },
);

describe("RbTree properties", () => {
  it("random insert/erase sequences keep every invariant and match a sorted reference", () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1000, maxLength: 4000 }), (ops) => {
        const t = new RbTree<Item>(keyOf, minB);
        let ref: RbNode<Item>[] = []; // sorted by key, then insertion order
        let seq = 0;
        for (const op of ops) {
          if (op.kind === "ins") {
            const n = new RbNode<Item>({ key: op.key, b: op.b, id: seq++ });
            t.insert(n);
            let i = ref.length;
            while (i > 0 && ref[i - 1]!.value.key > op.key) i--;
            ref.splice(i, 0, n);
          } else if (ref.length > 0) {
            const n = ref[op.pick % ref.length]!;
            t.erase(n);
            ref = ref.filter((x) => x !== n);
          }
          t.check();
          expect(t.size).toBe(ref.length);
          expect(t.first()).toBe(ref[0] ?? null);
        }
        expect([...t]).toEqual(ref);
        const expectMin = ref.reduce((m, n) => Math.min(m, n.value.b), Infinity);
        expect(t.root?.aug ?? Infinity).toBe(expectMin);
      }),
      { numRuns: 40, seed: 0x7a5c1ab },
    );
  });

  it("re-inserting removed nodes keeps invariants", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(31), fc.integer({ min: 0, max: 20 })), { minLength: 500, maxLength: 2000 }), (steps) => {
        const t = new RbTree<Item>(keyOf, minB);
        const pool = Array.from({ length: 32 }, (_, i) => mk(i % 7, i));
        for (const [i, key] of steps) {
          const n = pool[i]!;
          if (n.onTree) t.erase(n);
          else {
            n.value.key = key;
            t.insert(n);
          }
          t.check();
        }
        expect(t.size).toBe(pool.filter((n) => n.onTree).length);
      }),
      { numRuns: 30, seed: 42 },
    );
  });

  it("augmented descent finds the leftmost node with b <= limit in O(log n)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 10000 })), { minLength: 0, maxLength: 1500, size: "max" }),
        fc.array(fc.integer({ min: -10, max: 10010 }), { minLength: 1, maxLength: 30 }),
        fc.nat(),
        (items, limits, delSeed) => {
          const t = new RbTree<Item>(keyOf, minB);
          const nodes = items.map(([key, b]) => mk(key, b));
          nodes.forEach((n) => t.insert(n));
          // Erase a deterministic third of the nodes to exercise erase paths too.
          nodes.forEach((n, i) => {
            if ((i + delSeed) % 3 === 0) t.erase(n);
          });
          t.check();
          const maxDepth = 2 * Math.log2(t.size + 1) + 1;
          for (const limit of limits) {
            const brute = [...t].find((n) => n.value.b <= limit) ?? null;
            const { node, visited } = leftmostAtMost(t, limit);
            expect(node).toBe(brute);
            expect(visited).toBeLessThanOrEqual(maxDepth);
          }
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});
