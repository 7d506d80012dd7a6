/**
 * Client-side caching (Redis 7.0's tracking.c semantics): CLIENT TRACKING,
 * CLIENT CACHING, CLIENT GETREDIR, CLIENT TRACKINGINFO, and the
 * invalidation messages.
 *
 * In the default mode the keys a tracking client read are remembered in a
 * table (key -> client ids); a write, expiry, eviction or removal of such a
 * key sends `invalidate` to those clients and forgets the entry. In BCAST
 * mode every change of a key under one of the client's prefixes is sent,
 * batched until the running batch of commands is done. FLUSHALL and FLUSHDB
 * send a null invalidation to every tracking client. The store tells us of
 * changed keys through {@linkcode Store.keyModified}, which is null (no
 * cost) while nobody tracks.
 *
 * @module
 */

import type { Store } from "../store.ts";
import type { ReplyWriter } from "../protocol.ts";
import {
  type ClientState,
  type Command,
  CommandError,
  Errors,
  type Handler,
  type Session,
} from "./_shared.ts";
import { parseInt64 } from "../_number.ts";

const CHANNEL = "__redis__:invalidate";
const NULL2 = new TextEncoder().encode("$-1\r\n");
const NULL3 = new TextEncoder().encode("_\r\n");

/** One client's tracking mode (`ClientState.tracking`).
 *
 * @example
 * ```ts
 * import { type ClientTracking, Server } from "@kv/store";
 * await using server = new Server({ port: 0 });
 * server.addCommand({
 *   name: "MYPREFIXES",
 *   arity: 1,
 *   handler: (s) => {
 *     const t: ClientTracking | null | undefined = s.client.tracking;
 *     const prefixes = t?.bcast ? t.prefixes : [];
 *     s.out.array(prefixes.length);
 *     for (const prefix of prefixes) s.out.bulk(prefix);
 *   },
 * });
 * ```
 */
export class ClientTracking {
  /** Broadcast mode: changes under `prefixes` are sent. */
  bcast = false;
  /** Keys are remembered only after CLIENT CACHING YES. */
  optin = false;
  /** Keys are not remembered after CLIENT CACHING NO. */
  optout = false;
  /** The client's own changes are not sent to it. */
  noloop = false;
  /** CLIENT CACHING was given for the next command. */
  caching = false;
  /** Client id the invalidations go to; 0 for the client itself. */
  redirect = 0;
  /** The redirect client is gone. */
  broken = false;
  /** BCAST prefixes, in the order given. */
  readonly prefixes: string[] = [];
}

/** Keys changed under one BCAST prefix, and who listens to it. */
class Prefix {
  /** Listening clients. */
  readonly clients = new Set<ClientState>();
  /** Changed keys, each with the client that changed it last (NOLOOP). */
  keys = new Map<string, ClientState | null>();
}

const instances = new WeakMap<Store, Tracking>();

/**
 * The server's tracking state: the table of keys read by tracking clients,
 * the BCAST prefixes, and the invalidations still to send.
 *
 * @example
 * ```ts
 * import { Store, Tracking } from "@kv/store";
 * const tracking = Tracking.of(new Store());
 * console.log(tracking.clients, tracking.totalKeys); // 0 0
 * ```
 */
export class Tracking {
  /** The tracking state of `store` (one per store). */
  static of(store: Store): Tracking {
    let t = instances.get(store);
    if (t === undefined) {
      t = new Tracking(store);
      instances.set(store, t);
    }
    return t;
  }

