// Server commands: INFO, CONFIG, TIME, COMMAND, SHUTDOWN.

import { blockedCounts } from "./blocking.ts";
import { migrateCachedSockets } from "./migrate.ts";
import { Tracking } from "./tracking.ts";
import { BUSY_EVAL, BUSY_FUNCTION, Scripting } from "./scripting.ts";
import { globMatch } from "../_glob.ts";
import {
  configName,
  getConfig,
  rewriteConfigFile,
  setConfig,
} from "../config.ts";
import { VERSION } from "../version.ts";
import { memoryInfo } from "./memory.ts";
import { Replication } from "../replication.ts";
import { latencyPercentiles, resetLatencyHistograms } from "./introspection.ts";
import {
  type Command,
  CommandError,
  Errors,
  type Handler,
  helpReply,
  type Session,
  upper,
} from "./_shared.ts";

const runId = crypto.randomUUID().replaceAll("-", "") + "00000000";

// DESIGN: INFO's figures come from Deno's own functions, not node:os and
// node:process: importing those (node:process alone about 6 ms and 3 MB)
// would load the Node compatibility layer into every server at start-up.
// They are what node:os and node:process read underneath.

/** INFO's `os`: as node:os's `${type()} ${release()} ${arch()}`. */
function osName(): string {
  const type = ({
    windows: "Windows_NT",
    linux: "Linux",
    android: "Linux",
    darwin: "Darwin",
    freebsd: "FreeBSD",
    openbsd: "OpenBSD",
  } as Record<string, string>)[Deno.build.os] ?? Deno.build.os;
  const arch = Deno.build.arch === "x86_64"
    ? "x64"
    : Deno.build.arch === "aarch64"
    ? "arm64"
    : Deno.build.arch;
  return `${type} ${Deno.osRelease()} ${arch}`;
}

type CpuUsage = () => { user: number; system: number };

/** The process's CPU time so far, in microseconds: `Deno.cpuUsage` (what
 * node:process's cpuUsage calls; there at run time in Deno 2.9, though
 * its types leave it out), or node:process's where a Deno lacks it (loaded in
 * the background then: zeros until it is there). */
let cpuUsage: CpuUsage = () => ({ user: 0, system: 0 });
{
  const own = (Deno as unknown as { cpuUsage?: CpuUsage }).cpuUsage;
  if (typeof own === "function") cpuUsage = () => own();
  else {
    import("node:process").then((p) => cpuUsage = () => p.default.cpuUsage())
      .catch(() => {});
  }
}

/** Redis 7.0's persistence fields, in order, with its values for a server
 * that never forked (ours snapshot in-process). The persistence module's
 * values win; its extra fields (aof_* when enabled, loading_*) follow. */
const PERSISTENCE_FIELDS: [string, string | number][] = [
  ["loading", 0],
  ["async_loading", 0],
  ["current_cow_peak", 0],
  ["current_cow_size", 0],
  ["current_cow_size_age", 0],
  ["current_fork_perc", "0.00"],
  ["current_save_keys_processed", 0],
  ["current_save_keys_total", 0],
  ["rdb_changes_since_last_save", 0],
  ["rdb_bgsave_in_progress", 0],
  ["rdb_last_save_time", 0],
  ["rdb_last_bgsave_status", "ok"],
  ["rdb_last_bgsave_time_sec", -1],
  ["rdb_current_bgsave_time_sec", -1],
  ["rdb_saves", 0],
  ["rdb_last_cow_size", 0],
  ["rdb_last_load_keys_expired", 0],
  ["rdb_last_load_keys_loaded", 0],
  ["aof_enabled", 0],
  ["aof_rewrite_in_progress", 0],
  ["aof_rewrite_scheduled", 0],
  ["aof_last_rewrite_time_sec", -1],
  ["aof_current_rewrite_time_sec", -1],
  ["aof_last_bgrewrite_status", "ok"],
  ["aof_rewrites", 0],
  ["aof_rewrites_consecutive_failures", 0],
  ["aof_last_write_status", "ok"],
  ["aof_last_cow_size", 0],
  ["module_fork_in_progress", 0],
  ["module_fork_last_cow_size", 0],
];

