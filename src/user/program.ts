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
import { GenCoroutine, type ProgramGen } from "./coroutine.ts";
import { sys, type ProgramBody, type SignalHandler, type ThreadBody } from "./sys.ts";

export interface Program extends Image {
  readonly body: ProgramBody;
}

const handlerGen = (fn: unknown, sig: number): ProgramGen => (fn as SignalHandler)(sys, sig) as ProgramGen;
const spawnGen = (fn: unknown, arg: unknown) => (): ProgramGen => (fn as ThreadBody)(sys, arg) as ProgramGen;

export function program(name: string, body: ProgramBody): Program {
  if (typeof name !== "string" || name === "") throw new TypeError("program(name, body): name must be a non-empty string");
  if (typeof body !== "function") throw new TypeError(`program("${name}", body): body must be a generator function`);
  return {
    name,
    body,
    start(argv) {
      const args = [...argv];
      return new GenCoroutine(() => body(sys, args) as ProgramGen, handlerGen, spawnGen, false);
    },
  };
}

export function isProgram(x: unknown): x is Program {
  return typeof x === "object" && x !== null && typeof (x as Program).start === "function" && typeof (x as Program).name === "string";
}
