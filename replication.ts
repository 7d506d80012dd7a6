/**
 * Replication as Redis 7.0 does it (replication.c), our own code.
 *
 * As a primary: a replica's PSYNC (or SYNC) hands its connection to this
 * module ({@linkcode Replication.takeover}). A partial resynchronization
 * (`+CONTINUE`) sends what the replica misses from the backlog; a full one
 * (`+FULLRESYNC <replid> <offset>`) streams an RDB of every database, taken
 * at one moment (`Store.snapshot()`, written by _rdb_file.ts), as a bulk
 * (`$<len>`) or, to replicas that sent `REPLCONF capa eof`, in the
 * diskless form (`$EOF:<mark>` ... `<mark>`). Then every write goes to the
 * replicas as the append-only log gets it (Persistence.feed), with a SELECT
 * when the database changes, through the backlog (`repl-backlog-size`),
 * counted in `master_repl_offset`. Replicas answer `REPLCONF ACK <offset>`
 * (WAIT counts them); a PING goes out every `repl-ping-replica-period`
 * seconds; a replica whose unsent stream passes its output buffer limit
 * (`client-output-buffer-limit replica`) or that is silent for
 * `repl-timeout` seconds is dropped.
 *
 * As a replica (`REPLICAOF host port`, `--replicaof host port`): connects,
 * handshakes (PING, AUTH with `masterauth`, REPLCONF listening-port and
 * capa, PSYNC with the replid and offset it has, or `? -1`), loads the RDB
 * of a full sync, then applies the stream through the dispatcher as an
 * internal client, tracking the offset, answering REPLCONF GETACK and
 * acknowledging every second; reconnects (PSYNC for the rest) when the
 * link drops. Clients get -READONLY for writes while `replica-read-only`.
 *
 * @module
 */

import { ReplyWriter, RequestDecoder } from "./protocol.ts";
import { RdbFileReader } from "./_rdb_file.ts";
import type { DbSnapshot } from "./persistence.ts";
import type {
  ClientState,
  CommandTable,
  ServerState,
  Session,
} from "./commands/_shared.ts";
import type { Store } from "./store.ts";
import { writeAll } from "./_io.ts";

const encoder = new TextEncoder();
const NO_REPLID = "0".repeat(40);