/** Rows in the order of `template` (given values first, then the
 * template's defaults), followed by the given rows it does not name. */
function inOrder(
  template: [string, string | number][],
  rows: [string, string | number][],
): [string, string | number][] {
  const given = new Map(rows);
  const out: [string, string | number][] = [];
  for (const [k, v] of template) out.push([k, given.get(k) ?? v]);
  const named = new Set(template.map(([k]) => k));
  for (const row of rows) if (!named.has(row[0])) out.push(row);
  return out;
}

/** Percentiles INFO latencystats shows (Redis's
 * latency-tracking-info-percentiles default). */
const INFO_PERCENTILES = [50, 99, 99.9];

type Section = (s: Session) => [string, string | number][];

const SECTIONS: Record<string, Section> = {
  server: (s) => {
    const uptime = Math.floor((Date.now() - s.server.startedAt) / 1000);
    return [
      ["redis_version", VERSION.redis],
      ["redis_git_sha1", "00000000"],
      ["redis_git_dirty", 0],
      ["redis_build_id", "0"],
      ["redis_mode", "standalone"],
      ["os", osName()],
      ["arch_bits", 64],
      ["monotonic_clock", "POSIX clock_gettime"],
      ["multiplexing_api", "tokio"],
      ["atomicvar_api", "c11-builtin"],
      ["gcc_version", "0.0.0"],
      ["process_id", Deno.pid],
      ["process_supervised", "no"],
      ["run_id", runId.slice(0, 40)],
      ["tcp_port", s.server.port],
      ["server_time_usec", Date.now() * 1000],
      ["uptime_in_seconds", uptime],
      ["uptime_in_days", Math.floor(uptime / 86400)],
      ["hz", s.server.config.hz],
      ["configured_hz", s.server.config.hz],
      ["lru_clock", Math.floor(Date.now() / 1000) & 0xffffff],
      ["executable", Deno.execPath()],
      ["config_file", s.server.config.configFile],
      ["io_threads_active", 0],
      ["kv_store_version", VERSION.kv],
      ["deno_version", Deno.version.deno],
    ];
  },
  clients: (s) => {
    let maxIn = 0;
    let maxOut = 0;
    for (const c of s.server.clients.values()) {
      maxIn = Math.max(maxIn, c.queryBufferBytes());
      maxOut = Math.max(maxOut, c.out.length);
    }
    const blocked = blockedCounts(s.server);
    return [
      ["connected_clients", s.server.clients.size],
      ["cluster_connections", 0],
      ["maxclients", s.server.config.maxclients],
      ["client_recent_max_input_buffer", maxIn],
      ["client_recent_max_output_buffer", maxOut],
      ["blocked_clients", blocked.count],
      ["tracking_clients", Tracking.of(s.server.store).clients],
      ["clients_in_timeout_table", blocked.withTimeout],
    ];
  },
  memory: memoryInfo,
  persistence: (s) => inOrder(PERSISTENCE_FIELDS, s.server.persistence.info()),
  stats: (s) => {
    const st = s.server.stats;
    const repl = Replication.of(s.server);
    let errors = 0;
    for (const n of st.errors.values()) errors += n;
    return [
      ["total_connections_received", st.connectionsReceived],
      ["total_commands_processed", st.commandsProcessed],
      ["instantaneous_ops_per_sec", s.server.opsPerSec()],
      ["total_net_input_bytes", st.netInputBytes],
      ["total_net_output_bytes", st.netOutputBytes],
      ["total_net_repl_input_bytes", repl.inputBytes],
      ["total_net_repl_output_bytes", repl.outputBytes],
      ["instantaneous_input_kbps", "0.00"],
      ["instantaneous_output_kbps", "0.00"],
      ["instantaneous_input_repl_kbps", "0.00"],
      ["instantaneous_output_repl_kbps", "0.00"],
      ["rejected_connections", st.rejectedConnections],
      ["sync_full", repl.syncFull],
      ["sync_partial_ok", repl.syncPartialOk],
      ["sync_partial_err", repl.syncPartialErr],
      ["expired_keys", s.store.stats.expired],
      ["expired_stale_perc", "0.00"],
      ["expired_time_cap_reached_count", 0],
      ["expire_cycle_cpu_milliseconds", 0],
      ["evicted_keys", s.store.memory.evictedKeys],
      ["evicted_clients", 0],
      ["total_eviction_exceeded_time", 0],
      ["current_eviction_exceeded_time", 0],
      ["keyspace_hits", s.store.stats.hits],
      ["keyspace_misses", s.store.stats.misses],
      ["pubsub_channels", s.server.pubsub.channelCount],
      ["pubsub_patterns", s.server.pubsub.patternCount],
      ["pubsubshard_channels", s.server.pubsub.shardChannelCount],
      // Snapshots run in-process: no fork, no defragmentation.
      ["latest_fork_usec", 0],
      ["total_forks", 0],
      ["migrate_cached_sockets", migrateCachedSockets(s.server)],
      ["slave_expires_tracked_keys", 0],
      ["active_defrag_hits", 0],
      ["active_defrag_misses", 0],
      ["active_defrag_key_hits", 0],
      ["active_defrag_key_misses", 0],
      ["total_active_defrag_time", 0],
      ["current_active_defrag_time", 0],
      ["tracking_total_keys", Tracking.of(s.server.store).totalKeys],
      ["tracking_total_items", Tracking.of(s.server.store).totalItems],
      ["tracking_total_prefixes", Tracking.of(s.server.store).totalPrefixes],
      ["unexpected_error_replies", 0],
      ["total_error_replies", errors],
      ["dump_payload_sanitizations", 0],
      ["total_reads_processed", s.server.stats.readsProcessed],
      ["total_writes_processed", s.server.stats.writesProcessed],
      ["io_threaded_reads_processed", 0],
      ["io_threaded_writes_processed", 0],
      ["reply_buffer_shrinks", 0],
      ["reply_buffer_expands", 0],
      [
        "client_output_buffer_limit_disconnections",
        st.outputLimitDisconnections,
      ],
    ];
  },
  replication: (s) => Replication.of(s.server).info(),
  cpu: () => {
    const u = cpuUsage();
    const sys = (u.system / 1e6).toFixed(6);
    const user = (u.user / 1e6).toFixed(6);
    // No child processes; the main thread's share is not measured apart
    // from the process's.
    return [
      ["used_cpu_sys", sys],
      ["used_cpu_user", user],
      ["used_cpu_sys_children", "0.000000"],
      ["used_cpu_user_children", "0.000000"],
      ["used_cpu_sys_main_thread", sys],
      ["used_cpu_user_main_thread", user],
    ];
  },
  modules: () => [],
  commandstats: (s) => {
    const rows: [string, string][] = [];
    const visit = (c: Command) => {
      if (c.calls > 0 || c.rejected > 0 || c.failed > 0) {
        const per = c.calls ? (c.usec / c.calls).toFixed(2) : "0.00";
        rows.push([
          `cmdstat_${c.name}`,
          `calls=${c.calls},usec=${Math.round(c.usec)},usec_per_call=${per},` +
          `rejected_calls=${c.rejected},failed_calls=${c.failed}`,
        ]);
      }
      for (const sub of c.subcommands?.values() ?? []) visit(sub);
    };
    for (const c of uniqueCommands(s)) visit(c);
    return rows;
  },
  errorstats: (s) =>
    [...s.server.stats.errors].map((
      [code, n],
    ) => [`errorstat_${code}`, `count=${n}`]),
  latencystats: (s) => {
    const rows: [string, string][] = [];
    const visit = (c: Command) => {
      const p = latencyPercentiles(s.server, c, INFO_PERCENTILES);
      if (p !== undefined) rows.push([`latency_percentiles_usec_${c.name}`, p]);
      for (const sub of c.subcommands?.values() ?? []) visit(sub);
    };
    for (const c of uniqueCommands(s)) visit(c);
    return rows;
  },
  cluster: () => [["cluster_enabled", 0]],
  keyspace: (s) =>
    s.server.databases.filter(([, db]) => db.size > 0).map(([i, db]) => [
      `db${i}`,
      `keys=${db.size},expires=${db.volatileSize},avg_ttl=${db.averageTtl}`,
    ]),
};

