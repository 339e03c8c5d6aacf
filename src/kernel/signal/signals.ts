/** Signal numbers and default actions for x86_64 (man 7 signal; include/linux/signal.h masks). */
export const SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7,
  SIGFPE = 8, SIGKILL = 9, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGPIPE = 13, SIGALRM = 14,
  SIGTERM = 15, SIGSTKFLT = 16, SIGCHLD = 17, SIGCONT = 18, SIGSTOP = 19, SIGTSTP = 20, SIGTTIN = 21,
  SIGTTOU = 22, SIGURG = 23, SIGXCPU = 24, SIGXFSZ = 25, SIGVTALRM = 26, SIGPROF = 27, SIGWINCH = 28,
  SIGIO = 29, SIGPWR = 30, SIGSYS = 31;
export const SIGRTMIN_KERNEL = 32;
export const NSIG = 64;

export const SIGNAL_NAMES = [
  "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
  "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT",
  "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
  "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
];

export function signalName(sig: number): string {
  if (sig >= 1 && sig < 32) return SIGNAL_NAMES[sig]!;
  if (sig >= 32 && sig <= 64) return `SIGRT${sig - 32}`;
  return `signal ${sig}`;
}

export type DefaultAction = "term" | "core" | "ign" | "stop" | "cont";

/**
 * Counts changes to any signal set (and to job-control state): a task's
 * cached "signal pending?" answer stays valid while this has not moved (see
 * signal.ts sigPendingFast, the role TIF_SIGPENDING plays in Linux). Shared
 * by every machine in the process: a change anywhere only makes others
 * recompute, never answer wrongly.
 */
export let sigEpoch = 0;

/** Invalidates every cached pending-signal answer. */
export function bumpSigEpoch(): void {
  sigEpoch++;
}

/**
 * A signal set: 64 bits, bit (n-1) for signal n, as in the kernel and in
 * /proc/<pid>/status. Held as two unsigned 32-bit words so bit operations stay
 * exact and cheap (lo: signals 1..32, hi: 33..64). Change it only through its
 * methods: they move sigEpoch.
 */
export class SigSet {
  constructor(
    public lo = 0,
    public hi = 0,
  ) {}
  static of(...sigs: number[]): SigSet {
    const s = new SigSet();
    for (const x of sigs) s.add(x);
    return s;
  }
  has(sig: number): boolean {
    return sig <= 32 ? ((this.lo >>> (sig - 1)) & 1) === 1 : ((this.hi >>> (sig - 33)) & 1) === 1;
  }
  add(sig: number): void {
    sigEpoch++;
    if (sig <= 32) this.lo = (this.lo | (1 << (sig - 1))) >>> 0;
    else this.hi = (this.hi | (1 << (sig - 33))) >>> 0;
  }
  del(sig: number): void {
    sigEpoch++;
    if (sig <= 32) this.lo = (this.lo & ~(1 << (sig - 1))) >>> 0;
    else this.hi = (this.hi & ~(1 << (sig - 33))) >>> 0;
  }
  empty(): boolean {
    return this.lo === 0 && this.hi === 0;
  }
  clone(): SigSet {
    return new SigSet(this.lo, this.hi);
  }
  set(o: SigSet): void {
    sigEpoch++;
    this.lo = o.lo;
    this.hi = o.hi;
  }
  or(o: SigSet): void {
    sigEpoch++;
    this.lo = (this.lo | o.lo) >>> 0;
    this.hi = (this.hi | o.hi) >>> 0;
  }
  andNot(o: SigSet): void {
    sigEpoch++;
    this.lo = (this.lo & ~o.lo) >>> 0;
    this.hi = (this.hi & ~o.hi) >>> 0;
  }
  /** Lowest signal in (this & ~blocked), or 0. Standard signals come first, as in next_signal(). */
  firstUnblocked(blocked: SigSet): number {
    const lo = (this.lo & ~blocked.lo) >>> 0;
    if (lo !== 0) {
      const sync = lo & SYNCHRONOUS_LO;
      const w = sync !== 0 ? sync : lo;
      return 32 - Math.clz32(w & -w);
    }
    const hi = (this.hi & ~blocked.hi) >>> 0;
    return hi !== 0 ? 32 + 32 - Math.clz32(hi & -hi) : 0;
  }
  /** 16 hex digits, as in SigPnd/SigBlk lines. */
  hex(): string {
    return this.hi.toString(16).padStart(8, "0") + this.lo.toString(16).padStart(8, "0");
  }
}

const lo = (...sigs: number[]): number => sigs.reduce((m, x) => (m | (1 << (x - 1))) >>> 0, 0);

/** SIG_KERNEL_ONLY: can never be caught, blocked or ignored. */
export const KERNEL_ONLY_LO = lo(SIGKILL, SIGSTOP);
export const KERNEL_STOP_LO = lo(SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU);
export const KERNEL_COREDUMP_LO = lo(SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGSEGV, SIGBUS, SIGSYS, SIGXCPU, SIGXFSZ);
export const KERNEL_IGNORE_LO = lo(SIGCONT, SIGCHLD, SIGWINCH, SIGURG);
/** Synchronous fault signals are dequeued before other pending signals (next_signal()). */
export const SYNCHRONOUS_LO = lo(SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGSYS);

const inLo = (mask: number, sig: number): boolean => sig <= 32 && ((mask >>> (sig - 1)) & 1) === 1;

export function isStopSignal(sig: number): boolean {
  return inLo(KERNEL_STOP_LO, sig);
}

export function defaultAction(sig: number): DefaultAction {
  if (sig === SIGCONT) return "cont";
  if (inLo(KERNEL_STOP_LO, sig)) return "stop";
  if (inLo(KERNEL_IGNORE_LO, sig)) return "ign";
  if (inLo(KERNEL_COREDUMP_LO, sig)) return "core";
  return "term";
}

/** Parses "SIGTERM", "TERM", "term" or "15". Returns 0 when unknown. */
export function parseSignal(text: string | number): number {
  if (typeof text === "number") return Number.isInteger(text) && text >= 1 && text <= NSIG ? text : 0;
  const t = text.trim().toUpperCase();
  if (/^\d+$/.test(t)) return parseSignal(Number(t));
  const name = t.startsWith("SIG") ? t : `SIG${t}`;
  const i = SIGNAL_NAMES.indexOf(name);
  if (i > 0) return i;
  if (name === "SIGIOT") return SIGABRT;
  if (name === "SIGPOLL") return SIGIO;
  const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
  if (rt) return 34 + Number(rt[1] ?? 0) <= 64 ? 34 + Number(rt[1] ?? 0) : 0;
  return 0;
}
