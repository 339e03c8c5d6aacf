/**
 * `program(name, body)`: a generator program as an executable image.
 *
 * @example
 * export default program("forker", function* (sys) {
 *   const pid = yield* sys.fork();
 *   if (pid === 0) { yield* sys.compute(ms(3)); return 7; }
 *   const { status } = yield* sys.waitpid(pid, 0);
 *   yield* sys.print(`child exited ${WEXITSTATUS(status)}\n`);
 *   return 0;
 * });
 */
import type { Image } from "../kernel/task/program.ts";
import { GenCoroutine, type GenFn } from "./coroutine.ts";
import { sys, type ProgramBody } from "./sys.ts";

export interface Program extends Image {
  readonly body: ProgramBody;
}


export function program(name: string, body: ProgramBody): Program {
  if (typeof name !== "string" || name === "") throw new TypeError("program(name, body): name must be a non-empty string");
  if (typeof body !== "function") throw new TypeError(`program("${name}", body): body must be a generator function`);
  return {
    name,
    body,
    start(argv) {
      return new GenCoroutine(body as unknown as GenFn, argv, sys, false); // argv is the kernel's copy
    },
  };
}

export function isProgram(x: unknown): x is Program {
  return typeof x === "object" && x !== null && typeof (x as Program).start === "function" && typeof (x as Program).name === "string";
}
