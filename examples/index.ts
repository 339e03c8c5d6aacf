/** The built-in examples. */
import type { Example } from "./example.ts";
import forkTree from "./fork-tree.ts";
import exec from "./exec.ts";
import zombie from "./zombie.ts";
import orphan from "./orphan.ts";
import daemon from "./daemon.ts";
import vfork from "./vfork.ts";
import waitStatus from "./wait-status.ts";
import zombieFlood from "./zombie-flood.ts";
import niceShare from "./nice-share.ts";

/** The stops of `tasklab tour` (npm start), in order. */
export const TOUR: Example[] = [forkTree, exec, zombie, orphan, daemon, vfork, waitStatus, zombieFlood];

/** Every example `tasklab examples` lists: the tour's, then the scheduling ones. */
export const EXAMPLES: Example[] = [...TOUR, niceShare];

export function findExample(name: string): Example | undefined {
  return EXAMPLES.find((e) => e.name === name);
}

export type { Example };