const TITLES: Record<string, string> = {
  server: "Server",
  clients: "Clients",
  memory: "Memory",
  persistence: "Persistence",
  stats: "Stats",
  replication: "Replication",
  cpu: "CPU",
  modules: "Modules",
  errorstats: "Errorstats",
  cluster: "Cluster",
  keyspace: "Keyspace",
  commandstats: "Commandstats",
  latencystats: "Latencystats",
};

const DEFAULT_SECTIONS = [
  "server",
  "clients",
  "memory",
  "persistence",
  "stats",
  "replication",
  "cpu",
  "modules",
  "errorstats",
  "cluster",
  "keyspace",
];

/** The text INFO replies with for the given section names. */
export function infoText(s: Session, names: string[]): string {
  let wanted: string[] = [];
  if (names.length === 0) wanted = DEFAULT_SECTIONS;
  for (const raw of names) {
    const n = raw.toLowerCase();
    if (n === "default") wanted.push(...DEFAULT_SECTIONS);
    else if (n === "all" || n === "everything") {
      wanted.push(...Object.keys(SECTIONS));
    } else if (SECTIONS[n]) wanted.push(n);
  }
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const name of Object.keys(SECTIONS)) {
    if (!wanted.includes(name) || seen.has(name)) continue;
    seen.add(name);
    let text = `# ${TITLES[name]}\r\n`;
    for (const [k, v] of SECTIONS[name](s)) text += `${k}:${v}\r\n`;
    parts.push(text);
  }
  return parts.join("\r\n");
}

