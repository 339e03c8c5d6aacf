/**
 * Boot (init/main.c): idle tasks on every CPU, then pid 1 running the init image.
 * Also the kernel-side spawn used by front ends to start a program as a child
 * of a given process (what init or a shell does with fork + execve).
 */
import type { Kernel } from "./kernel.ts";
import {
  Task, SignalStruct, SigHand, Mm, FsStruct, FilesStruct, TASK_RUNNING, SIGNAL_UNKILLABLE, PF_KTHREAD, PF_FORKNOEXEC, PF_RANDOMIZE,
} from "./task/task.ts";
import { SigSet, SIGCHLD } from "./signal/signals.ts";
import { schedInit, wakeUpNew } from "./sched/core.ts";
import { attachPgrp } from "./task/group.ts";
import type { Image } from "./task/program.ts";
import { copyProcess } from "./task/fork.ts";
import { setComm } from "./task/exec.ts";
import { KernelPanic } from "./errno.ts";

function makeIdle(k: Kernel, cpu: number): Task {
  const t = new Task(0, `swapper/${cpu}`, new SigSet(), new SigSet());
  t.signal = new SignalStruct(t, new SigSet());
  t.sighand = new SigHand();
  t.fs = new FsStruct();
  t.files = new FilesStruct();
  t.flags |= PF_KTHREAD;
  t.uid = 0;
  t.state = TASK_RUNNING;
  return t;
}

/** Boots the machine: idle tasks, then init (pid 1) made runnable at time 0. */
export function boot(k: Kernel, initImage: Image): Task {
  schedInit(k, (cpu) => makeIdle(k, cpu));
  if (!k.pids.allocAt(1)) throw new KernelPanic("pid 1 taken at boot");
  const init = new Task(1, initImage.name, new SigSet(), new SigSet());
  init.signal = new SignalStruct(init, new SigSet());
  init.signal.pgid = 1;
  init.signal.sid = 1;
  init.signal.flags |= SIGNAL_UNKILLABLE;
  attachPgrp(k, init.signal);
  init.signal.live = 1;
  init.sighand = new SigHand();
  init.mm = new Mm();
  init.fs = new FsStruct("/", 0o022);
  init.files = new FilesStruct(["/dev/console", "/dev/console", "/dev/console"]);
  init.uid = 0;
  init.flags = PF_RANDOMIZE; // exec'd by the kernel (kernel_execve): no PF_FORKNOEXEC
  init.exitSignal = SIGCHLD;
  init.co = initImage.start(["/sbin/init"]);
  init.sclass = k.classOfPolicy[0]!;
  k.init = init;
  k.tasks.set(1, init);
  k.nrThreads++;
  k.classes[init.sclass]!.initTask(k.rqs[0]!, init);
  wakeUpNew(k, init);
  return init;
}

/** Scheduling attributes a spawned process starts with (set before its first enqueue). */
export type SpawnSetup = (p: Task) => void;

/**
 * Starts `image` as a new child of `parent`, as fork + execve would, without
 * running the parent. Returns the child or -errno (EAGAIN when out of pids).
 */
export function spawn(k: Kernel, parent: Task, image: Image, argv: readonly string[], setup?: SpawnSetup): Task | number {
  const child = copyProcess(k, parent, SIGCHLD, image.start(argv), (p) => {
    if (parent === k.init) p.uid = 1000; // programs run as an ordinary user (unless told otherwise)
    setup?.(p);
  });
  if (typeof child === "number") return child;
  child.sighand = new SigHand(); // as after execve: init's handlers are not the program's
  setComm(k, child, image.name);
  child.flags = (child.flags & ~PF_FORKNOEXEC) | PF_RANDOMIZE; // it has exec'd
  if (k.trace.on) k.trace.emit({ name: "sched_process_exec", ts: k.now, cpu: child.cpu, filename: image.name, pid: child.pid, old_pid: child.pid });
  return child;
}
