/**
 * PID allocation as kernel/pid.c does it with idr_alloc_cyclic: the next pid is
 * the lowest free number above the last one allocated; past pid_max the search
 * wraps to RESERVED_PIDS (300), so 1..299 are never reused once passed.
 *
 * A number stays in use while anything refers to it (struct pid's count): the
 * task that owns it, and any process group or session named after it. So a
 * zombie holds its pid until reaped, and a session id is not handed out again
 * while the session lives.
 */
import { RESERVED_PIDS } from "./param.ts";

export class PidAllocator {
  /** Reference count per pid number. */
  private refs: Uint32Array;
  private last = 0;
  private inUse = 0;

  constructor(public pidMax: number) {
    this.refs = new Uint32Array(pidMax);
  }

  /** Numbers currently allocated. */
  get count(): number {
    return this.inUse;
  }

  get lastPid(): number {
    return this.last;
  }

  /** Allocates a pid (count 1), or returns -1 when every number is taken (fork: EAGAIN). */
  alloc(): number {
    const max = this.pidMax;
    // pid_min is 1 until the cursor (last + 1) has passed RESERVED_PIDS.
    const min = this.last + 1 > RESERVED_PIDS ? RESERVED_PIDS : 1;
    let p = this.last + 1 >= max ? min : this.last + 1;
    const start = p;
    while (this.refs[p] !== 0) {
      p = p + 1 >= max ? min : p + 1;
      if (p === start) return -1;
    }
    this.refs[p] = 1;
    this.inUse++;
    this.last = p;
    return p;
  }

  /** Allocates a specific number (pid 1 for init, or a test). Returns false if taken. */
  allocAt(p: number): boolean {
    if (p <= 0 || p >= this.pidMax || this.refs[p] !== 0) return false;
    this.refs[p] = 1;
    this.inUse++;
    if (p > this.last) this.last = p;
    return true;
  }

  get(p: number): void {
    if (this.refs[p] === 0) throw new Error(`pid ${p} not allocated`);
    this.refs[p]!++;
  }

  put(p: number): void {
    if (this.refs[p] === 0) throw new Error(`pid ${p} put twice`);
    if (--this.refs[p]! === 0) this.inUse--;
  }

  isFree(p: number): boolean {
    return p > 0 && p < this.pidMax && this.refs[p] === 0;
  }
}