/** 40 random hex digits: a replication id, an EOF mark. */
export function randomHex40(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// --- the backlog -----------------------------------------------------------

/** The last `size` bytes of the replication stream, in a ring. */
export class Backlog {
  #buf: Uint8Array;
  /** Where the next byte goes. */
  #idx = 0;
  /** Bytes held (up to the size). */
  histlen = 0;

  constructor(size: number) {
    this.#buf = new Uint8Array(size);
  }

  get size(): number {
    return this.#buf.length;
  }

  append(bytes: Uint8Array): void {
    const size = this.#buf.length;
    if (bytes.length >= size) {
      this.#buf.set(bytes.subarray(bytes.length - size));
      this.#idx = 0;
      this.histlen = size;
      return;
    }
    const first = Math.min(bytes.length, size - this.#idx);
    this.#buf.set(bytes.subarray(0, first), this.#idx);
    if (first < bytes.length) this.#buf.set(bytes.subarray(first), 0);
    this.#idx = (this.#idx + bytes.length) % size;
    this.histlen = Math.min(size, this.histlen + bytes.length);
  }

  /** The last `n` bytes (n <= histlen), copied. */
  tail(n: number): Uint8Array {
    const size = this.#buf.length;
    const out = new Uint8Array(n);
    const start = (this.#idx - n + size) % size;
    const first = Math.min(n, size - start);
    out.set(this.#buf.subarray(start, start + first));
    if (first < n) out.set(this.#buf.subarray(0, n - first), first);
    return out;
  }

  /** A backlog of another size holding as much of this one as fits. */
  resized(size: number): Backlog {
    const next = new Backlog(size);
    next.append(this.tail(Math.min(this.histlen, size)));
    return next;
  }
}

// --- a replica, seen from its primary --------------------------------------

/** What a client said with REPLCONF before its PSYNC. */
interface ReplicaHello {
  port: number;
  ip: string;
  capaEof: boolean;
  capaPsync2: boolean;
}

type ReplicaState = "wait_bgsave" | "send_bulk" | "online";

/** A replica connected to this server. */
export class ReplicaLink {
  state: ReplicaState = "wait_bgsave";
  /** The offset the replica acknowledged. */
  ackOffset = 0;
  /** When its last ACK (or anything) came (ms since the epoch). */
  ackTime = Date.now();
  /** The stream waits for the replica's first ACK (after a diskless
   * transfer, the EOF mark must end what the replica reads). */
  onlineOnAck = false;
  closed = false;
  /** When the stream it has not taken passed the soft limit (0: it is
   * under it). */
  softSince = 0;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /** Stream bytes held until the RDB is sent. */
  #held: Uint8Array[] = [];
  #heldBytes = 0;
  #pump: Promise<void> | null = null;
  #drained: (() => void)[] = [];

  constructor(
    readonly client: ClientState,
    readonly conn: Deno.TcpConn,
    readonly hello: ReplicaHello,
    readonly repl: Replication,
  ) {}

  /** Bytes waiting to be written or held (the output buffer). */
  get buffered(): number {
    return this.#pendingBytes + this.#heldBytes;
  }

  /** Stream bytes: written when online, held while the RDB goes out. */
  send(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.state === "online") this.write(bytes);
    else if (this.state === "send_bulk") {
      this.#held.push(bytes);
      this.#heldBytes += bytes.length;
    } else return; // waits for its sync to start: the RDB will have it
    this.repl.checkLimits(this);
  }

  /** Queues bytes for the socket, in order. */
  write(bytes: Uint8Array): void {
    if (this.closed || bytes.length === 0) return;
    this.#pending.push(bytes);
    this.#pendingBytes += bytes.length;
    this.#pump ??= this.#run();
  }

  /** The RDB is out: the held stream follows, and what comes next. */
  goOnline(): void {
    this.state = "online";
    this.onlineOnAck = false;
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const b of held) this.write(b);
  }

  /** Resolves when everything queued is written (or the link closed). */
  drain(): Promise<void> {
    if (this.#pump === null || this.closed) return Promise.resolve();
    return new Promise((r) => this.#drained.push(r));
  }

  async #run(): Promise<void> {
    try {
      while (this.#pending.length > 0 && !this.closed) {
        const parts = this.#pending;
        this.#pending = [];
        let bytes: Uint8Array;
        if (parts.length === 1) bytes = parts[0];
        else {
          let n = 0;
          for (const p of parts) n += p.length;
          bytes = new Uint8Array(n);
          n = 0;
          for (const p of parts) {
            bytes.set(p, n);
            n += p.length;
          }
        }
        await writeAll(this.conn, bytes);
        this.#pendingBytes -= bytes.length;
        this.repl.stats.netOutputBytes += bytes.length;
        this.repl.outputBytes += bytes.length;
      }
    } catch {
      this.close();
    } finally {
      this.#pump = null;
      const waiting = this.#drained;
      this.#drained = [];
      for (const r of waiting) r();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#pending = [];
    this.#held = [];
    this.#pendingBytes = this.#heldBytes = 0;
    this.client.kill();
    try {
      this.conn.close();
    } catch {
      // closed already
    }
    const waiting = this.#drained;
    this.#drained = [];
    for (const r of waiting) r();
  }
}

// --- the link to our primary (we are a replica) ----------------------------

/** States of the link, as INFO and ROLE name them. */
type LinkState = "connect" | "connecting" | "handshake" | "sync" | "connected";

/** What the server gives this module besides its state. */
export interface ReplicationHost {
  /** A session for commands run on the server's own behalf. */
  session(name: string): Session;
  /** Runs one command in a session (the dispatcher). */
  execute(table: CommandTable, s: Session, argv: string[]): void;
}

class MasterLink {
  state: LinkState = "connect";
  conn: Deno.TcpConn | null = null;
  stopped = false;
  /** When the link last went down (ms since the epoch), 0: never up. */
  downSince = Date.now();
  lastIo = Date.now();
  /** Bytes of an RDB being read, and how many are expected (-1: EOF
   * form). */
  syncRead = 0;
  syncSize = -1;
  syncStart = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly repl: Replication,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.#tick(), 1000);
    this.#loop();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.#timer);
    this.#closeConn();
  }

  #closeConn(): void {
    try {
      this.conn?.close();
    } catch {
      // closed already
    }
    this.conn = null;
  }

  /** Every second: an ACK, and the timeout. */
  #tick(): void {
    if (this.state !== "connected" || this.conn === null) {
      if (
        this.state !== "connect" && this.conn !== null &&
        Date.now() - this.lastIo > this.repl.config.replTimeout * 1000
      ) {
        this.repl.log("warning", "Timeout connecting to the MASTER...");
        this.#closeConn();
      }
      return;
    }
    if (Date.now() - this.lastIo > this.repl.config.replTimeout * 1000) {
      this.repl.log("warning", "MASTER timeout: no data nor PING received...");
      this.#closeConn();
      return;
    }
    this.sendAck();
  }

  sendAck(): void {
    const conn = this.conn;
    if (conn === null) return;
    const bytes = commandBytes([
      "REPLCONF",
      "ACK",
      String(this.repl.offset),
    ]);
    writeAll(conn, bytes).catch(() => {});
  }

  async #loop(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.#session();
      } catch (e) {
        if (!this.stopped) {
          this.repl.log(
            "warning",
            `Replication link with MASTER ${this.host}:${this.port}: ${
              e instanceof Error ? e.message : e
            }`,
          );
        }
      }
      this.#closeConn();
      if (this.state === "connected" && !this.stopped) {
        this.downSince = Date.now();
        this.repl.log("notice", "Connection with master lost.");
        this.repl.cacheMaster();
      }
      this.state = "connect";
      if (!this.stopped) await sleep(1000);
    }
  }

  async #session(): Promise<void> {
    this.state = "connecting";
    this.repl.log(
      "notice",
      `Connecting to MASTER ${this.host}:${this.port}`,
    );
    const conn = await Deno.connect({ hostname: this.host, port: this.port });
    if (this.stopped) {
      conn.close();
      return;
    }
    this.conn = conn;
    this.lastIo = Date.now();
    try {
      conn.setNoDelay(true);
    } catch {
      // not fatal
    }
    this.state = "handshake";
    const r = new LinkReader(conn, this);
    const call = async (argv: string[]) => {
      await writeAll(conn, commandBytes(argv));
      return await r.line();
    };
    const pong = await call(["PING"]);
    if (
      pong.startsWith("-") && !pong.startsWith("-NOAUTH") &&
      !pong.startsWith("-NOPERM") && !pong.startsWith("-ERR operation")
    ) {
      throw new Error(`Error reply to PING from master: '${pong}'`);
    }
    const c = this.repl.config;
    if (c.masterauth !== "") {
      const auth = c.masteruser !== ""
        ? ["AUTH", c.masteruser, c.masterauth]
        : ["AUTH", c.masterauth];
      const reply = await call(auth);
      if (reply.startsWith("-")) {
        throw new Error(`Unable to AUTH to MASTER: ${reply}`);
      }
    }
    const port = await call([
      "REPLCONF",
      "listening-port",
      String(this.repl.server.port),
    ]);
    if (port.startsWith("-")) {
      this.repl.log(
        "notice",
        `(Non critical) Master does not understand REPLCONF listening-port: ${port}`,
      );
    }
    await call(["REPLCONF", "capa", "eof", "capa", "psync2"]);
    const cached = this.repl.cachedMaster;
    const psync = cached !== null
      ? ["PSYNC", cached.replid, String(cached.offset + 1)]
      : ["PSYNC", "?", "-1"];
    this.repl.log(
      "notice",
      cached !== null
        ? `Trying a partial resynchronization (request ${cached.replid}:${
          cached.offset + 1
        }).`
        : "Partial resynchronization not possible (no cached master)",
    );
    await writeAll(conn, commandBytes(psync));
    let reply = "";
    while ((reply = await r.line()) === "") {
      // newlines keep the link alive while the primary prepares
    }
    if (reply.startsWith("+CONTINUE")) {
      const id = reply.slice(10).trim();
      if (id !== "" && cached !== null && id !== cached.replid) {
        this.repl.replid2 = cached.replid;
        this.repl.secondOffset = cached.offset + 1;
        this.repl.replid = id;
      }
      this.repl.log(
        "notice",
        "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.",
      );
    } else if (reply.startsWith("+FULLRESYNC")) {
      const [, replid, offset] = reply.split(" ");
      this.repl.log(
        "notice",
        `Full resync from master: ${replid}:${offset}`,
      );
      this.state = "sync";
      await this.#fullSync(r);
      this.repl.replid = replid;
      this.repl.replid2 = NO_REPLID;
      this.repl.secondOffset = -1;
      this.repl.offset = Number(offset);
      this.repl.resetBacklog();
    } else {
      throw new Error(`Unexpected reply to PSYNC from master: ${reply}`);
    }
    this.repl.cachedMaster = null;
    this.state = "connected";
    this.lastIo = Date.now();
    this.repl.linkUp();
    this.sendAck();
    await this.#stream(r);
  }

  /** Reads the RDB of a full sync and loads it, emptying every database
   * first. */
  async #fullSync(r: LinkReader): Promise<void> {
    let head = "";
    while ((head = await r.line()) === "") {
      // keep-alive newlines
    }
    if (head.startsWith("-")) {
      throw new Error(`MASTER aborted replication with an error: ${head}`);
    }
    if (!head.startsWith("$")) {
      throw new Error(`Bad protocol from MASTER, the first byte is not '$'`);
    }
    let mark: string | null = null;
    let left = -1;
    if (head.startsWith("$EOF:")) mark = head.slice(5);
    else left = Number(head.slice(1));
    this.syncSize = left;
    this.syncRead = 0;
    this.syncStart = Date.now();
    this.repl.log(
      "notice",
      `MASTER <-> REPLICA sync: receiving ${
        mark !== null ? "streamed RDB from master with EOF to disk" : left +
          " bytes from master to disk"
      }`,
    );
    const loader = this.repl.loader();
    const markBytes = mark === null ? null : encoder.encode(mark);
    let tail = new Uint8Array(0); // EOF form: the last bytes, held back
    for (;;) {
      let chunk = r.take(left >= 0 ? left : Infinity);
      if (chunk.length === 0) {
        if (!(await r.fill())) throw new Error("the master closed the link");
        continue;
      }
      this.syncRead += chunk.length;
      if (left >= 0) {
        left -= chunk.length;
        await loader.feed(chunk);
        if (left === 0) break;
        continue;
      }
      // EOF form: the mark ends it; the last 40 bytes are held back.
      const all = new Uint8Array(tail.length + chunk.length);
      all.set(tail);
      all.set(chunk, tail.length);
      chunk = all;
      const at = indexOf(chunk, markBytes!);
      if (at >= 0) {
        await loader.feed(chunk.subarray(0, at));
        r.unread(chunk.subarray(at + 40));
        break;
      }
      const keep = Math.min(chunk.length, 40);
      await loader.feed(chunk.subarray(0, chunk.length - keep));
      tail = chunk.slice(chunk.length - keep);
    }
    await loader.end();
    // The append-only log starts again from the loaded data.
    const p = this.repl.server.persistence;
    if (p.aofEnabled) p.bgrewriteaof();
    this.repl.log(
      "notice",
      "MASTER <-> REPLICA sync: Finished with success",
    );
  }

  /** Applies the primary's commands as they come. */
  async #stream(r: LinkReader): Promise<void> {
    const repl = this.repl;
    const s = repl.masterSession();
    const decoder = new RequestDecoder();
    decoder.feed(r.rest());
    for (;;) {
      let argv: string[] | null;
      while ((argv = decoder.next()) !== null) {
        const size = commandSize(argv);
        if (
          argv[0].toUpperCase() === "REPLCONF" && argv.length >= 2 &&
          argv[1].toUpperCase() === "GETACK"
        ) {
          this.sendAck();
        } else repl.apply(s, argv);
        repl.advance(argv, size);
      }
      if (decoder.error !== null) {
        throw new Error(`protocol error from master: ${decoder.error}`);
      }
      const chunk = await r.read();
      if (chunk === null) throw new Error("the master closed the link");
      decoder.feed(chunk);
    }
  }
}

