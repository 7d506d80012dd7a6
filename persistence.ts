/**
 * Everything that touches data files: JSON snapshots (SAVE, BGSAVE, the
 * save policy, loading at start-up) and the append-only log (logging
 * writes before their replies go out, fsync policies, replay, rewrite).
 *
 * Snapshots are written to a temporary file in `dir`, fsynced, renamed over
 * `dbfilename`, and the directory fsynced, so a crash at any moment leaves
 * either the old file or the new one, whole. Background work reads the
 * store through {@linkcode Store.snapshot}: a point-in-time view that
 * costs no pause.
 *
 * @module
 */

import { join } from "node:path";
import type { ServerConfig } from "./config.ts";
import type { Container, SnapshotEntry, Store } from "./store.ts";
import { ReplyWriter, RequestDecoder } from "./protocol.ts";
import { binaryToBytes, textToBinary } from "./_bytes.ts";
import { syncPath, syncPathSync, writeAll, writeAllSync } from "./_io.ts";

/** The snapshot file's `format` field.
 *
 * @example
 * ```ts ignore
 * import { SNAPSHOT_FORMAT } from "./persistence.ts";
 * const doc = JSON.parse(await Deno.readTextFile("dump.json"));
 * console.log(doc.format === SNAPSHOT_FORMAT);
 * ```
 */
export const SNAPSHOT_FORMAT = "@kv/store snapshot";
/** The snapshot format version this code writes and reads.
 *
 * @example
 * ```ts ignore
 * import { SNAPSHOT_VERSION } from "./persistence.ts";
 * console.log(SNAPSHOT_VERSION); // 2
 * ```
 */
export const SNAPSHOT_VERSION = 2;

/** A data file could not be read: the server must not start.
 *
 * @example
 * ```ts ignore
 * import { PersistenceError, Server } from "./mod.ts";
 * try {
 *   await new Server({ dir: "/nonexistent" }).listen();
 * } catch (e) {
 *   if (e instanceof PersistenceError) console.error(e.message);
 * }
 * ```
 */
export class PersistenceError extends Error {
  /** Creates an error naming the file and the problem. */
  constructor(message: string) {
    super(message);
    this.name = "PersistenceError";
  }
}

/** What the persistence layer needs from the server.
 *
 * @example
 * ```ts ignore
 * const server = new Server({ port: 0 });
 * server.persistence.bgsave(); // the server is the host
 * ```
 */
