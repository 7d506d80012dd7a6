// Introspection and client control: MONITOR, SLOWLOG, LATENCY, CLIENT
// PAUSE / UNPAUSE / REPLY / NO-EVICT.

import {
  type ClientState,
  type Command,
  CommandError,
  Errors,
  type Handler,
  helpReply,
  intArg,
  type ServerState,
  type Session,
  upper,
} from "./_shared.ts";

/** The id of the client scripts run their commands as (scripting.ts's
 * SCRIPT_CLIENT_ID): MONITOR shows it as `lua`. */
const SCRIPT_CLIENT = -1;

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const SLOWLOG_MAX_ARGC = 32;
const SLOWLOG_MAX_STRING = 128;
/** Samples kept per latency event (Redis's LATENCY_TS_LEN). */
const LATENCY_TS_LEN = 160;

/** CLIENT REPLY modes (`ClientState.replyMode`). */
export const REPLY_ON = 0;
/** CLIENT REPLY OFF. */
export const REPLY_OFF = 1;
/** CLIENT REPLY SKIP was just run: the next command's reply is dropped. */
export const REPLY_SKIP_NEXT = 2;
/** The reply of the command running now is dropped. */
export const REPLY_SKIP = 3;

/** Commands CLIENT PAUSE WRITE holds besides writes (Redis's
 * may-replicate commands). */
const MAY_REPLICATE = new Set([
  "publish",
  "spublish",
  "eval",
  "evalsha",
  "fcall",
  "pfcount",
]);

/** One SLOWLOG entry. */
interface SlowlogEntry {
  id: number;
  time: number;
  duration: number;
  argv: string[];
  peer: string;
  name: string;
}

/** Samples of one latency event. */
interface LatencyEvent {
  /** [unix seconds, ms] pairs, oldest first. */
  samples: [number, number][];
  max: number;
}

/** Monitors exist on some server: execute() feeds them. */
let monitorsActive = 0;

/** True while some server has MONITOR clients (a cheap check per
 * command). */
export function monitoring(): boolean {
  return monitorsActive !== 0;
}

const registry = new WeakMap<object, Introspection>();
const monitorClients = new WeakSet<ClientState>();

/** True for a client in MONITOR mode (CLIENT LIST's O flag). */
export function isMonitor(c: ClientState): boolean {
  return monitorClients.has(c);
}

/** Per-server state of the introspection commands. */
export class Introspection {
  /** MONITOR clients. */
  readonly monitors = new Set<ClientState>();
  /** SLOWLOG entries, oldest first. */
  readonly slowlog: SlowlogEntry[] = [];
  /** Next SLOWLOG id. */
  slowlogNextId = 0;
  /** LATENCY events by name. */
  readonly latency = new Map<string, LatencyEvent>();
  /** LATENCY HISTOGRAM: per-command sample counts in
   * {@linkcode HISTOGRAM_BUCKETS} buckets (created on a command's first
   * timed call, cleared by CONFIG RESETSTAT). */
  readonly histograms: Map<Command, Float64Array> = new Map();
  /** CLIENT PAUSE: 0 none, 1 WRITE, 2 ALL. */
  pauseType = 0;
  /** When the pause ends (ms since the epoch). */
  pauseEnd = 0;
  #waiters: (() => void)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #server: ServerState;

  private constructor(server: ServerState) {
    this.#server = server;
  }

  /** The state of a server. */
  static of(server: ServerState): Introspection {
    let i = registry.get(server);
    if (i === undefined) {
      i = new Introspection(server);
      registry.set(server, i);
    }
    return i;
  }

  /** Starts (or extends) a pause, as CLIENT PAUSE. */
  pause(ms: number, type: 1 | 2): void {
    const end = Date.now() + ms;
    if (this.pauseType === 0) {
      this.pauseType = type;
      this.pauseEnd = end;
    } else {
      if (type > this.pauseType) this.pauseType = type;
      if (end > this.pauseEnd) this.pauseEnd = end;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => this.unpause(),
      Math.max(0, this.pauseEnd - Date.now()),
    );
  }

