/**
 * The discrete-event engine: an integer-nanosecond clock, an event queue and a
 * seeded random generator. Nothing here reads the wall clock or Math.random.
 *
 * Events are ordered by (time, priority, sequence), as SimPy orders its heap:
 * the sequence number is an ever-increasing counter, so events with equal time
 * and priority fire first-in-first-out and a run replays exactly.
 *
 * A `Timer` is a reusable event object owned by whoever arms it (a CPU, a
 * sleeping task). Re-arming moves it inside the heap instead of allocating a
 * new entry, so the hot path makes no garbage.
 */

/** Why an event at a given instant must fire before another at the same instant. */
export const Prio = {
  /** Timer expiry (hrtimer softirq): a sleeper wakes before CPUs decide who runs at that instant. */
  TIMER: 0,
  /** Task creation requested by a workload at a given time. */
  SPAWN: 1,
  /** A CPU's own event: account, finish bursts, tick checks, schedule(). Runs after wakeups so it sees them. */
  CPU: 2,
  /** Periodic housekeeping (load balance, statistics) sees the settled state of the instant. */
  HOUSEKEEPING: 3,
} as const;

export class Timer {
  time = 0;
  /**
   * Sequence number given when armed: the last tie breaker, after time and
   * priority. A timer with a fixed order keeps -(order + 1) here instead
   * (no field of its own: every sleeping task has a timer).
   */
  seq = 0;
  /** Position in the heap, or -1 when not armed. */
  index = -1;
  constructor(
    readonly prio: number,
    public fire: (t: Timer) => void,
    /** Whatever the fire function needs to find (a task, a runqueue): lets one function serve many timers. */
    public owner: unknown = null,
    /**
     * A fixed tie breaker among timers of the same time and priority, used
     * instead of the arming order when >= 0 (the CPUs' events: CPU 0 first).
     */
    order = -1,
  ) {
    if (order >= 0) this.seq = -(order + 1);
  }
  /** The fixed order, or -1. */
  get order(): number {
    return this.seq < 0 ? -this.seq - 1 : -1;
  }
  get armed(): boolean {
    return this.index >= 0;
  }
}

/** Sequence numbers stay below this, so (priority, sequence) packs exactly into one double. */
const SEQ_LIMIT = 2 ** 48;

/**
 * An indexed 4-ary min-heap of timers keyed by (time, priority, sequence):
 * half the depth of a binary heap, and a node's four children are adjacent.
 * The keys live in typed arrays beside the timer array (time, and priority and
 * sequence packed as priority * 2^48 + sequence), so sifting compares plain
 * doubles without touching the timer objects; a timer only learns its new
 * index when it moves.
 */
export class EventQueue {
  private items: Timer[] = [];
  private times = new Float64Array(64);
  private ords = new Float64Array(64);
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  /** Arms `t` at `time`, or moves it there if already armed (it then counts as newly armed). */
  arm(t: Timer, time: number): void {
    if (this.seq >= SEQ_LIMIT) throw new Error(`event queue: more than ${SEQ_LIMIT} timers armed in one run`);
    t.time = time;
    let key = t.seq;
    if (key >= 0) key = t.seq = this.seq++;
    else key = -key - 1; // a fixed order
    const ord = t.prio * SEQ_LIMIT + key;
    let i = t.index;
    if (i < 0) {
      i = this.items.length;
      if (i === this.times.length) this.grow();
      this.items.push(t);
      this.up(i, t, time, ord);
    } else {
      // A re-armed timer always counts as the newest: it moves up if earlier, else down.
      const p = (i - 1) >> 2;
      if (i > 0 && (time < this.times[p]! || (time === this.times[p]! && ord < this.ords[p]!))) this.up(i, t, time, ord);
      else this.down(i, t, time, ord);
    }
  }

  cancel(t: Timer): void {
    const i = t.index;
    if (i < 0) return;
    const items = this.items;
    const last = items.pop()!;
    t.index = -1;
    if (last !== t) {
      const n = items.length;
      const time = this.times[n]!;
      const ord = this.ords[n]!;
      const p = (i - 1) >> 2;
      if (i > 0 && (time < this.times[p]! || (time === this.times[p]! && ord < this.ords[p]!))) this.up(i, last, time, ord);
      else this.down(i, last, time, ord);
    }
  }

