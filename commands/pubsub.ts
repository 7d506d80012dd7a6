// Pub/sub: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UNSUBSCRIBEs,
// PUBLISH, SPUBLISH, PUBSUB; and keyspace notifications (`notify`), which
// publish to `__keyspace@<db>__:<key>` and `__keyevent@<db>__:<event>`.

import { globMatch } from "../_glob.ts";
import { NOTIFY_KEYEVENT, NOTIFY_KEYSPACE, notifyClass } from "../_notify.ts";
import type { ReplyWriter } from "../protocol.ts";
import {
  type ClientState,
  CommandError,
  type Handler,
  helpReply,
  type Session,
} from "./_shared.ts";

/** What one client is subscribed to (`ClientState.pubsub`).
 *
 * @example
 * ```ts
 * import { Subscriptions } from "@kv/store";
 * const subs = new Subscriptions();
 * subs.channels.add("news");
 * subs.patterns.add("sport.*");
 * console.log(subs.count); // 2, as (UN)SUBSCRIBE replies count
 * ```
 */
export class Subscriptions {
  /** SUBSCRIBE channels. */
  readonly channels: Set<string> = new Set();
  /** PSUBSCRIBE patterns. */
  readonly patterns: Set<string> = new Set();
  /** SSUBSCRIBE shard channels. */
  readonly shard: Set<string> = new Set();

  /** Channels and patterns: the count (UN)SUBSCRIBE replies show. */
  get count(): number {
    return this.channels.size + this.patterns.size;
  }

  /** Every subscription of the three kinds. */
  get total(): number {
    return this.channels.size + this.patterns.size + this.shard.size;
  }
}

/** The three kinds of subscription: channels (SUBSCRIBE), patterns
 * (PSUBSCRIBE) and shard channels (SSUBSCRIBE).
 *
 * @example
 * ```ts
 * import type { Kind } from "@kv/store";
 * const kind: Kind = "patterns";
 * console.log(kind);
 * ```
 */
export type Kind = "channels" | "patterns" | "shard";

/**
 * The server's subscriptions: channel, pattern and shard channel to
 * subscribers (in subscription order, as Redis 7.0 keeps them), and the
 * publishing of messages and keyspace notifications to their connections.
 *
 * @example Publish from the process that runs the server
 * ```ts
 * import { Server } from "@kv/store";
 * const server = new Server({ port: 0 });
 * const receivers = server.pubsub.publish("news", "hello");
 * console.log(receivers); // 0: nobody subscribed yet
 * ```
 */
export class PubSub {
  readonly #channels = new Map<string, Set<ClientState>>();
  readonly #patterns = new Map<string, Set<ClientState>>();
  readonly #shard = new Map<string, Set<ClientState>>();
  readonly #flags: () => number;

  /** `flags` gives the live `notify-keyspace-events` bits. */
  constructor(flags: () => number = () => 0) {
    this.#flags = flags;
  }

