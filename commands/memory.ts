// Memory introspection: MEMORY USAGE/STATS/DOCTOR/HELP/MALLOC-STATS/PURGE,
// OBJECT FREQ/IDLETIME and INFO's memory section. How memory is measured
// is explained in data/_memory.ts.

import { Scripting } from "./scripting.ts";
import {
  collectGarbage,
  ENTRY_BYTES,
  prepareGarbageCollection,
  stringBytes,
  valueBytes,
} from "../data/_memory.ts";
import {
  CommandError,
  Errors,
  type Handler,
  helpReply,
  intArg,
  type Session,
  upper,
} from "./_shared.ts";

/** Bytes as Redis's bytesToHuman writes them: 1023B, 1.50K, 2.00M... */
export function bytesToHuman(n: number): string {
  const units = ["K", "M", "G", "T", "P", "E"];
  if (n < 1024) return `${n}B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

/** The numbers behind INFO memory and MEMORY STATS. */
function measure(s: Session) {
  const memory = s.store.memory;
  const m = Deno.memoryUsage();
  const used = memory.used;
  if (used > memory.peak) memory.peak = used;
  const startup = memory.baseline;
  const clients = memory.overhead;
  // Every database's tables, as Redis counts them.
  let keys = 0, volatile = 0;
  for (const [, db] of s.server.databases) {
    keys += db.size;
    volatile += db.volatileSize;
  }
  const mainTable = keys * ENTRY_BYTES;
  const expiresTable = volatile * ENTRY_BYTES;
  const overhead = startup + clients + mainTable + expiresTable;
  const dataset = Math.max(0, used - overhead);
  return {
    used,
    peak: memory.peak,
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    startup,
    clients,
    mainTable,
    expiresTable,
    overhead,
    dataset,
  };
}

/** INFO's memory section, with the fields Redis 7.0 reports (the
 * allocator's are V8's heap figures). */
export function memoryInfo(s: Session): [string, string | number][] {
  const m = measure(s);
  const settings = s.store.memory.settings;
  const total = Deno.systemMemoryInfo().total;
  const ratio = (a: number, b: number) => (a / Math.max(b, 1)).toFixed(2);
  const allocated = m.heapUsed + m.external;
  const sc = Scripting.of(s.server);
  const lua = sc.luaMemory();
  const fns = sc.functionsInfo();
  const active = m.heapTotal + m.external;
  return [
    ["used_memory", m.used],
    ["used_memory_human", bytesToHuman(m.used)],
    ["used_memory_rss", m.rss],
    ["used_memory_rss_human", bytesToHuman(m.rss)],
    ["used_memory_peak", m.peak],
    ["used_memory_peak_human", bytesToHuman(m.peak)],
    ["used_memory_peak_perc", `${(m.used * 100 / m.peak).toFixed(2)}%`],
    ["used_memory_overhead", m.overhead],
    ["used_memory_startup", m.startup],
    ["used_memory_dataset", m.dataset],
    [
      "used_memory_dataset_perc",
      `${(m.dataset * 100 / Math.max(1, m.used - m.startup)).toFixed(2)}%`,
    ],
    ["allocator_allocated", allocated],
    ["allocator_active", active],
    ["allocator_resident", m.rss],
    ["total_system_memory", total],
    ["total_system_memory_human", bytesToHuman(total)],
    ["used_memory_lua", lua.eval],
    ["used_memory_vm_eval", lua.eval],
    ["used_memory_lua_human", bytesToHuman(lua.eval)],
    ["used_memory_scripts_eval", sc.scriptsBytes],
    ["number_of_cached_scripts", sc.scripts.size],
    ["number_of_functions", fns.functions],
    ["number_of_libraries", fns.libraries],
    ["used_memory_vm_functions", lua.functions],
    ["used_memory_vm_total", lua.eval + lua.functions],
    ["used_memory_vm_total_human", bytesToHuman(lua.eval + lua.functions)],
    ["used_memory_functions", fns.bytes],
    ["used_memory_scripts", sc.scriptsBytes + fns.bytes],
    ["used_memory_scripts_human", bytesToHuman(sc.scriptsBytes + fns.bytes)],
    ["maxmemory", settings.maxmemory],
    ["maxmemory_human", bytesToHuman(settings.maxmemory)],
    ["maxmemory_policy", settings.maxmemoryPolicy],
    ["allocator_frag_ratio", ratio(active, allocated)],
    ["allocator_frag_bytes", active - allocated],
    ["allocator_rss_ratio", ratio(m.rss, active)],
    ["allocator_rss_bytes", m.rss - active],
    ["rss_overhead_ratio", "1.00"],
    ["rss_overhead_bytes", 0],
    ["mem_fragmentation_ratio", ratio(m.rss, m.used)],
    ["mem_fragmentation_bytes", m.rss - m.used],
    ["mem_not_counted_for_evict", 0],
    ["mem_replication_backlog", 0],
    ["mem_total_replication_buffers", 0],
    ["mem_clients_slaves", 0],
    ["mem_clients_normal", m.clients],
    ["mem_cluster_links", 0],
    ["mem_aof_buffer", 0],
    ["mem_allocator", "v8"],
    ["active_defrag_running", 0],
    ["lazyfree_pending_objects", 0],
    ["lazyfreed_objects", 0],
    // Ours: the V8 heap, its limit, and the limit in force.
    ["used_memory_heap_total", m.heapTotal],
    ["v8_heap_size_limit", s.store.memory.heapLimit],
    ["maxmemory_effective", s.store.memory.limit],
  ];
}

const memoryUsage: Handler = (s, argv) => {
  let samples = 5;
  for (let j = 3; j < argv.length; j++) {
    if (upper(argv[j]) === "SAMPLES" && j + 1 < argv.length) {
      samples = intArg(argv[++j]);
      if (samples < 0) throw new CommandError(Errors.syntax);
      if (samples === 0) samples = Infinity;
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  const v = s.store.peek(argv[2]);
  if (v === undefined) return s.out.nil();
  const key = argv[2];
  s.out.int(
    ENTRY_BYTES + stringBytes(key.length) +
      valueBytes(v, samples === Infinity ? 0 : samples),
  );
};

const memoryStats: Handler = (s) => {
  const m = measure(s);
  const out = s.out;
  // A db.N entry for each database with keys, as Redis.
  const used = s.server.databases.filter(([, db]) => db.size > 0);
  let keys = 0;
  for (const [, db] of used) keys += db.size;
  out.map(27 + used.length);
  const int = (k: string, v: number) => {
    out.bulk(k);
    out.int(Math.round(v));
  };
  const dbl = (k: string, v: number) => {
    out.bulk(k);
    out.double(Math.fround(v));
  };
  int("peak.allocated", m.peak);
  int("total.allocated", m.used);
  int("startup.allocated", m.startup);
  int("replication.backlog", 0);
  int("clients.slaves", 0);
  int("clients.normal", m.clients);
  int("cluster.links", 0);
  int("aof.buffer", 0);
  int("lua.caches", 0);
  int("functions.caches", 0);
  for (const [i, db] of used) {
    out.bulk(`db.${i}`);
    out.map(3);
    int("overhead.hashtable.main", db.size * ENTRY_BYTES);
    int("overhead.hashtable.expires", db.volatileSize * ENTRY_BYTES);
    int("overhead.hashtable.slot-to-keys", 0);
  }
  int("overhead.total", m.overhead);
  int("keys.count", keys);
  int(
    "keys.bytes-per-key",
    keys > 0 ? Math.floor((m.used - m.startup) / keys) : 0,
  );
  int("dataset.bytes", m.dataset);
  dbl(
    "dataset.percentage",
    m.dataset * 100 / Math.max(1, m.used - m.startup),
  );
  dbl("peak.percentage", m.used * 100 / Math.max(1, m.peak));
  const allocated = m.heapUsed + m.external;
  const active = m.heapTotal + m.external;
  int("allocator.allocated", allocated);
  int("allocator.active", active);
  int("allocator.resident", m.rss);
  dbl("allocator-fragmentation.ratio", active / Math.max(1, allocated));
  int("allocator-fragmentation.bytes", active - allocated);
  dbl("allocator-rss.ratio", m.rss / Math.max(1, active));
  int("allocator-rss.bytes", m.rss - active);
  dbl("rss-overhead.ratio", 1);
  int("rss-overhead.bytes", 0);
  dbl("fragmentation", m.rss / Math.max(1, m.used));
  int("fragmentation.bytes", m.rss - m.used);
};

const EMPTY_DOCTOR =
  "Hi Sam, this instance is empty or is using very little memory, my " +
  "issues detector can't be used in these conditions. Please, leave for " +
  "your mission on Earth and fill it with some data. The new Sam and I " +
  "will be back to our programming as soon as I finished rebooting.\n";

const memoryDoctor: Handler = (s) => {
  const m = measure(s);
  let text: string;
  // Redis looks at all it allocated; our start-up heap is larger than
  // Redis's, so it is left out here.
  if (m.used - m.startup < 5 * 1024 * 1024) {
    text = EMPTY_DOCTOR;
  } else {
    const issues: string[] = [];
    if (m.peak > m.used * 1.5) {
      issues.push(
        " * Peak memory: In the past this instance used more than 150% " +
          "the memory that is currently using. The allocator is normally " +
          "not able to release memory after a peak, so you can expect to " +
          "see a big fragmentation ratio, however this is actually " +
          "harmless and is only due to the memory peak, and if the Redis " +
          "instance Resident Set Size (RSS) is currently bigger than " +
          "expected, the memory will be used as soon as you fill the " +
          "Redis instance with more data. If the memory peak was only " +
          "occasional and you want to try to reclaim memory, please try " +
          "the MEMORY PURGE command, otherwise the only other option is " +
          "to shutdown and restart the instance.\n\n",
      );
    }
    const limit = s.store.memory.limit;
    if (limit > 0 && m.used > limit * 0.9) {
      issues.push(
        " * Memory limit: used memory is above 90% of the limit in force " +
          `(${bytesToHuman(limit)}); writes may be refused with -OOM or ` +
          "keys evicted, depending on maxmemory-policy.\n\n",
      );
    }
    text = issues.length === 0
      ? "Hi Sam, I can't find any memory issue in your instance. I can " +
        "only account for what occurs on this base.\n"
      : "Sam, I detected a few issues in this Redis instance memory " +
        "implants:\n\n" + issues.join("") +
        "I'm here to keep you safe, Sam. I want to help you.\n";
  }
  s.out.verbatim("txt", text);
};

const memoryMallocStats: Handler = (s) =>
  s.out.bulk("Stats not supported for the current allocator");

const memoryPurge: Handler = (s) => {
  // The first time, once collections are ready (data/_memory.ts).
  if (!collectGarbage()) prepareGarbageCollection().then(collectGarbage);
  s.out.ok();
};

const memoryHelp: Handler = (s) =>
  helpReply(s, [
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
    "HELP",
    "    Prints this help.",
  ]);

const LFU_NOT_SELECTED =
  "ERR An LFU maxmemory policy is not selected, access frequency not " +
  "tracked. Please note that when switching between policies at runtime " +
  "LRU and LFU data will take some time to adjust.";
const LFU_SELECTED =
  "ERR An LFU maxmemory policy is selected, idle time not tracked. Please " +
  "note that when switching between policies at runtime LRU and LFU data " +
  "will take some time to adjust.";

const objectFreq: Handler = (s, argv) => {
  if (s.store.peek(argv[2]) === undefined) return s.out.nil();
  if (!s.store.memory.settings.maxmemoryPolicy.endsWith("-lfu")) {
    throw new CommandError(LFU_NOT_SELECTED);
  }
  s.out.int(s.store.memory.frequency(argv[2], s.store));
};

const objectIdletime: Handler = (s, argv) => {
  if (s.store.peek(argv[2]) === undefined) return s.out.nil();
  const memory = s.store.memory;
  if (memory.settings.maxmemoryPolicy.endsWith("-lfu")) {
    throw new CommandError(LFU_SELECTED);
  }
  // Access times are kept from the first time they are asked for.
  memory.track(1);
  s.out.int(Math.floor(memory.idleMs(argv[2], s.store) / 1000));
};

/** Handlers of the memory family, by command name. */
export const memoryCommands: Record<string, Handler> = {
  "memory|usage": memoryUsage,
  "memory|stats": memoryStats,
  "memory|doctor": memoryDoctor,
  "memory|malloc-stats": memoryMallocStats,
  "memory|purge": memoryPurge,
  "memory|help": memoryHelp,
  "object|freq": objectFreq,
  "object|idletime": objectIdletime,
};