  /** Ends the pause and lets the waiting clients go on. */
  unpause(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.pauseType = 0;
    this.pauseEnd = 0;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** True when a client must wait before running `argv`. */
  mustWait(c: ClientState, argv: string[]): boolean {
    if (this.pauseType === 0 || c.id === 0) return false;
    if (this.pauseType === 2) return true;
    const table = this.#server.commands;
    let command = table.get(argv[0]) ?? table.get(argv[0].toLowerCase());
    if (command === undefined) return false;
    if (command.subcommands !== undefined && argv.length > 1) {
      command = command.subcommands.get(argv[1].toLowerCase()) ?? command;
    }
    if (isMayReplicate(command)) return true;
    if (command.name === "exec") {
      for (const q of c.tx?.queue ?? []) {
        const qc = table.get(q[0]) ?? table.get(q[0].toLowerCase());
        if (qc !== undefined && isMayReplicate(qc)) return true;
      }
    }
    return false;
  }

  /** Resolves when the pause ends. */
  wait(): Promise<void> {
    if (this.pauseType === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Adds a MONITOR client. */
  addMonitor(c: ClientState): void {
    if (this.monitors.has(c)) return;
    this.monitors.add(c);
    monitorClients.add(c);
    monitorsActive++;
  }

  /** Listeners fed every line MONITOR clients get (the dashboard's
   * tail). */
  readonly tails: Set<(line: string) => void> = new Set();

  /** Feeds `listener` the MONITOR lines until the returned function is
   * called. */
  tail(listener: (line: string) => void): () => void {
    this.tails.add(listener);
    monitorsActive++;
    return () => {
      if (this.tails.delete(listener)) monitorsActive--;
    };
  }

  /** Removes a MONITOR client (RESET, disconnection). */
  dropMonitor(c: ClientState): void {
    monitorClients.delete(c);
    if (this.monitors.delete(c)) monitorsActive--;
  }

  /** Sends a command to the MONITOR clients, as Redis shows it. */
  feed(s: Session, argv: string[]): void {
    if (this.monitors.size === 0 && this.tails.size === 0) return;
    const t = performance.timeOrigin + performance.now();
    const sec = Math.floor(t / 1000);
    const usec = Math.floor((t - sec * 1000) * 1000);
    const args = redact(argv);
    let line = `${sec}.${String(usec).padStart(6, "0")} [${s.client.db} ${
      s.client.id === SCRIPT_CLIENT ? "lua" : s.client.addr
    }]`;
    for (const a of args) line += " " + repr(a);
    const clients = this.#server.clients;
    for (const m of this.monitors) {
      if (clients.get(m.id) !== m) {
        this.dropMonitor(m);
        continue;
      }
      m.out.simple(line);
      if (m !== s.client) m.wake();
    }
    for (const listener of this.tails) listener(line);
  }

  /** Adds a SLOWLOG entry. */
  slowlogPush(s: Session, argv: string[], duration: number): void {
    const args = redact(argv);
    const argc = Math.min(args.length, SLOWLOG_MAX_ARGC);
    const kept: string[] = new Array(argc);
    for (let j = 0; j < argc; j++) {
      if (j === argc - 1 && argc !== args.length) {
        kept[j] = `... (${args.length - argc + 1} more arguments)`;
      } else if (args[j].length > SLOWLOG_MAX_STRING) {
        kept[j] = args[j].slice(0, SLOWLOG_MAX_STRING) +
          `... (${args[j].length - SLOWLOG_MAX_STRING} more bytes)`;
      } else kept[j] = args[j];
    }
    this.slowlog.push({
      id: this.slowlogNextId++,
      time: Math.floor(Date.now() / 1000),
      duration: Math.floor(duration),
      argv: kept,
      peer: s.client.addr,
      name: s.client.name,
    });
    const max = this.#server.config.slowlogMaxLen;
    while (this.slowlog.length > max) this.slowlog.shift();
  }

  /** Records a latency sample (ms) of an event. */
  latencyAdd(event: string, ms: number): void {
    const now = Math.floor(Date.now() / 1000);
    let e = this.latency.get(event);
    if (e === undefined) {
      e = { samples: [], max: 0 };
      this.latency.set(event, e);
    }
    if (ms > e.max) e.max = ms;
    const last = e.samples[e.samples.length - 1];
    if (last !== undefined && last[0] === now) {
      if (ms > last[1]) last[1] = ms;
      return;
    }
    e.samples.push([now, ms]);
    if (e.samples.length > LATENCY_TS_LEN) e.samples.shift();
  }
}

/** Buckets of a latency histogram: bucket n holds durations up to
 * 1024 * 2^n ns (and the hdr_histogram sub-bucket above it), n = 0..20,
 * as the log iteration (base 2 from 1024 ns) Redis replies with. */
const HISTOGRAM_BUCKETS = 21;

/** The bucket of a duration in nanoseconds (clamped to [1 ns, 1 s] as
 * Redis's LATENCY_HISTOGRAM_MIN/MAX_VALUE). */
function histogramBucket(ns: number): number {
  const v = ns < 1 ? 1 : ns > 1e9 ? 1e9 : Math.floor(ns);
  if (v < 1032) return 0;
  const k = 31 - Math.clz32(v);
  // hdr_histogram with 2 significant digits: 2^k's equivalence range is
  // 2^(k-7) wide, so the level 2^k counts values below 2^k + 2^(k-7).
  return v >= 2 ** k + 2 ** (k - 7) ? k - 9 : k - 10;
}

/** The upper bound (ns) of a bucket: hdr's highest equivalent value. */
function bucketTopNs(n: number): number {
  const k = n + 10;
  return 2 ** k + 2 ** (k - 7) - 1;
}

/** Drops every latency histogram (CONFIG RESETSTAT). */
export function resetLatencyHistograms(server: ServerState): void {
  Introspection.of(server).histograms.clear();
}

/** The value (µs, 3 decimals) at a percentile of a command's histogram,
 * for INFO latencystats; undefined when the command has none. */
export function latencyPercentiles(
  server: ServerState,
  command: Command,
  percentiles: readonly number[],
): string | undefined {
  const h = Introspection.of(server).histograms.get(command);
  if (h === undefined) return undefined;
  let total = 0;
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) total += h[i];
  let text = "";
  for (const p of percentiles) {
    const want = Math.max(1, Math.ceil((p / 100) * total));
    let cum = 0;
    let n = 0;
    for (; n < HISTOGRAM_BUCKETS - 1; n++) {
      cum += h[n];
      if (cum >= want) break;
    }
    if (text !== "") text += ",";
    text += `p${p}=${(bucketTopNs(n) / 1000).toFixed(3)}`;
  }
  return text;
}

function isMayReplicate(c: Command): boolean {
  return c.write || MAY_REPLICATE.has(c.name);
}

/** The arguments as logged: passwords hidden, as Redis redacts them. */
function redact(argv: string[]): string[] {
  const name = argv[0].toLowerCase();
  if (name === "auth") {
    return argv.map((a, i) => i === 0 ? a : "(redacted)");
  }
  if (name === "hello") {
    const out = argv.slice();
    for (let j = 2; j < out.length; j++) {
      if (upper(out[j]) === "AUTH" && j + 2 < out.length) {
        out[j + 1] = out[j + 2] = "(redacted)";
        j += 2;
      } else if (upper(out[j]) === "SETNAME") j++;
    }
    return out;
  }
  return argv;
}

/** Redis's sdscatrepr: a quoted, escaped string. */
export function repr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c:
        out += "\\\\";
        break;
      case 0x22:
        out += '\\"';
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      case 0x07:
        out += "\\a";
        break;
      case 0x08:
        out += "\\b";
        break;
      default:
        out += c >= 0x20 && c <= 0x7e
          ? s[i]
          : "\\x" + (c & 0xff).toString(16).padStart(2, "0");
    }
  }
  return out + '"';
}

