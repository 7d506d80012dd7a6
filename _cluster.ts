// Cluster mode of the Client: hash slots (CRC16 of the key or its
// `{hash tag}`), the keys of a command (from Redis's key specifications),
// the slot map (CLUSTER SHARDS, or CLUSTER SLOTS before Redis 7), and the
// routing of commands, pipelines and transactions to the primaries, with
// MOVED / ASK redirections and bounded retries.
//
// This module does not import client.ts at run time: client.ts hands it
// what it needs (NodeOps), so there is no import cycle.

import { ReplyError, type RespValue } from "./protocol.ts";
import { COMMAND_INFO, type CommandInfoData } from "./commands/_table_data.ts";
import type {
  Arg,
  Client,
  ClientOptions,
  ClusterNode,
  PubSubMessage,
  Subscription,
  Transform,
} from "./client.ts";

/** Hash slots of a Redis Cluster. */
export const SLOTS = 16384;

/** Redis's error for a multi-key command whose keys are in several slots. */
export const CROSSSLOT =
  "CROSSSLOT Keys in request don't hash to the same slot";

/** Redirections a command may follow before giving up (as ioredis). */
const MAX_REDIRECTIONS = 16;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// --- hash slots --------------------------------------------------------------

/** CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as Redis
 * Cluster hashes keys with; one table entry per byte value. */
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    }
    table[byte] = crc & 0xffff;
  }
  return table;
})();

/** CRC16 (XMODEM) of some bytes. */
export function crc16(data: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ data[i]) & 0xff];
  }
  return crc;
}

function argBytes(a: Arg): Uint8Array {
  return a instanceof Uint8Array
    ? a
    : encoder.encode(typeof a === "number" ? String(a) : a);
}

function argText(a: Arg): string {
  return typeof a === "string"
    ? a
    : typeof a === "number"
    ? String(a)
    : decoder.decode(a);
}

/** The hash slot of a key: CRC16 of the key modulo 16384, or of its hash
 * tag, the bytes between the first `{` and the first `}` after it, when
 * there are any (`{user1}:a` and `{user1}:b` share a slot; `{}` is no
 * tag). */
export function keySlot(key: Arg): number {
  const b = argBytes(key);
  const open = b.indexOf(0x7b); // {
  if (open !== -1) {
    const close = b.indexOf(0x7d, open + 1); // }
    if (close > open + 1) return crc16(b.subarray(open + 1, close)) % SLOTS;
  }
  return crc16(b) % SLOTS;
}

/** The one slot all these keys hash to; -1 for no keys. Throws Redis's
 * CROSSSLOT error when they hash to several. */
export function slotOfKeys(keys: Arg[]): number {
  let slot = -1;
  for (const k of keys) {
    const s = keySlot(k);
    if (slot === -1) slot = s;
    else if (s !== slot) throw new ReplyError(CROSSSLOT);
  }
  return slot;
}

// --- the keys of a command ---------------------------------------------------

interface KeySpec {
  flags: string[];
  begin_search: { type: string; spec: Record<string, unknown> };
  find_keys: { type: string; spec: Record<string, unknown> };
}

/** Redis's commands by lowercase name (`parent|sub` for subcommands). */
const COMMANDS = new Map<string, CommandInfoData>();
for (const c of COMMAND_INFO) {
  COMMANDS.set(c.name, c);
  for (const sub of c.subcommands ?? []) COMMANDS.set(sub.name, sub);
}

/** The positions of a command's keys in `args` (name first), read from
 * Redis's key specifications the way Redis does: where the search begins
 * (an index, or after a keyword), then a range or a count of keys. Shard
 * channels (SPUBLISH, SSUBSCRIBE) count as keys, since they are routed
 * the same way. `null` when the specs cannot tell (SORT's STORE, MIGRATE's
 * KEYS: "unknown" or "incomplete" specs): ask the server (COMMAND
 * GETKEYS). A command Redis does not have, or arguments the specs do not
 * fit, give no keys: such a command goes to any node, which answers. */