const info: Handler = (s, argv) => {
  s.out.verbatim("txt", infoText(s, argv.slice(1)));
};

const time: Handler = (s) => {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  s.out.array(2);
  s.out.bulk(String(Math.floor(us / 1e6)));
  s.out.bulk(String(us % 1e6));
};

const configGet: Handler = (s, argv) => {
  const pairs = new Map<string, string>();
  for (let i = 2; i < argv.length; i++) {
    for (const [k, v] of getConfig(s.server.config, argv[i])) pairs.set(k, v);
  }
  s.out.map(pairs.size);
  for (const [k, v] of pairs) {
    s.out.bulk(k);
    s.out.bulk(v);
  }
};

const configSet: Handler = (s, argv) => {
  if (argv.length % 2 !== 0) throw new CommandError(Errors.syntax);
  const seen = new Set<string>();
  for (let i = 2; i < argv.length; i += 2) {
    const name = configName(argv[i]);
    if (name === undefined) {
      throw new CommandError(
        `ERR Unknown option or number of arguments for CONFIG SET - '${
          argv[i]
        }'`,
      );
    }
    if (seen.has(name)) {
      throw new CommandError(
        `ERR CONFIG SET failed (possibly related to argument '${
          argv[i]
        }') - duplicate parameter`,
      );
    }
    seen.add(name);
  }
  // All or nothing: validate on a copy first.
  const trial = structuredClone(s.server.config);
  for (let i = 2; i < argv.length; i += 2) {
    const r = setConfig(trial, argv[i], argv[i + 1]);
    if (
      r.ok && !s.server.persistence.enabled && trial.appendonly &&
      configName(argv[i]) === "appendonly"
    ) {
      throw new CommandError(
        `ERR CONFIG SET failed (possibly related to argument '${
          argv[i]
        }') - this server keeps no files: it was started without a dir`,
      );
    }
    if (!r.ok) {
      throw new CommandError(
        `ERR CONFIG SET failed (possibly related to argument '${
          argv[i]
        }') - ${r.message}`,
      );
    }
  }
  for (let i = 2; i < argv.length; i += 2) {
    s.server.configSet(argv[i], argv[i + 1]);
  }
  s.out.ok();
};