/**
 * Called by execute() after a command that was timed (`us` >= 0) or while
 * monitors exist: feeds MONITOR, SLOWLOG and LATENCY as Redis's call().
 */
export function observeCommand(
  s: Session,
  command: Command,
  argv: string[],
  us: number,
): void {
  const intro = Introspection.of(s.server);
  // LATENCY HISTOGRAM: every timed call lands in a fixed bucket array (no
  // allocation per call). Cheap (O(1)) commands are timed one call in 64
  // (commands.ts): their samples are scaled to the call count on reply.
  if (us >= 0 && s.client.blocked == null) {
    let h = intro.histograms.get(command);
    if (h === undefined) {
      h = new Float64Array(HISTOGRAM_BUCKETS);
      intro.histograms.set(command, h);
    }
    h[histogramBucket(us * 1000)]++;
  }
  if (s.client.id === 0) return; // the log replay, the dashboard
  const config = s.server.config;
  if (
    monitorsActive !== 0 && !command.flags.has("admin") &&
    !command.flags.has("skip_monitor")
  ) {
    intro.feed(s, argv);
  }
  if (us < 0 || s.client.blocked != null) return;
  const slower = config.slowlogLogSlowerThan;
  if (slower >= 0 && us >= slower && !command.flags.has("skip_slowlog")) {
    intro.slowlogPush(s, argv, us);
  }
  const threshold = config.latencyMonitorThreshold;
  if (threshold > 0) {
    const ms = Math.floor(us / 1000);
    if (ms >= threshold) {
      intro.latencyAdd(
        command.flags.has("fast") ? "fast-command" : "command",
        ms,
      );
    }
  }
}

