/**
 * The TCP server: accepts connections, runs one read loop per client
 * (`conn.read` into a reused buffer, incremental decoder, one write per
 * read), enforces limits, and shuts down gracefully.
 *
 * @example Start a server for a test and stop it
 * ```ts ignore
 * import { Server } from "./server.ts";
 * const server = new Server({ port: 0 });
 * await server.listen();
 * console.log(server.port); // the port picked
 * await server.close();
 * ```
 * @module
 */

import { resolve } from "./_path.ts";
import { statOrNull } from "./_io.ts";
import { replyTurn } from "./_turn.ts";
import { connectionIo } from "./_net.ts";
import { ReplyWriter, RequestDecoder } from "./protocol.ts";
import { Store } from "./store.ts";
import {
  defaultConfig,
  type LogLevel,
  type ServerConfig,
  setConfig,
} from "./config.ts";
import {
  addCommand,
  type ClientState,
  type CommandDefinition,
  type CommandTable,
  createCommandTable,
  defineCommand,
  execute,
  type ServerState,
  type ServerStats,
  type Session,
} from "./commands.ts";
import { createLogger, type LogSink } from "./_log.ts";
import { prepareGarbageCollectionSoon } from "./data/_memory.ts";
import {
  type BlockedClient,
  HeldInput,
  readyBlockings,
  serveReady,
  waitBlocked,
} from "./commands/blocking.ts";
import { Persistence } from "./persistence.ts";
import { type ClientTracking, Tracking } from "./commands/tracking.ts";
import { applyReplyMode, Introspection } from "./commands/introspection.ts";
import { textToBinary } from "./_bytes.ts";
import type { Dashboard } from "./dashboard.ts";
import { VERSION } from "./version.ts";
import {
  discardTransaction,
  type Transaction,
} from "./commands/transactions.ts";
import { PubSub, type Subscriptions } from "./commands/pubsub.ts";
import { Scripting } from "./commands/scripting.ts";
import { libraryCodes } from "./commands/functions.ts";
import { Replication } from "./replication.ts";
import {
  NOTIFY_EVICTED,
  NOTIFY_EXPIRED,
  NOTIFY_KEY_MISS,
  NOTIFY_NEW,
} from "./_notify.ts";

/** Options of a {@linkcode Server}: any setting (named as in
 * {@linkcode ServerConfig}), plus what to serve.
 *
 * An embedded server keeps no files unless given a `dir`: with no `dir`
 * there is no save policy, no append-only log, nothing read at start and
 * nothing written on close (SAVE, BGSAVE and BGREWRITEAOF answer an
 * error). Given a `dir`, it loads and saves there with `kv serve`'s
 * defaults (`save` "3600 1 300 100 60 10000", `appendonly` off) unless
 * told otherwise. It is quiet unless given a `loglevel` or a `logSink`.
 * `kv serve` passes every setting, so it keeps files in its `--dir`
 * (default: the current directory) and logs at `notice`.
 *
 * @example An in-memory server for a test, on a free port
 * ```ts ignore
 * const server = new Server({ port: 0, requirepass: "s3cret", maxclients: 100 });
 * ```
 * @example Keeping data in a folder, with the log on, logging to stderr
 * ```ts ignore
 * const server = new Server({ port: 0, dir: "./data", appendonly: true, loglevel: "notice" });
 * ```
 */
export interface ServerOptions extends Partial<ServerConfig> {
  /** The keyspace to serve as database 0; a new one by default. The other
   * numbered databases are made on first use and share its clock,
   * counters and memory limit. */
  store?: Store;
  /** Where log lines go (default: stderr). Giving one turns logging on
   * at `loglevel` (default `notice`). */
  logSink?: LogSink;
}

/** Each client reads through one buffer of this size (Redis uses 16 KB). */
const READ_BUFFER_SIZE = 16 * 1024;
/** Replies are written out once this much is pending within one read. */
const FLUSH_THRESHOLD = 64 * 1024;

const DENIED =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
const MAX_CLIENTS = "-ERR max number of clients reached\r\n";
const encoder = new TextEncoder();
/** An already settled promise: what flushing nothing returns. */
const DONE: Promise<void> = Promise.resolve();

/** True for loopback addresses: 127.0.0.0/8, ::1, ::ffff:127.x.x.x.
 *
 * @example
 * ```ts ignore
 * import { isLoopback } from "./server.ts";
 * isLoopback("127.0.0.5"); // true
 * ```
 */
export function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || h.startsWith("127.") ||
    h.startsWith("::ffff:127.");
}

/** True for the peers protected mode lets in. Like Redis 7, only
 * 127.0.0.1 and ::1 count as local (not the rest of 127.0.0.0/8).
 *
 * @example
 * ```ts ignore
 * import { isLocalPeer } from "./server.ts";
 * isLocalPeer("127.0.0.1"); // true
 * isLocalPeer("127.0.0.2"); // false, as in Redis
 * ```
 */
export function isLocalPeer(hostname: string): boolean {
  return hostname === "127.0.0.1" || hostname === "::1" ||
    hostname === "::ffff:127.0.0.1";
}

function formatAddr(a: Deno.NetAddr): string {
  return a.hostname.includes(":")
    ? `[${a.hostname}]:${a.port}`
    : `${a.hostname}:${a.port}`;
}