  /** Most keys the table remembers (Redis's `tracking-table-max-keys`);
   * beyond it entries are evicted, invalidating them. 0: no limit. */
  maxKeys = 1_000_000;
  /** Clients in tracking mode (INFO `tracking_clients`). */
  clients = 0;
  /** Client ids remembered across all keys (`tracking_total_items`). */
  totalItems = 0;
  /** The stores whose writes invalidate (a server's databases: Redis
   * tracks key names whatever the database). */
  readonly #stores: Store[];
  /** Connected clients by id (for redirection and flushes). */
  #all: Map<number, ClientState> = new Map();
  /** key -> the id of the one client that read it, or a set of ids. */
  readonly #table = new Map<string, number | Set<number>>();
  readonly #prefixes = new Map<string, Prefix>();
  /** Keys changed since the last settle; null: a flush. */
  #changed: (string | null)[] = [];
  /** Invalidations of the running client, sent after its reply. */
  #self: (string | null)[] = [];
  #settleQueued = false;
  #bcastQueued = false;
  #evictRounds = 0;
  readonly #onModified = (key: string | null): void => {
    this.#changed.push(key);
    if (!this.#settleQueued) {
      this.#settleQueued = true;
      queueMicrotask(this.#settleLater);
    }
  };
  readonly #settleLater = (): void => {
    this.#settleQueued = false;
    if (this.#changed.length !== 0) this.#settle(null);
  };
  readonly #broadcastLater = (): void => {
    this.#bcastQueued = false;
    this.#broadcast();
  };

  private constructor(store: Store) {
    this.#stores = [store];
  }

  /** Keys in the table (INFO `tracking_total_keys`). */
  get totalKeys(): number {
    return this.#table.size;
  }

  /** BCAST prefixes in use (INFO `tracking_total_prefixes`). */
  get totalPrefixes(): number {
    return this.#prefixes.size;
  }

  /** CLIENT TRACKING ON: `c` tracks with `mode` (checked by the caller). */
  enable(
    c: ClientState,
    all: Map<number, ClientState>,
    mode: {
      redirect: number;
      bcast: boolean;
      optin: boolean;
      optout: boolean;
      noloop: boolean;
      prefixes: string[];
    },
  ): void {
    this.#all = all;
    let t = c.tracking;
    if (t == null) {
      t = c.tracking = new ClientTracking();
      this.clients++;
      for (const store of this.#stores) store.keyModified = this.#onModified;
    }
    t.broken = false;
    t.redirect = mode.redirect;
    t.optin = mode.optin;
    t.optout = mode.optout;
    t.noloop = mode.noloop;
    if (mode.bcast) {
      t.bcast = true;
      const list = mode.prefixes.length === 0 ? [""] : mode.prefixes;
      for (const p of list) {
        let bs = this.#prefixes.get(p);
        if (bs === undefined) this.#prefixes.set(p, bs = new Prefix());
        if (!bs.clients.has(c)) {
          bs.clients.add(c);
          t.prefixes.push(p);
        }
      }
    }
  }

  /** Tracks the keys of `store` too (another database of the server). */
  attach(store: Store): void {
    this.#stores.push(store);
    if (this.clients > 0) store.keyModified = this.#onModified;
  }

  /** CLIENT TRACKING OFF, RESET, disconnection. Table entries of the
   * client are forgotten lazily, as Redis does. */
  disable(c: ClientState): void {
    const t = c.tracking;
    if (t == null) return;
    for (const p of t.prefixes) {
      const bs = this.#prefixes.get(p);
      if (bs === undefined) continue;
      bs.clients.delete(c);
      if (bs.clients.size === 0) this.#prefixes.delete(p);
    }
    c.tracking = null;
    if (--this.clients === 0) {
      // Nobody tracks: the hook goes (no cost on writes) and with it the
      // table, whose entries could not be kept up to date any more.
      for (const store of this.#stores) store.keyModified = null;
      this.#table.clear();
      this.totalItems = 0;
    }
  }

  /** Called by the dispatcher after every command while someone tracks:
   * sends the invalidations of the keys it changed, remembers the keys a
   * tracking client read, and (unless `nested` in EXEC) sends the running
   * client's own invalidations after its reply. */
  afterCommand(
    s: Session,
    command: Command,
    argv: string[],
    nested: boolean,
  ): void {
    const c = s.client;
    if (this.#changed.length !== 0) this.#settle(c);
    const t = c.tracking;
    if (t != null) {
      if (
        !t.bcast && command.write === false &&
        command.flags.has("readonly") && !command.flags.has("pubsub") &&
        !((t.optin && !t.caching) || (t.optout && t.caching))
      ) this.#remember(c.id, command, argv);
      if (
        t.caching && !nested && (c.tx == null || c.tx.queue === null) &&
        !command.name.startsWith("client|")
      ) t.caching = false;
    }
    if (!nested && this.#self.length !== 0) {
      const keys = this.#self;
      this.#self = [];
      if (c.tracking != null) {
        for (const k of keys) this.#send(c, c.tracking, k, null);
      }
    }
    // `tracking-table-max-keys` when the configuration has it.
    const max = (s.server.config as { trackingTableMaxKeys?: number })
      .trackingTableMaxKeys ?? this.maxKeys;
    if (max > 0 && this.#table.size > max) this.#limit(c, max);
  }

  /** Remembers the keys of a read command for client `id`. */
  #remember(id: number, command: Command, argv: string[]): void {
    const table = this.#table;
    forEachKey(command, argv, (key) => {
      const ids = table.get(key);
      if (ids === undefined) {
        table.set(key, id);
        this.totalItems++;
      } else if (typeof ids === "number") {
        if (ids === id) return;
        table.set(key, new Set([ids, id]));
        this.totalItems++;
      } else if (!ids.has(id)) {
        ids.add(id);
        this.totalItems++;
      }
    });
  }

  /** Evicts table entries over `maxKeys`, invalidating them (Redis's
   * trackingLimitUsedSlots: more effort each time it stays over). */
  #limit(current: ClientState | null, max: number): void {
    let effort = 100 * (this.#evictRounds + 1);
    for (const key of this.#table.keys()) {
      if (effort-- <= 0) break;
      this.#invalidate(key, current, false);
      if (this.#table.size <= max) {
        this.#evictRounds = 0;
        this.#flushSelf(current);
        return;
      }
    }
    this.#evictRounds++;
    this.#flushSelf(current);
  }

  #flushSelf(c: ClientState | null): void {
    if (this.#self.length === 0) return;
    const keys = this.#self;
    this.#self = [];
    if (c !== null && c.tracking != null) {
      for (const k of keys) this.#send(c, c.tracking, k, null);
    }
  }

  /** Handles the changed keys, `current` being the client whose command
   * changed them (null outside commands: expiry, eviction). */
  #settle(current: ClientState | null): void {
    const changed = this.#changed;
    this.#changed = [];
    let flushed = false;
    for (const key of changed) {
      if (key !== null) {
        flushed = false;
        this.#invalidate(key, current, true);
      } else if (!flushed) {
        // FLUSHALL empties every database: one null invalidation, as
        // Redis sends.
        flushed = true;
        this.#flush(current);
      }
    }
    if (current === null) this.#flushSelf(null);
  }

  /** FLUSHALL / FLUSHDB: a null invalidation to every tracking client;
   * the table is emptied. */
  #flush(current: ClientState | null): void {
    if (this.clients !== 0) {
      for (const c of this.#all.values()) {
        const t = c.tracking;
        if (t == null) continue;
        if (c === current) this.#self.push(null);
        else this.#send(c, t, null, null);
      }
    }
    this.#table.clear();
    this.totalItems = 0;
  }

  /** A key changed (or its entry is evicted when `bcast` is false). */
  #invalidate(key: string, current: ClientState | null, bcast: boolean): void {
    if (bcast && this.#prefixes.size !== 0) {
      let queued = false;
      for (const [p, bs] of this.#prefixes) {
        if (p.length > key.length || !key.startsWith(p)) continue;
        bs.keys.set(key, current);
        queued = true;
      }
      if (queued && !this.#bcastQueued) {
        this.#bcastQueued = true;
        queueMicrotask(this.#broadcastLater);
      }
    }
    const ids = this.#table.get(key);
    if (ids === undefined) return;
    this.#table.delete(key);
    if (typeof ids === "number") {
      this.totalItems--;
      this.#invalidateFor(ids, key, current);
    } else {
      this.totalItems -= ids.size;
      for (const id of ids) this.#invalidateFor(id, key, current);
    }
  }

  #invalidateFor(id: number, key: string, current: ClientState | null): void {
    const target = this.#all.get(id);
    if (target === undefined) return;
    const t = target.tracking;
    if (t == null || t.bcast) return;
    if (target === current) {
      if (!t.noloop) this.#self.push(key);
    } else this.#send(target, t, key, null);
  }

  /** Sends the keys changed under each BCAST prefix to its clients. */
  #broadcast(): void {
    if (this.clients === 0) return;
    // One message per prefix, in prefix order, keys sorted (as Redis's
    // radix trees iterate).
    const order = [...this.#prefixes.keys()].sort();
    for (const p of order) {
      const bs = this.#prefixes.get(p)!;
      if (bs.keys.size === 0) continue;
      const keys = bs.keys;
      bs.keys = new Map();
      const sorted = [...keys.keys()].sort();
      for (const c of bs.clients) {
        const t = c.tracking;
        if (t == null) continue;
        if (t.noloop) {
          const mine = sorted.filter((k) => keys.get(k) !== c);
          if (mine.length !== 0) this.#send(c, t, null, mine);
        } else this.#send(c, t, null, sorted);
      }
    }
  }

  /** Sends one invalidation of tracking client `c`: `key`, or `keys`
   * (BCAST), or a null (flush) when both are null. */
  #send(
    c: ClientState,
    t: ClientTracking,
    key: string | null,
    keys: string[] | null,
  ): void {
    let target = c;
    if (t.redirect !== 0) {
      const r = this.#all.get(t.redirect);
      if (r === undefined) {
        t.broken = true;
        if (c.out.resp === 3) {
          c.out.push(2);
          c.out.bulk("tracking-redir-broken");
          c.out.int(t.redirect);
          c.wake();
        }
        return;
      }
      target = r;
    }
    const o: ReplyWriter = target.out;
    if (o.resp === 3) {
      o.push(2);
      o.bulk("invalidate");
    } else if (t.redirect !== 0 && target.pubsub !== null) {
      o.push(3);
      o.bulk("message");
      o.bulk(CHANNEL);
    } else return;
    if (keys !== null) {
      o.array(keys.length);
      for (const k of keys) o.bulk(k);
    } else if (key !== null) {
      o.array(1);
      o.bulk(key);
    } else o.raw(c.out.resp === 3 ? NULL3 : NULL2);
    target.wake();
  }
}

