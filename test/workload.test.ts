import { describe, expect, it } from "vitest";
import { formatPath, parseWorkload, WorkloadError } from "../src/scenario/load.ts";
import { parseSignal, signalName, STEP_OPS, WorkloadSchema, type Workload } from "../src/scenario/workload.ts";
import { bootWorkload } from "../src/scenario/run.ts";

/** Strip common indentation so fixtures can be written inline. */
function yaml(strings: TemplateStringsArray, ...vals: unknown[]): string {
  const src = String.raw({ raw: strings }, ...vals).replace(/^\n/, "");
  const indent = Math.min(...src.split("\n").filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return src
    .split("\n")
    .map((l) => l.slice(indent))
    .join("\n");
}

function errorOf(text: string, file = "w.yaml"): WorkloadError {
  try {
    parseWorkload(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadError);
    const err = e as WorkloadError;
    expect(err.message).not.toContain("\n");
    expect(err.message).toBe(
      `${err.file}:${err.line}:${err.column}: ${err.field ? `${err.field}: ` : ""}${err.reason}`,
    );
    return err;
  }
  throw new Error("expected a WorkloadError");
}

const L = (line: number) => ({ line });

describe("parseWorkload: valid input", () => {
  it("parses the full format into the expected AST", () => {
    const text = yaml`
      name: demo
      description: a small demo
      cpus: 2
      seed: 7
      until: 10s
      sched: linux-6
      programs:
        worker:
          - compute: 3ms
          - exit: 0
      tasks:
        - name: parent
          count: 1
          start: 0
          nice: 5
          affinity: [0, 1]
          run:
            - compute: 250us
            - sleep: 1.5ms
            - io: 100ns
            - yield: true
            - nice: -3
            - fork:
                name: child
                count: 2
                policy: fifo
                priority: 10
                run:
                  - exec: worker
            - wait: any
            - wait: all
            - wait: child
            - setsid: true
            - kill: { target: children, signal: SIGTERM }
            - kill: { target: parent, signal: 9 }
            - kill: { target: child, signal: usr1 }
            - repeat:
                times: 100
                run: [ { compute: 2ms }, { sleep: 8ms } ]
            - exit: 3
        - name: dl
          start: 5ms
          policy: deadline
          runtime: 10ms
          deadline: 30ms
          period: 100ms
          run:
            - compute: 500
    `;
    const w = parseWorkload(text, "w.yaml");
    const expected: Workload = {
      name: "demo",
      description: "a small demo",
      cpus: 2,
      seed: 7,
      until: 10_000_000_000,
      sched: "linux-6",
      programs: {
        worker: [
          { op: "compute", ns: 3_000_000, loc: L(9) },
          { op: "exit", code: 0, loc: L(10) },
        ],
      },
      tasks: [
        {
          name: "parent",
          count: 1,
          start: 0,
          nice: 5,
          affinity: [0, 1],
          loc: L(12),
          body: [
            { op: "compute", ns: 250_000, loc: L(18) },
            { op: "sleep", ns: 1_500_000, loc: L(19) },
            { op: "io", ns: 100, loc: L(20) },
            { op: "yield", loc: L(21) },
            { op: "nice", nice: -3, loc: L(22) },
            {
              op: "fork",
              loc: L(23),
              child: {
                name: "child",
                count: 2,
                policy: "fifo",
                priority: 10,
                body: [{ op: "exec", program: "worker", loc: L(29) }],
              },
            },
            { op: "wait", target: { kind: "any" }, loc: L(30) },
            { op: "wait", target: { kind: "all" }, loc: L(31) },
            { op: "wait", target: { kind: "child", name: "child" }, loc: L(32) },
            { op: "setsid", loc: L(33) },
            { op: "kill", target: { kind: "children" }, signal: 15, loc: L(34) },
            { op: "kill", target: { kind: "parent" }, signal: 9, loc: L(35) },
            { op: "kill", target: { kind: "child", name: "child" }, signal: 10, loc: L(36) },
            {
              op: "repeat",
              times: 100,
              loc: L(37),
              body: [
                { op: "compute", ns: 2_000_000, loc: L(39) },
                { op: "sleep", ns: 8_000_000, loc: L(39) },
              ],
            },
            { op: "exit", code: 3, loc: L(40) },
          ],
        },
        {
          name: "dl",
          count: 1,
          start: 5_000_000,
          policy: "deadline",
          runtime: 10_000_000,
          deadline: 30_000_000,
          period: 100_000_000,
          loc: L(41),
          body: [{ op: "compute", ns: 500, loc: L(48) }],
        },
      ],
    };
    expect(w).toStrictEqual(expected);
  });

  it("applies defaults and omits unspecified attributes", () => {
    const w = parseWorkload("tasks:\n  - name: a\n    run: []\n", "w.yaml");
    expect(w).toStrictEqual({ programs: {}, tasks: [{ name: "a", count: 1, start: 0, body: [], loc: L(2) }] });
  });

  it("fork children inherit (omit) unspecified attributes; count defaults to 1", () => {
    const w = parseWorkload("tasks:\n  - name: a\n    run:\n      - fork: { run: [] }\n", "w.yaml");
    expect(w.tasks[0]!.body).toStrictEqual([{ op: "fork", child: { count: 1, body: [] }, loc: L(4) }]);
  });

  it("accepts shorthands: kill target alone (SIGTERM), empty yield/setsid value", () => {
    const w = parseWorkload("tasks:\n  - name: a\n    run:\n      - kill: children\n      - yield:\n      - setsid:\n", "w.yaml");
    expect(w.tasks[0]!.body).toStrictEqual([
      { op: "kill", target: { kind: "children" }, signal: 15, loc: L(4) },
      { op: "yield", loc: L(5) },
      { op: "setsid", loc: L(6) },
    ]);
  });

  it("parses JSON with the same results and line numbers", () => {
    const json = JSON.stringify(
      {
        name: "j",
        until: "2s",
        tasks: [{ name: "a", run: [{ compute: "3ms" }, { sleep: 1000 }, { repeat: { times: 2, run: [{ io: "1us" }] } }] }],
      },
      null,
      2,
    );
    const w = parseWorkload(json, "w.json");
    expect(w.until).toBe(2_000_000_000);
    const lines = json.split("\n");
    const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle)) + 1;
    const body = w.tasks[0]!.body;
    expect(body[0]).toStrictEqual({ op: "compute", ns: 3_000_000, loc: L(lineOf('"compute"') - 1) });
    expect(body[1]).toStrictEqual({ op: "sleep", ns: 1000, loc: L(lineOf('"sleep"') - 1) });
    expect(body[2]!.op).toBe("repeat");
  });

  it("parses tab-indented and single-line JSON", () => {
    const tabbed = '{\n\t"tasks": [\n\t\t{\n\t\t\t"name": "a",\n\t\t\t"run": [{"compute": "1ms"}]\n\t\t}\n\t]\n}\n';
    expect(parseWorkload(tabbed, "w.json").tasks[0]!.body).toStrictEqual([{ op: "compute", ns: 1_000_000, loc: L(5) }]);
    const flat = '{"tasks":[{"name":"a","run":[{"exit":1}]}]}';
    expect(parseWorkload(flat, "w.json").tasks[0]!.body).toStrictEqual([{ op: "exit", code: 1, loc: L(1) }]);
  });

  it("expands YAML anchors and aliases", () => {
    const text = yaml`
      tasks:
        - name: a
          run: &body
            - compute: 1ms
        - name: b
          run: *body
    `;
    const w = parseWorkload(text, "w.yaml");
    expect(w.tasks[1]!.body).toStrictEqual([{ op: "compute", ns: 1_000_000, loc: L(4) }]);
  });

  it("WorkloadSchema works on plain data (loc line 0)", () => {
    const w = WorkloadSchema.parse({ tasks: [{ name: "a", run: [{ sleep: "1s" }] }] });
    expect(w.tasks[0]!.body).toStrictEqual([{ op: "sleep", ns: 1_000_000_000, loc: L(0) }]);
  });
});