export function keyPositions(args: Arg[]): number[] | null {
  if (args.length === 0) return [];
  const name = argText(args[0]).toLowerCase();
  let command = COMMANDS.get(name);
  if (command === undefined) return [];
  if (command.subcommands !== undefined) {
    if (args.length < 2) return [];
    command = COMMANDS.get(`${name}|${argText(args[1]).toLowerCase()}`);
    if (command === undefined) return [];
  }
  const argc = args.length;
  const out: number[] = [];
  for (const spec of command.keySpecs as KeySpec[]) {
    const bs = spec.begin_search;
    const fk = spec.find_keys;
    if (
      bs.type === "unknown" || fk.type === "unknown" ||
      spec.flags.includes("incomplete")
    ) return null;
    let first = 0;
    if (bs.type === "index") {
      first = bs.spec.index as number;
    } else if (bs.type === "keyword") {
      const keyword = (bs.spec.keyword as string).toLowerCase();
      const from = bs.spec.startfrom as number;
      const start = from > 0 ? from : argc + from;
      const step = from > 0 ? 1 : -1;
      for (let i = start; i >= 1 && i < argc; i += step) {
        if (argText(args[i]).toLowerCase() === keyword) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue; // the keyword is not there
    } else return [];
    if (first >= argc) continue;
    let last: number;
    let step: number;
    if (fk.type === "range") {
      const lastkey = fk.spec.lastkey as number;
      const limit = fk.spec.limit as number;
      step = fk.spec.keystep as number;
      if (lastkey >= 0) last = first + lastkey;
      else if (limit <= 1) last = argc + lastkey;
      else last = first + Math.floor((argc - first) / limit) + lastkey;
    } else if (fk.type === "keynum") {
      const at = first + (fk.spec.keynumidx as number);
      if (at >= argc) return [];
      const text = argText(args[at]);
      if (!/^\d+$/.test(text)) return [];
      const n = Number(text);
      first += fk.spec.firstkey as number;
      last = first + n - 1;
      step = fk.spec.keystep as number;
    } else return [];
    if (step <= 0) return [];
    for (let i = first; i <= last; i += step) {
      if (i >= argc) return []; // malformed: let the server say so
      out.push(i);
    }
  }
  return out;
}

/** The slot a command's keys hash to (-1: it has none), `null` when only
 * the server can tell which arguments are keys. Throws CROSSSLOT. */
export function commandSlot(args: Arg[]): number | null {
  const at = keyPositions(args);
  if (at === null) return null;
  return slotOfKeys(at.map((i) => args[i]));
}

// --- the slot map --------------------------------------------------------------

/** Which primary serves each slot, and the primaries. */
export interface SlotMap {
  /** The address (`host:port`) serving each slot; undefined: none. */
  slots: (string | undefined)[];
  /** The primaries that serve slots, in the order the server listed them. */
  primaries: string[];
}

/** `host:port`; `[v6]:port` for IPv6 hosts is not needed: we split at the
 * last colon. */
function address(host: string, port: number): string {
  return `${host}:${port}`;
}

function splitAddress(addr: string): { hostname: string; port: number } {
  const at = addr.lastIndexOf(":");
  return {
    hostname: addr.slice(0, at).replace(/^\[|\]$/g, ""),
    port: Number(addr.slice(at + 1)),
  };
}

function textOf(v: RespValue): string {
  if (v instanceof Uint8Array) return decoder.decode(v);
  if (v === null || v === undefined) return "";
  return String(v);
}

/** A RESP3 map or RESP2 flat array of pairs, as a Map with text keys. */
function fields(v: RespValue): Map<string, RespValue> {
  const out = new Map<string, RespValue>();
  if (v instanceof Map) {
    for (const [k, e] of v) out.set(textOf(k), e);
  } else if (Array.isArray(v)) {
    for (let i = 0; i + 1 < v.length; i += 2) out.set(textOf(v[i]), v[i + 1]);
  }
  return out;
}

/** The host to use for a node: its endpoint, else its ip, else (`?` or
 * empty: unknown) the host we asked. */
function hostOf(candidates: RespValue[], asked: string): string {
  for (const c of candidates) {
    const t = textOf(c);
    if (t !== "" && t !== "?") return t;
  }
  return asked;
}

/** Parses CLUSTER SHARDS (Redis 7): per shard its slot ranges and nodes;
 * the node whose role is `master` serves them. */
export function parseShards(reply: RespValue, asked: string): SlotMap {
  const slots: (string | undefined)[] = new Array(SLOTS);
  const primaries: string[] = [];
  for (const shard of reply as RespValue[]) {
    const f = fields(shard);
    const ranges = (f.get("slots") ?? []) as RespValue[];
    if (ranges.length === 0) continue;
    const primary = ((f.get("nodes") ?? []) as RespValue[]).map(fields).find(
      (n) => textOf(n.get("role") ?? null) === "master",
    );
    if (primary === undefined) continue;
    const port = Number(primary.get("port"));
    const addr = address(
      hostOf([
        primary.get("endpoint") ?? null,
        primary.get("ip") ?? null,
      ], asked),
      port,
    );
    primaries.push(addr);
    for (let i = 0; i + 1 < ranges.length; i += 2) {
      const end = Number(ranges[i + 1]);
      for (let s = Number(ranges[i]); s <= end; s++) slots[s] = addr;
    }
  }
  return { slots, primaries };
}

/** Parses CLUSTER SLOTS: [start, end, [host, port, id, ...], replicas...]. */
export function parseSlots(reply: RespValue, asked: string): SlotMap {
  const slots: (string | undefined)[] = new Array(SLOTS);
  const primaries: string[] = [];
  for (const range of reply as RespValue[][]) {
    const [start, end, primary] = range as [RespValue, RespValue, RespValue[]];
    const addr = address(hostOf([primary[0]], asked), Number(primary[1]));
    if (!primaries.includes(addr)) primaries.push(addr);
    for (let s = Number(start); s <= Number(end); s++) slots[s] = addr;
  }
  return { slots, primaries };
}

/** A MOVED or ASK error: the slot and where to go. An empty host (`:port`,
 * the endpoint is unknown to the cluster) is the host that answered. */
export function parseRedirect(
  message: string,
  from: string,
): { ask: boolean; slot: number; addr: string } | null {
  const m = /^(MOVED|ASK) (\d+) (\S*):(\d+)$/.exec(message);
  if (m === null) return null;
  const host = m[3] === "" ? splitAddress(from).hostname : m[3];
  return {
    ask: m[1] === "ASK",
    slot: Number(m[2]),
    addr: address(host, Number(m[4])),
  };
}

// --- routing -------------------------------------------------------------------

/** What the router needs from client.ts. */
export interface NodeOps {
  /** Connects a plain (not cluster) client. */
  connect(options: ClientOptions): Promise<Client>;
  /** Sends commands as one pipeline on a node; replies in order, error
   * replies as ReplyError values. */
  pipeline(node: Client, commands: [Arg[], Transform<unknown>][]): Promise<
    unknown[]
  >;
  /** Runs MULTI, the commands, EXEC on a node (after ASKING when asked). */
  exec(
    node: Client,
    commands: [Arg[], Transform<unknown>][],
    asking: boolean,
  ): Promise<unknown[] | null>;
  /** A ConnectionError. */
  connectionError(message: string, cause?: unknown): Error;
}

const same = (v: RespValue) => v;

function isConnectionError(e: unknown): boolean {
  return e instanceof Error && e.name === "ConnectionError";
}

/** Errors after which a command is tried again later: the cluster is
 * down (a node restarting, a failover) or a multi-key command hit a slot
 * being migrated. */
function isTransient(e: ReplyError): boolean {
  return e.code === "TRYAGAIN" || e.code === "CLUSTERDOWN";
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Entry {
  /** Index in the batch. */
  i: number;
  /** Where to send it; null: by its slot, in the current map. */
  addr: string | null;
  ask: boolean;
}

/** Routes commands to the primaries of a Redis Cluster (see
 * {@linkcode Client.connect}'s `cluster` option). */
export class ClusterRouter {
  #base: ClientOptions;
  #seeds: string[];
  #ops: NodeOps;
  #retries: number;
  #minDelay: number;
  #maxDelay: number;
  #slots: (string | undefined)[] = new Array(SLOTS);
  #primaries: string[] = [];
  /** Round-robin start for keyless commands (moved on when a node fails). */
  #any = 0;
  /** Connections to nodes for commands (no reconnect of their own: the
   * router retries, with a fresh slot map). */
  #conns = new Map<string, Client>();
  #opening = new Map<string, Promise<Client>>();
  /** Connections for subscriptions (they reconnect and subscribe again). */
  #pubsub = new Map<string, Promise<Client>>();
  #refreshing: Promise<void> | null = null;
  #closed = false;

  constructor(base: ClientOptions, seeds: ClusterNode[], ops: NodeOps) {
    this.#base = base;
    this.#seeds = seeds.map((n) =>
      address(n.hostname ?? "127.0.0.1", n.port ?? 6379)
    );
    this.#ops = ops;
    const r = typeof base.reconnect === "object" ? base.reconnect : {};
    this.#retries = base.reconnect === false ? 0 : r.retries ?? 20;
    this.#minDelay = r.minDelay ?? 50;
    this.#maxDelay = r.maxDelay ?? 2000;
  }

  /** Reads the slot map; rejects when no node gives one. */
  async open(): Promise<void> {
    try {
      await this.refresh();
    } catch (e) {
      this.close();
      throw e;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The primaries, as `host:port`, in the slot map's order. */
  get primaries(): readonly string[] {
    return this.#primaries;
  }

  /** The address serving a slot in the current map. */
  addressOf(slot: number): string | undefined {
    return this.#slots[slot];
  }

  #closedError(): Error {
    return this.#ops.connectionError("the client is closed");
  }

  /** Reads the slot map again (one read at a time; callers share it). */
  refresh(): Promise<void> {
    if (this.#refreshing === null) {
      const p = this.#load().finally(() => {
        if (this.#refreshing === p) this.#refreshing = null;
      });
      this.#refreshing = p;
    }
    return this.#refreshing;
  }

  /** Asks the known primaries, then the seed nodes, then any node we have
   * a connection to, for the slot map; the first full answer wins. */
  async #load(): Promise<void> {
    const candidates = [
      ...new Set([...this.#primaries, ...this.#seeds, ...this.#conns.keys()]),
    ];
    let last: unknown;
    for (const addr of candidates) {
      if (this.#closed) throw this.#closedError();
      try {
        const node = await this.#node(addr);
        const map = await this.#readMap(node, splitAddress(addr).hostname);
        if (map.primaries.length === 0) {
          throw new ReplyError(
            `CLUSTERDOWN ${addr} has no slots assigned (is the cluster set up?)`,
          );
        }
        this.#slots = map.slots;
        this.#primaries = map.primaries;
        return;
      } catch (e) {
        last = e;
      }
    }
    if (last instanceof ReplyError) throw last;
    throw this.#ops.connectionError(
      `cannot read the cluster's slot map from ${candidates.join(", ")}`,
      last,
    );
  }

  async #readMap(node: Client, asked: string): Promise<SlotMap> {
    const [shards] = await this.#ops.pipeline(node, [[
      ["CLUSTER", "SHARDS"],
      same,
    ]]);
    if (!(shards instanceof ReplyError)) {
      return parseShards(shards as RespValue, asked);
    }
    // Before Redis 7: CLUSTER SLOTS.
    const [slots] = await this.#ops.pipeline(node, [[
      ["CLUSTER", "SLOTS"],
      same,
    ]]);
    if (slots instanceof ReplyError) throw slots;
    return parseSlots(slots as RespValue, asked);
  }

  /** The connection to a node, opened on first use (and again after it
   * dropped). */
  async #node(addr: string): Promise<Client> {
    if (this.#closed) throw this.#closedError();
    const have = this.#conns.get(addr);
    if (have !== undefined) {
      if (have.connected) return have;
      this.#conns.delete(addr);
      have.close();
    }
    let opening = this.#opening.get(addr);
    if (opening === undefined) {
      const p = this.#ops.connect({
        ...this.#base,
        ...splitAddress(addr),
        reconnect: false,
      });
      opening = p;
      this.#opening.set(addr, p);
      p.then((c) => {
        if (this.#opening.get(addr) === p) this.#opening.delete(addr);
        if (this.#closed) c.close();
        else this.#conns.set(addr, c);
      }, () => {
        if (this.#opening.get(addr) === p) this.#opening.delete(addr);
      });
    }
    const conn = await opening;
    if (this.#closed) throw this.#closedError();
    return conn;
  }

  /** Where a command for `slot` goes (-1: a keyless command, any
   * primary). */
  #route(slot: number): string {
    const addr = slot >= 0 ? this.#slots[slot] : undefined;
    if (addr !== undefined) return addr;
    const all = this.#primaries.length > 0 ? this.#primaries : this.#seeds;
    return all[this.#any % all.length];
  }

  /** The connection to the primary serving `slot` (-1: any primary). */
  nodeFor(slot: number): Promise<Client> {
    return this.#node(this.#route(slot));
  }

  /** Connections to every primary (after reading the slot map again). */
  async primaryNodes(): Promise<Client[]> {
    await this.refresh();
    return await Promise.all(this.#primaries.map((a) => this.#node(a)));
  }

  /** The slot of a command: from the key specs, else asked of the
   * cluster (COMMAND GETKEYS); -1 when it has no keys. Rejects with
   * CROSSSLOT, without a round trip, when the specs give keys of several
   * slots. */
  async slotOf(args: Arg[]): Promise<number> {
    const slot = commandSlot(args);
    if (slot !== null) return slot;
    const [keys] = await this.batch([{
      args: ["COMMAND", "GETKEYS", ...args],
      transform: same,
      slot: -1,
    }]);
    if (!Array.isArray(keys)) return -1; // an error: the node will answer it
    return slotOfKeys(keys as Uint8Array[]);
  }

  /** Sends one command to the node serving its keys. */
  async call<T>(args: Arg[], transform: Transform<T>): Promise<T> {
    const slot = await this.slotOf(args);
    const [reply] = await this.batch([{ args, transform, slot }]);
    if (reply instanceof ReplyError) throw reply;
    return reply as T;
  }

  /** A pipeline: split per node, sent at once, replies in the caller's
   * order (error replies as ReplyError values; a CROSSSLOT command gets
   * its error without being sent). */
  async pipeline(commands: [Arg[], Transform<unknown>][]): Promise<unknown[]> {
    const slots = await Promise.all(
      commands.map(([args]) => this.slotOf(args).catch((e) => e as Error)),
    );
    const results: unknown[] = new Array(commands.length);
    const items: BatchItem[] = [];
    const at: number[] = [];
    commands.forEach(([args, transform], i) => {
      const slot = slots[i];
      if (slot instanceof Error) {
        results[i] = slot;
        return;
      }
      at.push(i);
      items.push({ args, transform, slot });
    });
    const replies = await this.batch(items);
    replies.forEach((r, j) => results[at[j]] = r);
    return results;
  }

  /** Sends commands (each with its slot), grouped per node as pipelines;
   * follows MOVED (noting the new owner, reading the map again in the
   * background) and ASK (ASKING, then the command, on the node named), and
   * after a connection error, TRYAGAIN or CLUSTERDOWN waits, reads the map
   * again and tries again, within the retry budget. Replies in order,
   * error replies as ReplyError values. */
  async batch(items: BatchItem[]): Promise<unknown[]> {
    const results: unknown[] = new Array(items.length);
    let pending: Entry[] = items.map((_, i) => ({ i, addr: null, ask: false }));
    let retries = 0;
    let redirects = 0;
    while (pending.length > 0) {
      if (this.#closed) throw this.#closedError();
      const groups = new Map<string, Entry[]>();
      for (const e of pending) {
        const addr = e.addr ?? this.#route(items[e.i].slot);
        let g = groups.get(addr);
        if (g === undefined) groups.set(addr, g = []);
        g.push(e);
      }
      const again: Entry[] = [];
      let wait = false;
      let redirected = false;
      let moved = false;
      let lost: unknown = undefined;
      let fatal: unknown = undefined;
      await Promise.all([...groups].map(async ([addr, entries]) => {
        let replies: unknown[];
        try {
          const node = await this.#node(addr);
          const commands: [Arg[], Transform<unknown>][] = [];
          for (const e of entries) {
            if (e.ask) commands.push([["ASKING"], same]);
            commands.push([items[e.i].args, items[e.i].transform]);
          }
          const all = await this.#ops.pipeline(node, commands);
          replies = [];
          let k = 0;
          for (const e of entries) {
            if (e.ask) k++; // ASKING's OK
            replies.push(all[k++]);
          }
        } catch (err) {
          if (!isConnectionError(err) || this.#closed) {
            fatal ??= err;
            return;
          }
          // The node is gone (or restarting): try elsewhere, or later.
          lost = err;
          wait = true;
          this.#forget(addr);
          for (const e of entries) {
            again.push({ i: e.i, addr: null, ask: false });
          }
          return;
        }
        entries.forEach((e, j) => {
          const r = replies[j];
          results[e.i] = r;
          if (!(r instanceof ReplyError)) return;
          const to = parseRedirect(r.message, addr);
          if (to !== null) {
            redirected = true;
            if (!to.ask) {
              moved = true;
              this.#slots[to.slot] = to.addr;
            }
            again.push({ i: e.i, addr: to.addr, ask: to.ask });
          } else if (isTransient(r)) {
            wait = true;
            again.push({ i: e.i, addr: null, ask: false });
          }
        });
      }));
      if (fatal !== undefined) throw fatal;
      if (again.length === 0) break;
      if (wait) {
        if (++retries > this.#retries) {
          if (lost !== undefined) throw lost;
          break; // the last error replies stay as the results
        }
        await delay(
          Math.min(this.#maxDelay, this.#minDelay * 2 ** (retries - 1)),
        );
        await this.refresh().catch(() => {});
        // Redirected entries go where they were sent; the others by the
        // fresh map.
      } else if (redirected) {
        if (++redirects > MAX_REDIRECTIONS) break;
        if (moved) this.refresh().catch(() => {});
      }
      pending = again;
    }
    return results;
  }

  /** A node we could not reach: drop its connection; keyless commands
   * move on to the next primary. */
  #forget(addr: string): void {
    const c = this.#conns.get(addr);
    if (c !== undefined) {
      this.#conns.delete(addr);
      c.close();
    }
    if (
      this.#primaries[this.#any % Math.max(1, this.#primaries.length)] === addr
    ) {
      this.#any++;
    }
  }

  /** MULTI / EXEC on the node serving the slot of every key in it; a
   * transaction with keys of several slots rejects with CROSSSLOT before
   * anything is sent. Follows MOVED and ASK (ASKING before MULTI) and
   * retries as {@linkcode ClusterRouter.batch} does. */
  async exec(
    commands: [Arg[], Transform<unknown>][],
  ): Promise<unknown[] | null> {
    let slot = -1;
    for (const [args] of commands) {
      const s = await this.slotOf(args);
      if (s === -1) continue;
      if (slot !== -1 && s !== slot) throw new ReplyError(CROSSSLOT);
      slot = s;
    }
    let addr = this.#route(slot);
    let asking = false;
    let retries = 0;
    let redirects = 0;
    while (true) {
      let error: unknown;
      try {
        const node = await this.#node(addr);
        return await this.#ops.exec(node, commands, asking);
      } catch (e) {
        error = e;
      }
      asking = false;
      if (this.#closed) throw error;
      if (error instanceof ReplyError) {
        // EXECABORT names the first queued error: a redirection of a key.
        const m = /(?:^|: )((?:MOVED|ASK) \d+ \S*:\d+)\)?$/.exec(error.message);
        const to = m === null ? null : parseRedirect(m[1], addr);
        if (to !== null && ++redirects <= MAX_REDIRECTIONS) {
          if (!to.ask) {
            this.#slots[to.slot] = to.addr;
            this.refresh().catch(() => {});
          }
          asking = to.ask;
          addr = to.addr;
          continue;
        }
        const transient = isTransient(error) ||
          /first queued error: (TRYAGAIN|CLUSTERDOWN)/.test(error.message);
        if (!transient || ++retries > this.#retries) throw error;
      } else if (isConnectionError(error)) {
        if (++retries > this.#retries) throw error;
        this.#forget(addr);
      } else throw error;
      await delay(
        Math.min(this.#maxDelay, this.#minDelay * 2 ** (retries - 1)),
      );
      await this.refresh().catch(() => {});
      addr = this.#route(slot);
    }
  }

  /** Subscribes on a connection of its own to a node (which reconnects and
   * subscribes again): SUBSCRIBE and PSUBSCRIBE on any primary (Redis
   * Cluster forwards every PUBLISH to every node), SSUBSCRIBE on the
   * primary serving the channels' slot (all in one slot, or CROSSSLOT). */
  async subscribe(
    kind: "c" | "p" | "s",
    names: string[],
    listener?: (message: PubSubMessage) => void,
  ): Promise<Subscription> {
    const slot = kind === "s" ? slotOfKeys(names) : -1;
    const addr = this.#route(slot);
    let opening = this.#pubsub.get(addr);
    if (opening === undefined) {
      opening = this.#ops.connect({ ...this.#base, ...splitAddress(addr) });
      this.#pubsub.set(addr, opening);
      opening.then((c) => {
        if (this.#closed) c.close();
      }, () => this.#pubsub.delete(addr));
    }
    const conn = await opening;
    if (kind === "c") return await conn.subscribe(names, listener);
    if (kind === "p") return await conn.psubscribe(names, listener);
    return await conn.ssubscribe(names, listener);
  }

  /** Connections open for blocking commands, over every node. */
  get blockingConnections(): number {
    let n = 0;
    for (const c of this.#conns.values()) n += c.blockingConnections;
    return n;
  }

  /** Closes every connection; pending commands fail. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of this.#conns.values()) c.close();
    this.#conns.clear();
    for (const p of this.#opening.values()) p.then((c) => c.close(), () => {});
    this.#opening.clear();
    for (const p of this.#pubsub.values()) p.then((c) => c.close(), () => {});
    this.#pubsub.clear();
  }
}

/** One command of a batch, with the slot of its keys (-1: none). */
export interface BatchItem {
  args: Arg[];
  transform: Transform<unknown>;
  slot: number;
}