/** Calls `f` with each key of a command, as Redis's getKeysFromCommand. */
function forEachKey(
  command: Command,
  argv: string[],
  f: (key: string) => void,
): void {
  const argc = argv.length;
  switch (command.name) {
    case "zunion":
    case "zinter":
    case "zdiff":
    case "sintercard":
    case "zintercard":
      return numKeys(argv, 1, f);
    case "eval_ro":
    case "evalsha_ro":
    case "fcall_ro":
      return numKeys(argv, 2, f);
    case "xread": {
      let at = -1;
      for (let i = 1; i < argc; i++) {
        if (argv[i].length === 7 && argv[i].toLowerCase() === "streams") {
          at = i;
          break;
        }
      }
      if (at < 0) return;
      const n = argc - at - 1;
      if (n % 2 !== 0) return;
      for (let i = at + 1; i <= at + n / 2; i++) f(argv[i]);
      return;
    }
  }
  const [first, lastSpec, step] = command.info.keys;
  if (first <= 0) return;
  const last = lastSpec < 0 ? argc + lastSpec : lastSpec;
  for (let i = first; i <= last && i < argc; i += step || 1) f(argv[i]);
}

function numKeys(argv: string[], at: number, f: (key: string) => void): void {
  const n = parseInt64(argv[at] ?? "");
  if (typeof n !== "number" || n <= 0 || at + n >= argv.length + 1) return;
  for (let i = at + 1; i <= at + n && i < argv.length; i++) f(argv[i]);
}