/** True when a command must be timed exactly: slow ones always, cheap
 * (O(1)) ones only when a low threshold could log them. */
export function mustTime(s: Session, command: Command): boolean {
  // CONFIG RESETSTAT drops the histograms and then shows in them itself,
  // as in Redis: its one call must be timed.
  if (!command.cheap || command.name === "config|resetstat") return true;
  const config = s.server.config;
  const slower = config.slowlogLogSlowerThan;
  return (slower >= 0 && slower < 10000) || config.latencyMonitorThreshold > 0;
}

/** CLIENT REPLY handling after a command: drops its reply when asked. */
export function applyReplyMode(c: ClientState, mark: number): void {
  const mode = c.replyMode ?? REPLY_ON;
  if (mode === REPLY_OFF || mode === REPLY_SKIP) {
    if (c.out.length > mark) c.out.length = mark;
    if (mode === REPLY_SKIP) c.replyMode = REPLY_ON;
  } else if (mode === REPLY_SKIP_NEXT) c.replyMode = REPLY_SKIP;
}

// ---- MONITOR ----

const monitor: Handler = (s) => {
  const tx = s.client.tx;
  if (tx != null && tx.log !== null) {
    throw new CommandError(
      "ERR MONITOR isn't allowed for DENY BLOCKING client",
    );
  }
  const intro = Introspection.of(s.server);
  if (intro.monitors.has(s.client)) return; // already monitoring: no reply
  intro.addMonitor(s.client);
  s.out.ok();
};

/** Ends MONITOR for a client (RESET). */
export function stopMonitor(s: Session): void {
  Introspection.of(s.server).dropMonitor(s.client);
}

// ---- SLOWLOG ----

const slowlogGet: Handler = (s, argv) => {
  let count = 10;
  if (argv.length === 3) {
    const err = "ERR count should be greater than or equal to -1";
    count = intArg(argv[2], err);
    if (count < -1) throw new CommandError(err);
    if (count === -1) count = Infinity;
  } else if (argv.length > 3) {
    throw new CommandError(
      "ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP.",
    );
  }
  const log = Introspection.of(s.server).slowlog;
  const n = Math.min(count, log.length);
  const out = s.out;
  out.array(n);
  for (let i = 0; i < n; i++) {
    const e = log[log.length - 1 - i];
    out.array(6);
    out.int(e.id);
    out.int(e.time);
    out.int(e.duration);
    out.array(e.argv.length);
    for (const a of e.argv) out.bulk(a);
    out.bulk(e.peer);
    out.bulk(e.name);
  }
};