  #map(kind: Kind): Map<string, Set<ClientState>> {
    return kind === "channels"
      ? this.#channels
      : kind === "patterns"
      ? this.#patterns
      : this.#shard;
  }

  /** Subscribes `c`; false when it already was. */
  subscribe(c: ClientState, kind: Kind, name: string): boolean {
    const subs = c.pubsub ??= new Subscriptions();
    const own = subs[kind];
    if (own.has(name)) return false;
    own.add(name);
    const map = this.#map(kind);
    let set = map.get(name);
    if (set === undefined) map.set(name, set = new Set());
    set.add(c);
    return true;
  }

  /** Unsubscribes `c`; false when it was not subscribed. */
  unsubscribe(c: ClientState, kind: Kind, name: string): boolean {
    const subs = c.pubsub;
    if (subs === null || !subs[kind].delete(name)) return false;
    const map = this.#map(kind);
    const set = map.get(name);
    if (set !== undefined) {
      set.delete(c);
      if (set.size === 0) map.delete(name);
    }
    return true;
  }

  /** Clears the client's subscribed state once it has none left. */
  settle(c: ClientState): void {
    if (c.pubsub !== null && c.pubsub.total === 0) c.pubsub = null;
  }

  /** Drops every subscription of `c` (RESET, disconnection). */
  dropClient(c: ClientState): void {
    const subs = c.pubsub;
    if (subs === null) return;
    for (const kind of ["channels", "patterns", "shard"] as const) {
      for (const name of [...subs[kind]]) this.unsubscribe(c, kind, name);
    }
    c.pubsub = null;
  }

  /** Sends `message` to the subscribers of `channel` and of the patterns
   * matching it; returns how many received it. */
  publish(channel: string, message: string): number {
    let n = 0;
    const set = this.#channels.get(channel);
    if (set !== undefined) {
      for (const c of set) {
        const o = c.out;
        o.push(3);
        o.bulk("message");
        o.bulk(channel);
        o.bulk(message);
        c.wake();
        n++;
      }
    }
    if (this.#patterns.size !== 0) {
      for (const [pattern, clients] of this.#patterns) {
        if (!globMatch(pattern, channel)) continue;
        for (const c of clients) {
          const o = c.out;
          o.push(4);
          o.bulk("pmessage");
          o.bulk(pattern);
          o.bulk(channel);
          o.bulk(message);
          c.wake();
          n++;
        }
      }
    }
    return n;
  }

  /** Sends `message` to the subscribers of shard channel `channel`. */
  spublish(channel: string, message: string): number {
    const set = this.#shard.get(channel);
    if (set === undefined) return 0;
    for (const c of set) {
      const o = c.out;
      o.push(3);
      o.bulk("smessage");
      o.bulk(channel);
      o.bulk(message);
      c.wake();
    }
    return set.size;
  }

  /** Subscribers of a channel (not counting patterns), or of a shard
   * channel. */
  subscribers(kind: "channels" | "shard", channel: string): number {
    return this.#map(kind).get(channel)?.size ?? 0;
  }

  /** Active channels (or shard channels) matching `pattern`. */
  names(kind: "channels" | "shard", pattern?: string): string[] {
    const out: string[] = [];
    for (const name of this.#map(kind).keys()) {
      if (pattern === undefined || globMatch(pattern, name)) out.push(name);
    }
    return out;
  }

  /** Channels with subscribers (INFO pubsub_channels). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Patterns with subscribers (PUBSUB NUMPAT, INFO pubsub_patterns). */
  get patternCount(): number {
    return this.#patterns.size;
  }

  /** Shard channels with subscribers (INFO pubsubshard_channels). */
  get shardChannelCount(): number {
    return this.#shard.size;
  }

  /** True when some keyspace notification class is on. */
  get notifying(): boolean {
    return this.#flags() !== 0;
  }

  /** Publishes a keyspace notification of class `type` (a bit of
   * _notify.ts) when that class is on: `event` to
   * `__keyspace@<db>__:<key>` (K) and `key` to `__keyevent@<db>__:<event>`
   * (E). */
  notify(type: number, event: string, key: string, db = 0): void {
    const flags = this.#flags();
    if ((flags & type) === 0) return;
    if (flags & NOTIFY_KEYSPACE) {
      this.publish(`__keyspace@${db}__:` + key, event);
    }
    if (flags & NOTIFY_KEYEVENT) {
      this.publish(`__keyevent@${db}__:` + event, key);
    }
  }
}

/**
 * Publishes the keyspace notification `event` about `key`, of the class
 * named by its `notify-keyspace-events` letter (`g`, `$`, `l`, `s`, `h`,
 * `z`, `x`, `e`, `t`, `n`, `m`), in database `db` (the client's by
 * default): one call per event in each handler.
 */
export function notify(
  s: Session,
  event: string,
  key: string,
  letter: string,
  db: number = s.client.db,
): void {
  if (s.server.config.notifyKeyspaceEvents === 0) return;
  s.server.pubsub.notify(notifyClass(letter), event, key, db);
}

/** Commands a RESP2 client may run while subscribed. */
export const SUBSCRIBED_MODE_COMMANDS: ReadonlySet<string> = new Set([
  "ping",
  "subscribe",
  "ssubscribe",
  "unsubscribe",
  "sunsubscribe",
  "psubscribe",
  "punsubscribe",
  "quit",
  "reset",
]);

/** The error a RESP2 subscribed client gets for other commands. */
export function subscribedModeError(name: string): string {
  return `ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`;
}

function confirm(
  out: ReplyWriter,
  what: string,
  name: string | null,
  count: number,
): void {
  out.push(3);
  out.bulk(what);
  if (name === null) out.nil();
  else out.bulk(name);
  out.int(count);
}