// --- CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO -----------------------

const clientTracking: Handler = (s, argv) => {
  const c = s.client;
  let redirect = 0;
  let bcast = false, optin = false, optout = false, noloop = false;
  const prefixes: string[] = [];
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j].toLowerCase();
    const more = j + 1 < argv.length;
    if (opt === "redirect" && more) {
      j++;
      if (redirect !== 0) {
        throw new CommandError(
          "ERR A client can only redirect to a single other client",
        );
      }
      const id = parseInt64(argv[j]);
      if (id === null) throw new CommandError(Errors.notInteger);
      const n = Number(id);
      if (!s.server.clients.has(n)) {
        throw new CommandError(
          "ERR The client ID you want redirect to does not exist",
        );
      }
      redirect = n;
    } else if (opt === "bcast") bcast = true;
    else if (opt === "optin") optin = true;
    else if (opt === "optout") optout = true;
    else if (opt === "noloop") noloop = true;
    else if (opt === "prefix" && more) prefixes.push(argv[++j]);
    else throw new CommandError(Errors.syntax);
  }
  const onoff = argv[2].toLowerCase();
  const tracking = Tracking.of(s.server.store);
  if (onoff === "on") {
    const t = c.tracking;
    if (!bcast && prefixes.length !== 0) {
      throw new CommandError(
        "ERR PREFIX option requires BCAST mode to be enabled",
      );
    }
    if (t != null && t.bcast !== bcast) {
      throw new CommandError(
        "ERR You can't switch BCAST mode on/off before disabling tracking " +
          "for this client, and then re-enabling it with a different mode.",
      );
    }
    if (bcast && (optin || optout)) {
      throw new CommandError(
        "ERR OPTIN and OPTOUT are not compatible with BCAST",
      );
    }
    if (optin && optout) {
      throw new CommandError(
        "ERR You can't specify both OPTIN mode and OPTOUT mode",
      );
    }
    if ((optin && t?.optout) || (optout && t?.optin)) {
      throw new CommandError(
        "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking " +
          "for this client, and then re-enabling it with a different mode.",
      );
    }
    if (bcast) checkPrefixes(t?.prefixes ?? [], prefixes);
    tracking.enable(c, s.server.clients, {
      redirect,
      bcast,
      optin,
      optout,
      noloop,
      prefixes,
    });
  } else if (onoff === "off") {
    tracking.disable(c);
  } else throw new CommandError(Errors.syntax);
  s.out.ok();
};