export interface PersistenceHost {
  /** The store to save and load. */
  readonly store: Store;
  /** Live settings. */
  readonly config: ServerConfig;
  /** Writes a log line. */
  log(level: "debug" | "verbose" | "notice" | "warning", msg: string): void;
  /** Runs one command from the log during replay; returns an error reply's
   * text, or undefined. */
  replay(argv: string[]): string | undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const ENTRIES_PER_CHUNK = 1000;
/** Elements per command when a container is written out as commands. */
const CONTAINER_BATCH = 128;

/** A key or value as it goes into JSON: text when it is valid UTF-8, or
 * `{ "base64": ... }` for other bytes. */
function encodeString(s: string): string | { base64: string } {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  try {
    return utf8.decode(binaryToBytes(s));
  } catch {
    return { base64: btoa(s) };
  }
}

function decodeString(v: unknown): string | undefined {
  if (typeof v === "string") return textToBinary(v);
  if (
    typeof v === "object" && v !== null &&
    typeof (v as { base64?: unknown }).base64 === "string"
  ) {
    try {
      return atob((v as { base64: string }).base64);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** A container as it goes into a snapshot: its type and the commands that
 * build it again. */
function encodeContainer(key: string, v: Container): unknown {
  const commands: unknown[] = [];
  for (const argv of v.rewrite(key, CONTAINER_BATCH)) {
    commands.push(argv.map(encodeString));
  }
  return { type: v.type, commands };
}

function serializeEntries(
  entries: SnapshotEntry[],
  first: boolean,
): string {
  let out = "";
  for (let i = 0; i < entries.length; i++) {
    const [k, v, at] = entries[i];
    const value = typeof v === "string"
      ? encodeString(v)
      : encodeContainer(k, v);
    const item = at === undefined
      ? [encodeString(k), value]
      : [encodeString(k), value, at];
    out += (first && i === 0 ? "\n" : ",\n") + JSON.stringify(item);
  }
  return out;
}

function header(time: number): string {
  return `{"format":${
    JSON.stringify(SNAPSHOT_FORMAT)
  },"version":${SNAPSHOT_VERSION},"time":${time},"entries":[`;
}

function trailer(count: number): string {
  return `\n],"count":${count}}\n`;
}

function tempName(dir: string, kind: string): string {
  return join(
    dir,
    `temp-kv-${kind}-${Deno.pid}-${Date.now()}-${
      Math.floor(Math.random() * 1e9)
    }`,
  );
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Encodes commands as RESP arrays of bulk strings (byte strings). */
function encodeCommands(w: ReplyWriter, commands: string[][]): void {
  for (const argv of commands) {
    w.array(argv.length);
    for (const a of argv) w.bulk(a);
  }
}

/**
 * Snapshots and the append-only log of one server.
 *
 * @example
 * ```ts ignore
 * const server = new Server({ port: 0, dir: "/var/lib/kv", appendonly: true });
 * await server.listen(); // loads the data first
 * server.persistence.bgsave();
 * await server.persistence.waitForBgsave();
 * ```
 */
export class Persistence {
  /** Unix time in ms of the last successful save (start-up counts). */
  lastSave: number = Date.now();
  /** Outcome of the last background save. */
  lastBgsaveStatus: "ok" | "err" = "ok";
  /** Why the last background save failed. */
  lastBgsaveError: string = "";
  /** Seconds the last background save took. */
  lastBgsaveSeconds: number = -1;
  /** True while loading data at start-up. */
  loading: boolean = false;
  /** Outcome of the last write to the append-only file. */
  aofLastWriteStatus: "ok" | "err" = "ok";
  /** Outcome of the last log rewrite. */
  lastRewriteStatus: "ok" | "err" = "ok";
  /** Seconds the last rewrite took. */
  lastRewriteSeconds: number = -1;
  /** Log size after the last rewrite (or at start-up). */
  aofBaseSize: number = 0;
  /** Current log size. */
  aofCurrentSize: number = 0;
  /** Commands logged so far (their count). */
  fedSeq: number = 0;
  /** Count of commands durably written (as the fsync policy goes). */
  writtenSeq: number = 0;

  #host: PersistenceHost;
  #bgsave: Promise<void> | null = null;
  #bgsaveStarted = 0;
  #bgsaveScheduled = false;
  #cancelBgsave = false;
  #cancelRewrite = false;
  #lastBgsaveTry = 0;
  #aof: Deno.FsFile | null = null;
  #aofBuf = new ReplyWriter(64 * 1024);
  #aofChain: Promise<void> = Promise.resolve();
  #aofDirty = false; // written but not fsynced
  #fsyncing = false;
  #lastFsync = 0;
  #rewrite: Promise<void> | null = null;
  #rewriteStarted = 0;
  #rewriteBuf: ReplyWriter | null = null;
  #rewriteScheduled = false;

  /** Creates the persistence layer; nothing is read until `load()`. */
  constructor(host: PersistenceHost) {
    this.#host = host;
  }

  get #config(): ServerConfig {
    return this.#host.config;
  }

  /** Full path of the snapshot file. */
  get snapshotPath(): string {
    return join(this.#config.dir, this.#config.dbfilename);
  }

  /** Full path of the append-only file. */
  get aofPath(): string {
    return join(this.#config.dir, this.#config.appendfilename);
  }

  /** True while a background save runs. */
  get bgsaveInProgress(): boolean {
    return this.#bgsave !== null;
  }

  /** True while the log is being rewritten. */
  get rewriteInProgress(): boolean {
    return this.#rewrite !== null;
  }

  /** True when the log is on. */
  get aofEnabled(): boolean {
    return this.#aof !== null;
  }

  /** The -MISCONF error writes get while saving or logging fails, or
   * undefined when writes are allowed. */
  writeError(): string | undefined {
    const c = this.#config;
    if (
      c.stopWritesOnBgsaveError && c.save.length > 0 &&
      this.lastBgsaveStatus === "err"
    ) {
      return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
    }
    if (this.aofEnabled && this.aofLastWriteStatus === "err") {
      return "MISCONF Errors writing to the AOF file: " + this.#aofError;
    }
    return undefined;
  }
  #aofError = "";

  // --- start-up ----------------------------------------------------------

  /**
   * Checks `dir` and loads the data: the append-only file when the log is
   * on and the file exists, otherwise the snapshot. Throws a
   * {@linkcode PersistenceError} naming the file and the problem when
   * either cannot be read; a file is never overwritten because of that.
   */
  async load(): Promise<void> {
    const c = this.#config;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(c.dir);
    } catch (e) {
      throw new PersistenceError(
        `Can't use --dir '${c.dir}': ${message(e)}`,
      );
    }
    if (!info.isDirectory) {
      throw new PersistenceError(`Can't use --dir '${c.dir}': not a directory`);
    }
    this.loading = true;
    const start = performance.now();
    try {
      let aofExists = false;
      if (c.appendonly) {
        try {
          aofExists = (await Deno.stat(this.aofPath)).isFile;
        } catch {
          aofExists = false;
        }
      }
      if (aofExists) {
        await this.#loadAof();
      } else {
        await this.#loadSnapshot();
      }
    } finally {
      this.loading = false;
    }
    const ms = performance.now() - start;
    this.#host.log(
      "notice",
      `DB loaded from disk: ${this.#host.store.size} keys in ${
        (ms / 1000).toFixed(3)
      } seconds`,
    );
    this.#host.store.dirty = 0;
    this.lastSave = Date.now();
    if (c.appendonly) {
      try {
        await this.#openAof(!await this.#exists(this.aofPath));
      } catch (e) {
        throw new PersistenceError(
          `Can't open the append only file ${this.aofPath}: ${message(e)}`,
        );
      }
    }
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await Deno.stat(path);
      return true;
    } catch {
      return false;
    }
  }

  async #loadSnapshot(): Promise<void> {
    const path = this.snapshotPath;
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return; // nothing saved yet
      throw new PersistenceError(
        `Can't read the snapshot file ${path}: ${message(e)}`,
      );
    }
    const fail = (why: string): never => {
      throw new PersistenceError(`Bad snapshot file ${path}: ${why}`);
    };
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      fail(`not valid JSON (${message(e)})`);
    }
    const d = doc as Record<string, unknown>;
    if (typeof d !== "object" || d === null || d.format !== SNAPSHOT_FORMAT) {
      fail(`not a @kv/store snapshot (no "format": "${SNAPSHOT_FORMAT}")`);
    }
    // Version 1 held strings only; it loads as it is.
    if (d.version !== SNAPSHOT_VERSION && d.version !== 1) {
      fail(`unsupported format version ${JSON.stringify(d.version)}`);
    }
    if (!Array.isArray(d.entries)) fail(`"entries" is not an array`);
    const entries = d.entries as unknown[];
    if (typeof d.count === "number" && d.count !== entries.length) {
      fail(`holds ${entries.length} entries, expected ${d.count}`);
    }
    const store = this.#host.store;
    store.clear();
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (!Array.isArray(e) || e.length < 2 || e.length > 3) {
        fail(`entry ${i} is not [key, value] or [key, value, expireAt]`);
      }
      const [k, v, at] = e as unknown[];
      const key = decodeString(k);
      if (at !== undefined && !Number.isFinite(at)) {
        fail(`entry ${i} has an expiry time that is not a number`);
      }
      const commands = (v as { commands?: unknown })?.commands;
      if (key !== undefined && Array.isArray(commands)) {
        // A container: the commands that build it.
        store.delete(key);
        for (const c of commands) {
          const argv = Array.isArray(c) ? c.map(decodeString) : [];
          if (argv.length < 2 || argv.some((a) => a === undefined)) {
            fail(`entry ${i} has a command that is not a list of strings`);
          }
          const error = this.#host.replay(argv as string[]);
          if (error !== undefined) fail(`entry ${i}: ${error}`);
        }
        if (at !== undefined) store.setExpireAt(key, at as number);
        continue;
      }
      const value = decodeString(v);
      if (key === undefined || value === undefined) {
        fail(`entry ${i} has a key or value that is not a string`);
      }
      store.set(
        key!,
        value!,
        at === undefined ? undefined : { expireAt: at as number },
      );
    }
  }

  async #loadAof(): Promise<void> {
    const path = this.aofPath;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      throw new PersistenceError(
        `Can't read the append only file ${path}: ${message(e)}`,
      );
    }
    const decoder = new RequestDecoder({ maxBulkLength: 1024 * 1024 * 1024 });
    const store = this.#host.store;
    store.clear();
    let commands = 0;
    let valid = 0; // bytes of whole commands
    const CHUNK = 1 << 20;
    for (let off = 0; off < bytes.length; off += CHUNK) {
      const chunk = bytes.subarray(off, Math.min(bytes.length, off + CHUNK));
      decoder.feed(chunk);
      let argv: string[] | null;
      while ((argv = decoder.next()) !== null) {
        const consumed = off + chunk.length - decoder.pendingBytes;
        commands++;
        const error = this.#host.replay(argv);
        if (error !== undefined) {
          throw new PersistenceError(
            `Bad file format reading the append only file ${path}: command ${commands} (${
              JSON.stringify(argv[0])
            }) at byte ${valid} failed: ${error}`,
          );
        }
        valid = consumed;
      }
      if (decoder.error) {
        throw new PersistenceError(
          `Bad file format reading the append only file ${path} at byte ${valid}: ${decoder.error}`,
        );
      }
    }
    if (valid < bytes.length) {
      this.#host.log(
        "warning",
        `!!! Warning: short read while loading the append only file ${path}: ` +
          `the last ${bytes.length - valid} bytes are an incomplete command ` +
          `(a crash while writing?). They are dropped and the rest is loaded.`,
      );
      await Deno.truncate(path, valid);
    }
    this.aofBaseSize = this.aofCurrentSize = valid;
  }

  // --- snapshots ---------------------------------------------------------

  /** SAVE: writes a snapshot now, blocking until it is on disk. */
  saveSync(): void {
    if (this.#bgsave !== null) {
      throw new Error("Background save already in progress");
    }
    if (this.#rewrite !== null) {
      throw new Error("Background AOF rewrite in progress");
    }
    const store = this.#host.store;
    const dir = this.#config.dir;
    const tmp = tempName(dir, "save") + ".json";
    const snap = store.snapshot();
    const dirtyAtStart = store.dirty;
    try {
      const parts: string[] = [header(snap.time)];
      let count = 0;
      let chunk;
      while ((chunk = snap.next(ENTRIES_PER_CHUNK)).length > 0) {
        parts.push(serializeEntries(chunk, count === 0));
        count += chunk.length;
      }
      parts.push(trailer(count));
      Deno.writeTextFileSync(tmp, parts.join(""));
      syncPathSync(tmp);
      Deno.renameSync(tmp, this.snapshotPath);
      syncPathSync(dir);
      this.#saved(dirtyAtStart);
      this.#host.log("notice", `DB saved on disk (${count} keys)`);
    } catch (e) {
      try {
        Deno.removeSync(tmp);
      } catch {
        // not created
      }
      this.#host.log("warning", `Failed saving the DB: ${message(e)}`);
      throw e;
    } finally {
      snap.close();
    }
  }

  /** A snapshot taken when `dirty` was `dirtyAtStart` is on disk. */
  #saved(dirtyAtStart: number): void {
    this.#host.store.dirty -= dirtyAtStart;
    this.lastSave = Date.now();
    this.lastBgsaveStatus = "ok";
  }

  /**
   * BGSAVE: starts writing a snapshot in the background; the server goes on
   * answering. Returns false when one is already running (or a rewrite is,
   * in which case it is scheduled if `schedule`).
   */
  bgsave(schedule = false): "started" | "in-progress" | "scheduled" | "busy" {
    if (this.#bgsave !== null) return "in-progress";
    if (this.#rewrite !== null) {
      if (!schedule) return "busy";
      this.#bgsaveScheduled = true;
      return "scheduled";
    }
    this.#startBgsave();
    return "started";
  }

  #startBgsave(): void {
    this.#bgsaveStarted = Date.now();
    this.#lastBgsaveTry = Date.now();
    this.#cancelBgsave = false;
    this.#host.log("notice", "Background saving started");
    this.#bgsave = this.#bgsaveJob().finally(() => {
      this.#bgsave = null;
    });
  }

  async #bgsaveJob(): Promise<void> {
    const store = this.#host.store;
    const dir = this.#config.dir;
    const tmp = tempName(dir, "bgsave") + ".json";
    const snap = store.snapshot();
    const dirtyAtStart = store.dirty;
    let count = 0;
    let started = false;
    try {
      const stream = new ReadableStream<string>({
        pull: (controller) => {
          if (this.#cancelBgsave) {
            controller.error(new Error("cancelled"));
            return;
          }
          if (!started) {
            started = true;
            controller.enqueue(header(snap.time));
            return;
          }
          const chunk = snap.next(ENTRIES_PER_CHUNK);
          if (chunk.length === 0) {
            controller.enqueue(trailer(count));
            controller.close();
            return;
          }
          controller.enqueue(serializeEntries(chunk, count === 0));
          count += chunk.length;
        },
      });
      await Deno.writeTextFile(tmp, stream);
      await syncPath(tmp);
      await Deno.rename(tmp, this.snapshotPath);
      await syncPath(dir);
      this.#saved(dirtyAtStart);
      this.lastBgsaveSeconds = Math.round(
        (Date.now() - this.#bgsaveStarted) / 1000,
      );
      this.#host.log(
        "notice",
        `Background saving terminated with success (${count} keys)`,
      );
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      if (this.#cancelBgsave) {
        this.#host.log("notice", "Background saving cancelled");
        return;
      }
      this.lastBgsaveStatus = "err";
      this.lastBgsaveError = message(e);
      this.lastBgsaveSeconds = Math.round(
        (Date.now() - this.#bgsaveStarted) / 1000,
      );
      this.#host.log(
        "warning",
        `Background saving error: ${message(e)} (writing ${tmp})`,
      );
    } finally {
      snap.close();
    }
  }

  /** Waits for a running background save (for tests and shutdown). */
  async waitForBgsave(): Promise<void> {
    await this.#bgsave;
  }

  // --- the append-only log -------------------------------------------------

  async #openAof(create: boolean): Promise<void> {
    if (create) {
      // No log yet: start one from the data we have (loaded from the
      // snapshot, or empty), before accepting any write.
      await this.#writeRewrite(this.aofPath, false);
    }
    this.#aof = await Deno.open(this.aofPath, { append: true, create: true });
    const size = (await this.#aof.stat()).size;
    this.aofCurrentSize = size;
    if (create || this.aofBaseSize === 0) this.aofBaseSize = size;
  }

  /**
   * Logs write commands (after they ran, before their replies go out).
   * Commands with relative times are logged with absolute ones by their
   * handlers, so a replay never brings expired data back.
   */
  feed(commands: string[][]): void {
    if (this.#aof === null || this.loading) return;
    encodeCommands(this.#aofBuf, commands);
    if (this.#rewriteBuf !== null) encodeCommands(this.#rewriteBuf, commands);
    this.fedSeq += commands.length;
  }

  /**
   * Writes what was logged so far to the file (and fsyncs it with
   * `appendfsync always`); resolves when that is done. The server calls it
   * before sending the replies of a batch that wrote. Commits that arrive
   * while a write is under way share the next one (group commit).
   */
  commit(): Promise<void> | undefined {
    if (this.#aof === null) return undefined;
    if (this.#aofBuf.length === 0) {
      return this.#drainsInFlight === 0 ? undefined : this.#aofChain;
    }
    if (this.#config.appendfsync !== "always" && this.#drainsInFlight === 0) {
      // A write to the page cache is quick: do it now, as Redis does before
      // replying, and skip a round trip through the event loop.
      this.#writeNow();
      return undefined;
    }
    if (this.#pendingDrain !== null) return this.#pendingDrain;
    this.#drainsInFlight++;
    const drain = this.#aofChain.then(() => {
      this.#pendingDrain = null;
      return this.#drain();
    }).finally(() => this.#drainsInFlight--);
    this.#pendingDrain = drain;
    // Later commits wait for this one but do not inherit its failure.
    this.#aofChain = drain.catch(() => {});
    return drain;
  }
  #pendingDrain: Promise<void> | null = null;
  #drainsInFlight = 0;

  #writeNow(): void {
    const file = this.#aof!;
    const bytes = this.#aofBuf.bytes();
    try {
      writeAllSync(file, bytes);
      this.aofCurrentSize += bytes.length;
      this.#aofDirty = true;
      this.writtenSeq = this.fedSeq;
      this.aofLastWriteStatus = "ok";
    } catch (e) {
      this.aofLastWriteStatus = "err";
      this.#aofError = message(e);
      this.#host.log("warning", `Error writing to the AOF file: ${message(e)}`);
      throw e;
    } finally {
      this.#aofBuf.reset();
    }
  }

  async #drain(): Promise<void> {
    const file = this.#aof;
    if (file === null || this.#aofBuf.length === 0) return;
    const bytes = this.#aofBuf.bytes().slice();
    this.#aofBuf.reset();
    const seq = this.fedSeq;
    try {
      await writeAll(file, bytes);
      this.aofCurrentSize += bytes.length;
      if (this.#config.appendfsync === "always") await file.syncData();
      else this.#aofDirty = true;
      this.writtenSeq = seq;
      if (this.aofLastWriteStatus === "err") {
        this.#host.log(
          "notice",
          "AOF write error looks solved, writes are accepted again.",
        );
      }
      this.aofLastWriteStatus = "ok";
    } catch (e) {
      // A rewrite switched files meanwhile: these commands are in the new
      // file already.
      if (file !== this.#aof) return;
      this.aofLastWriteStatus = "err";
      this.#aofError = message(e);
      this.#host.log("warning", `Error writing to the AOF file: ${message(e)}`);
      throw e;
    }
  }

  /** Flushes and fsyncs the log now, blocking (shutdown). */
  flushSync(): void {
    if (this.#aof === null) return;
    writeAllSync(this.#aof, this.#aofBuf.bytes());
    this.#aofBuf.reset();
    this.#aof.syncDataSync();
  }

  /** BGREWRITEAOF: compacts the log to the current data in the
   * background; writes during the rewrite are kept. */
  bgrewriteaof(): "started" | "in-progress" | "scheduled" {
    if (this.#rewrite !== null) return "in-progress";
    if (this.#bgsave !== null) {
      this.#rewriteScheduled = true;
      return "scheduled";
    }
    this.#startRewrite();
    return "started";
  }

  #startRewrite(): void {
    this.#rewriteScheduled = false;
    this.#rewriteStarted = Date.now();
    this.#cancelRewrite = false;
    this.#host.log("notice", "Background append only file rewriting started");
    this.#rewrite = this.#rewriteJob().finally(() => {
      this.#rewrite = null;
    });
  }

  /** Writes the current data as commands to `path` (through a temporary
   * file); with `live`, also what is logged meanwhile, then switches the
   * log over to the new file. */
  async #writeRewrite(path: string, live: boolean): Promise<void> {
    const store = this.#host.store;
    const dir = this.#config.dir;
    const tmp = tempName(dir, "rewriteaof") + ".aof";
    const snap = store.snapshot();
    let file: Deno.FsFile | null = null;
    if (live) this.#rewriteBuf = new ReplyWriter(64 * 1024);
    try {
      file = await Deno.open(tmp, {
        write: true,
        create: true,
        truncate: true,
      });
      const w = new ReplyWriter(256 * 1024);
      let chunk;
      while ((chunk = snap.next(ENTRIES_PER_CHUNK)).length > 0) {
        if (live && this.#cancelRewrite) throw new Error("cancelled");
        for (const [k, v, at] of chunk) {
          if (typeof v !== "string") {
            for (const argv of v.rewrite(k, CONTAINER_BATCH)) {
              w.array(argv.length);
              for (const a of argv) w.bulk(a);
            }
            if (at !== undefined) {
              w.array(3);
              w.bulk("PEXPIREAT");
              w.bulk(k);
              w.bulk(String(at));
            }
          } else if (at === undefined) {
            w.array(3);
            w.bulk("SET");
            w.bulk(k);
            w.bulk(v);
          } else {
            w.array(5);
            w.bulk("SET");
            w.bulk(k);
            w.bulk(v);
            w.bulk("PXAT");
            w.bulk(String(at));
          }
        }
        await writeAll(file, w.bytes());
        w.reset();
      }
      snap.close();
      if (live) {
        // Catch up with what was logged meanwhile.
        while (this.#rewriteBuf!.length > 0) {
          if (this.#cancelRewrite) throw new Error("cancelled");
          const bytes = this.#rewriteBuf!.bytes().slice();
          this.#rewriteBuf!.reset();
          await writeAll(file, bytes);
        }
      }
      await file.sync();
      if (live && this.#rewriteBuf!.length > 0) {
        // The last few commands, written without yielding.
        writeAllSync(file, this.#rewriteBuf!.bytes());
        file.syncSync();
        this.#rewriteBuf!.reset();
      }
      // From here to the end: no await, so no command slips between.
      file.close();
      file = null;
      Deno.renameSync(tmp, path);
      syncPathSync(dir);
      if (live) {
        const old = this.#aof;
        this.#aof = Deno.openSync(path, { append: true });
        this.#aofBuf.reset(); // those commands are in the new file already
        this.writtenSeq = this.fedSeq;
        this.#aofDirty = false;
        this.#rewriteBuf = null;
        // Close the old file once writes under way on it have finished.
        this.#aofChain.finally(() => old?.close());
      }
      const size = Deno.statSync(path).size;
      this.aofBaseSize = this.aofCurrentSize = size;
    } catch (e) {
      snap.close();
      file?.close();
      this.#rewriteBuf = null;
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  }

  async #rewriteJob(): Promise<void> {
    try {
      await this.#writeRewrite(this.aofPath, true);
      this.lastRewriteStatus = "ok";
      this.#host.log(
        "notice",
        `Background AOF rewrite finished successfully (${this.aofBaseSize} bytes)`,
      );
    } catch (e) {
      if (this.#cancelRewrite) {
        this.#host.log("notice", "Background AOF rewrite cancelled");
        return;
      }
      this.lastRewriteStatus = "err";
      this.#host.log("warning", `Background AOF rewrite failed: ${message(e)}`);
    } finally {
      this.lastRewriteSeconds = Math.round(
        (Date.now() - this.#rewriteStarted) / 1000,
      );
    }
  }

  /** Waits for a running log rewrite (for tests and shutdown). */
  async waitForRewrite(): Promise<void> {
    await this.#rewrite;
  }

  /** Turns the log on (creating it from the current data) or off. */
  async setAppendOnly(on: boolean): Promise<void> {
    if (on && this.#aof === null) {
      await this.#rewrite;
      await this.#bgsave;
      await this.#writeRewrite(this.aofPath, false);
      this.#aof = await Deno.open(this.aofPath, { append: true });
      this.#host.log("notice", "Append only file enabled");
    } else if (!on && this.#aof !== null) {
      await Promise.resolve(this.commit()).catch(() => {});
      this.#aof.close();
      this.#aof = null;
      this.#host.log("notice", "Append only file disabled");
    }
  }

  // --- background duties -----------------------------------------------

  /** Called by the server `hz` times a second: the save policy, the
   * once-a-second fsync, automatic and scheduled rewrites. */
  cron(): void {
    const c = this.#config;
    const now = Date.now();
    if (this.#bgsave === null && this.#rewrite === null) {
      if (this.#bgsaveScheduled) {
        this.#bgsaveScheduled = false;
        this.#startBgsave();
      } else if (this.#rewriteScheduled) {
        this.#startRewrite();
      } else {
        const dirty = this.#host.store.dirty;
        const retryOk = this.lastBgsaveStatus === "ok" ||
          now - this.#lastBgsaveTry > 5000;
        for (const [seconds, changes] of c.save) {
          if (
            dirty >= changes && now - this.lastSave > seconds * 1000 && retryOk
          ) {
            this.#host.log(
              "notice",
              `${changes} changes in ${seconds} seconds. Saving...`,
            );
            this.#startBgsave();
            break;
          }
        }
        if (
          this.#bgsave === null && this.#aof !== null &&
          c.autoAofRewritePercentage > 0 &&
          this.aofCurrentSize >= c.autoAofRewriteMinSize
        ) {
          const base = Math.max(1, this.aofBaseSize);
          const growth = ((this.aofCurrentSize - base) * 100) / base;
          if (growth >= c.autoAofRewritePercentage) {
            this.#host.log(
              "notice",
              `Starting automatic rewriting of AOF on ${
                Math.round(growth)
              }% growth`,
            );
            this.#startRewrite();
          }
        }
      }
    }
    if (
      this.#aof !== null && c.appendfsync === "everysec" && this.#aofDirty &&
      !this.#fsyncing && now - this.#lastFsync >= 1000
    ) {
      this.#fsyncing = true;
      this.#aofDirty = false;
      const file = this.#aof;
      this.#aofChain = this.#aofChain.then(() => file.syncData()).catch((e) => {
        this.#host.log("warning", `fsync of the AOF failed: ${message(e)}`);
      }).finally(() => {
        this.#fsyncing = false;
        this.#lastFsync = Date.now();
      });
    }
  }

  /**
   * Stops a running background save and log rewrite, as Redis stops its
   * child before a final save, and waits until they are gone (their
   * temporary files removed). Writes are in the log already, so stopping a
   * rewrite loses nothing.
   */
  async stopBackgroundJobs(): Promise<void> {
    this.#bgsaveScheduled = this.#rewriteScheduled = false;
    if (this.#bgsave !== null) {
      this.#host.log("notice", "Stopping the background save for shutdown");
      this.#cancelBgsave = true;
      await this.#bgsave;
    }
    if (this.#rewrite !== null) {
      this.#host.log("notice", "Stopping the AOF rewrite for shutdown");
      this.#cancelRewrite = true;
      await this.#rewrite;
    }
  }

  /**
   * Before exiting: flushes and fsyncs the log, and writes a snapshot when
   * `save` (a running background save or rewrite is stopped first).
   * Returns false when the snapshot could not be written.
   */
  async shutdown(save: boolean): Promise<boolean> {
    await this.stopBackgroundJobs();
    try {
      await this.#aofChain;
      this.flushSync();
    } catch (e) {
      this.#host.log(
        "warning",
        `Error flushing the AOF on shutdown: ${message(e)}`,
      );
    }
    let ok = true;
    if (save) {
      this.#host.log("notice", "Saving the final snapshot before exiting.");
      try {
        this.saveSync();
      } catch {
        ok = false;
      }
    }
    this.#aof?.close();
    this.#aof = null;
    return ok;
  }

  /** The fields of INFO persistence. */
  info(): [string, string | number][] {
    const now = Date.now();
    return [
      ["loading", this.loading ? 1 : 0],
      ["async_loading", 0],
      ["rdb_changes_since_last_save", this.#host.store.dirty],
      ["rdb_bgsave_in_progress", this.#bgsave !== null ? 1 : 0],
      ["rdb_last_save_time", Math.floor(this.lastSave / 1000)],
      ["rdb_last_bgsave_status", this.lastBgsaveStatus],
      ["rdb_last_bgsave_time_sec", this.lastBgsaveSeconds],
      [
        "rdb_current_bgsave_time_sec",
        this.#bgsave !== null
          ? Math.round((now - this.#bgsaveStarted) / 1000)
          : -1,
      ],
      ["aof_enabled", this.#aof !== null ? 1 : 0],
      ["aof_rewrite_in_progress", this.#rewrite !== null ? 1 : 0],
      ["aof_rewrite_scheduled", this.#rewriteScheduled ? 1 : 0],
      ["aof_last_rewrite_time_sec", this.lastRewriteSeconds],
      [
        "aof_current_rewrite_time_sec",
        this.#rewrite !== null
          ? Math.round((now - this.#rewriteStarted) / 1000)
          : -1,
      ],
      ["aof_last_bgrewrite_status", this.lastRewriteStatus],
      ["aof_last_write_status", this.aofLastWriteStatus],
      ...(this.#aof !== null
        ? [
          ["aof_current_size", this.aofCurrentSize],
          ["aof_base_size", this.aofBaseSize],
        ] as [string, number][]
        : []),
    ];
  }
}

/** For tests: the entries a snapshot file holds, decoded. */
export async function readSnapshotFile(
  path: string,
): Promise<[string, string, number?][]> {
  const doc = JSON.parse(await Deno.readTextFile(path));
  return (doc.entries as unknown[][]).map((e) => {
    const out: [string, string, number?] = [
      decodeString(e[0])!,
      decodeString(e[1])!,
    ];
    if (e.length > 2) out.push(e[2] as number);
    return out;
  });
}
