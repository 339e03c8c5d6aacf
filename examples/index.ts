/** The built-in examples, in tour order. */
import type { Example } from "./example.ts";
import forkTree from "./fork-tree.ts";
import exec from "./exec.ts";
import zombie from "./zombie.ts";
import orphan from "./orphan.ts";
import daemon from "./daemon.ts";
import vfork from "./vfork.ts";
import waitStatus from "./wait-status.ts";
import zombieFlood from "./zombie-flood.ts";

export const EXAMPLES: Example[] = [forkTree, exec, zombie, orphan, daemon, vfork, waitStatus, zombieFlood];

export function findExample(name: string): Example | undefined {
  return EXAMPLES.find((e) => e.name === name);
}

export type { Example };