/** Refuses prefixes that overlap each other or the client's own. */
function checkPrefixes(existing: string[], given: string[]): void {
  const overlap = (a: string, b: string) =>
    a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
  for (let i = 0; i < given.length; i++) {
    for (const e of existing) {
      if (overlap(e, given[i])) {
        throw new CommandError(
          `ERR Prefix '${given[i]}' overlaps with an existing prefix '${e}'. ` +
            "Prefixes for a single client must not overlap.",
        );
      }
    }
    for (let j = i + 1; j < given.length; j++) {
      if (overlap(given[i], given[j])) {
        throw new CommandError(
          `ERR Prefix '${given[i]}' overlaps with another provided prefix ` +
            `'${given[j]}'. Prefixes for a single client must not overlap.`,
        );
      }
    }
  }
}

const clientCaching: Handler = (s, argv) => {
  const t = s.client.tracking;
  if (t == null) {
    throw new CommandError(
      "ERR CLIENT CACHING can be called only when the client is in " +
        "tracking mode with OPTIN or OPTOUT mode enabled",
    );
  }
  const opt = argv[2].toLowerCase();
  if (opt === "yes") {
    if (!t.optin) {
      throw new CommandError(
        "ERR CLIENT CACHING YES is only valid when tracking is enabled in " +
          "OPTIN mode.",
      );
    }
  } else if (opt === "no") {
    if (!t.optout) {
      throw new CommandError(
        "ERR CLIENT CACHING NO is only valid when tracking is enabled in " +
          "OPTOUT mode.",
      );
    }
  } else throw new CommandError(Errors.syntax);
  t.caching = true;
  s.out.ok();
};

const clientGetredir: Handler = (s) => {
  const t = s.client.tracking;
  s.out.int(t == null ? -1 : t.redirect);
};

const clientTrackinginfo: Handler = (s) => {
  const t = s.client.tracking;
  const o = s.out;
  o.map(3);
  o.bulk("flags");
  if (t == null) {
    o.set(1);
    o.bulk("off");
  } else {
    const flags = ["on"];
    if (t.bcast) flags.push("bcast");
    if (t.optin) {
      flags.push("optin");
      if (t.caching) flags.push("caching-yes");
    }
    if (t.optout) {
      flags.push("optout");
      if (t.caching) flags.push("caching-no");
    }
    if (t.noloop) flags.push("noloop");
    if (t.broken) flags.push("broken_redirect");
    o.set(flags.length);
    for (const f of flags) o.bulk(f);
  }
  o.bulk("redirect");
  o.int(t == null ? -1 : t.redirect);
  o.bulk("prefixes");
  const prefixes = t == null ? [] : [...t.prefixes].sort();
  o.array(prefixes.length);
  for (const p of prefixes) o.bulk(p);
};

/** CLIENT LIST's tracking flags: `t` tracking, `R` broken redirect, `B`
 * broadcast mode. */
export function trackingFlags(c: ClientState): string {
  const t = c.tracking;
  if (t == null) return "";
  return "t" + (t.broken ? "R" : "") + (t.bcast ? "B" : "");
}

/** CLIENT LIST's `redir`: the redirect id, -1 when not tracking. */
export function trackingRedirect(c: ClientState): number {
  const t = c.tracking;
  return t == null ? -1 : t.redirect;
}

/** Handlers of the client-side caching commands. */
export const trackingCommands: Record<string, Handler> = {
  "client|tracking": clientTracking,
  "client|caching": clientCaching,
  "client|getredir": clientGetredir,
  "client|trackinginfo": clientTrackinginfo,
};