const configResetstat: Handler = (s) => {
  const st = s.server.stats;
  st.commandsProcessed = st.connectionsReceived = st.rejectedConnections = 0;
  st.netInputBytes = st.netOutputBytes = st.outputLimitDisconnections = 0;
  st.readsProcessed = st.writesProcessed = 0;
  st.errors.clear();
  s.store.stats.hits = s.store.stats.misses = s.store.stats.expired = 0;
  s.store.memory.evictedKeys = 0;
  resetLatencyHistograms(s.server);
  for (const c of uniqueCommands(s)) {
    c.calls =
      c.usec =
      c.rejected =
      c.failed =
        0;
    for (const sub of c.subcommands?.values() ?? []) {
      sub.calls =
        sub.usec =
        sub.rejected =
        sub.failed =
          0;
    }
  }
  s.out.ok();
};

const configRewrite: Handler = (s) => {
  const config = s.server.config;
  if (config.configFile === "") {
    throw new CommandError("ERR The server is running without a config file");
  }
  try {
    rewriteConfigFile(config);
  } catch (e) {
    s.server.log(
      "warning",
      `CONFIG REWRITE failed: ${e instanceof Error ? e.message : e}`,
    );
    throw new CommandError(
      `ERR Rewriting config file: ${e instanceof Error ? e.message : e}`,
    );
  }
  s.server.log("notice", "CONFIG REWRITE executed with success.");
  s.out.ok();
};

const configHelp: Handler = (s) =>
  helpReply(s, [
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Print this help.",
  ]);

function uniqueCommands(s: Session): Command[] {
  return [...new Set(s.server.commands.values())];
}

/** Writes one COMMAND INFO entry as Redis does. */
function writeCommandInfo(s: Session, c: Command): void {
  const out = s.out;
  const info = c.info;
  out.array(10);
  out.bulk(info.name);
  out.int(info.arity);
  out.set(info.flags.length);
  for (const f of info.flags) out.simple(f);
  out.int(info.keys[0]);
  out.int(info.keys[1]);
  out.int(info.keys[2]);
  out.set(info.acl.length);
  for (const a of info.acl) out.simple(a);
  out.set(info.tips.length);
  for (const t of info.tips) out.bulk(t);
  out.set(info.keySpecs.length);
  for (const k of info.keySpecs) writeDocValue(s, k, "");
  if (!c.subcommands) {
    out.set(0);
  } else {
    out.array(c.subcommands.size);
    for (const sub of c.subcommands.values()) writeCommandInfo(s, sub);
  }
}

/** Writes plain data from the docs table as Redis does: objects as maps,
 * `flags` as sets of simple strings, `history` as a set of pairs, strings as
 * bulk strings. */
function writeDocValue(s: Session, v: unknown, key: string): void {
  const out = s.out;
  if (Array.isArray(v)) {
    if (key === "flags" || key === "doc_flags") {
      out.set(v.length);
      for (const f of v) out.simple(String(f));
    } else {
      if (key === "history") out.set(v.length);
      else out.array(v.length);
      for (const e of v) writeDocValue(s, e, "");
    }
  } else if (typeof v === "object" && v !== null) {
    const entries = Object.entries(v);
    out.map(entries.length);
    for (const [k, e] of entries) {
      out.bulk(k);
      writeDocValue(s, e, k);
    }
  } else if (typeof v === "number") {
    out.int(v);
  } else {
    out.bulk(String(v));
  }
}