/** One connected client. */
class Connection implements ClientState {
  readonly id: number;
  readonly addr: string;
  readonly laddr: string;
  readonly createdAt = Date.now();
  lastInteraction = this.createdAt;
  name = "";
  libName = "";
  libVer = "";
  authenticated: boolean;
  lastCommand = "";
  closeAfterReply = false;
  db = 0;
  closed = false;
  /** Inside a batch: reading is done, replies not yet written. */
  busy = false;
  /** Waiting for the socket to take replies. */
  writing = false;
  readonly out = new ReplyWriter(4096);
  readonly decoder: RequestDecoder;
  readonly conn: Deno.TcpConn;
  tx: Transaction | null = null;
  pubsub: Subscriptions | null = null;
  /** The write of pending replies in progress, if any. */
  flushing: Promise<void> | null = null;
  /** A flush of pushed messages is scheduled. */
  flushQueued = false;
  /** The blocking command it waits in (commands/blocking.ts). */
  blocked: BlockedClient | null = null;
  /** A yielded script's end (commands/scripting.ts). */
  scriptWait: Promise<void> | null = null;
  /** Input that came while it was blocked, read next. */
  held: HeldInput | null = null;
  /** Since when the output is above the soft limit (0: it is not). */
  softSince = 0;
  /** Client-side caching mode (commands/tracking.ts). */
  tracking: ClientTracking | null = null;
  /** CLIENT REPLY mode (commands/introspection.ts). */
  replyMode = 0;
  /** CLIENT NO-EVICT. */
  noEvict = false;
  /** Sent PSYNC or SYNC: a replica of ours (replication.ts). */
  replica = false;
  readonly wake: () => void;

  constructor(
    id: number,
    conn: Deno.TcpConn,
    server: Server,
    wake: () => void,
  ) {
    this.wake = wake;
    this.id = id;
    this.conn = conn;
    this.addr = formatAddr(conn.remoteAddr);
    this.laddr = formatAddr(conn.localAddr);
    this.authenticated = server.config.requirepass === "";
    this.decoder = new RequestDecoder({
      maxBulkLength: server.config.protoMaxBulkLen,
      authRequired: () => !this.authenticated,
    });
  }

  queryBufferBytes(): number {
    return this.decoder.pendingBytes;
  }

  kill(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}

/**
 * A Redis-protocol server over a {@linkcode Store}.
 *
 * @example Serve on a free port, with a custom command
 * ```ts ignore
 * import { Server } from "./server.ts";
 * const server = new Server({ port: 0 });
 * server.addCommand({
 *   name: "HELLOWORLD",
 *   arity: 1,
 *   flags: ["readonly", "fast"],
 *   handler: (s) => s.out.bulk("hello world"),
 * });
 * await server.listen();
 * // ... talk to 127.0.0.1:server.port ...
 * await server.close();
 * ```
 */
export class Server {
  /** Live settings (CONFIG SET changes them). */
  readonly config: ServerConfig;
  /** Database 0 (see {@linkcode Server.db} for the others). */
  readonly store: Store;
  /** The databases made so far, ordered by index (a database is made when
   * a client first selects it, or data is loaded into it). */
  readonly #dbs: [number, Store][] = [];
  /** The command table (extend it with {@linkcode Server.addCommand}). */
  readonly commands: CommandTable = createCommandTable();
  /** Counters for INFO. */
  readonly stats: ServerStats = {
    connectionsReceived: 0,
    rejectedConnections: 0,
    commandsProcessed: 0,
    netInputBytes: 0,
    netOutputBytes: 0,
    errors: new Map(),
    outputLimitDisconnections: 0,
    readsProcessed: 0,
    writesProcessed: 0,
  };
  /** Writes a log line at a level. */
  readonly log: (level: LogLevel, msg: string) => void;
  #listener: Deno.TcpListener | null = null;
  #clients = new Map<number, Connection>();
  #tasks = new Set<Promise<void>>();
  #nextId = 1;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closing: Promise<void> | null = null;
  /** Set while a shutdown saves: no command runs until it resolves, true
   * to go on (the save failed), false to close. */
  #halt: Promise<boolean> | null = null;
  #startedAt = Date.now();
  #opsSamples: number[] = [];
  #lastOpsCount = 0;
  #lastOpsTime = performance.now();
  #cronTicks = 0;
  #state: ServerState;
  #done = Promise.withResolvers<void>();
  /** Snapshots and the append-only log. */
  readonly persistence: Persistence;
  /** Pub/sub subscriptions and keyspace notifications. */
  readonly pubsub: PubSub;
  #dashboard: Dashboard | null = null;
  #http: Deno.HttpServer | null = null;
  #opsHistory: number[] = [];
  /** No log lines at all (embedded, given no loglevel or logSink) until
   * CONFIG SET loglevel. */
  #quiet = false;
  /** Binding is done, the data is not loaded yet: clients are answered
   * -LOADING. */
  #loading = false;
  /** Resolves when loading ends. */
  #loaded: PromiseWithResolvers<void> | null = null;
  #opsSecondStart = 0;
  #opsSecondCount = 0;
  /** Replicas of this server, and its primary (replication.ts). */
  #repl: Replication | null = null;