  /** Removes and returns the earliest timer. Caller checked size > 0. */
  pop(): Timer {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    top.index = -1;
    if (last !== top) {
      const n = items.length;
      this.down(0, last, this.times[n]!, this.ords[n]!); // the last leaf can only sink from the root
    }
    return top;
  }

  private grow(): void {
    const times = new Float64Array(this.times.length * 2);
    times.set(this.times);
    this.times = times;
    const ords = new Float64Array(this.ords.length * 2);
    ords.set(this.ords);
    this.ords = ords;
  }

  /** Places t (keys time, ord) at hole i or above it. */
  private up(i: number, t: Timer, time: number, ord: number): void {
    const items = this.items;
    const times = this.times;
    const ords = this.ords;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pt = times[p]!;
      if (time > pt || (time === pt && ord > ords[p]!)) break;
      const pi = items[p]!;
      items[i] = pi;
      pi.index = i;
      times[i] = pt;
      ords[i] = ords[p]!;
      i = p;
    }
    items[i] = t;
    t.index = i;
    times[i] = time;
    ords[i] = ord;
  }

  /** Places t (keys time, ord) at hole i or below it. */
  private down(i: number, t: Timer, time: number, ord: number): void {
    const items = this.items;
    const times = this.times;
    const ords = this.ords;
    const n = items.length;
    for (;;) {
      const first = 4 * i + 1;
      if (first >= n) break;
      // The earliest of up to four children.
      let c = first;
      let ct = times[c]!;
      let co = ords[c]!;
      const end = first + 4 < n ? first + 4 : n;
      for (let j = first + 1; j < end; j++) {
        const jt = times[j]!;
        if (jt < ct || (jt === ct && ords[j]! < co)) {
          c = j;
          ct = jt;
          co = ords[j]!;
        }
      }
      if (time < ct || (time === ct && ord < co)) break;
      const ci = items[c]!;
      items[i] = ci;
      ci.index = i;
      times[i] = ct;
      ords[i] = co;
      i = c;
    }
    items[i] = t;
    t.index = i;
    times[i] = time;
    ords[i] = ord;
  }
}

/**
 * Seeded generator: sfc32 seeded through splitmix32, so every seed (any 32-bit
 * integer) gives a well-mixed independent stream.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** Uniform float in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }
  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
}

/** The simulation clock and queue. `run` fires events in order until a limit. */
export class Engine {
  now = 0;
  readonly queue = new EventQueue();
  readonly rng: Rng;
  /** Events fired so far. */
  fired = 0;
  /** Time of the last event fired: when the simulated system last did anything. */
  lastEventTime = 0;
  /** The highest priority fired so far at the current instant (how far the instant has got), or -1. */
  instantPrio = -1;
  /** Among the events of priority instantPrio fired at this instant, the highest fixed order, or -1. */
  instantOrder = -1;
  private stopRequested = false;

  constructor(seed = 1) {
    this.rng = new Rng(seed);
  }

  arm(t: Timer, time: number): void {
    if (time < this.now) time = this.now;
    this.queue.arm(t, time);
  }

  cancel(t: Timer): void {
    this.queue.cancel(t);
  }

  /** Makes `run` return after the event being fired. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Fires events in (time, priority, sequence) order while their time is <= `until`
   * and fewer than `maxEvents` have fired in this call. The clock ends at `until`
   * when the queue runs dry or the next event lies beyond it. Returns events fired.
   */
  run(until = Infinity, maxEvents = Infinity): number {
    const q = this.queue;
    let n = 0;
    this.stopRequested = false;
    while (n < maxEvents && !this.stopRequested) {
      const t = q.peek();
      if (t === undefined || t.time > until) break;
      q.pop();
      if (t.time !== this.now) this.instantPrio = this.instantOrder = -1;
      this.now = t.time;
      n++;
      const order = t.seq < 0 ? -t.seq - 1 : -1;
      if (t.prio > this.instantPrio) {
        this.instantPrio = t.prio;
        this.instantOrder = order;
      } else if (t.prio === this.instantPrio && order > this.instantOrder) this.instantOrder = order;
      t.fire(t);
    }
    this.fired += n;
    if (n > 0) this.lastEventTime = this.now;
    if (!this.stopRequested && n < maxEvents) {
      if (until !== Infinity && this.now < until) this.now = until;
      // Every event of this instant has fired: whatever happens next at this time (a spawn between runs)
      // comes after all of them.
      this.instantPrio = this.instantOrder = Infinity;
    }
    return n;
  }
}