const slowlogLen: Handler = (s) =>
  s.out.int(Introspection.of(s.server).slowlog.length);

const slowlogReset: Handler = (s) => {
  Introspection.of(s.server).slowlog.length = 0;
  s.out.ok();
};

const slowlogHelp: Handler = (s) =>
  helpReply(s, [
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
  ]);

// ---- LATENCY ----

const latencyLatest: Handler = (s) => {
  const events = Introspection.of(s.server).latency;
  s.out.array(events.size);
  for (const [name, e] of events) {
    const last = e.samples[e.samples.length - 1];
    s.out.array(4);
    s.out.bulk(name);
    s.out.int(last[0]);
    s.out.int(last[1]);
    s.out.int(e.max);
  }
};

const latencyHistory: Handler = (s, argv) => {
  const e = Introspection.of(s.server).latency.get(argv[2]);
  if (e === undefined) {
    s.out.array(0);
    return;
  }
  s.out.array(e.samples.length);
  for (const [time, ms] of e.samples) {
    s.out.array(2);
    s.out.int(time);
    s.out.int(ms);
  }
};

const latencyReset: Handler = (s, argv) => {
  const events = Introspection.of(s.server).latency;
  if (argv.length === 2) {
    const n = events.size;
    events.clear();
    s.out.int(n);
    return;
  }
  let n = 0;
  for (let j = 2; j < argv.length; j++) if (events.delete(argv[j])) n++;
  s.out.int(n);
};

const latencyGraph: Handler = (s, argv) => {
  const e = Introspection.of(s.server).latency.get(argv[2]);
  if (e === undefined) {
    throw new CommandError(
      `ERR No samples available for event '${argv[2]}'`,
    );
  }
  const last = e.samples[e.samples.length - 1];
  const min = Math.min(...e.samples.map((x) => x[1]));
  const now = Math.floor(Date.now() / 1000);
  let text = `${
    argv[2]
  } - high ${e.max} ms, low ${min} ms (all time high ${e.max} ms)\n`;
  text += "-".repeat(80) + "\n";
  // One column per sample: a bar of '#' scaled to the highest sample.
  const rows = 4;
  for (let r = rows; r >= 1; r--) {
    let line = "";
    for (const [, ms] of e.samples) {
      line += e.max > 0 && ms * rows >= r * e.max ? "#" : " ";
    }
    text += line.trimEnd() + "\n";
  }
  let ages = "";
  for (const [t] of e.samples) ages += String(Math.min(9, now - t))[0];
  text += ages + "\n";
  text += `(latest ${last[1]} ms, ${now - last[0]} seconds ago)\n`;
  s.out.verbatim("txt", text);
};

const latencyDoctor: Handler = (s) => {
  const intro = Introspection.of(s.server);
  let text: string;
  if (s.server.config.latencyMonitorThreshold === 0) {
    text =
      `I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n`;
  } else if (intro.latency.size === 0) {
    text =
      "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n";
  } else {
    text =
      "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
    let i = 1;
    for (const [name, e] of intro.latency) {
      const sum = e.samples.reduce((a, x) => a + x[1], 0);
      const avg = Math.floor(sum / e.samples.length);
      const first = e.samples[0][0];
      const period = Math.max(
        1,
        Math.floor((Math.floor(Date.now() / 1000) - first) / e.samples.length),
      );
      text += `${i++}. ${name}: ${e.samples.length} latency spikes ` +
        `(average ${avg}ms, mean deviation 0ms, period ${period} sec). ` +
        `Worst all time event ${e.max}ms.\n`;
    }
    text +=
      "\nI have a few advices for you:\n\n- Check your Dave: slow commands show in SLOWLOG GET; consider O(1) or O(log N) commands instead of O(N) ones on large values.\n";
  }
  s.out.verbatim("txt", text);
};

/** Writes one command's histogram as Redis's fillCommandCDF: calls and
 * the cumulative count at each bucket that adds calls. Sampled counts are
 * scaled so that the last bucket equals the calls. */
