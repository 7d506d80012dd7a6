// BullMQ (npm) runs unchanged on our server: its queues are Lua scripts
// (EVALSHA with cmsgpack/cjson), its workers block on BZPOPMIN and its
// events are a stream read with XREAD BLOCK. Each scenario runs against our
// server and against redis-server with the same expectations.

import assert from "node:assert/strict";
import { FlowProducer, type Job, Queue, QueueEvents, Worker } from "bullmq";
import { encodeCommand } from "../protocol.ts";
import { Conn, has, RedisServer, startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Every wait in this file is bounded by this. */
const WAIT_MS = 30_000;

interface Target {
  port: number;
  stop(): Promise<void>;
}

const TARGETS: [string, () => Promise<Target>][] = [
  ["@kv/store", async () => {
    const s = await startServer();
    return { port: s.port, stop: () => s.close() };
  }],
];
if (has("redis-server")) {
  TARGETS.push(["redis-server", async () => {
    const r = await RedisServer.start();
    return { port: r.port, stop: () => r.stop() };
  }]);
}

function connection(port: number) {
  return { host: "127.0.0.1", port, maxRetriesPerRequest: null };
}

/** Resolves with `p`, or rejects after `ms` naming what it waited for. */
async function within<T>(p: Promise<T>, what: string, ms = WAIT_MS) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${ms} ms: ${what}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A promise and its resolve, for "this many things happened". */
function counter(target: number) {
  let n = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  if (target <= 0) resolve();
  return {
    done,
    get count() {
      return n;
    },
    tick() {
      if (++n >= target) resolve();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Closes everything, whatever fails, and reports the first failure. */
async function closeAll(
  things: ({ close(): Promise<unknown> } | undefined)[],
  target: Target,
) {
  const results = await Promise.allSettled(
    things.map((t) => t ? within(t.close(), "close") : Promise.resolve()),
  );
  await target.stop();
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

for (const [name, start] of TARGETS) {
  Deno.test(
    `bullmq (${name}): priorities, a delayed job, retries, events, counts`,
    opts,
    async () => {
      const target = await start();
      const conn = connection(target.port);
      let queue: Queue | undefined;
      let events: QueueEvents | undefined;
      let worker: Worker | undefined;
      try {
        queue = new Queue("main", { connection: conn });
        events = new QueueEvents("main", { connection: conn });
        await within(queue.waitUntilReady(), "queue ready");
        await within(events.waitUntilReady(), "queue events ready");

        // 40 jobs, priorities 1 (first) .. 5, added in an order that is not
        // the processing order; within one priority, first in first out.
        const PRIO_JOBS = 40;
        const expected: string[] = [];
        const added: { name: string; priority: number }[] = [];
        for (let i = 0; i < PRIO_JOBS; i++) {
          const priority = ((i * 7) % 5) + 1;
          added.push({ name: `p${priority}-${i}`, priority });
        }
        for (let p = 1; p <= 5; p++) {
          for (const a of added) if (a.priority === p) expected.push(a.name);
        }
        await within(
          queue.addBulk(
            added.map((a) => ({
              name: a.name,
              data: { kind: "prio" },
              opts: { priority: a.priority },
            })),
          ),
          "addBulk",
        );

        const DELAY = 600;
        const delayed = await queue.add("delayed", { kind: "delayed" }, {
          delay: DELAY,
        });
        const retried = await queue.add("flaky", { kind: "flaky" }, {
          attempts: 3,
          backoff: { type: "fixed", delay: 50 },
        });
        const TOTAL = PRIO_JOBS + 2;
        assert.deepEqual(
          await queue.getJobCounts("prioritized", "delayed", "wait"),
          { prioritized: PRIO_JOBS, delayed: 1, wait: 1 },
        );

        const completedEvents = counter(TOTAL);
        const completedIds = new Set<string>();
        events.on("completed", ({ jobId }) => {
          completedIds.add(jobId);
          completedEvents.tick();
        });
        const failedEvents: string[] = [];
        events.on("failed", ({ jobId, failedReason }) => {
          failedEvents.push(`${jobId}: ${failedReason}`);
        });

        const order: string[] = [];
        const finished = counter(TOTAL);
        const workerFailures: string[] = [];
        worker = new Worker(
          "main",
          (job: Job) => {
            if (job.data.kind === "prio") order.push(job.name);
            if (job.data.kind === "flaky" && job.attemptsMade < 2) {
              return Promise.reject(
                new Error(`attempt ${job.attemptsMade + 1} fails`),
              );
            }
            return Promise.resolve({
              name: job.name,
              attempt: job.attemptsMade + 1,
            });
          },
          { connection: conn, concurrency: 1, autorun: false },
        );
        worker.on("completed", () => finished.tick());
        worker.on("failed", (job, err) => {
          workerFailures.push(`${job?.name}: ${err.message}`);
        });
        worker.on("error", (err) => workerFailures.push(`error: ${err}`));
        worker.run().catch((e) => workerFailures.push(`run: ${e}`));

        await within(finished.done, `${TOTAL} jobs completed`);
        await within(completedEvents.done, `${TOTAL} completed events`);

        // The 40 in priority order, first in first out within a priority.
        assert.deepEqual(order, expected);

        // The delayed job ran after its delay, not before.
        const d = await queue.getJob(delayed.id!);
        assert.ok(d, "delayed job kept");
        assert.equal(await d.getState(), "completed");
        assert.ok(
          d.processedOn! >= d.timestamp + DELAY,
          `delayed job started ${d.processedOn! - d.timestamp} ms after add`,
        );

        // The flaky job failed twice, then succeeded on its third attempt.
        const r = await queue.getJob(retried.id!);
        assert.ok(r, "retried job kept");
        assert.equal(await r.getState(), "completed");
        assert.deepEqual(r.returnvalue, { name: "flaky", attempt: 3 });
        assert.equal(r.attemptsMade, 3);
        assert.deepEqual(workerFailures, [
          "flaky: attempt 1 fails",
          "flaky: attempt 2 fails",
        ]);
        assert.deepEqual(failedEvents, []); // retried, never failed for good

        // One `completed` event per job.
        assert.equal(completedEvents.count, TOTAL);
        assert.equal(completedIds.size, TOTAL);

        assert.deepEqual(
          await queue.getJobCounts(
            "active",
            "completed",
            "delayed",
            "failed",
            "paused",
            "prioritized",
            "waiting",
            "waiting-children",
          ),
          {
            active: 0,
            completed: TOTAL,
            delayed: 0,
            failed: 0,
            paused: 0,
            prioritized: 0,
            waiting: 0,
            "waiting-children": 0,
          },
        );
        const done = await queue.getCompleted(0, -1);
        assert.equal(done.length, TOTAL);
      } finally {
        await closeAll([worker, events, queue], target);
      }
    },
  );

  Deno.test(
    `bullmq (${name}): a repeatable job runs every 200 ms until removed`,
    opts,
    async () => {
      const target = await start();
      const conn = connection(target.port);
      let queue: Queue | undefined;
      let worker: Worker | undefined;
      try {
        queue = new Queue("repeat", { connection: conn });
        const RUNS = 4;
        const runs = counter(RUNS);
        const seen: number[] = [];
        const errors: string[] = [];
        worker = new Worker(
          "repeat",
          (job: Job) => {
            seen.push(job.data.n);
            runs.tick();
            return Promise.resolve(job.name);
          },
          { connection: conn, concurrency: 1 },
        );
        worker.on("error", (err) => errors.push(`error: ${err}`));
        worker.on("failed", (job, err) => errors.push(`${job?.id}: ${err}`));

        const first = await queue.upsertJobScheduler("tick", { every: 200 }, {
          name: "tick",
          data: { n: 1 },
        });
        assert.equal(first?.name, "tick");
        const schedulers = await queue.getJobSchedulers();
        assert.equal(schedulers.length, 1);
        assert.equal(schedulers[0].key, "tick");
        assert.equal(schedulers[0].every, 200);

        await within(runs.done, `${RUNS} runs of the repeatable job`);
        assert.deepEqual(errors, []);

        assert.equal(await queue.removeJobScheduler("tick"), true);
        assert.deepEqual(await queue.getJobSchedulers(), []);
        assert.equal(await queue.getJobSchedulersCount(), 0);
        // Whatever was already waiting or running finishes (bounded); then
        // nothing more is scheduled.
        for (let i = 0; i < 300; i++) {
          const c = await queue.getJobCounts("wait", "active", "delayed");
          if (c.wait + c.active + c.delayed === 0) break;
          await sleep(20);
        }
        const after = runs.count;
        await sleep(600);
        assert.equal(runs.count, after, "runs after the scheduler was removed");
        assert.equal(await queue.getDelayedCount(), 0);
        assert.ok(seen.every((n) => n === 1));
        const counts = await queue.getJobCounts("completed", "failed");
        assert.equal(counts.failed, 0);
        assert.equal(counts.completed, runs.count);
      } finally {
        await closeAll([worker, queue], target);
      }
    },
  );

  Deno.test(
    `bullmq (${name}): a rate-limited worker keeps to its rate`,
    opts,
    async () => {
      const target = await start();
      const conn = connection(target.port);
      let queue: Queue | undefined;
      let worker: Worker | undefined;
      try {
        queue = new Queue("limited", { connection: conn });
        const JOBS = 15;
        const MAX = 5;
        const DURATION = 400;
        await queue.addBulk(
          Array.from({ length: JOBS }, (_, i) => ({
            name: `job${i}`,
            data: { i },
          })),
        );
        const finished = counter(JOBS);
        const errors: string[] = [];
        worker = new Worker(
          "limited",
          (job: Job) => Promise.resolve(job.data.i),
          {
            connection: conn,
            concurrency: 3,
            limiter: { max: MAX, duration: DURATION },
          },
        );
        worker.on("completed", () => finished.tick());
        worker.on("error", (err) => errors.push(`error: ${err}`));
        worker.on("failed", (job, err) => errors.push(`${job?.id}: ${err}`));
        await within(finished.done, `${JOBS} rate-limited jobs`);
        assert.deepEqual(errors, []);

        const jobs = await queue.getCompleted(0, -1);
        assert.equal(jobs.length, JOBS);
        const starts = jobs.map((j) => j.processedOn!).sort((a, b) => a - b);
        // The limiter counts starts in windows of DURATION ms opened by the
        // first start of each: the j-th start is in window j / MAX or later.
        // (1 ms of slack: the window's expiry and processedOn are read from
        // different clocks' milliseconds.)
        for (let j = 0; j < JOBS; j++) {
          const earliest = starts[0] + Math.floor(j / MAX) * DURATION - 1;
          assert.ok(
            starts[j] >= earliest,
            `start ${j} at +${starts[j] - starts[0]} ms: more than ${MAX} ` +
              `per ${DURATION} ms (${starts.map((s) => s - starts[0])})`,
          );
        }
        assert.deepEqual(
          await queue.getJobCounts("completed", "failed", "wait", "active"),
          { completed: JOBS, failed: 0, wait: 0, active: 0 },
        );
      } finally {
        await closeAll([worker, queue], target);
      }
    },
  );
  Deno.test(
    `bullmq (${name}): a flow, progress, pause and resume, a job that fails for good`,
    opts,
    async () => {
      const target = await start();
      const conn = connection(target.port);
      let queue: Queue | undefined;
      let events: QueueEvents | undefined;
      let flows: FlowProducer | undefined;
      let worker: Worker | undefined;
      try {
        queue = new Queue("flow", { connection: conn });
        events = new QueueEvents("flow", { connection: conn });
        flows = new FlowProducer({ connection: conn });
        await within(events.waitUntilReady(), "queue events ready");

        // A parent waits for its three children.
        const tree = await within(
          flows.add({
            name: "parent",
            queueName: "flow",
            data: { kind: "parent" },
            children: [1, 2, 3].map((n) => ({
              name: `child${n}`,
              queueName: "flow",
              data: { kind: "child", n },
            })),
          }),
          "flow add",
        );
        assert.equal(tree.children?.length, 3);
        assert.equal(await tree.job.getState(), "waiting-children");
        const doomed = await queue.add("doomed", { kind: "doomed" }, {
          attempts: 2,
          backoff: { type: "fixed", delay: 20 },
        });
        assert.deepEqual(
          await queue.getJobCounts("waiting-children", "wait", "failed"),
          { "waiting-children": 1, wait: 4, failed: 0 },
        );

        const progress: unknown[] = [];
        events.on("progress", ({ data }) => progress.push(data));
        const failed = counter(1);
        const failedReasons: string[] = [];
        events.on("failed", ({ failedReason }) => {
          failedReasons.push(failedReason);
          failed.tick();
        });
        const completed = counter(4);
        events.on("completed", () => completed.tick());

        const order: string[] = [];
        const errors: string[] = [];
        worker = new Worker(
          "flow",
          async (job: Job) => {
            order.push(job.name);
            if (job.data.kind === "child") return job.data.n * 10;
            if (job.data.kind === "doomed") {
              throw new Error(`doomed attempt ${job.attemptsMade + 1}`);
            }
            await job.updateProgress(50);
            const values = await job.getChildrenValues();
            await job.updateProgress({ done: true });
            return Object.values(values).reduce((a, b) => a + b, 0);
          },
          { connection: conn, concurrency: 1 },
        );
        worker.on("error", (err) => errors.push(`error: ${err}`));

        await within(completed.done, "4 flow jobs completed");
        await within(failed.done, "the doomed job failed");
        assert.deepEqual(errors, []);
        assert.deepEqual([...order].sort(), [
          "child1",
          "child2",
          "child3",
          "doomed",
          "doomed",
          "parent",
        ]);
        assert.ok(
          order.indexOf("parent") > order.indexOf("child1") &&
            order.indexOf("parent") > order.indexOf("child2") &&
            order.indexOf("parent") > order.indexOf("child3"),
          `parent ran before a child: ${order}`,
        );
        const parent = await queue.getJob(tree.job.id!);
        assert.equal(parent?.returnvalue, 60);
        assert.equal(await parent?.getState(), "completed");
        assert.deepEqual(progress, [50, { done: true }]);

        const d = await queue.getJob(doomed.id!);
        assert.equal(await d?.getState(), "failed");
        assert.equal(d?.attemptsMade, 2);
        assert.equal(d?.failedReason, "doomed attempt 2");
        assert.equal(d?.stacktrace?.length, 2);
        assert.deepEqual(failedReasons, ["doomed attempt 2"]);

        // Paused, the queue keeps its jobs; resumed, the worker runs them.
        await queue.pause();
        assert.equal(await queue.isPaused(), true);
        const later = await queue.add("later", { kind: "child", n: 7 });
        await sleep(300);
        assert.equal(await later.getState(), "waiting");
        assert.deepEqual(await queue.getJobCounts("paused", "active"), {
          paused: 1,
          active: 0,
        });
        const resumed = counter(1);
        events.on("completed", ({ jobId }) => {
          if (jobId === later.id) resumed.tick();
        });
        await queue.resume();
        assert.equal(await queue.isPaused(), false);
        await within(resumed.done, "the job added while paused");
        assert.equal((await queue.getJob(later.id!))?.returnvalue, 70);

        assert.deepEqual(
          await queue.getJobCounts(
            "active",
            "completed",
            "delayed",
            "failed",
            "paused",
            "waiting",
            "waiting-children",
          ),
          {
            active: 0,
            completed: 5,
            delayed: 0,
            failed: 1,
            paused: 0,
            waiting: 0,
            "waiting-children": 0,
          },
        );
      } finally {
        await closeAll([worker, flows, events, queue], target);
      }
    },
  );

  Deno.test(
    `bullmq (${name}): the repeat option with a limit, removeOnComplete`,
    opts,
    async () => {
      const target = await start();
      const conn = connection(target.port);
      let queue: Queue | undefined;
      let worker: Worker | undefined;
      try {
        queue = new Queue("legacy", { connection: conn });
        const runs = counter(3);
        const errors: string[] = [];
        worker = new Worker(
          "legacy",
          (job: Job) => {
            runs.tick();
            return Promise.resolve(job.data.x);
          },
          { connection: conn, concurrency: 1 },
        );
        worker.on("error", (err) => errors.push(`error: ${err}`));
        worker.on("failed", (job, err) => errors.push(`${job?.id}: ${err}`));
        await queue.add("every", { x: 1 }, {
          repeat: { every: 150, limit: 3 },
          removeOnComplete: true,
        });
        await within(runs.done, "3 runs of the repeated job");
        await sleep(500);
        assert.equal(runs.count, 3, "runs past the limit");
        assert.deepEqual(errors, []);
        assert.deepEqual(
          await queue.getJobCounts("completed", "delayed", "wait", "failed"),
          { completed: 0, delayed: 0, wait: 0, failed: 0 },
        );
      } finally {
        await closeAll([worker, queue], target);
      }
    },
  );
  Deno.test(
    `bullmq (${name}): job management (priority, delay, promote, remove, logs, retry, clean, drain, obliterate, deduplication)`,
    opts,
    async () => {
      const target = await start();
      const conn = connection(target.port);
      let queue: Queue | undefined;
      let worker: Worker | undefined;
      try {
        queue = new Queue("manage", { connection: conn });
        const waiting = await queue.addBulk(
          Array.from({ length: 6 }, (_, i) => ({
            name: `w${i}`,
            data: { i },
          })),
        );
        const low = await queue.add("low", {}, { priority: 9 });
        const later = await queue.add("later", {}, { delay: 60_000 });
        const muchLater = await queue.add("muchLater", {}, { delay: 90_000 });
        assert.deepEqual(
          await queue.getJobCounts("wait", "prioritized", "delayed"),
          { wait: 6, prioritized: 1, delayed: 2 },
        );
        assert.deepEqual(await queue.getCountsPerPriority([0, 9]), {
          "0": 6,
          "9": 1,
        });
        assert.deepEqual(
          (await queue.getJobs(["wait"], 0, -1, true)).map((j) => j.name),
          ["w0", "w1", "w2", "w3", "w4", "w5"],
        );

        await low.changePriority({ priority: 2 });
        assert.deepEqual(await queue.getCountsPerPriority([2, 9]), {
          "2": 1,
          "9": 0,
        });
        await later.changeDelay(120_000);
        assert.equal(await later.getState(), "delayed");
        await muchLater.promote();
        assert.equal(await muchLater.getState(), "waiting");

        await waiting[2].updateData({ i: 2, updated: true });
        assert.equal(await waiting[2].log("first line"), 1);
        assert.equal(await waiting[2].log("second line"), 2);
        assert.deepEqual(await queue.getJobLogs(waiting[2].id!), {
          logs: ["first line", "second line"],
          count: 2,
        });
        assert.deepEqual(
          (await queue.getJob(waiting[2].id!))?.data,
          { i: 2, updated: true },
        );
        assert.equal(await queue.remove(waiting[3].id!), 1);
        assert.equal(await queue.getJobState(waiting[3].id!), "unknown");

        // Deduplication: a second add with the same id is ignored.
        const d1 = await queue.add("dedup", { n: 1 }, {
          deduplication: { id: "same" },
        });
        const d2 = await queue.add("dedup", { n: 2 }, {
          deduplication: { id: "same" },
        });
        assert.equal(d2.id, d1.id);
        assert.equal(await queue.getDeduplicationJobId("same"), d1.id);

        // Drain: waiting and prioritized go, delayed stay without `true`.
        await queue.drain();
        assert.deepEqual(
          await queue.getJobCounts("wait", "prioritized", "delayed"),
          { wait: 0, prioritized: 0, delayed: 1 },
        );
        await queue.drain(true);
        assert.equal(await queue.getDelayedCount(), 0);

        // A failure, then a retry that succeeds.
        let failing = true;
        const finished = counter(3);
        const errors: string[] = [];
        worker = new Worker(
          "manage",
          (job: Job) =>
            failing && job.name === "fragile"
              ? Promise.reject(new Error("not yet"))
              : Promise.resolve(job.name),
          { connection: conn, concurrency: 1 },
        );
        worker.on("completed", () => finished.tick());
        worker.on("failed", () => finished.tick());
        worker.on("error", (err) => errors.push(`error: ${err}`));
        const fragile = await queue.add("fragile", {});
        const fine = await queue.add("fine", {});
        const fine2 = await queue.add("fine2", {});
        await within(finished.done, "3 jobs finished");
        assert.equal(await fragile.getState(), "failed");
        failing = false;
        const retried = counter(1);
        worker.on("completed", (job) => {
          if (job.id === fragile.id) retried.tick();
        });
        await fragile.retry("failed");
        await within(retried.done, "the retried job");
        assert.equal(await fragile.getState(), "completed");
        assert.equal(await fine.getState(), "completed");

        // Clean removes finished jobs by age; obliterate removes the queue.
        const cleaned = await queue.clean(0, 100, "completed");
        assert.deepEqual(
          [...cleaned].sort(),
          [fragile.id!, fine.id!, fine2.id!].sort(),
        );
        assert.equal(await queue.getCompletedCount(), 0);
        await worker.close();
        await queue.obliterate({ force: true });
        using raw = await Conn.open(target.port);
        assert.deepEqual(await raw.call("KEYS", "bull:manage:*"), []);
        assert.deepEqual(errors, []);
      } finally {
        await closeAll([worker, queue], target);
      }
    },
  );
}

/** Parses one MONITOR line (`<time> [<db> <client>] "arg" ...`, arguments
 * escaped as sdscatrepr does) into the client and its arguments' bytes. */
function parseMonitorLine(
  line: string,
): { client: string; args: Uint8Array[] } | null {
  const m = /^\+?\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
  if (!m) return null;
  const s = m[2];
  const args: Uint8Array[] = [];
  const escapes: Record<string, number> = {
    n: 10,
    r: 13,
    t: 9,
    a: 7,
    b: 8,
    '"': 34,
    "\\": 92,
  };
  let i = 0;
  while (i < s.length) {
    if (s[i] === " ") {
      i++;
      continue;
    }
    if (s[i] !== '"') throw new Error(`unexpected MONITOR line: ${line}`);
    i++;
    const bytes: number[] = [];
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\" && s[i + 1] === "x") {
        bytes.push(parseInt(s.slice(i + 2, i + 4), 16));
        i += 4;
      } else if (s[i] === "\\") {
        bytes.push(escapes[s[i + 1]]);
        i += 2;
      } else {
        bytes.push(s.charCodeAt(i)); // printable ASCII: the rest is escaped
        i++;
      }
    }
    i++;
    args.push(new Uint8Array(bytes));
  }
  return { client: m[1], args };
}

/** Records every command redis-server runs (MONITOR) until stopped. */
async function monitor(port: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("MONITOR\r\n"));
  let text = "";
  const reading = (async () => {
    const buf = new Uint8Array(64 * 1024);
    const dec = new TextDecoder();
    while (true) {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) break;
      text += dec.decode(buf.subarray(0, n), { stream: true });
    }
  })();
  // MONITOR answers +OK once it is on.
  for (let i = 0; i < 100 && !text.startsWith("+OK\r\n"); i++) await sleep(10);
  assert.ok(text.startsWith("+OK\r\n"), `MONITOR replied ${text}`);
  return {
    async stop(): Promise<string[]> {
      await sleep(100); // the last commands' lines
      conn.close();
      await reading;
      return text.split("\r\n").slice(1).filter((l) => l !== "");
    },
  };
}

/** Blocking reads are replayed as their non-blocking forms; commands whose
 * replies depend on the connection or the moment are left out. */
function replayable(args: Uint8Array[]): (string | Uint8Array)[] | null {
  const name = new TextDecoder().decode(args[0]).toUpperCase();
  if (name === "BZPOPMIN") return ["ZPOPMIN", args[1]];
  const skip = ["XREAD", "CLIENT", "INFO", "HELLO", "PING", "MONITOR", "QUIT"];
  return skip.includes(name) ? null : args;
}

if (has("redis-server")) {
  Deno.test(
    "bullmq: its command stream, captured on redis-server, replays byte for byte on ours",
    opts,
    async () => {
      const source = await RedisServer.start();
      let lines: string[] = [];
      const conn = connection(source.port);
      let queue: Queue | undefined;
      let events: QueueEvents | undefined;
      let flows: FlowProducer | undefined;
      let worker: Worker | undefined;
      const target: Target = { port: source.port, stop: () => source.stop() };
      try {
        const recorder = await monitor(source.port);
        queue = new Queue("replay", { connection: conn });
        events = new QueueEvents("replay", { connection: conn });
        flows = new FlowProducer({ connection: conn });
        await within(events.waitUntilReady(), "queue events ready");
        await queue.addBulk(
          Array.from({ length: 12 }, (_, i) => ({
            name: `j${i}`,
            data: { i, text: "ключ ✓ \x00\xff" },
            opts: { priority: i % 3 ? (i % 4) + 1 : undefined },
          })),
        );
        await queue.add("delayed", {}, { delay: 150 });
        await queue.add("flaky", {}, {
          attempts: 3,
          backoff: { type: "exponential", delay: 20 },
        });
        await queue.add("doomed", {}, { attempts: 2, backoff: 10 });
        await queue.add("kept", {}, { removeOnComplete: 1 });
        await flows.add({
          name: "parent",
          queueName: "replay",
          children: [
            { name: "c1", queueName: "replay", data: { n: 1 } },
            { name: "c2", queueName: "replay", data: { n: 2 } },
          ],
        });
        await queue.upsertJobScheduler("tick", { every: 100 }, {
          name: "tick",
        });
        const TOTAL = 12 + 1 + 1 + 1 + 1 + 3 + 3; // + 3 ticks at least
        const finished = counter(TOTAL);
        worker = new Worker(
          "replay",
          async (job: Job) => {
            await job.updateProgress(50);
            await job.log(`${job.name} attempt ${job.attemptsMade + 1}`);
            if (job.name === "flaky" && job.attemptsMade < 2) {
              throw new Error("flaky");
            }
            if (job.name === "doomed") throw new Error("doomed");
            if (job.name === "parent") return await job.getChildrenValues();
            return job.name;
          },
          { connection: conn, concurrency: 2 },
        );
        worker.on("completed", () => finished.tick());
        worker.on("failed", (job) => {
          if (job?.name === "doomed" && job.attemptsMade === 2) {
            finished.tick();
          }
        });
        await within(finished.done, `${TOTAL} jobs finished`);
        await queue.removeJobScheduler("tick");
        await worker.close();
        await queue.getJobCounts();
        await queue.getJobs(["completed", "failed", "delayed"], 0, -1, true);
        await queue.getMetrics("completed");
        await queue.clean(0, 5, "completed");
        await queue.retryJobs({ state: "failed" });
        await queue.obliterate({ force: true });
        lines = await recorder.stop();
      } finally {
        await closeAll([worker, flows, events, queue], target);
      }

      const commands: (string | Uint8Array)[][] = [];
      for (const line of lines) {
        const parsed = parseMonitorLine(line);
        assert.ok(parsed, `MONITOR line: ${line}`);
        if (parsed.client === "lua") continue; // run by the scripts
        const cmd = replayable(parsed.args);
        if (cmd) commands.push(cmd);
      }
      const names = new Set(
        commands.map((c) =>
          (typeof c[0] === "string" ? c[0] : new TextDecoder().decode(c[0]))
            .toUpperCase()
        ),
      );
      assert.ok(commands.length > 100, `${commands.length} commands`);
      assert.ok(names.has("EVALSHA") || names.has("EVAL"), [...names].join());

      await using ours = await startServer();
      await using ref = await RedisServer.start();
      using a = await Conn.open(ours.port);
      using b = await Conn.open(ref.port);
      // Hashes stay listpacks on redis-server (insertion order): the order
      // of HGETALL is then Redis's, not its hash table's random one.
      for (const c of [a, b]) {
        assert.equal(
          await c.call("CONFIG", "SET", "hash-max-listpack-value", "100000"),
          "OK",
        );
      }
      const diffs: string[] = [];
      const show = (x: string) => JSON.stringify(x.slice(0, 300));
      for (const cmd of commands) {
        const request = encodeCommand(cmd);
        const [mine, theirs] = [
          await a.rawReplies(request),
          await b.rawReplies(request),
        ];
        if (mine !== theirs) {
          const text = cmd.map((x) =>
            typeof x === "string" ? x : new TextDecoder().decode(x)
          ).join(" ");
          diffs.push(
            `${show(text)}\n  ours:  ${show(mine)}\n  redis: ${show(theirs)}`,
          );
        }
      }
      assert.deepEqual(
        diffs,
        [],
        `${diffs.length} of ${commands.length} replies differ:\n` +
          diffs.slice(0, 10).join("\n"),
      );
    },
  );
}