  /** Creates a server; nothing listens until {@linkcode Server.listen}. */
  constructor(options: ServerOptions = {}) {
    const { store, logSink, ...settings } = options;
    // Embedded without a dir: memory only (see ServerOptions).
    const keepsFiles = settings.dir !== undefined;
    if (!keepsFiles && (settings.appendonly || (settings.save?.length ?? 0))) {
      throw new TypeError(
        "Server: `save` and `appendonly` need a `dir` to keep files in",
      );
    }
    this.#quiet = settings.loglevel === undefined && logSink === undefined;
    this.config = {
      ...defaultConfig(),
      ...(keepsFiles ? {} : { save: [], appendonly: false }),
      ...settings,
    };
    this.config.dir = resolve(this.config.dir);
    // AUTH compares bytes: a password given as text (a flag, an option) is
    // kept as its UTF-8 bytes, as CONFIG SET keeps what a client sends.
    this.config.requirepass = textToBinary(this.config.requirepass);
    this.store = store ?? new Store();
    this.store.maxStringLength = this.config.protoMaxBulkLen;
    // The encoding thresholds are settings: CONFIG SET reaches the store.
    this.store.limits = this.config;
    this.#dbs.push([0, this.store]);
    const log = createLogger(
      () => this.config.loglevel,
      logSink,
      () => this.#repl?.master != null ? "S" : "M",
    );
    this.log = (level, msg) => {
      if (!this.#quiet) log(level, msg);
    };
    this.pubsub = new PubSub(() => this.config.notifyKeyspaceEvents);
    this.#hookDb(this.store, 0);
    // deno-lint-ignore no-this-alias
    const server = this;
    this.persistence = new Persistence({
      store: this.store,
      databases: this.#dbs,
      db: (index) => this.db(index),
      config: this.config,
      log: this.log,
      replay: (argv) => this.#replay(argv),
      functions: () => libraryCodes(this.#state),
    }, { enabled: keepsFiles });
    // maxmemory and eviction read the live settings; evicted keys are
    // logged as DEL, as Redis propagates them.
    const memory = this.store.memory;
    memory.settings = this.config;
    memory.measureBaseline();
    memory.sync();
    memory.onEvict = (key, store) => {
      const db = this.#indexOf(store);
      this.persistence.feed([["DEL", key]], db);
      this.pubsub.notify(NOTIFY_EVICTED, "evicted", key, db);
    };
    this.#state = {
      config: this.config,
      store: this.store,
      db: (index) => server.db(index),
      databases: this.#dbs,
      clients: this.#clients,
      stats: this.stats,
      commands: this.commands,
      startedAt: this.#startedAt,
      get port() {
        return server.port;
      },
      configSet: (name, value) => server.#configSet(name, value),
      opsPerSec: () => server.#opsPerSec(),
      persistence: this.persistence,
      pubsub: this.pubsub,
      shutdown: (options) => server.shutdown(options),
      log: this.log,
    };
    const repl = Replication.attach(this.#state, {
      session: (name) => this.internalSession(name),
      execute,
    });
    this.#repl = repl;
    this.persistence.onFeed = (commands, db) => repl.feed(commands, db);
  }

  /**
   * Database `index` (0 to `databases` - 1), made on first use: its own
   * keys and expiries, sharing database 0's clock, counters and memory
   * limit. Throws a RangeError outside the configured range.
   *
   * @example
   * ```ts
   * import { Server } from "@kv/store";
   * await using server = new Server({ port: 0 });
   * server.db(3).set("greeting", "hello");
   * console.log(server.db(3).get("greeting"), server.store.get("greeting")); // hello undefined
   * ```
   */
  db(index: number): Store {
    if (
      !Number.isInteger(index) || index < 0 || index >= this.config.databases
    ) {
      throw new RangeError(`DB index is out of range: ${index}`);
    }
    if (index === 0) return this.store;
    const list = this.#dbs;
    let i = list.length;
    while (i > 0 && list[i - 1][0] > index) i--;
    if (i > 0 && list[i - 1][0] === index) return list[i - 1][1];
    const store = new Store({ shareWith: this.store });
    this.#hookDb(store, index);
    Tracking.of(this.store).attach(store);
    list.splice(i, 0, [index, store]);
    return store;
  }

  /** The index of one of this server's databases. */
  #indexOf(store: Store): number {
    if (store === this.store) return 0;
    for (const [index, s] of this.#dbs) if (s === store) return index;
    return 0;
  }

  /** Keyspace notifications of database `index`'s own events. */
  #hookDb(store: Store, index: number): void {
    store.onExpire = (key) => {
      this.pubsub.notify(NOTIFY_EXPIRED, "expired", key, index);
      this.#repl?.expired(key, index); // replicas delete it too
    };
    store.onNew = (key) => this.pubsub.notify(NOTIFY_NEW, "new", key, index);
    store.onMiss = (key) =>
      this.pubsub.notify(NOTIFY_KEY_MISS, "keymiss", key, index);
  }

  #replaySession: Session | null = null;

  /**
   * A session for commands the server runs on its own behalf (replaying
   * the log, the dashboard): an authenticated client with no connection,
   * whose replies land in its own writer.
   */
  internalSession(name: string): Session {
    const out = new ReplyWriter(4096);
    const now = Date.now();
    const client: ClientState = {
      id: 0,
      addr: name,
      laddr: name,
      createdAt: now,
      lastInteraction: now,
      name,
      libName: "",
      libVer: "",
      authenticated: true,
      lastCommand: "",
      closeAfterReply: false,
      db: 0,
      out,
      queryBufferBytes: () => 0,
      kill: () => {},
      pubsub: null,
      wake: () => {},
    };
    return {
      out,
      store: this.store,
      client,
      server: this.#state,
      propagate: null,
    };
  }