/** Reads a primary's replies: lines, then raw bytes. */
class LinkReader {
  #buf = new Uint8Array(0);
  #readBuf = new Uint8Array(64 * 1024);

  constructor(readonly conn: Deno.TcpConn, readonly link: MasterLink) {}

  async read(): Promise<Uint8Array | null> {
    if (this.#buf.length > 0) return this.rest();
    const n = await this.conn.read(this.#readBuf);
    if (n === null) return null;
    this.link.lastIo = Date.now();
    this.link.repl.inputBytes += n;
    return this.#readBuf.slice(0, n);
  }

  /** Reads more into the buffer; false at the end. */
  async fill(): Promise<boolean> {
    const n = await this.conn.read(this.#readBuf);
    if (n === null) return false;
    this.link.lastIo = Date.now();
    this.link.repl.inputBytes += n;
    const next = new Uint8Array(this.#buf.length + n);
    next.set(this.#buf);
    next.set(this.#readBuf.subarray(0, n), this.#buf.length);
    this.#buf = next;
    return true;
  }

  /** One line without its CRLF (a lone "\n" gives ""). */
  async line(): Promise<string> {
    for (;;) {
      const nl = this.#buf.indexOf(10);
      if (nl >= 0) {
        const end = nl > 0 && this.#buf[nl - 1] === 13 ? nl - 1 : nl;
        const line = latin1(this.#buf.subarray(0, end));
        this.#buf = this.#buf.slice(nl + 1);
        return line;
      }
      if (this.#buf.length > 64 * 1024) throw new Error("line too long");
      if (!(await this.fill())) throw new Error("the master closed the link");
    }
  }

  /** Up to `max` buffered bytes. */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.#buf.length);
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  unread(bytes: Uint8Array): void {
    const next = new Uint8Array(bytes.length + this.#buf.length);
    next.set(bytes);
    next.set(this.#buf, bytes.length);
    this.#buf = next;
  }

  rest(): Uint8Array {
    const out = this.#buf;
    this.#buf = new Uint8Array(0);
    return out;
  }
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  const first = needle[0];
  for (
    let i = hay.indexOf(first);
    i >= 0 && i + needle.length <= hay.length;
    i = hay.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

function digits(n: number): number {
  return String(n).length;
}

/** The RESP size of a command as a primary encodes it. */
function commandSize(argv: string[]): number {
  let n = 3 + digits(argv.length);
  for (const a of argv) n += 5 + digits(a.length) + a.length;
  return n;
}

function commandBytes(argv: string[]): Uint8Array {
  const w = new ReplyWriter(256);
  w.array(argv.length);
  for (const a of argv) w.bulk(a);
  return w.bytes().slice();
}

// --- the replication state of a server -------------------------------------

const registry = new WeakMap<object, Replication>();

/** WAIT's clients: the offset they wait for, how many replicas, and how
 * to wake them. */
interface Waiter {
  offset: number;
  count: number;
  wake: () => void;
}

/**
 * The replication state of one server (both roles).
 *
 * @example
 * ```ts ignore
 * const repl = Replication.of(server.state);
 * repl.offset; // master_repl_offset
 * ```
 */
export class Replication {
  /** Our replication id (`master_replid`). */
  replid: string = randomHex40();
  /** The previous one, valid up to `secondOffset` (after a failover). */
  replid2: string = NO_REPLID;
  secondOffset = -1;
  /** `master_repl_offset`: bytes of stream produced (or, as a replica,
   * applied). */
  offset = 0;
  /** The offset after the last write (PINGs and GETACKs left out): what
   * WAIT waits for. */
  writeOffset = 0;
  backlog: Backlog | null = null;
  readonly replicas: ReplicaLink[] = [];
  /** Full and partial resynchronizations served, refused PSYNCs. */
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  /** Bytes sent to replicas / read from our primary. */
  outputBytes = 0;
  inputBytes = 0;
  /** The link to our primary, when we are a replica. */
  master: MasterLink | null = null;
  /** What we knew of our primary when the link dropped: a PSYNC asks
   * for the rest. */
  cachedMaster: { replid: string; offset: number } | null = null;
  /** The stream's selected database; -1: a SELECT goes first. */
  #db = -1;
  #w = new ReplyWriter(4096);
  #hello = new WeakMap<ClientState, ReplicaHello>();
  #takeovers = new WeakMap<
    ClientState,
    (conn: Deno.TcpConn, decoder: RequestDecoder) => Promise<void>
  >();
  #syncChain: Promise<void> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticks = 0;
  #waiters = new Set<Waiter>();
  #ackRequested = false;
  #masterSession: Session | null = null;

  private constructor(
    readonly server: ServerState,
    readonly host: ReplicationHost | null,
  ) {}

  /** The state of `server` (made on first use). */
  static of(server: ServerState): Replication {
    let r = registry.get(server);
    if (r === undefined) {
      r = new Replication(server, null);
      registry.set(server, r);
    }
    return r;
  }

  /** Made by the server with what replicas need of it. */
  static attach(server: ServerState, host: ReplicationHost): Replication {
    const r = new Replication(server, host);
    registry.set(server, r);
    return r;
  }

  get config(): ServerState["config"] {
    return this.server.config;
  }

  get stats(): ServerState["stats"] {
    return this.server.stats;
  }

  log(level: "debug" | "verbose" | "notice" | "warning", msg: string): void {
    this.server.log(level, msg);
  }

  /** True while this server follows a primary. */
  get isReplica(): boolean {
    return this.master !== null;
  }

  // --- as a primary --------------------------------------------------------

  /** Persistence.feed's listener: the writes of a command, run in
   * database `db` (SELECTs inside change it). */
  feed(commands: string[][], db: number): void {
    if (this.backlog === null) return; // no replica ever came
    if (this.master !== null) return; // a replica: its primary feeds
    const w = this.#w;
    w.reset();
    if (db !== this.#db) {
      w.array(2);
      w.bulk("SELECT");
      w.bulk(String(db));
      this.#db = db;
    }
    for (const argv of commands) {
      w.array(argv.length);
      for (const a of argv) w.bulk(a);
      if (argv[0] === "SELECT" || argv[0] === "select") {
        this.#db = Number(argv[1]);
      }
    }
    this.#append(w.bytes().slice());
    this.writeOffset = this.offset;
  }

  /** A key expired (or was evicted) in database `db`: the replicas
   * delete it too, as Redis propagates a DEL. */
  expired(key: string, db: number): void {
    if (this.backlog === null || this.master !== null) return;
    this.feed([["DEL", key]], db);
  }

  /** Stream bytes that need no database (PING, REPLCONF GETACK). */
  #feedRaw(argv: string[]): void {
    if (this.backlog === null) return;
    this.#append(commandBytes(argv));
  }

  #append(bytes: Uint8Array): void {
    this.backlog!.append(bytes);
    this.offset += bytes.length;
    for (const r of this.replicas) r.send(bytes);
  }

  /** The offset of the first byte the backlog holds. */
  get backlogFirstByte(): number {
    return this.backlog === null ? 0 : this.offset - this.backlog.histlen + 1;
  }

  /** REPLCONF before PSYNC: what the replica told about itself. */
  hello(c: ClientState): ReplicaHello {
    let h = this.#hello.get(c);
    if (h === undefined) {
      h = {
        port: 0,
        ip: c.addr.replace(/^\[?(.*?)\]?:\d+$/, "$1"),
        capaEof: false,
        capaPsync2: false,
      };
      this.#hello.set(c, h);
    }
    return h;
  }

  /** The replica's acknowledged offset (REPLCONF ACK from a replica). */
  ack(c: ClientState, offset: number): void {
    const link = this.replicas.find((r) => r.client === c);
    if (link === undefined) return;
    link.ackTime = Date.now();
    if (offset > link.ackOffset) link.ackOffset = offset;
    if (link.onlineOnAck) link.goOnline();
    this.#checkWaiters();
  }

  /** PSYNC or SYNC from client `c`: once its reply is out, the server's
   * loop hands the connection over ({@linkcode takeover}). */
  psync(c: ClientState, argv: string[]): void {
    const sync = argv[0].toLowerCase() === "sync";
    const hello = this.hello(c);
    c.replica = true;
    this.#takeovers.set(c, async (conn, decoder) => {
      const link = new ReplicaLink(c, conn, hello, this);
      this.replicas.push(link);
      try {
        if (!sync && this.#tryPartial(link, argv[1], argv[2])) {
          link.goOnline();
        } else {
          if (!sync) this.syncPartialErr += argv[1] === "?" ? 0 : 1;
          this.#fullSync(link, sync).catch((e) => {
            this.log("warning", `Full sync with a replica failed: ${e}`);
            link.close();
          });
        }
        await this.#readAcks(link, decoder);
      } finally {
        link.close();
        const i = this.replicas.indexOf(link);
        if (i >= 0) this.replicas.splice(i, 1);
        this.log(
          "notice",
          `Connection with replica ${hello.ip}:${hello.port} lost.`,
        );
        this.#checkWaiters();
      }
    });
  }

  /** The connection handler PSYNC left for client `c`, if any (the
   * server's read loop calls it, then forgets the client). */
  takeover(
    c: ClientState,
  ):
    | ((conn: Deno.TcpConn, decoder: RequestDecoder) => Promise<void>)
    | undefined {
    const t = this.#takeovers.get(c);
    this.#takeovers.delete(c);
    return t;
  }

  #tryPartial(link: ReplicaLink, replid: string, offsetArg: string): boolean {
    const offset = Number(offsetArg);
    const b = this.backlog;
    if (b === null || !Number.isSafeInteger(offset)) return false;
    if (
      replid !== this.replid &&
      (replid !== this.replid2 || offset > this.secondOffset)
    ) {
      if (replid !== "?") {
        this.log(
          "notice",
          `Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '${replid}', my replication IDs are '${this.replid}' and '${this.replid2}')`,
        );
      }
      return false;
    }
    if (offset < this.backlogFirstByte || offset > this.offset + 1) {
      this.log(
        "notice",
        `Unable to partial resync with replica ${link.hello.ip}:${link.hello.port} for lack of backlog (Replica request was: ${offset}).`,
      );
      return false;
    }
    const reply = link.hello.capaPsync2
      ? `+CONTINUE ${this.replid}\r\n`
      : "+CONTINUE\r\n";
    link.write(encoder.encode(reply));
    const missing = this.offset + 1 - offset;
    if (missing > 0) link.write(b.tail(missing));
    link.ackOffset = offset - 1;
    this.syncPartialOk++;
    this.#startTimer();
    this.log(
      "notice",
      `Partial resynchronization request from ${link.hello.ip}:${link.hello.port} accepted. Sending ${missing} bytes of backlog starting from offset ${offset}.`,
    );
    return true;
  }

  /** Reads what a replica sends: REPLCONF ACK (never answered). */
  async #readAcks(link: ReplicaLink, decoder: RequestDecoder): Promise<void> {
    const buf = new Uint8Array(16 * 1024);
    const handle = () => {
      let argv: string[] | null;
      while ((argv = decoder.next()) !== null) {
        link.ackTime = Date.now();
        if (
          argv.length >= 3 && argv[0].toUpperCase() === "REPLCONF" &&
          argv[1].toUpperCase() === "ACK"
        ) {
          const n = Number(argv[2]);
          if (Number.isSafeInteger(n)) this.ack(link.client, n);
        }
      }
    };
    handle();
    while (!link.closed) {
      let n: number | null;
      try {
        n = await link.conn.read(buf);
      } catch {
        break;
      }
      if (n === null) break;
      this.stats.netInputBytes += n;
      link.client.lastInteraction = Date.now();
      decoder.feed(buf.subarray(0, n));
      handle();
      if (decoder.error !== null) break;
    }
  }

  /** Sends a replica everything: an RDB of every database taken now,
   * then the stream from that moment. One at a time (a store has one
   * snapshot at once). */
  async #fullSync(link: ReplicaLink, sync: boolean): Promise<void> {
    const prev = this.#syncChain;
    const done = Promise.withResolvers<void>();
    this.#syncChain = done.promise;
    let snaps: readonly DbSnapshot[] = [];
    try {
      this.#startTimer();
      await prev;
      // A background save or rewrite holds the stores' snapshot: wait.
      const p = this.server.persistence;
      for (;;) {
        if (link.closed) return;
        if (!p.bgsaveInProgress && !p.rewriteInProgress) {
          try {
            snaps = p.snapshotAll().snaps;
            break;
          } catch {
            // held elsewhere after all: try again
          }
        }
        await sleep(100);
      }
      // Saves and rewrites wait while these snapshots are read.
      this.server.persistence.holdSnapshots(done.promise);
      const started = Date.now();
      if (this.backlog === null) {
        // The first replica: a new history begins (Redis changes its id).
        this.replid = randomHex40();
        this.replid2 = NO_REPLID;
        this.secondOffset = -1;
        this.backlog = new Backlog(this.config.replBacklogSize);
        this.server.persistence.replicating = true;
      }
      // The stream from now on is held for the replica; it starts with a
      // SELECT.
      this.#db = -1;
      link.state = "send_bulk";
      link.ackOffset = this.offset;
      this.syncFull++;
      const hello = link.hello;
      this.log(
        "notice",
        `Starting BGSAVE for SYNC with target: replicas sockets (${hello.ip}:${hello.port})`,
      );
      if (!sync) {
        link.write(
          encoder.encode(`+FULLRESYNC ${this.replid} ${this.offset}\r\n`),
        );
      }
      const pieces: Uint8Array[] = [];
      const { steps, take } = p.rdbWriter(
        snaps,
        snaps[0][1].time,
        (b) => pieces.push(b.slice()),
      );
      const eof = hello.capaEof && !sync;
      const mark = randomHex40();
      if (eof) link.write(encoder.encode(`$EOF:${mark}\r\n`));
      const whole: Uint8Array[] = [];
      let size = 0;
      for (;;) {
        const r = steps.next();
        pieces.push(take().slice());
        for (const piece of pieces) {
          size += piece.length;
          if (eof) link.write(piece);
          else whole.push(piece);
        }
        pieces.length = 0;
        if (eof) await link.drain();
        if (link.closed) return;
        if (r.done) break;
      }
      for (const [, s] of snaps) s.close();
      snaps = [];
      if (eof) {
        link.write(encoder.encode(mark));
        // The stream starts after the replica's first ACK, so the mark
        // ends what it reads (repl_start_cmd_stream_on_ack).
        link.onlineOnAck = true;
      } else {
        link.write(encoder.encode(`$${size}\r\n`));
        for (const piece of whole) link.write(piece);
        link.goOnline();
      }
      await link.drain();
      this.log(
        "notice",
        `Synchronization with replica ${hello.ip}:${hello.port} succeeded (${size} bytes of RDB in ${
          Date.now() - started
        } ms)`,
      );
    } finally {
      for (const [, s] of snaps) s.close();
      done.resolve();
    }
  }

  /** Drops a replica whose unsent stream passed its limits. */
  checkLimits(link: ReplicaLink): void {
    const limit = this.config.clientOutputBufferLimitReplica;
    const size = link.buffered;
    let over = "";
    if (limit.hard > 0 && size > limit.hard) over = "hard";
    else if (limit.soft > 0 && size > limit.soft) {
      const now = Date.now();
      if (link.softSince === 0) link.softSince = now;
      else if (now - link.softSince > limit.softSeconds * 1000) over = "soft";
    } else link.softSince = 0;
    if (over === "") return;
    this.stats.outputLimitDisconnections++;
    this.log(
      "warning",
      `Client id=${link.client.id} addr=${link.client.addr} (replica) closed for overcoming of output buffer limits (${over} limit, ${size} bytes pending).`,
    );
    link.close();
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.#cron(), 1000);
    Deno.unrefTimer(this.#timer);
  }

  /** Every second: PINGs, keep-alive newlines, timeouts, limits. */
  #cron(): void {
    this.#ticks++;
    const now = Date.now();
    const timeout = this.config.replTimeout * 1000;
    for (const link of [...this.replicas]) {
      if (link.state === "wait_bgsave") link.write(encoder.encode("\n"));
      else if (link.state === "online" && now - link.ackTime > timeout) {
        this.log(
          "warning",
          `Disconnecting timedout replica (streaming sync): ${link.hello.ip}:${link.hello.port}`,
        );
        link.close();
      } else this.checkLimits(link);
    }
    if (
      this.master === null && this.replicas.length > 0 &&
      this.#ticks % this.config.replPingReplicaPeriod === 0
    ) {
      this.#feedRaw(["PING"]);
    }
  }

  /** Replicas whose ACK reached `offset`. */
  acked(offset: number): number {
    let n = 0;
    for (const r of this.replicas) {
      if (r.state === "online" && r.ackOffset >= offset) n++;
    }
    return n;
  }

  /** WAIT: `wake` is called once `count` replicas acknowledged `offset`
   * (the caller times out by itself); returns the cancel function. */
  waitFor(offset: number, count: number, wake: () => void): () => void {
    const w: Waiter = { offset, count, wake };
    this.#waiters.add(w);
    if (!this.#ackRequested) {
      // One GETACK for every WAIT of this turn of the event loop.
      this.#ackRequested = true;
      queueMicrotask(() => {
        this.#ackRequested = false;
        if (this.#waiters.size > 0) this.#feedRaw(["REPLCONF", "GETACK", "*"]);
      });
    }
    return () => this.#waiters.delete(w);
  }

  #checkWaiters(): void {
    for (const w of [...this.#waiters]) {
      if (this.acked(w.offset) >= w.count) {
        this.#waiters.delete(w);
        w.wake();
      }
    }
  }

  // --- as a replica --------------------------------------------------------

  /** REPLICAOF host port: follows that primary (the data is replaced by
   * its own at the first sync). */
  follow(host: string, port: number): void {
    if (
      this.master !== null && this.master.host === host &&
      this.master.port === port
    ) return;
    const was = this.master;
    if (was !== null) {
      was.stop();
      this.cacheMaster();
    } else {
      // Our own history becomes what a PSYNC to our new primary offers.
      this.cachedMaster = { replid: this.replid, offset: this.offset };
    }
    // Our replicas get nothing from us while we are a replica.
    for (const r of [...this.replicas]) r.close();
    this.config.replicaof = `${host} ${port}`;
    if (was === null) replicasFollowing++;
    this.master = new MasterLink(host, port, this);
    this.master.start();
    this.log(
      "notice",
      `REPLICAOF ${host}:${port} enabled (user request from server)`,
    );
  }

  /** REPLICAOF NO ONE: a primary again, keeping the data; the history
   * goes on under a new id (replicas of the old primary may PSYNC). */
  promote(): void {
    const link = this.master;
    if (link === null) return;
    link.stop();
    this.master = null;
    replicasFollowing--;
    this.cachedMaster = null;
    this.config.replicaof = "";
    this.replid2 = this.replid;
    this.secondOffset = this.offset + 1;
    this.replid = randomHex40();
    this.#db = -1;
    this.log("notice", "MASTER MODE enabled (user request from server)");
  }

  /** The link dropped: remember where we were for a PSYNC. */
  cacheMaster(): void {
    this.cachedMaster = { replid: this.replid, offset: this.offset };
  }

  /** The link is up after a sync. */
  linkUp(): void {
    this.#masterSession = null;
  }

  /** A new history after a full sync (the backlog holds what we apply, for
   * a PSYNC of ours later). */
  resetBacklog(): void {
    this.backlog = new Backlog(this.config.replBacklogSize);
    this.server.persistence.replicating = true;
  }

  /** The session the primary's commands run in. */
  /** Whether `s` is the session the primary's stream runs in. */
  isMasterSession(s: Session): boolean {
    return s === this.#masterSession;
  }

  masterSession(): Session {
    if (this.#masterSession === null) {
      if (this.host === null) throw new Error("no server to run commands in");
      this.#masterSession = this.host.session("master");
    }
    return this.#masterSession;
  }

  /** Runs one command of the primary's stream. */
  apply(s: Session, argv: string[]): void {
    s.out.reset();
    this.host!.execute(this.server.commands, s, argv);
  }

  /** The stream moved past a command of `size` bytes. */
  advance(argv: string[], size: number): void {
    this.offset += size;
    // Kept for PSYNCs of our own: the bytes as the primary sent them.
    this.backlog?.append(commandBytes(argv));
  }

  /** Loads an RDB as it arrives: every database emptied first. */
  loader(): {
    feed(bytes: Uint8Array): Promise<void>;
    end(): Promise<void>;
  } {
    const server = this.server;
    const session = this.masterSession();
    // Empties everything as FLUSHALL would, without replicating it.
    for (const [, store] of server.databases) store.flush();
    this.host!.execute(server.commands, session, ["FUNCTION", "FLUSH"]);
    let store: Store = server.store;
    const now = Date.now();
    const reader = new RdbFileReader({
      library: (code) => {
        session.out.reset();
        this.host!.execute(server.commands, session, [
          "FUNCTION",
          "LOAD",
          "REPLACE",
          code,
        ]);
      },
      db: (index) => {
        store = server.db(index);
      },
      entry: (key, value, at) => {
        if (at !== undefined && at < now) return;
        if (typeof value === "string") store.load(key, value, at);
        else {store.set(
            key,
            value,
            at === undefined ? undefined : { expireAt: at },
          );}
      },
      warning: (why) => this.log("warning", `RDB from master: ${why}`),
    }, () => store.limits);
    let n = 0;
    return {
      async feed(bytes) {
        const steps = reader.feed(bytes);
        while (!steps.next().done) {
          if (++n % 8 === 0) await sleep(0);
        }
      },
      async end() {
        const steps = reader.feed(null);
        while (!steps.next().done) await sleep(0);
        if (!reader.done) {
          throw new Error("the RDB from the master ended early");
        }
      },
    };
  }

  /** The link's state for INFO and ROLE. */
  get linkState(): LinkState {
    return this.master?.state ?? "connect";
  }

  /** INFO replication's fields. */
  info(): [string, string | number][] {
    const out: [string, string | number][] = [];
    const m = this.master;
    if (m === null) out.push(["role", "master"]);
    else {
      const up = m.state === "connected";
      out.push(
        ["role", "slave"],
        ["master_host", m.host],
        ["master_port", m.port],
        ["master_link_status", up ? "up" : "down"],
        [
          "master_last_io_seconds_ago",
          up ? Math.floor((Date.now() - m.lastIo) / 1000) : -1,
        ],
        ["master_sync_in_progress", m.state === "sync" ? 1 : 0],
        ["slave_read_repl_offset", this.offset],
        ["slave_repl_offset", this.offset],
      );
      if (m.state === "sync") {
        out.push(
          ["master_sync_total_bytes", m.syncSize],
          ["master_sync_read_bytes", m.syncRead],
          [
            "master_sync_left_bytes",
            m.syncSize < 0 ? -1 : m.syncSize - m.syncRead,
          ],
          [
            "master_sync_perc",
            m.syncSize <= 0
              ? "-0.00"
              : (m.syncRead * 100 / m.syncSize).toFixed(2),
          ],
          [
            "master_sync_last_io_seconds_ago",
            Math.floor((Date.now() - m.lastIo) / 1000),
          ],
        );
      }
      if (!up) {
        out.push([
          "master_link_down_since_seconds",
          Math.floor((Date.now() - m.downSince) / 1000),
        ]);
      }
      out.push(
        ["slave_priority", 100],
        ["slave_read_only", this.config.replicaReadOnly ? 1 : 0],
        ["replica_announced", 1],
      );
    }
    out.push(["connected_slaves", this.replicas.length]);
    const now = Date.now();
    this.replicas.forEach((r, i) => {
      out.push([
        `slave${i}`,
        `ip=${r.hello.ip},port=${r.hello.port},state=${r.state},offset=${r.ackOffset},lag=${
          Math.floor((now - r.ackTime) / 1000)
        }`,
      ]);
    });
    const b = this.backlog;
    out.push(
      ["master_failover_state", "no-failover"],
      ["master_replid", this.replid],
      ["master_replid2", this.replid2],
      ["master_repl_offset", this.offset],
      ["second_repl_offset", this.secondOffset],
      ["repl_backlog_active", b === null ? 0 : 1],
      ["repl_backlog_size", b?.size ?? this.config.replBacklogSize],
      [
        "repl_backlog_first_byte_offset",
        b === null ? 0 : this.backlogFirstByte,
      ],
      ["repl_backlog_histlen", b?.histlen ?? 0],
    );
    return out;
  }

  /** The backlog follows `repl-backlog-size`. */
  resize(): void {
    const b = this.backlog;
    if (b !== null && b.size !== this.config.replBacklogSize) {
      this.backlog = b.resized(this.config.replBacklogSize);
    }
  }

  /** Stops the full syncs under way (their replicas are dropped and will
   * sync again) and waits until their snapshots are released: SHUTDOWN
   * saves next. */
  async stopSyncs(): Promise<void> {
    for (const r of [...this.replicas]) {
      if (r.state === "wait_bgsave" || r.state === "send_bulk") r.close();
    }
    await this.#syncChain;
  }

  /** The server closes: every link goes. */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.master !== null) {
      this.master.stop();
      this.master = null;
      replicasFollowing--;
    }
    for (const r of [...this.replicas]) r.close();
  }
}

/** Servers of this process that follow a primary: while 0, the
 * dispatcher's read-only check costs one comparison. */
export let replicasFollowing = 0;

/** Redis's reply to a write on a read-only replica. */
export const READONLY_ERROR =
  "READONLY You can't write against a read only replica.";

/** True when the client of `s` may not write here (`replica-read-only` on
 * a replica): every client but the primary's own stream and the log's
 * replay (the dashboard and the REST API too); the dispatcher refuses its
 * write commands, in MULTI and scripts too. */
export function replicaRefuses(s: Session): boolean {
  if (!s.server.config.replicaReadOnly || s.server.persistence.loading) {
    return false;
  }
  const repl = Replication.of(s.server);
  return repl.master !== null && !repl.isMasterSession(s);
}