describe("parseWorkload: errors", () => {
  it("bad duration points at its line and field", () => {
    const text = yaml`
      name: demo
      tasks:
        - name: a
          run:
            - compute: 1ms
            - sleep: 2ms
            - compute: 3 parsecs
    `;
    const err = errorOf(text);
    expect(err.message).toMatch(/^w\.yaml:7:/);
    expect(err.message).toBe(
      'w.yaml:7:18: tasks[0].run[2].compute: invalid duration "3 parsecs": expected a number with unit ns, us, ms or s (e.g. 250us, 3ms, 2s)',
    );
    expect(err).toMatchObject({ file: "w.yaml", line: 7, column: 18, field: "tasks[0].run[2].compute" });
  });

  it("negative durations are rejected", () => {
    const err = errorOf("until: -5ms\ntasks:\n  - name: a\n    run: []\n");
    expect(err.message).toBe('w.yaml:1:8: until: invalid duration "-5ms": negative durations are not allowed');
  });

  it("unknown step names list the allowed steps", () => {
    const text = yaml`
      tasks:
        - name: a
          run:
            - compute: 1ms
            - comptue: 2ms
    `;
    const err = errorOf(text);
    expect(err.line).toBe(5);
    expect(err.column).toBe(9);
    expect(err.field).toBe("tasks[0].run[1].comptue");
    expect(err.message).toContain('unknown step "comptue" (did you mean "compute"?); allowed steps: ' + STEP_OPS.join(", "));
  });

  it("steps with two keys are rejected", () => {
    const err = errorOf("tasks:\n  - name: a\n    run:\n      - compute: 1ms\n        sleep: 1ms\n");
    expect(err.line).toBe(5);
    expect(err.field).toBe("tasks[0].run[0].sleep");
    expect(err.reason).toMatch(/exactly one key/);
  });

  it("non-mapping steps are rejected", () => {
    const err = errorOf("tasks:\n  - name: a\n    run:\n      - yield\n");
    expect(err.message).toMatch(/^w\.yaml:4:9: tasks\[0\]\.run\[0\]: expected a step .*got "yield"; allowed steps: compute,/);
  });

  it("misspelt: a misspelt required key is reported as the unknown key it is, with a guess, not as the key missing", () => {
    expect(errorOf("task:\n  - name: a\n    run: []\n").message).toBe(
      'w.yaml:1:1: task: unknown key "task" in a workload (did you mean "tasks"?); allowed keys: name, description, cpus, seed, until, sched, params, programs, tasks',
    );
    expect(errorOf("tasks:\n  - name: a\n    runs: []\n").message).toMatch(/^w\.yaml:3:5: tasks\[0\]\.runs: unknown key "runs" in a task \(did you mean "run"\?\)/);
    expect(errorOf("tasks:\n  - name: a\n    run: []\n    colour: red\n").message).not.toMatch(/did you mean/);
  });

  it("jsonreview: a byte-order mark is skipped; a JSON syntax error is placed where it is, also where Node's message gives no position", () => {
    const bom = "\ufeff" + JSON.stringify({ tasks: [{ name: "a", run: [{ compute: "1ms" }] }] });
    expect(parseWorkload(bom, "w.json").tasks).toHaveLength(1);
    const sq = '{\n  "cpus": 2,\n  "tasks": [{"name": \'a\', "run": []}]\n}\n';
    expect(errorOf(sq, "w.json").message).toBe("w.json:3:22: JSON syntax error: unexpected \"'\""); // at the quote
    expect(errorOf('{\n  "tasks": [\n', "w.json").message).toMatch(/^w\.json:3:1: JSON syntax error: unexpected end of the file$/);
    expect(errorOf('{"tasks": [], "cpus": tru}', "w.json").message).toMatch(/^w\.json:1:2[3-6]: JSON syntax error/);
    // Nesting too deep for the scan: where JSON.parse says. A character outside the BMP is shown whole.
    expect(errorOf("[".repeat(20000), "w.json").message).toBe("w.json:1:20001: JSON syntax error: unexpected end of the file");
    expect(errorOf('{"tasks": []}\u{1F600}', "w.json").message).toBe('w.json:1:14: JSON syntax error: unexpected "\u{1F600}"');
  });

  it("aliaslarge: a program shared by 200 tasks through one alias (about 400,000 nodes) is not taken for an alias bomb", () => {
    const steps = Array.from({ length: 1000 }, (_, i) => `{compute: ${i + 1}us}`).join(", ");
    const text = ["programs:", `  trace: &trace [${steps}]`, "tasks:", ...Array.from({ length: 200 }, (_, i) => `  - {name: t${i}, nice: ${(i % 40) - 20}, run: *trace}`)].join("\n") + "\n";
    expect(parseWorkload(text, "w.yaml").tasks).toHaveLength(200);
  });

  it("aliasbomb: YAML aliases that expand past the cap stop with one line at the alias, not a hang", () => {
    const rows = ["a: &a [{compute: 1ms}, {compute: 1ms}, {compute: 1ms}, {compute: 1ms}, {compute: 1ms}, {compute: 1ms}, {compute: 1ms}, {compute: 1ms}, {compute: 1ms}]"];
    for (const [x, y] of [["b", "a"], ["c", "b"], ["d", "c"], ["e", "d"], ["f", "e"], ["g", "f"], ["h", "g"], ["i", "h"]]) rows.push(`${x}: &${x} [${Array(9).fill(`*${y}`).join(", ")}]`);
    rows.push("tasks: [{name: x, run: *i}]");
    const err = errorOf(rows.join("\n") + "\n");
    expect(err.message).toMatch(/^w\.yaml:\d+:\d+: YAML aliases expand to more than \d+ nodes/);
    // An alias used a few hundred times is fine.
    const ok = ["programs:", "  p: &p [{compute: 1ms}, {sleep: 1ms}]", "tasks:", ...Array.from({ length: 300 }, (_, i) => `  - {name: t${i}, run: *p}`)].join("\n");
    expect(parseWorkload(ok + "\n", "w.yaml").tasks).toHaveLength(300);
  });

  it("unknown keys are named, with the allowed keys", () => {
    const top = errorOf("tasks:\n  - name: a\n    run: []\ncolour: red\n");
    expect(top.message).toBe(
      'w.yaml:4:1: colour: unknown key "colour" in a workload; allowed keys: name, description, cpus, seed, until, sched, params, programs, tasks',
    );
    const task = errorOf("tasks:\n  - name: a\n    prio: 3\n    run: []\n");
    expect(task.message).toMatch(/^w\.yaml:3:5: tasks\[0\]\.prio: unknown key "prio" in a task \(did you mean "priority"\?\); allowed keys: name, count, start, nice,/);
    const fork = errorOf("tasks:\n  - name: a\n    run:\n      - fork:\n          run: []\n          nmae: x\n");
    expect(fork.message).toMatch(/^w\.yaml:6:11: tasks\[0\]\.run\[0\]\.fork\.nmae: unknown key "nmae" in a fork; allowed keys: name, count,/); // two edits from "name": no guess
    const rep = errorOf("tasks:\n  - name: a\n    run:\n      - repeat: { times: 2, run: [], delay: 1ms }\n");
    expect(rep.message).toBe(
      'w.yaml:4:38: tasks[0].run[0].repeat.delay: unknown key "delay" in a repeat; allowed keys: times, every, run',
    );
  });

  it("missing required fields point at the enclosing mapping", () => {
    const noTasks = errorOf("name: x\ncpus: 2\n");
    expect(noTasks.message).toBe("w.yaml:1:1: tasks: missing; expected a list of tasks");
    const noRun = errorOf("tasks:\n  - name: a\n  - name: b\n    nice: 1\n");
    expect(noRun.message).toBe("w.yaml:2:5: tasks[0].run: missing; expected a list of steps");
    const noName = errorOf("tasks:\n  - run: []\n");
    expect(noName.message).toBe("w.yaml:2:5: tasks[0].name: missing; expected a non-empty string");
    const empty = errorOf("tasks: []\n");
    expect(empty.message).toBe("w.yaml:1:8: tasks: expected at least one task");
    const nullRun = errorOf("tasks:\n  - name: a\n    run:\n");
    expect(nullRun.message).toBe("w.yaml:3:5: tasks[0].run: expected a list of steps, got an empty value");
  });

  it("empty and non-mapping documents", () => {
    expect(errorOf("").message).toMatch(/^w\.yaml:1:1: expected a workload \(a mapping with keys .*\), got an empty value$/);
    expect(errorOf("- a\n- b\n").message).toMatch(/^w\.yaml:1:1: expected a workload .* got a list$/);
  });

  it("range checks on integers", () => {
    expect(errorOf("cpus: 0\ntasks:\n  - name: a\n    run: []\n").message).toBe(
      "w.yaml:1:7: cpus: expected an integer from 1 to 1024, got 0",
    );
    expect(errorOf("tasks:\n  - name: a\n    nice: 20\n    run: []\n").message).toBe(
      "w.yaml:3:11: tasks[0].nice: expected an integer from -20 to 19, got 20",
    );
    expect(errorOf("tasks:\n  - name: a\n    run:\n      - nice: -21\n").message).toBe(
      "w.yaml:4:15: tasks[0].run[0].nice: expected an integer from -20 to 19, got -21",
    );
    expect(errorOf("tasks:\n  - name: a\n    run:\n      - exit: 256\n").message).toBe(
      "w.yaml:4:15: tasks[0].run[0].exit: expected an integer from 0 to 255, got 256",
    );
    expect(errorOf("tasks:\n  - name: a\n    count: 1.5\n    run: []\n").message).toBe(
      "w.yaml:3:12: tasks[0].count: expected an integer from 1 to 4194304, got 1.5",
    );
    expect(errorOf('tasks:\n  - name: a\n    run:\n      - repeat: { times: "3", run: [] }\n').message).toBe(
      'w.yaml:4:26: tasks[0].run[0].repeat.times: expected an integer >= 1, got "3"',
    );
  });

  it("policy must be one of the known policies", () => {
    expect(errorOf("tasks:\n  - name: a\n    policy: SCHED_FIFO\n    run: []\n").message).toBe(
      'w.yaml:3:13: tasks[0].policy: expected one of normal, batch, idle, fifo, rr, deadline, got "SCHED_FIFO"',
    );
  });

  it("priority is required for fifo/rr and forbidden otherwise", () => {
    const missing = errorOf("tasks:\n  - name: a\n    policy: rr\n    run: []\n");
    expect(missing.message).toBe("w.yaml:2:5: tasks[0].priority: required when policy is rr; expected an integer from 1 to 99");
    const range = errorOf("tasks:\n  - name: a\n    policy: fifo\n    priority: 100\n    run: []\n");
    expect(range.message).toBe("w.yaml:4:15: tasks[0].priority: expected an integer from 1 to 99, got 100");
    const forbidden = errorOf("tasks:\n  - name: a\n    priority: 5\n    run: []\n");
    expect(forbidden.line).toBe(3);
    expect(forbidden.field).toBe("tasks[0].priority");
    expect(forbidden.reason).toMatch(/only allowed with policy fifo or rr \(no policy given\)/);
    const inFork = errorOf("tasks:\n  - name: a\n    run:\n      - fork:\n          policy: batch\n          priority: 5\n          run: []\n");
    expect(inFork.line).toBe(6);
    expect(inFork.field).toBe("tasks[0].run[0].fork.priority");
    expect(inFork.reason).toMatch(/policy is batch/);
  });

  it("deadline parameters: required iff policy deadline, runtime <= deadline <= period", () => {
    const base = (extra: string) => `tasks:\n  - name: a\n    run: []\n${extra}`;
    const order = errorOf(base("    policy: deadline\n    runtime: 40ms\n    deadline: 30ms\n    period: 100ms\n"));
    expect(order.message).toBe(
      "w.yaml:5:14: tasks[0].runtime: runtime 40ms exceeds deadline 30ms; need runtime <= deadline <= period",
    );
    const order2 = errorOf(base("    policy: deadline\n    runtime: 10ms\n    deadline: 300ms\n    period: 100ms\n"));
    expect(order2.message).toBe(
      "w.yaml:6:15: tasks[0].deadline: deadline 300ms exceeds period 100ms; need runtime <= deadline <= period",
    );
    const missing = errorOf(base("    policy: deadline\n    runtime: 10ms\n    deadline: 30ms\n"));
    expect(missing.field).toBe("tasks[0].period");
    expect(missing.line).toBe(2);
    expect(missing.reason).toMatch(/required when policy is deadline/);
    const forbidden = errorOf(base("    policy: fifo\n    priority: 5\n    runtime: 10ms\n"));
    expect(forbidden.message).toBe(
      "w.yaml:6:14: tasks[0].runtime: only allowed with policy deadline (policy is fifo); for normal and batch tasks it sets the slice",
    );
    const period = errorOf(base("    policy: normal\n    period: 10ms\n"));
    expect(period.message).toBe("w.yaml:5:13: tasks[0].period: only allowed with policy deadline (policy is normal)");
  });

  it("runtime of a normal or batch task is its own slice (sched_runtime), 100us to 100ms", () => {
    const base = (extra: string) => `tasks:\n  - name: a\n    run: []\n${extra}`;
    const ok = parseWorkload(base("    policy: batch\n    runtime: 2ms\n"), "w.yaml");
    expect(ok.tasks[0]!.runtime).toBe(2_000_000);
    expect(errorOf(base("    runtime: 200ms\n")).message).toBe(
      "w.yaml:4:14: tasks[0].runtime: slice 200ms out of range; expected 100us to 100ms (the request size of a normal or batch task)",
    );
    expect(errorOf("tasks:\n  - name: a\n    run:\n      - fork: { runtime: 1ms, run: [] }\n").reason).toMatch(/forked child's own slice is not supported/);
    const { machine } = bootWorkload(parseWorkload("tasks:\n  - name: a\n    runtime: 1ms\n    run: [ { sleep: 10ms } ]\n", "w.yaml"));
    machine.run(1);
    const t = [...machine.kernel.tasks.values()].find((x) => x.comm === "a")!;
    expect(t.fairSlice).toBe(1_000_000);
  });

  it("affinity must be a non-empty list of unique CPU numbers", () => {
    const base = (aff: string) => `tasks:\n  - name: a\n    affinity: ${aff}\n    run: []\n`;
    expect(errorOf(base("[0, 1, 1]")).message).toBe(
      "w.yaml:3:22: tasks[0].affinity[2]: CPU 1 is listed more than once; CPUs must be unique",
    );
    expect(errorOf(base("[]")).message).toBe("w.yaml:3:15: tasks[0].affinity: expected a non-empty list of CPU numbers");
    expect(errorOf(base("[0, -1]")).message).toBe(
      "w.yaml:3:19: tasks[0].affinity[1]: expected an integer from 0 to 1023, got -1",
    );
    expect(errorOf(base("3")).field).toBe("tasks[0].affinity");
  });

  it("exec must name a defined program", () => {
    const text = yaml`
      programs:
        worker:
          - exec: helper
        helper:
          - exit: 0
      tasks:
        - name: a
          run:
            - repeat:
                times: 2
                run:
                  - fork:
                      run:
                        - exec: wroker
    `;
    const err = errorOf(text);
    expect(err.message).toBe(
      'w.yaml:14:27: tasks[0].run[0].repeat.run[0].fork.run[0].exec: unknown program "wroker"; defined programs: worker, helper',
    );
    const none = errorOf("tasks:\n  - name: a\n    run:\n      - exec: x\n");
    expect(none.message).toBe(
      'w.yaml:4:15: tasks[0].run[0].exec: unknown program "x"; no programs are defined (add a top-level "programs" mapping)',
    );
    const inProgram = errorOf("programs:\n  p:\n    - exec: q\ntasks:\n  - name: a\n    run: [ { exec: p } ]\n");
    expect(inProgram.message).toBe('w.yaml:3:13: programs.p[0].exec: unknown program "q"; defined programs: p');
  });

  it("kill: bad signals and targets", () => {
    const sig = errorOf("tasks:\n  - name: a\n    run:\n      - kill: { target: parent, signal: SIGFOO }\n");
    expect(sig.message).toBe(
      'w.yaml:4:41: tasks[0].run[0].kill.signal: unknown signal "SIGFOO"; expected a signal name like SIGTERM or TERM, or a number from 1 to 64',
    );
    const num = errorOf("tasks:\n  - name: a\n    run:\n      - kill: { target: parent, signal: 65 }\n");
    expect(num.field).toBe("tasks[0].run[0].kill.signal");
    const target = errorOf("tasks:\n  - name: a\n    run:\n      - kill: { signal: 9 }\n");
    expect(target.message).toBe(
      "w.yaml:4:15: tasks[0].run[0].kill.target: missing; expected parent, children or the name of a child",
    );
  });

  it("childnames: wait and kill name a child that some fork step names; a typo is an error at its line", () => {
    expect(errorOf("tasks:\n  - name: p\n    run:\n      - fork: { name: kid, run: [ { compute: 1ms } ] }\n      - wait: kdi\n").message).toBe(
      'w.yaml:5:15: tasks[0].run[1].wait: no child is named "kdi": expected any, all or a child\'s name; children are named "kid"',
    );
    expect(errorOf("tasks:\n  - name: p\n    run:\n      - kill: { target: nobody }\n").message).toBe(
      'w.yaml:4:25: tasks[0].run[0].kill.target: no child is named "nobody": expected parent, children or a child\'s name; no fork step names its child (fork: { name: ... })',
    );
    // A name given in another task's or a program's fork counts (programs may be exec'd anywhere).
    expect(() => parseWorkload("programs:\n  w:\n    - fork: { name: kid, run: [] }\ntasks:\n  - name: p\n    run: [ { wait: kid } ]\n", "w.yaml")).not.toThrow();
  });

  it("wait and yield values are checked", () => {
    expect(errorOf("tasks:\n  - name: a\n    run:\n      - wait: 3\n").message).toBe(
      "w.yaml:4:15: tasks[0].run[0].wait: expected any, all or the name of a child, got 3",
    );
    expect(errorOf("tasks:\n  - name: a\n    run:\n      - yield: false\n").message).toBe(
      "w.yaml:4:16: tasks[0].run[0].yield: expected true, got false",
    );
  });

  it("reports the first problem in file order", () => {
    const text = yaml`
      tasks:
        - name: a
          nice: 99
          run:
            - compute: soon
      cpus: 0
    `;
    expect(errorOf(text).line).toBe(3);
  });

  it("YAML syntax errors carry the line", () => {
    const err = errorOf("tasks:\n  - name: a\n    run: [ { compute: 1ms }\n  - name: b\n");
    expect(err.field).toBe("");
    expect(err.message).toMatch(/^w\.yaml:\d+:\d+: YAML syntax error: /);
    expect(err.line).toBeGreaterThanOrEqual(3);
    const dup = errorOf("tasks:\n  - name: a\n    name: b\n    run: []\n");
    expect(dup.message).toMatch(/^w\.yaml:3:5: YAML syntax error: Map keys must be unique/);
    const tab = errorOf("tasks:\n\t- name: a\n");
    expect(tab.line).toBe(2);
    expect(errorOf("a: 1\n---\nb: 2\n").message).toMatch(/^w\.yaml:2:1: YAML syntax error: a workload file must hold a single YAML document/);
    expect(errorOf("tasks:\n  - name: a\n    run: *nope\n").message).toBe("w.yaml:3:10: YAML syntax error: unknown alias *nope");
  });

  it("JSON errors carry line numbers too", () => {
    const json = JSON.stringify({ tasks: [{ name: "a", run: [{ compute: "1ms" }, { sleep: "forever" }] }] }, null, 2);
    const err = errorOf(json, "w.json");
    const line = json.split("\n").findIndex((l) => l.includes('"forever"')) + 1;
    expect(err.message).toMatch(new RegExp(`^w\\.json:${line}:\\d+: tasks\\[0\\]\\.run\\[1\\]\\.sleep: invalid duration "forever"`));
    const syntax = errorOf('{\n  "tasks": [\n    {"name": "a",, "run": []}\n  ]\n}\n', "w.json");
    expect(syntax.message).toMatch(/^w\.json:3:\d+: JSON syntax error/);
    // JSON as JSON.parse takes it: no trailing comma, no single quotes (YAML would take both)
    expect(errorOf('{"tasks": [{"name": "a", "run": []},]}', "w.json").message).toMatch(/^w\.json:1:\d+: JSON syntax error/);
    expect(errorOf("{'tasks': []}", "w.json").message).toMatch(/^w\.json:1:2: JSON syntax error/);
  });

  it("__proto__ and odd keys are plain unknown keys", () => {
    const err = errorOf('tasks:\n  - name: a\n    run: []\n    "__proto__": { x: 1 }\n');
    expect(err.field).toBe("tasks[0].__proto__");
    expect(err.reason).toMatch(/unknown key "__proto__"/);
    const spaced = errorOf('programs:\n  "my prog": [ { exec: nope } ]\ntasks:\n  - name: a\n    run: []\n');
    expect(spaced.field).toBe('programs["my prog"][0].exec');
  });
});

describe("helpers", () => {
  it("formatPath", () => {
    expect(formatPath([])).toBe("");
    expect(formatPath(["tasks", 0, "run", 2, "compute"])).toBe("tasks[0].run[2].compute");
    expect(formatPath(["programs", "a b", 1])).toBe('programs["a b"][1]');
  });

  it("parseSignal / signalName", () => {
    expect(parseSignal("SIGTERM")).toBe(15);
    expect(parseSignal("term")).toBe(15);
    expect(parseSignal("KILL")).toBe(9);
    expect(parseSignal("SIGCHLD")).toBe(17);
    expect(parseSignal("SIGSYS")).toBe(31);
    expect(parseSignal("SIGRTMIN+2")).toBe(36);
    expect(parseSignal("SIGRTMAX")).toBe(64);
    expect(parseSignal(64)).toBe(64);
    expect(parseSignal("9")).toBe(9);
    expect(parseSignal(0)).toBeUndefined();
    expect(parseSignal(65)).toBeUndefined();
    expect(parseSignal("SIGRTMAX+1")).toBeUndefined();
    expect(parseSignal("toString")).toBeUndefined();
    expect(signalName(15)).toBe("SIGTERM");
    expect(signalName(6)).toBe("SIGABRT");
    expect(signalName(17)).toBe("SIGCHLD");
    expect(signalName(36)).toBe("SIGRTMIN+2");
  });
});

describe("params: kernel tunables in the file", () => {
  const base = "cpus: 1\nuntil: 2s\ntasks:\n  - name: fifo\n    policy: fifo\n    priority: 10\n    run: [ { compute: 10s } ]\n  - name: fair\n    run: [ { compute: 10s } ]\n";
  const fairTime = (text: string, params?: Record<string, unknown>): number => {
    const { machine } = bootWorkload(parseWorkload(text, "w.yaml"), { params: params as never });
    machine.run(2e9);
    const t = [...machine.kernel.tasks.values()].find((x) => x.comm === "fair")!;
    return t.sumExecRuntime + (machine.kernel.rqs[t.cpu]!.curr === t ? machine.now - t.execStart : 0);
  };

  it("paramsfile: a workload sets tunables as --param does (rtRuntime -1: RT throttling off, the fair task gets nothing), durations with units, and the command line wins key by key", () => {
    const dflt = fairTime(base);
    expect(dflt).toBeGreaterThan(90e6); // about 50 ms of every second: throttling is on by default
    expect(dflt).toBeLessThanOrEqual(100e6);
    expect(fairTime(`params: { rtRuntime: -1 }\n${base}`)).toBe(0);
    const file = fairTime(`params:\n  rtRuntime: 900ms\n${base}`);
    expect(file).toBeGreaterThan(180e6); // about 100 ms of every second
    expect(file).toBe(fairTime(base, { rtRuntime: 900e6 })); // the same as --param rtRuntime=900ms
    expect(fairTime(`params: { rtRuntime: -1 }\n${base}`, { rtRuntime: 950e6 })).toBe(dflt); // --param rtRuntime=950ms wins
    const w = parseWorkload("params: { hz: 1000, childRunsFirst: true, schedFeatures: NO_PLACE_LAG }\ntasks:\n  - name: a\n    run: [ { compute: 1ms } ]\n", "w.yaml");
    expect(w.params).toEqual({ hz: 1000, childRunsFirst: true, schedFeatures: "NO_PLACE_LAG" });
  });

  it("paramsfeatures: the file's feature switches and --sched's (or --param's) both apply, the command line's last", () => {
    const w = parseWorkload("params: { schedFeatures: NO_PLACE_LAG }\ntasks:\n  - name: a\n    run: [ { compute: 1ms } ]\n", "w.yaml");
    const { machine } = bootWorkload(w, { params: { schedFeatures: "NO_RUN_TO_PARITY" } });
    expect(machine.kernel.params.schedFeatures).toBe("NO_PLACE_LAG NO_RUN_TO_PARITY");
  });

  it("paramsfeaturescfs: a file's EEVDF feature switches are left out under a scheduler without EEVDF (so compare runs the file under CFS too); the command line's are still checked", () => {
    const w = parseWorkload("params: { schedFeatures: NO_PLACE_LAG }\ntasks:\n  - name: a\n    run: [ { compute: 1ms } ]\n", "w.yaml");
    expect(bootWorkload(w, { sched: "linux-5" }).machine.kernel.params.schedFeatures).toBe("");
    expect(bootWorkload(w, { sched: "linux-6" }).machine.kernel.params.schedFeatures).toBe("NO_PLACE_LAG");
    expect(() => bootWorkload(w, { sched: "linux-5", params: { schedFeatures: "NO_PLACE_LAG" } })).toThrow(/schedFeatures/);
  });

  it("paramsbad: an unknown tunable, a bad duration and a value out of range are errors at the file's line, naming the key", () => {
    const t = "tasks:\n  - name: a\n    run: [ { compute: 1ms } ]\nparams:\n";
    expect(errorOf(`${t}  rtRuntim: 2s\n`).message).toMatch(/^w\.yaml:5:\d+: params\.rtRuntim: unknown tunable "rtRuntim": expected one of .*\(did you mean "rtRuntime"\?\)$/);
    expect(errorOf(`${t}  baseSlice: 3 parsecs\n`).message).toMatch(/^w\.yaml:5:\d+: params\.baseSlice: invalid duration "3 parsecs"/);
    expect(errorOf(`${t}  hz: 33\n`).message).toMatch(/^w\.yaml:5:\d+: params\.hz: invalid hz 33: expected an integer from 100 to 1000$/);
    expect(errorOf(`${t}  rtRuntime: 2s\n`).message).toMatch(/^w\.yaml:5:\d+: params\.rtRuntime: invalid rtRuntime 2s: expected -1 \(no throttling\) or a duration from 0 to rtPeriod \(1s\)$/);
    expect(errorOf("tasks:\n  - name: a\n    run: [ { compute: 1ms } ]\nparams: 5\n").message).toMatch(/^w\.yaml:4:\d+: params: expected a mapping of tunable name to value/);
  });
});