function countOf(c: ClientState, kind: Kind): number {
  const subs = c.pubsub;
  if (subs === null) return 0;
  return kind === "shard" ? subs.shard.size : subs.count;
}

function subscribeWith(kind: Kind, what: string): Handler {
  return (s, argv) => {
    const pubsub = s.server.pubsub;
    for (let i = 1; i < argv.length; i++) {
      pubsub.subscribe(s.client, kind, argv[i]);
      confirm(s.out, what, argv[i], countOf(s.client, kind));
    }
  };
}

function unsubscribeWith(kind: Kind, what: string): Handler {
  return (s, argv) => {
    const pubsub = s.server.pubsub;
    const c = s.client;
    if (argv.length === 1) {
      const names = c.pubsub === null ? [] : [...c.pubsub[kind]];
      for (const name of names) {
        pubsub.unsubscribe(c, kind, name);
        confirm(s.out, what, name, countOf(c, kind));
      }
      if (names.length === 0) confirm(s.out, what, null, countOf(c, kind));
    } else {
      for (let i = 1; i < argv.length; i++) {
        pubsub.unsubscribe(c, kind, argv[i]);
        confirm(s.out, what, argv[i], countOf(c, kind));
      }
    }
    pubsub.settle(c);
  };
}

const publish: Handler = (s, argv) => {
  s.out.int(s.server.pubsub.publish(argv[1], argv[2]));
};

const spublish: Handler = (s, argv) => {
  s.out.int(s.server.pubsub.spublish(argv[1], argv[2]));
};

function subcommandError(argv: string[]): CommandError {
  return new CommandError(
    `ERR unknown subcommand or wrong number of arguments for '${
      argv[1]
    }'. Try PUBSUB HELP.`,
  );
}

function channels(kind: "channels" | "shard"): Handler {
  return (s, argv) => {
    if (argv.length > 3) throw subcommandError(argv);
    const names = s.server.pubsub.names(kind, argv[2]);
    s.out.array(names.length);
    for (const n of names) s.out.bulk(n);
  };
}

function numsub(kind: "channels" | "shard"): Handler {
  return (s, argv) => {
    const pubsub = s.server.pubsub;
    s.out.array((argv.length - 2) * 2);
    for (let i = 2; i < argv.length; i++) {
      s.out.bulk(argv[i]);
      s.out.int(pubsub.subscribers(kind, argv[i]));
    }
  };
}

const HELP = [
  "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CHANNELS [<pattern>]",
  "    Return the currently active channels matching a <pattern> (default: '*').",
  "NUMPAT",
  "    Return number of subscriptions to patterns.",
  "NUMSUB [<channel> ...]",
  "    Return the number of subscribers for the specified channels, excluding",
  "    pattern subscriptions(default: no channels).",
  "SHARDCHANNELS [<pattern>]",
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  "SHARDNUMSUB [<shardchannel> ...]",
  "    Return the number of subscribers for the specified shard level channel(s)",
  "HELP",
  "    Prints this help.",
];

/** The pub/sub handlers, by lowercase name. */
export const pubsubCommands: Record<string, Handler> = {
  subscribe: subscribeWith("channels", "subscribe"),
  psubscribe: subscribeWith("patterns", "psubscribe"),
  ssubscribe: subscribeWith("shard", "ssubscribe"),
  unsubscribe: unsubscribeWith("channels", "unsubscribe"),
  punsubscribe: unsubscribeWith("patterns", "punsubscribe"),
  sunsubscribe: unsubscribeWith("shard", "sunsubscribe"),
  publish,
  spublish,
  "pubsub|channels": channels("channels"),
  "pubsub|shardchannels": channels("shard"),
  "pubsub|numsub": numsub("channels"),
  "pubsub|shardnumsub": numsub("shard"),
  "pubsub|numpat": (s) => s.out.int(s.server.pubsub.patternCount),
  "pubsub|help": (s) => helpReply(s, HELP),
};

/** After a command removed elements: publishes `del` (class `g`) when the
 * key is gone (its container emptied). */
export function notifyIfGone(s: Session, key: string): void {
  if (s.server.config.notifyKeyspaceEvents === 0) return;
  if (!s.store.has(key)) s.server.pubsub.notify(notifyClass("g"), "del", key);
}