function writeHistogram(s: Session, command: Command, h: Float64Array): void {
  let samples = 0;
  let buckets = 0;
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
    samples += h[i];
    if (h[i] > 0) buckets++;
  }
  const calls = Math.max(command.calls, samples);
  const out = s.out;
  out.map(2);
  out.bulk("calls");
  out.int(calls);
  out.bulk("histogram_usec");
  out.map(buckets);
  let cum = 0;
  for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
    if (h[i] === 0) continue;
    cum += h[i];
    out.int(Math.floor(bucketTopNs(i) / 1000));
    out.int(Math.round((cum * calls) / samples));
  }
}

const latencyHistogram: Handler = (s, argv) => {
  const histograms = Introspection.of(s.server).histograms;
  const list: Command[] = [];
  const add = (c: Command) => {
    if (histograms.has(c)) list.push(c);
  };
  if (argv.length === 2) {
    for (const c of new Set(s.server.commands.values())) {
      add(c);
      for (const sub of c.subcommands?.values() ?? []) add(sub);
    }
  } else {
    for (let j = 2; j < argv.length; j++) {
      const name = argv[j].toLowerCase();
      const bar = name.indexOf("|");
      const c = bar === -1
        ? s.server.commands.get(name)
        : s.server.commands.get(name.slice(0, bar))?.subcommands?.get(
          name.slice(bar + 1),
        );
      if (c === undefined) continue;
      add(c);
      for (const sub of c.subcommands?.values() ?? []) add(sub);
    }
  }
  s.out.map(list.length);
  for (const c of list) {
    s.out.bulk(c.name);
    writeHistogram(s, c, histograms.get(c)!);
  }
};

const latencyHelp: Handler = (s) =>
  helpReply(s, [
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
  ]);

// ---- CLIENT PAUSE / UNPAUSE / REPLY / NO-EVICT ----

const clientPause: Handler = (s, argv) => {
  const ms = intArg(argv[2], "ERR timeout is not an integer or out of range");
  if (ms < 0) throw new CommandError("ERR timeout is negative");
  let type: 1 | 2 = 2;
  if (argv.length === 4) {
    const mode = upper(argv[3]);
    if (mode === "WRITE") type = 1;
    else if (mode !== "ALL") {
      throw new CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL");
    }
  } else if (argv.length > 4) throw new CommandError(Errors.syntax);
  Introspection.of(s.server).pause(ms, type);
  s.out.ok();
};

const clientUnpause: Handler = (s) => {
  Introspection.of(s.server).unpause();
  s.out.ok();
};

const clientReply: Handler = (s, argv) => {
  const mode = upper(argv[2]);
  const c = s.client;
  if (mode === "ON") {
    c.replyMode = REPLY_ON;
    s.out.ok();
  } else if (mode === "OFF") {
    c.replyMode = REPLY_OFF;
  } else if (mode === "SKIP") {
    if (c.replyMode !== REPLY_OFF) c.replyMode = REPLY_SKIP_NEXT;
  } else throw new CommandError(Errors.syntax);
};

const clientNoEvict: Handler = (s, argv) => {
  const v = upper(argv[2]);
  if (v === "ON") s.client.noEvict = true;
  else if (v === "OFF") s.client.noEvict = false;
  else throw new CommandError(Errors.syntax);
  s.out.ok();
};

/** Handlers of MONITOR, SLOWLOG, LATENCY and the CLIENT controls. */
export const introspectionCommands: Record<string, Handler> = {
  monitor,
  "slowlog|get": slowlogGet,
  "slowlog|len": slowlogLen,
  "slowlog|reset": slowlogReset,
  "slowlog|help": slowlogHelp,
  "latency|latest": latencyLatest,
  "latency|history": latencyHistory,
  "latency|reset": latencyReset,
  "latency|graph": latencyGraph,
  "latency|doctor": latencyDoctor,
  "latency|help": latencyHelp,
  "latency|histogram": latencyHistogram,
  "client|pause": clientPause,
  "client|unpause": clientUnpause,
  "client|reply": clientReply,
  "client|no-evict": clientNoEvict,
};