  /** Runs one command read back from the append-only file. */
  #replay(argv: string[]): string | undefined {
    this.#replaySession ??= this.internalSession("aof");
    const s = this.#replaySession;
    s.out.reset();
    execute(this.commands, s, argv);
    const bytes = s.out.bytes();
    if (bytes.length > 0 && bytes[0] === 45) { // '-': an error reply
      return new TextDecoder().decode(bytes.subarray(1, bytes.length - 2));
    }
    return undefined;
  }

  /**
   * Shuts down as SHUTDOWN and SIGTERM do. First no client runs another
   * command (those already run have their replies sent), then a running
   * background save or log rewrite is stopped, then a snapshot is written
   * when `save` (by default, when a save policy is configured), then the
   * server closes. So every acknowledged write is in the final snapshot.
   * When the snapshot fails it logs why, answers `client` (the one that
   * sent SHUTDOWN) with an error, lets everyone go on and resolves false,
   * unless `force`.
   */
  shutdown(
    options: { save?: boolean; force?: boolean; client?: ClientState } = {},
  ): Promise<boolean> {
    if (this.#closing) return Promise.resolve(true); // on its way out
    if (this.#halt !== null) return this.#halt.then((go) => !go);
    const halt = Promise.withResolvers<boolean>();
    this.#halt = halt.promise;
    return (async () => {
      // As Redis, a server still loading never saves (half the data).
      let save = !this.#loading &&
        (options.save ?? this.config.save.length > 0);
      // Nothing to save and no file to replace: no empty snapshot is
      // written over nothing.
      if (
        save && this.#dbs.every(([, store]) => store.size === 0) &&
        libraryCodes(this.#state).length === 0 &&
        statOrNull(this.persistence.snapshotPath) === null
      ) {
        save = false;
      }
      await this.persistence.stopBackgroundJobs();
      // A replica's full sync holds the snapshots too: it stops (the
      // replica will sync again), as Redis kills its replication child.
      await this.#repl?.stopSyncs();
      if (save) {
        try {
          this.persistence.saveSync();
        } catch (e) {
          this.log(
            "warning",
            `Error trying to save the DB, can't exit: ${
              e instanceof Error ? e.message : e
            }`,
          );
          if (!options.force) {
            options.client?.out.error(
              "ERR Errors trying to SHUTDOWN. Check logs.",
            );
            this.#halt = null;
            halt.resolve(true); // everyone goes on
            return false;
          }
        }
      }
      if (options.client) options.client.closeAfterReply = true;
      this.close();
      halt.resolve(false);
      return true;
    })();
  }

  /** The port listened on (useful with `port: 0`). */
  get port(): number {
    return this.#listener?.addr.port ?? this.config.port;
  }

  /** Commands per second over the last couple of seconds. */
  get opsPerSec(): number {
    return this.#opsPerSec();
  }

  /** Commands run in each of the last 300 seconds, oldest first. */
  get opsHistory(): number[] {
    return [...this.#opsHistory];
  }

  /** How many clients are connected. */
  get clientCount(): number {
    return this.#clients.size;
  }

  /** When the server was created (ms since the epoch). */
  get startedAt(): number {
    return this.#startedAt;
  }

  /** What command handlers see of the server (for extensions that run
   * commands themselves, like the dashboard). */
  get state(): ServerState {
    return this.#state;
  }

  /** The dashboard's port, or 0 when it is off. */
  get httpPort(): number {
    return (this.#http?.addr as Deno.NetAddr | undefined)?.port ?? 0;
  }

  /** Resolves once the server has closed. */
  get finished(): Promise<void> {
    return this.#done.promise;
  }

  /** Adds or replaces a command, callable from any client. */
  addCommand(definition: CommandDefinition): void {
    addCommand(this.commands, defineCommand(definition));
  }

  /** Binds the port (rejecting at once when it is taken), loads the data
   * files, answering clients `-LOADING` meanwhile as Redis does, then
   * serves them. Rejects, and stops listening, when a data file cannot be
   * read. */
  async listen(): Promise<void> {
    const c = this.config;
    this.log(
      "notice",
      `@kv/store ${VERSION.kv} (Redis ${VERSION.redis} protocol), ` +
        `pid=${Deno.pid}, deno=${Deno.version.deno}, just started`,
    );
    if (c.configFile !== "") {
      this.log("notice", `Configuration loaded from ${c.configFile}`);
    }
    const listener = Deno.listen({ hostname: c.host, port: c.port });
    this.#listener = listener;
    this.#loading = true;
    this.#loaded = Promise.withResolvers<void>();
    this.#track(this.#acceptLoop(listener));
    try {
      await this.persistence.load();
    } catch (e) {
      try {
        listener.close();
      } catch {
        // closed already
      }
      for (const client of this.#clients.values()) client.kill();
      throw e;
    } finally {
      this.#loading = false;
      this.#loaded.resolve();
    }
    this.log(
      "notice",
      `Settings: bind=${c.host} port=${this.port} maxclients=${c.maxclients} ` +
        `timeout=${c.timeout} loglevel=${c.loglevel} ` +
        `protected-mode=${c.protectedMode ? "yes" : "no"} ` +
        `requirepass=${c.requirepass ? "(set)" : "(none)"} dir=${c.dir}`,
    );
    if (!isLoopback(c.host) && c.requirepass === "" && c.protectedMode) {
      this.log(
        "warning",
        `Bound to ${c.host} with no password: protected mode answers ` +
          `non-loopback clients with -DENIED. Set --requirepass, or ` +
          `--protected-mode no if you really mean it.`,
      );
    }
    this.#timer = setInterval(() => this.#cron(), 1000 / c.hz);
    if (c.httpPort > 0) await this.#startDashboard();
    if (c.replicaof !== "") {
      const [host, port] = c.replicaof.split(" ");
      this.#repl!.follow(host, Number(port));
    }
    this.log(
      "notice",
      `Ready to accept connections tcp on ${
        formatAddr(this.#listener.addr as Deno.NetAddr)
      }`,
    );
  }

  // DESIGN (start-up): a plain server loads only what serving RESP needs.
  // Left out until used: the dashboard and HTTP API (dashboard.ts and
  // _upstash.ts, imported here, only with an http-port), the client and CLI
  // (cli.ts, client.ts, _cluster.ts: main.ts imports them for `kv cli`),
  // node:vm (data/_memory.ts), libm (data/_geohash.ts), and the heavier
  // Node built-ins (replaced by Deno's own functions). The command families
  // keep their code loaded (replication, MIGRATE/DUMP/RESTORE and the RDB
  // codecs, the Lua engine): handlers are synchronous, and they also run
  // where nothing can wait for an import (the AOF replay, an RDB file's
  // FUNCTION libraries, the replication stream, EXEC), so loading them on
  // demand would need a second, asynchronous path through the dispatcher.
  // Measured, it would buy little: with all of them stubbed out
  // (replication.ts, commands/replication.ts, migrate.ts, dump.ts,
  // functions.ts, lua/engine.ts and the RDB codecs) the server's modules
  // imported about 1.5 ms faster, in 1 MB less; with replication.ts alone,
  // no change measurable by tools/bench_boot.ts. The Lua engine's module is
  // 13 KB with our own SHA-1; its WebAssembly is compiled on first use.
  // tools/bench_boot.ts, medians of 31 interleaved rounds: spawn to first
  // PONG 76 -> 58 ms, idle RSS 67 -> 55.5 MB (an empty Deno TCP server
  // answering PING: 15 ms, 33 MB).

  /** Serves the dashboard and HTTP API (dashboard.ts, loaded only for
   * this: most servers have no `http-port`). */
  async #startDashboard(): Promise<void> {
    const c = this.config;
    const { Dashboard } = await import("./dashboard.ts");
    if (this.#closing) return;
    const dashboard = new Dashboard(this);
    this.#dashboard = dashboard;
    this.#http = Deno.serve({
      hostname: c.host,
      port: c.httpPort,
      onListen: ({ hostname, port }) => {
        this.log(
          "notice",
          dashboard.open
            ? `Dashboard on http://${hostname}:${port}/`
            : `Dashboard on ${hostname}:${port} is OFF: bound beyond loopback ` +
              `with no password (set --requirepass)`,
        );
      },
      onError: (e) => {
        this.log("warning", `Dashboard error: ${e}`);
        return new Response("internal error", { status: 500 });
      },
    }, (req, info) => dashboard.handle(req, info));
  }

  #track(p: Promise<void>): void {
    this.#tasks.add(p);
    p.finally(() => this.#tasks.delete(p));
  }

  #configSet(name: string, value: string): string | undefined {
    if (
      !this.persistence.enabled && /^appendonly$/i.test(name) &&
      /^yes$/i.test(value)
    ) {
      return "this server keeps no files: it was started without a dir";
    }
    const r = setConfig(this.config, name, value);
    if (!r.ok) return r.message;
    if (name.toLowerCase() === "loglevel") this.#quiet = false;
    if (name.toLowerCase() === "appendonly") {
      this.persistence.setAppendOnly(this.config.appendonly).catch((e) =>
        this.log("warning", `Could not switch the append only file: ${e}`)
      );
    }
    if (name.toLowerCase() === "proto-max-bulk-len") {
      for (const [, store] of this.#dbs) {
        store.maxStringLength = this.config.protoMaxBulkLen;
        // The encoding thresholds are settings: CONFIG SET reaches them.
        store.limits = this.config;
      }
      for (const c of this.#clients.values()) {
        c.decoder.maxBulkLength = this.config.protoMaxBulkLen;
      }
    }
    if (/^(maxmemory|lfu-)/i.test(name)) {
      const memory = this.store.memory;
      memory.sync();
      const max = this.config.maxmemory;
      if (name.toLowerCase() === "maxmemory" && max > 0) {
        if (max < memory.used) {
          this.log(
            "warning",
            `WARNING: the new maxmemory value set via CONFIG SET (${max}) is ` +
              `smaller than the current memory usage (${memory.used}). This ` +
              `will result in key eviction and/or the inability to accept ` +
              `new write commands depending on the maxmemory-policy.`,
          );
        }
        if (2 * max + 32 * 1024 * 1024 > memory.heapLimit) {
          this.log(
            "warning",
            `maxmemory ${max} is more than the V8 heap ` +
              `(${memory.heapLimit} bytes) can hold with room for garbage: ` +
              `writes will be refused (or keys evicted) below it. Restart ` +
              `with a larger --max-old-space-size, or --maxmemory.`,
          );
        }
      }
      memory.performEvictions();
    }
    if (name.toLowerCase() === "repl-backlog-size") this.#repl?.resize();
    if (name.toLowerCase() === "hz" && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = setInterval(() => this.#cron(), 1000 / this.config.hz);
    }
    return undefined;
  }

  /** Keeps commands per second for the last five minutes. */
  #countOps(): void {
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (this.#opsSecondStart === 0) {
      this.#opsSecondStart = second;
      this.#opsSecondCount = this.stats.commandsProcessed;
      return;
    }
    while (this.#opsSecondStart < second) {
      const total = this.stats.commandsProcessed;
      this.#opsHistory.push(total - this.#opsSecondCount);
      this.#opsSecondCount = total;
      if (this.#opsHistory.length > 300) this.#opsHistory.shift();
      this.#opsSecondStart++;
    }
  }

  #opsPerSec(): number {
    const s = this.#opsSamples;
    if (s.length === 0) return 0;
    return Math.round(s.reduce((a, b) => a + b, 0) / s.length);
  }

  /** Background work, `hz` times a second: active expiry, ops/sec,
   * idle timeouts. */
  #cron(): void {
    // While a script yields (past busy-reply-threshold) nothing may change
    // the data under it: no expiry, eviction or automatic save.
    if (Scripting.busy(this.#state) !== null) return;
    const period = 1000 / this.config.hz;
    this.persistence.cron();
    this.#countOps();
    // Active expiry visits every database that has keys with a TTL.
    const dbs = this.#dbs;
    if (dbs.length === 1) this.store.activeExpireCycle(period / 4);
    else {
      const budget = period / 4 / dbs.length;
      for (const [, store] of dbs) {
        if (store.volatileSize > 0) store.activeExpireCycle(budget);
      }
    }
    // Clients' buffers count as used memory, as in Redis.
    let buffers = 0;
    for (const c of this.#clients.values()) {
      buffers += c.out.length + c.queryBufferBytes() + READ_BUFFER_SIZE;
    }
    this.store.memory.overhead = buffers;
    // node:vm, for full collections, loads once they may be wanted.
    prepareGarbageCollectionSoon(
      this.config.maxmemory,
      this.store.memory.baseline,
    );
    this.store.memory.cron();
    const now = performance.now();
    this.store.memory.idleCollect(this.stats.commandsProcessed, now);
    const elapsed = now - this.#lastOpsTime;
    if (elapsed >= 100) {
      const ops = this.stats.commandsProcessed - this.#lastOpsCount;
      this.#opsSamples.push((ops * 1000) / elapsed);
      if (this.#opsSamples.length > 16) this.#opsSamples.shift();
      this.#lastOpsCount = this.stats.commandsProcessed;
      this.#lastOpsTime = now;
    }
    if (++this.#cronTicks % this.config.hz === 0 && this.config.timeout > 0) {
      const limit = Date.now() - this.config.timeout * 1000;
      for (const c of this.#clients.values()) {
        // As Redis, blocked clients are not idle (their timeout rules).
        if (
          (!c.busy || c.writing) && c.blocked === null &&
          c.lastInteraction < limit
        ) {
          this.log("verbose", `Closing idle client id=${c.id} addr=${c.addr}`);
          c.kill();
        }
      }
    }
  }

  async #acceptLoop(listener: Deno.TcpListener): Promise<void> {
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (this.#closing) return;
        if (e instanceof Deno.errors.BadResource) return;
        this.log("warning", `Error accepting a client connection: ${e}`);
        continue;
      }
      this.stats.connectionsReceived++;
      if (this.#closing) {
        conn.close();
        continue;
      }
      const remote = conn.remoteAddr;
      if (
        this.config.protectedMode && this.config.requirepass === "" &&
        !isLocalPeer(remote.hostname)
      ) {
        this.log(
          "verbose",
          `Denied client ${formatAddr(remote)} (protected mode)`,
        );
        this.#refuse(conn, DENIED);
        continue;
      }
      if (this.#clients.size >= this.config.maxclients) {
        this.stats.rejectedConnections++;
        this.log("verbose", `Refused client ${formatAddr(remote)}: maxclients`);
        this.#refuse(conn, MAX_CLIENTS);
        continue;
      }
      const client: Connection = new Connection(
        this.#nextId++,
        conn,
        this,
        () => this.#wake(client),
      );
      this.#clients.set(client.id, client);
      this.log("debug", `Accepted ${client.addr} id=${client.id}`);
      this.#track(
        this.#loading ? this.#serveLoading(client) : this.#serve(client),
      );
    }
  }

  /** Answers a refused connection and closes it gently: our side first,
   * then whatever the client had sent is read and dropped (briefly), so
   * the client gets the message rather than a reset. */
  #refuse(conn: Deno.TcpConn, message: string): void {
    const p = (async () => {
      try {
        await conn.write(encoder.encode(message));
        await conn.closeWrite();
        const sink = new Uint8Array(4096);
        const deadline = Date.now() + 1000;
        let read = 0;
        while (Date.now() < deadline && read < 65536) {
          const n = await Promise.race([
            conn.read(sink),
            new Promise<null>((r) => setTimeout(() => r(null), 200)),
          ]);
          if (n === null) break;
          read += n;
        }
      } catch {
        // the client left first
      } finally {
        try {
          conn.close();
        } catch {
          // gone already
        }
      }
    })();
    this.#track(p);
  }

  /** A client that connected while the data loads: commands Redis runs
   * while loading (INFO, AUTH, HELLO, ...) run, the others are answered
   * `-LOADING`; once loaded, the client goes on in {@linkcode #serve} with
   * what it sent last. */
  async #serveLoading(c: Connection): Promise<void> {
    const session: Session = {
      out: c.out,
      store: this.db(c.db),
      client: c,
      server: this.#state,
      propagate: null,
    };
    const buf = new Uint8Array(4096);
    try {
      while (!c.closed && !c.closeAfterReply) {
        const n = await c.conn.read(buf);
        if (n === null) {
          c.kill();
          break;
        }
        const chunk = buf.slice(0, n);
        if (this.#loading && !this.persistence.loadingFile) {
          // No data file is being read (yet, or any more): a short wait,
          // not worth a -LOADING.
          await this.#loaded?.promise;
        }
        if (!this.#loading) {
          (c.held ??= new HeldInput()).chunks.push(chunk);
          break;
        }
        this.stats.netInputBytes += n;
        c.lastInteraction = Date.now();
        c.decoder.feed(chunk);
        let argv: string[] | null;
        while ((argv = c.decoder.next()) !== null) {
          if (c.decoder.rejected !== null) {
            c.out.error(c.decoder.rejected);
            continue;
          }
          const command = this.commands.get(argv[0].toLowerCase());
          if (
            command === undefined || command.flags.has("loading") ||
            (!c.authenticated && !command.noAuth)
          ) {
            execute(this.commands, session, argv);
          } else {
            c.out.error("LOADING Redis is loading the dataset in memory");
          }
          if (c.closeAfterReply) break;
        }
        if (c.decoder.error !== null) {
          c.out.error(c.decoder.error);
          c.closeAfterReply = true;
        }
        if (c.out.length > 0) await this.#flush(c);
      }
    } catch (e) {
      if (!isDisconnect(e)) {
        this.log("warning", `Error on client id=${c.id} addr=${c.addr}: ${e}`);
      }
      c.kill();
    }
    if (c.closeAfterReply) c.kill();
    // Closed: #serve only cleans up.
    return this.#serve(c);
  }

  async #serve(c: Connection): Promise<void> {
    const conn = c.conn;
    try {
      conn.setNoDelay(true);
    } catch {
      // not fatal
    }
    const session: Session = {
      out: c.out,
      store: this.db(c.db),
      client: c,
      server: this.#state,
      propagate: null,
    };
    const persistence = this.persistence;
    const commands = this.commands;
    const stats = this.stats;
    const decoder = c.decoder;
    const intro = Introspection.of(this.#state);
    const repl = this.#repl!;
    let reason = "client closed connection";
    // DESIGN: the hot loop reads with `conn.read` into one reused buffer,
    // not the BYOB `ReadableStream` reader the design card draws: measured
    // side by side (redis-benchmark -c 50, three servers interleaved, medians
    // of 3), BYOB ran SET 0.70x / GET 0.67x of redis-server at -P 1 and
    // 0.70x / 0.91x at -P 32; `conn.read` 0.86x / 0.94x and 0.82x / 1.01x.
    // The stream machinery costs a promise chain per read. The decoder copies
    // only an incomplete tail, so the buffer can be reused at once. Reads and
    // the usual write go through Deno's ops directly where they are at hand
    // (_net.ts: half the garbage per request, p99 1.10-1.17x against
    // 1.16-1.29x), else through `conn.read`/`conn.write`.
    const readBuf = new Uint8Array(READ_BUFFER_SIZE);
    // Deno's read and write ops without the methods' wrappers (_net.ts).
    const io = connectionIo(conn);
    try {
      while (!c.closed && !this.#closing) {
        // The bytes read: `value`'s first `length` (no view made per read).
        let value: Uint8Array;
        let length: number;
        if (c.held !== null && c.held.pending) {
          // What the client sent while it was blocked comes first.
          const chunk = await c.held.next();
          if (chunk === null) break;
          value = chunk;
          length = chunk.length;
        } else {
          const n = await io.read(readBuf);
          if (n === null || n === 0) break; // the end of the stream
          value = readBuf;
          length = n;
        }
        c.busy = true;
        stats.netInputBytes += length;
        stats.readsProcessed++;
        c.lastInteraction = Date.now();
        decoder.feed(value, length);
        let fed = persistence.fedSeq;
        let argv: string[] | null;
        let halted = false;
        while ((argv = decoder.next()) !== null) {
          // A shutdown is saving: run nothing more until it is decided.
          if (this.#halt !== null && !(await this.#halt)) {
            halted = true;
            break;
          }
          if (decoder.rejected !== null) {
            c.out.error(decoder.rejected); // an argument too long to hold
            continue;
          }
          // CLIENT PAUSE: the client waits in its own loop; what ran
          // before is answered first.
          while (intro.pauseType !== 0 && intro.mustWait(c, argv)) {
            if (persistence.fedSeq !== fed) {
              persistence.commit();
              fed = persistence.fedSeq;
            }
            if (c.out.length > 0) await this.#flush(c);
            await intro.wait();
            if (c.closed || this.#closing) break;
          }
          const mark = c.out.length;
          execute(commands, session, argv);
          if (c.replica) {
            // PSYNC or SYNC made it a replica: its connection is
            // replication.ts's from now on.
            const replica = repl.takeover(c);
            if (replica !== undefined) {
              if (c.out.length > 0) await this.#flush(c);
              reason = "replica link closed";
              await replica(conn, decoder);
              c.kill();
              break;
            }
          }
          if (c.scriptWait != null) {
            // A long script yields: what ran before is answered, then its
            // reply comes when it ends (commands/scripting.ts).
            const wait = c.scriptWait;
            if (persistence.fedSeq !== fed) {
              persistence.commit();
              fed = persistence.fedSeq;
            }
            if (c.out.length > 0) await this.#flush(c);
            await wait;
            c.scriptWait = null;
          }
          if (c.replyMode !== 0) applyReplyMode(c, mark);
          // Clients blocked on keys this command wrote are served now.
          if (readyBlockings.length !== 0) serveReady();
          const waiter = c.blocked;
          if (waiter !== null) {
            // A blocking command waits: what ran before is logged and
            // answered, then this loop awaits (no CPU) until it is woken.
            if (persistence.fedSeq !== fed) {
              persistence.commit();
              fed = persistence.fedSeq;
            }
            if (c.out.length > 0) await this.#flush(c);
            c.busy = false;
            c.held ??= new HeldInput();
            const woken = await waitBlocked(conn, c.held, waiter);
            c.busy = true;
            if (!woken || c.closed) {
              reason = "client closed connection while blocked";
              c.closeAfterReply = true;
              break;
            }
            // Its pop was logged by whoever woke it: on disk first (a
            // timeout wrote nothing).
            if (persistence.fedSeq !== fed) {
              persistence.commit();
              fed = persistence.fedSeq;
            }
          }
          if (c.closeAfterReply) break;
          if (c.out.length >= FLUSH_THRESHOLD) {
            // Writes reach the log before their replies reach the client.
            if (persistence.fedSeq !== fed) {
              persistence.commit();
              fed = persistence.fedSeq;
            }
            await this.#flush(c);
            if (c.closed) break;
          }
        }
        // The replies of this turn's reads leave together (_turn.ts), after
        // one write (and fsync) of the log for all of them: the first
        // connection to commit writes what every one of them fed.
        const mine = persistence.fedSeq;
        if ((c.out.length > 0 || mine !== fed) && !c.closed) {
          await replyTurn();
        }
        if (mine !== fed) persistence.commit(mine);
        // SHUTDOWN's own reply (an error when it failed) comes once it is
        // decided; the replies of what ran before go out either way.
        if (this.#halt !== null && !halted && !(await this.#halt)) {
          halted = true;
        }
        if (halted) c.closeAfterReply = true;
        if (decoder.error !== null && !halted) {
          c.out.error(decoder.error);
          c.closeAfterReply = true;
          reason = decoder.error;
          this.log(
            "verbose",
            `Protocol error (${decoder.error}) from client id=${c.id} addr=${c.addr}`,
          );
        }
        if (c.out.length > 0 && !c.closed) {
          // The usual case (no write under way, within the output limits):
          // one awaited write here, without #flush's and #write's async
          // frames (a fifth of the garbage of a request/reply round trip).
          const limit = this.#limitOf(c);
          const n = c.out.length;
          if (
            c.flushing === null && (limit.hard === 0 || n <= limit.hard) &&
            (limit.soft === 0 || n <= limit.soft)
          ) {
            c.writing = true;
            let off: number;
            try {
              off = await io.write(c.out.bytes());
            } finally {
              c.writing = false;
            }
            stats.netOutputBytes += off;
            stats.writesProcessed++;
            if (off === n && c.out.length === n) c.out.reset();
            else {
              // Written in part, or messages came meanwhile: the rest goes
              // the usual way.
              const rest = c.out.bytes().slice(off);
              c.out.reset();
              c.out.raw(rest);
              c.lastInteraction = Date.now();
              await this.#flush(c);
            }
          } else await this.#flush(c);
        }
        c.busy = false;
        if (c.closeAfterReply) break;
      }
    } catch (e) {
      // A failed log write also lands here: the replies it covered are
      // never sent, so nothing unlogged is acknowledged.
      if (!c.closed && !isDisconnect(e)) {
        reason = String(e);
        this.log("warning", `Error on client id=${c.id} addr=${c.addr}: ${e}`);
      }
    } finally {
      c.busy = false;
      discardTransaction(c);
      this.#clients.delete(c.id);
      this.pubsub.dropClient(c);
      if (c.tracking != null) Tracking.of(this.store).disable(c);
      c.kill();
      this.log("debug", `Client closed id=${c.id} addr=${c.addr}: ${reason}`);
    }
  }

  /** The output buffer limit of a client's class (pubsub or normal). */
  #limitOf(c: Connection): ServerConfig["clientOutputBufferLimit"] {
    return c.pubsub !== null
      ? this.config.clientOutputBufferLimitPubsub
      : this.config.clientOutputBufferLimit;
  }

  /** Something was written to `c.out` from outside its own loop (a pub/sub
   * message): enforce the limits, and send it when `c` is idle. */
  #wake(c: Connection): void {
    if (c.closed) {
      c.out.reset();
      return;
    }
    const limit = this.#limitOf(c);
    const size = c.out.length;
    if (limit.hard > 0 && size > limit.hard) {
      this.#overLimit(c, size, "hard");
      return;
    }
    if (limit.soft > 0 && size > limit.soft) {
      const now = Date.now();
      if (c.softSince === 0) c.softSince = now;
      else if (now - c.softSince > limit.softSeconds * 1000) {
        this.#overLimit(c, size, "soft");
        return;
      }
    } else c.softSince = 0;
    if (c.busy || c.flushQueued) return;
    c.flushQueued = true;
    queueMicrotask(() => {
      c.flushQueued = false;
      if (c.busy || c.closed || c.out.length === 0) return;
      this.#track(this.#flush(c).catch(() => c.kill()));
    });
  }

  /** Writes a client's pending replies, enforcing the output limits. One
   * write at a time per client: a caller waits for the one in progress;
   * what is appended while writing (pub/sub messages) is written too.
   * When no write is in progress (nearly always) this returns the write's
   * own promise: no async frame of its own, one await less per batch. */
  #flush(c: Connection): Promise<void> {
    if (c.flushing !== null) return this.#flushAfter(c);
    if (c.closed || c.out.length === 0) return DONE;
    const p = this.#write(c);
    // Still writing (the socket is awaited): later callers wait for it.
    // #write clears `flushing` as it ends.
    if (c.writing) c.flushing = p;
    return p;
  }

  async #flushAfter(c: Connection): Promise<void> {
    while (c.flushing !== null) await c.flushing;
    return this.#flush(c);
  }

  async #write(c: Connection): Promise<void> {
    const limit = this.#limitOf(c);
    const bytes = c.out.bytes();
    if (limit.hard > 0 && bytes.length > limit.hard) {
      this.#overLimit(c, bytes.length, "hard");
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (limit.soft > 0 && bytes.length > limit.soft) {
      timer = setTimeout(
        () => this.#overLimit(c, c.out.length, "soft"),
        limit.softSeconds * 1000,
      );
    }
    try {
      // A client that stops reading stalls here; --timeout closes it (the
      // cron looks at `writing`), as Redis counts writes as interaction.
      c.writing = true;
      let chunk = bytes;
      while (true) {
        const n = chunk.length;
        let off = await c.conn.write(chunk);
        while (off < n) {
          c.lastInteraction = Date.now();
          off += await c.conn.write(chunk.subarray(off));
        }
        this.stats.netOutputBytes += n;
        this.stats.writesProcessed++;
        if (c.out.length === n) break;
        // Messages were pushed while writing: keep them, write them next.
        const rest = c.out.bytes().slice(n);
        c.out.reset();
        c.out.raw(rest);
        if (c.closed) break;
        chunk = c.out.bytes();
      }
    } finally {
      c.writing = false;
      c.flushing = null;
      if (timer !== undefined) clearTimeout(timer);
      c.out.reset();
    }
  }

  #overLimit(c: Connection, size: number, which: string): void {
    this.stats.outputLimitDisconnections++;
    this.log(
      "warning",
      `Client id=${c.id} addr=${c.addr} closed for overcoming of output ` +
        `buffer limits (${which} limit, ${size} bytes pending).`,
    );
    c.out.reset();
    c.kill();
  }

  /**
   * Stops accepting, lets every client finish the replies it is owed, then
   * closes them. Resolves once all are gone.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      this.log(
        "notice",
        "Shutting down: no new connections; finishing replies",
      );
      if (this.#timer !== undefined) clearInterval(this.#timer);
      this.#repl?.close();
      this.#dashboard?.close();
      await this.#http?.shutdown().catch(() => {});
      try {
        this.#listener?.close();
      } catch {
        // already closed
      }
      // Idle clients are closed now; busy ones close after their batch.
      for (const c of this.#clients.values()) if (!c.busy) c.kill();
      const deadline = Date.now() + 5000;
      while (this.#tasks.size > 0 && Date.now() < deadline) {
        await Promise.race([
          Promise.allSettled([...this.#tasks]),
          new Promise((r) => setTimeout(r, 100)),
        ]);
        for (const c of this.#clients.values()) if (!c.busy) c.kill();
      }
      for (const c of this.#clients.values()) c.kill();
      // The log is flushed and fsynced; snapshots on exit are shutdown()'s.
      await this.persistence.shutdown(false);
      this.log("notice", "@kv/store is now ready to exit, bye bye...");
      this.#done.resolve();
    })();
    return this.#closing;
  }

  /** Closes the server (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function isDisconnect(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.BadResource ||
    e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.NotConnected ||
    (e instanceof TypeError && /closed|released/i.test(e.message));
}