function docsOf(c: Command): Record<string, unknown> {
  if (!c.subcommands) return c.docs;
  const subs: Record<string, unknown> = {};
  for (const sub of c.subcommands.values()) subs[sub.name] = sub.docs;
  return { ...c.docs, subcommands: subs };
}

function findCommand(s: Session, name: string): Command | undefined {
  const lower = name.toLowerCase();
  const bar = lower.indexOf("|");
  if (bar === -1) return s.server.commands.get(lower);
  return s.server.commands.get(lower.slice(0, bar))?.subcommands?.get(
    lower.slice(bar + 1),
  );
}

const command: Handler = (s) => {
  const all = uniqueCommands(s);
  s.out.array(all.length);
  for (const c of all) writeCommandInfo(s, c);
};

const commandCount: Handler = (s) => s.out.int(uniqueCommands(s).length);

const commandInfo: Handler = (s, argv) => {
  const list = argv.length === 2
    ? uniqueCommands(s)
    : argv.slice(2).map((n) => findCommand(s, n));
  s.out.array(list.length);
  for (const c of list) {
    if (c) writeCommandInfo(s, c);
    else s.out.nil();
  }
};

const commandDocs: Handler = (s, argv) => {
  const list = argv.length === 2
    ? uniqueCommands(s)
    : argv.slice(2).map((n) => findCommand(s, n)).filter((c) =>
      c !== undefined
    );
  s.out.map(list.length);
  for (const c of list) {
    s.out.bulk(c.name);
    writeDocValue(s, docsOf(c), "");
  }
};

const commandList: Handler = (s, argv) => {
  let pattern: string | undefined;
  if (argv.length === 5 && upper(argv[2]) === "FILTERBY") {
    if (upper(argv[3]) !== "PATTERN") throw new CommandError(Errors.syntax);
    pattern = argv[4];
  } else if (argv.length !== 2) {
    throw new CommandError(Errors.syntax);
  }
  const names = uniqueCommands(s).map((c) => c.name).filter((n) =>
    pattern === undefined || globMatch(pattern, n, true)
  );
  s.out.array(names.length);
  for (const n of names) s.out.bulk(n);
};

const commandHelp: Handler = (s) =>
  helpReply(s, [
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "HELP",
    "    Print this help.",
  ]);

const shutdown: Handler = (s, argv) => {
  let save: boolean | undefined;
  let force = false;
  for (let i = 1; i < argv.length; i++) {
    const opt = upper(argv[i]);
    if (opt === "NOSAVE") save = false;
    else if (opt === "SAVE") save = true;
    else if (opt === "FORCE") force = true;
    else if (opt === "ABORT") {
      throw new CommandError("ERR No shutdown in progress.");
    } else if (opt !== "NOW") throw new CommandError(Errors.syntax);
  }
  const busy = Scripting.busy(s.server);
  if (busy !== null) {
    // As Redis: past the busy threshold only SHUTDOWN NOSAVE goes through,
    // and it stops the script.
    if (save !== false) {
      throw new CommandError(
        busy.isEval ? BUSY_EVAL : BUSY_FUNCTION,
      );
    }
    busy.killed = true;
  }
  s.server.log("warning", "User requested shutdown...");
  // The reply waits for the outcome: none when the server exits (the
  // connection closes, as with Redis), an error when the save failed.
  s.server.shutdown({ save, force, client: s.client });
};

/** Handlers of the server family, by command name. */
export const serverCommands: Record<string, Handler> = {
  info,
  time,
  command,
  "command|count": commandCount,
  "command|info": commandInfo,
  "command|docs": commandDocs,
  "command|list": commandList,
  "command|help": commandHelp,
  "config|get": configGet,
  "config|set": configSet,
  "config|resetstat": configResetstat,
  "config|rewrite": configRewrite,
  "config|help": configHelp,
  shutdown,
};
