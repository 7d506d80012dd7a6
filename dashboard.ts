/**
 * The web dashboard: a small JSON API over the server's store and command
 * table, plus the page in `web/`, served with `Deno.serve` in the server's
 * process (`--http-port`).
 *
 * Security: with `--requirepass` the page asks for the password and keeps
 * a session in an HttpOnly, SameSite=Strict cookie checked on every API
 * call (failed logins are rate-limited per client address; the session
 * table is capped); without a password it serves only when bound to
 * loopback. Every request must name this server in its Host header
 * (loopback names or the bound address, with the port: no DNS
 * rebinding). Requests that change state are POST, PUT or DELETE with
 * `application/json` bodies and must carry an Origin header naming this
 * very server. Values are sent once (text or hex), large ones in ranges.
 *
 * Databases: every key request and the console take `db` (a query
 * parameter, or a field of the JSON body; 0 by default), a number from 0
 * to `databases` - 1. Reads of a database no client has used yet answer
 * as an empty one without making it. The stats carry the keyspace (keys
 * and expiring keys of each non-empty database, as INFO keyspace).
 *
 * @module
 */

import { sameSecret } from "./_secret.ts";
import { ReplyDecoder, type RespValue, splitArgs } from "./protocol.ts";
import { binaryToBytes, textToBinary } from "./_bytes.ts";
import { formatReplyTo } from "./_reply_format.ts";
import { globMatch } from "./_glob.ts";
import type { Store, ValueType } from "./store.ts";
import { execute, type Session } from "./commands.ts";
import { selectDb } from "./commands/connection.ts";
import { isLoopback, type Server } from "./server.ts";
import { Introspection } from "./commands/introspection.ts";
import { VERSION } from "./version.ts";
import { UpstashApi } from "./_upstash.ts";

const SESSION_COOKIE = "kv_session";
const SESSION_IDLE_MS = 24 * 60 * 60 * 1000;
/** Sessions kept at most (the least recently used go first). */
const MAX_SESSIONS = 256;
/** Failed logins allowed from one address before it has to wait. */
const FREE_FAILURES = 5;
/** The first wait, doubled with every further failure, up to the max. */
const LOCKOUT_MS = 1000;
const LOCKOUT_MAX_MS = 15 * 60 * 1000;
/** Addresses whose failures are remembered at most. */
const MAX_TRACKED = 10_000;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

const STATIC: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/style.css": "style.css",
  "/favicon.ico": "favicon.ico",
};
/** The page's own paths: every other one (and POST /) is the Upstash
 * REST API's (_upstash.ts). */
const PAGE_FILES = new Set(Object.keys(STATIC));
const ENDPOINTS = new Set([
  "/api/session",
  "/api/login",
  "/api/logout",
  "/api/stats",
  "/api/events",
  "/api/keys",
  "/api/key",
  "/api/element",
  "/api/command",
  "/api/monitor",
]);
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  ico: "image/x-icon",
};

/** A key as the page sees it: its UTF-8 text when it is text (else its
 * bytes in hex), and the base64 of its bytes (the id the API takes back). */
export interface Bytes {
  /** base64 of the bytes: how the API names a key. */
  id: string;
  /** The text, or null when the bytes are not UTF-8. */
  text: string | null;
  /** The bytes in hex (only when they are not UTF-8 text). */
  hex?: string;
}

/** A value or an element (field, member, item) as the page sees it, sent
 * once: as `text` when its bytes are UTF-8, else as `hex`. A long one is
 * cut (at a character boundary) and `size` gives its whole length. The
 * API takes elements back in the same shape (or as a plain string). */
export interface Shown {
  /** The text (when the bytes are UTF-8). */
  text?: string;
  /** The bytes in hex (when they are not UTF-8). */
  hex?: string;
  /** The whole length in bytes, when only a part is sent. */
  size?: number;
}

function hexOf(bytes: Uint8Array): string {
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

function decodeText(s: string): string | null {
  try {
    return utf8.decode(binaryToBytes(s));
  } catch {
    return null;
  }
}

function describe(s: string): Bytes {
  const text = decodeText(s);
  if (text !== null) return { id: btoa(s), text };
  return {
    id: btoa(s),
    text,
    hex: hexOf(binaryToBytes(s.length > 4096 ? s.slice(0, 4096) : s)),
  };
}

/** Where to cut `s` at or before `end` without splitting a UTF-8
 * sequence (continuation bytes are 10xxxxxx). */
function utf8Cut(s: string, end: number): number {
  let e = end;
  for (let i = 0; i < 3 && e > 0 && (s.charCodeAt(e) & 0xc0) === 0x80; i++) {
    e--;
  }
  return e === 0 ? end : e;
}

/** One element of a page: at most `cap` bytes of it. */
function show(s: string, cap = ELEMENT_CAP): Shown {
  const part = s.length > cap ? s.slice(0, utf8Cut(s, cap)) : s;
  const text = decodeText(part);
  const r: Shown = text !== null
    ? { text }
    : { hex: hexOf(binaryToBytes(part)) };
  if (part.length < s.length) r.size = s.length;
  return r;
}

/** An element sent by the page: a string (text), `{ text }` or `{ hex }`;
 * undefined when malformed. */
function element(v: unknown): string | undefined {
  if (typeof v === "string") return textToBinary(v);
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.text === "string") return textToBinary(o.text);
  if (typeof o.hex === "string" && /^(?:[0-9a-fA-F]{2})*$/.test(o.hex)) {
    let out = "";
    for (let i = 0; i < o.hex.length; i += 2) {
      out += String.fromCharCode(parseInt(o.hex.slice(i, i + 2), 16));
    }
    return out;
  }
  return undefined;
}

/** A request the API refuses, with its HTTP status. */
class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new ApiError(400, what);
  return v;
}

/** A whole number in a query string or body, within bounds. */
function whole(
  v: unknown,
  fallback: number,
  min: number,
  max: number,
  what: string,
): number {
  if (v === null || v === undefined || v === "") return fallback;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new ApiError(400, `${what} must be a whole number`);
  }
  return Math.min(n, max);
}

const VALUE_TYPES = new Set([
  "string",
  "list",
  "set",
  "zset",
  "hash",
  "stream",
]);
/** Bytes of one element sent in a page (longer ones are cut). */
const ELEMENT_CAP = 16 * 1024;
/** Bytes of a string value sent at once, by default and at most. */
const STRING_PAGE = 64 * 1024;
const STRING_PAGE_MAX = 1024 * 1024;
/** Elements in a page, by default and at most. */
const PAGE = 50;
const PAGE_MAX = 1000;
/** Channels listed in the pub/sub view at most (the busiest first). */
const CHANNELS_SHOWN = 100;
/** MONITOR tails open at once, at most. */
const MAX_TAILS = 8;
/** Characters of lines a tail holds for a page that reads slowly
 * (beyond, lines are dropped and counted), and bytes of events queued
 * for its connection. */
const TAIL_BUFFER = 1024 * 1024;
const TAIL_QUEUE = 256 * 1024;
/** How long one key-list request keeps scanning for matches (ms): a
 * sparse pattern over a large keyspace takes a few requests, each short
 * enough not to hold other clients up. */
const KEYS_SCAN_MS = 25;
/** Characters of one MONITOR line sent at most. */
const TAIL_LINE_MAX = 4096;
/** How often a tail sends what it gathered (ms). */
const TAIL_FLUSH_MS = 100;

function json(
  body: unknown,
  status = 200,
  headers: HeadersInit = {},
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...headers,
    },
  });
}

function problem(status: number, error: string): Response {
  return json({ error }, status);
}

function cookieValue(req: Request, name: string): string | undefined {
  const header = req.headers.get("cookie") ?? "";
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}

/** Decodes a key id (base64 of the bytes); undefined when malformed. */
function keyFromId(id: unknown): string | undefined {
  if (typeof id !== "string" || id === "") return undefined;
  try {
    return atob(id);
  } catch {
    return undefined;
  }
}

/**
 * The dashboard of one {@linkcode Server}: `handle(req)` answers every
 * HTTP request. Started by the server when `httpPort` is set.
 */
export class Dashboard {
  #server: Server;
  #sessions = new Map<string, number>();
  /** Failed logins by client address: how many, and until when the
   * address is refused. */
  #failures = new Map<
    string,
    { count: number; until: number; last: number }
  >();
  /** The session the key API runs its commands in, and the console's
   * (apart, so a MULTI typed in the console does not queue the page's
   * edits). */
  #apiSession: Session | null = null;
  #upstash: UpstashApi | null = null;
  #consoleSession: Session | null = null;
  #assets = new Map<string, Uint8Array>();

  /** Creates the dashboard for a server. */
  constructor(server: Server) {
    this.#server = server;
  }

  /** True when the page may be served at all: a password is set, or the
   * server listens on loopback only. */
  get open(): boolean {
    const c = this.#server.config;
    return c.requirepass !== "" || isLoopback(c.host);
  }

  #authenticated(req: Request): boolean {
    if (this.#server.config.requirepass === "") return true;
    const token = cookieValue(req, SESSION_COOKIE);
    if (token === undefined) return false;
    const seen = this.#sessions.get(token);
    if (seen === undefined || Date.now() - seen > SESSION_IDLE_MS) {
      this.#sessions.delete(token);
      return false;
    }
    // Most recently used last: eviction takes the first.
    this.#sessions.delete(token);
    this.#sessions.set(token, Date.now());
    return true;
  }

  /** The host names this server answers to, with the port: loopback
   * names, the bound address, and (bound to every interface) the
   * machine's addresses and name. Anything else is refused: a page on
   * another domain re-pointed at 127.0.0.1 (DNS rebinding) sends its own
   * name. */
  #hostAllowed(host: string | null): boolean {
    if (host === null) return false;
    const port = this.#server.httpPort;
    const m = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(\d+))?$/.exec(host);
    if (m === null) return false;
    if ((m[2] === undefined ? 80 : Number(m[2])) !== port) return false;
    const name = m[1].toLowerCase().replace(/\.$/, "");
    return this.#hostNames().has(name);
  }

  #hosts: Set<string> | null = null;
  #hostNames(): Set<string> {
    if (this.#hosts !== null) return this.#hosts;
    const names = new Set(["localhost", "127.0.0.1", "[::1]"]);
    const bound = this.#server.config.host.toLowerCase();
    const wildcard = bound === "0.0.0.0" || bound === "::" || bound === "[::]";
    if (!wildcard) {
      names.add(
        bound.includes(":") ? `[${bound.replace(/^\[|\]$/g, "")}]` : bound,
      );
    } else {
      try {
        for (const i of Deno.networkInterfaces()) {
          names.add(i.family === "IPv6" ? `[${i.address}]` : i.address);
        }
        names.add(Deno.hostname().toLowerCase());
      } catch {
        // No permission to list them: loopback names only.
      }
    }
    return this.#hosts = names;
  }

  /** Milliseconds `addr` must still wait before trying a password. */
  #lockedFor(addr: string): number {
    const f = this.#failures.get(addr);
    return f === undefined ? 0 : Math.max(0, f.until - Date.now());
  }

  #failed(addr: string): void {
    const now = Date.now();
    const f = this.#failures.get(addr) ?? { count: 0, until: 0, last: 0 };
    f.count++;
    f.last = now;
    if (f.count >= FREE_FAILURES) {
      f.until = now +
        Math.min(LOCKOUT_MAX_MS, LOCKOUT_MS * 2 ** (f.count - FREE_FAILURES));
    }
    this.#failures.delete(addr);
    this.#failures.set(addr, f);
    // Bounded: forget the oldest (and those idle for long).
    for (const [a, g] of this.#failures) {
      const stale = now - g.last > LOCKOUT_MAX_MS && g.until < now;
      if (this.#failures.size <= MAX_TRACKED && !stale) break;
      this.#failures.delete(a);
    }
  }

  /** State-changing requests must come from a page of this very server. */
  #sameOrigin(req: Request, host: string): boolean {
    const origin = req.headers.get("origin");
    if (origin === null) return false;
    try {
      const o = new URL(origin);
      return o.host === host &&
        (o.protocol === "http:" || o.protocol === "https:");
    } catch {
      return false;
    }
  }

  async #body(req: Request): Promise<Record<string, unknown> | Response> {
    // The media type itself (parameters such as charset allowed): a
    // "text/plain; application/json" form post is not JSON.
    const type = (req.headers.get("content-type") ?? "").split(";")[0].trim()
      .toLowerCase();
    if (type !== "application/json") {
      return problem(415, "send JSON (Content-Type: application/json)");
    }
    try {
      const body = await req.json();
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        return problem(400, "the body must be a JSON object");
      }
      return body as Record<string, unknown>;
    } catch {
      return problem(400, "the body is not valid JSON");
    }
  }

  async #asset(name: string): Promise<Response> {
    let bytes = this.#assets.get(name);
    if (bytes === undefined) {
      // Local files (also inside a `deno compile` binary, which includes
      // web/), or fetched when the module runs from JSR.
      const url = new URL(`./web/${name}`, import.meta.url);
      if (url.protocol === "file:") {
        bytes = await Deno.readFile(url);
      } else {
        const res = await fetch(url);
        if (!res.ok) return new Response("not found", { status: 404 });
        bytes = new Uint8Array(await res.arrayBuffer());
      }
      this.#assets.set(name, bytes);
    }
    return new Response(bytes as BodyInit, {
      headers: {
        "content-type": TYPES[name.split(".").pop()!] ??
          "application/octet-stream",
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        "content-security-policy":
          "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
        "referrer-policy": "no-referrer",
      },
    });
  }

  /**
   * The database a request names: `db` in the query string or in the JSON
   * body (0 when neither gives it), from 0 to `databases` - 1.
   */
  #dbParam(url: URL, body?: Record<string, unknown>): number {
    const n = this.#server.config.databases;
    const parse = (v: unknown): number | undefined => {
      if (v === null || v === undefined || v === "") return undefined;
      const i = typeof v === "number"
        ? v
        : typeof v === "string" && /^\d{1,10}$/.test(v)
        ? Number(v)
        : NaN;
      if (!Number.isInteger(i) || i < 0 || i >= n) {
        throw new ApiError(
          400,
          n === 1
            ? "db must be 0 (the server has one database)"
            : `db must be a database number from 0 to ${n - 1}`,
        );
      }
      return i;
    };
    const q = parse(url.searchParams.get("db"));
    const b = parse(body?.db);
    if (q !== undefined && b !== undefined && q !== b) {
      throw new ApiError(400, "db differs in the query and the body");
    }
    return q ?? b ?? 0;
  }

  /** Database `index` when some client made it already, else undefined
   * (a read of it sees an empty database, and does not make it). */
  #made(index: number): Store | undefined {
    if (index === 0) return this.#server.store;
    for (const [i, store] of this.#server.state.databases) {
      if (i === index) return store;
    }
    return undefined;
  }

  /** Answers one HTTP request (`info` gives the client's address, for
   * the login rate limit). */
  async handle(req: Request, info?: Deno.ServeHandlerInfo): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
    // The Upstash REST API: its own auth, Host and origin rules.
    if (UpstashApi.claims(req.method, path, PAGE_FILES)) {
      this.#upstash ??= new UpstashApi(this.#server);
      return await this.#upstash.handle(
        req,
        (host) => this.#hostAllowed(host),
      );
    }
    // (A browser always sends Host; the URL is built from it anyway.)
    const host = req.headers.get("host") ?? url.host;
    if (!this.#hostAllowed(host)) {
      return problem(
        421,
        "unknown host name: open the dashboard as localhost, 127.0.0.1 or the address the server listens on",
      );
    }
    if (!this.open) {
      return new Response(
        `The dashboard is off: the server listens on ${this.#server.config.host} with no password. ` +
          `Set --requirepass (or listen on 127.0.0.1) to use it.\n`,
        {
          status: 403,
          headers: { "content-type": "text/plain; charset=utf-8" },
        },
      );
    }
    if (req.method === "GET" && STATIC[path]) {
      return await this.#asset(STATIC[path]);
    }
    if (!path.startsWith("/api/")) return problem(404, "not found");
    const changes = req.method !== "GET" && req.method !== "HEAD";
    if (changes && !this.#sameOrigin(req, host)) {
      return problem(
        403,
        "cross-origin request refused (Origin must be this server)",
      );
    }
    try {
      if (path === "/api/session") return this.#sessionInfo(req);
      if (path === "/api/login" && req.method === "POST") {
        return await this.#login(req, info);
      }
      if (path === "/api/logout" && req.method === "POST") {
        return this.#logout(req);
      }
      if (!this.#authenticated(req)) return problem(401, "log in first");
      switch (`${req.method} ${path}`) {
        case "GET /api/stats":
          return json(this.stats(true));
        case "GET /api/events":
          return this.#events();
        case "GET /api/monitor":
          return this.#monitor(req, host);
        case "GET /api/keys":
          return this.#keys(url);
        case "GET /api/key":
          return this.#key(url);
        case "PUT /api/key":
          return await this.#putKey(req, url);
        case "DELETE /api/key":
          return await this.#deleteKey(url);
        case "POST /api/element":
          return await this.#element(req, url);
        case "POST /api/command":
          return await this.#command(req, url);
      }
      return ENDPOINTS.has(path)
        ? problem(405, `${req.method} is not allowed here`)
        : problem(404, "no such endpoint");
    } catch (e) {
      if (e instanceof ApiError) return problem(e.status, e.message);
      this.#server.log(
        "warning",
        `Dashboard error on ${req.method} ${path}: ${e}`,
      );
      return problem(500, "internal error");
    }
  }

  #sessionInfo(req: Request): Response {
    const c = this.#server.config;
    return json({
      passwordRequired: c.requirepass !== "",
      authenticated: this.#authenticated(req),
      loopbackOnly: c.requirepass === "",
      host: c.host,
      port: this.#server.port,
      version: VERSION.kv,
      databases: c.databases,
    });
  }

  async #login(
    req: Request,
    info?: Deno.ServeHandlerInfo,
  ): Promise<Response> {
    const body = await this.#body(req);
    if (body instanceof Response) return body;
    const required = this.#server.config.requirepass;
    if (required === "") return json({ ok: true });
    const remote = info?.remoteAddr as Deno.NetAddr | undefined;
    const addr = remote?.hostname ?? "unknown";
    const wait = this.#lockedFor(addr);
    if (wait > 0) {
      return json(
        { error: "too many failed logins: try again later" },
        429,
        { "retry-after": String(Math.ceil(wait / 1000)) },
      );
    }
    if (
      typeof body.password !== "string" ||
      !sameSecret(textToBinary(body.password), required)
    ) {
      this.#failed(addr);
      this.#server.log("verbose", `Dashboard: failed login from ${addr}`);
      return problem(401, "wrong password");
    }
    this.#failures.delete(addr);
    const token = Array.from(crypto.getRandomValues(new Uint8Array(32)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    this.#sessions.set(token, Date.now());
    for (const old of this.#sessions.keys()) {
      if (this.#sessions.size <= MAX_SESSIONS) break;
      this.#sessions.delete(old);
    }
    return json({ ok: true }, 200, {
      "set-cookie":
        `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=86400`,
    });
  }

  #logout(req: Request): Response {
    const token = cookieValue(req, SESSION_COOKIE);
    if (token !== undefined) this.#sessions.delete(token);
    return json({ ok: true }, 200, {
      "set-cookie":
        `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`,
    });
  }

  /** The numbers the page shows (with the ops/sec history when asked). */
  stats(history = false): Record<string, unknown> {
    const s = this.#server;
    const store = s.store;
    const p = s.persistence;
    const m = Deno.memoryUsage();
    const { hits, misses, expired } = store.stats;
    // As INFO keyspace: the databases that hold keys.
    const keyspace = [];
    let keys = 0;
    let expires = 0;
    for (const [db, d] of s.state.databases) {
      if (d.size === 0) continue;
      keyspace.push({ db, keys: d.size, expires: d.volatileSize });
      keys += d.size;
      expires += d.volatileSize;
    }
    return {
      opsPerSec: s.opsPerSec,
      ...(history ? { history: s.opsHistory } : {}),
      clients: s.clientCount,
      keys, // in every database
      expires,
      databases: s.config.databases,
      keyspace,
      memory: { rss: m.rss, used: store.memory.used }, // as INFO used_memory
      hits,
      misses,
      hitRatio: hits + misses === 0 ? null : hits / (hits + misses),
      expired,
      commands: s.stats.commandsProcessed,
      uptime: Math.floor((Date.now() - s.startedAt) / 1000),
      lastSave: Math.floor(p.lastSave / 1000),
      changesSinceSave: store.dirty,
      bgsaveInProgress: p.bgsaveInProgress,
      lastBgsaveStatus: p.lastBgsaveStatus,
      aofEnabled: p.aofEnabled,
      aofRewriteInProgress: p.rewriteInProgress,
      aofLastWriteStatus: p.aofLastWriteStatus,
      pubsub: this.#pubsub(),
    };
  }

  /** The pub/sub numbers: channels (PUBSUB CHANNELS, shown with their
   * PUBSUB NUMSUB, the busiest first, at most 100), patterns (PUBSUB
   * NUMPAT) and shard channels. */
  #pubsub(): Record<string, unknown> {
    const ps = this.#server.pubsub;
    const names = ps.names("channels");
    const list = names.map((name) => ({
      name,
      subscribers: ps.subscribers("channels", name),
    }));
    list.sort((a, b) =>
      b.subscribers - a.subscribers || (a.name < b.name ? -1 : 1)
    );
    return {
      channels: ps.channelCount,
      patterns: ps.patternCount,
      shardChannels: ps.shardChannelCount,
      list: list.slice(0, CHANNELS_SHOWN).map((c) => ({
        channel: describe(c.name),
        subscribers: c.subscribers,
      })),
    };
  }

  /** The MONITOR feed as server-sent events: `data: {"lines": [...],
   * "dropped": n}` every 100 ms while commands run. Lines wait in a
   * bounded buffer (a slow page loses lines, counted in `dropped`, rather
   * than growing memory); the tail ends when the page closes the stream
   * or the dashboard closes. */
  #monitor(req: Request, host: string): Response {
    // An EventSource of another origin sends its Origin: refused.
    if (req.headers.get("origin") !== null && !this.#sameOrigin(req, host)) {
      return problem(
        403,
        "cross-origin request refused (Origin must be this server)",
      );
    }
    if (this.#tails >= MAX_TAILS) {
      return problem(429, "too many monitor tails open: close one first");
    }
    const intro = Introspection.of(this.#server.state);
    let stop = () => {};
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let pending: string[] = [];
        let held = 0;
        let dropped = 0;
        const untail = intro.tail((line) => {
          const cut = line.length > TAIL_LINE_MAX
            ? `${line.slice(0, TAIL_LINE_MAX)}… (${line.length} characters)`
            : line;
          if (held + cut.length > TAIL_BUFFER) {
            dropped++;
            return;
          }
          held += cut.length;
          pending.push(cut);
        });
        const flush = () => {
          if (pending.length === 0 && dropped === 0) return;
          // The page reads slowly: keep (at most TAIL_BUFFER) lines.
          if ((controller.desiredSize ?? 1) <= 0) return;
          const event = { lines: pending, dropped };
          pending = [];
          held = 0;
          dropped = 0;
          try {
            controller.enqueue(
              encoder.encode(`data: ${JSON.stringify(event)}\n\n`),
            );
          } catch {
            stop();
          }
        };
        const timer = setInterval(flush, TAIL_FLUSH_MS);
        this.#tails++;
        stop = () => {
          clearInterval(timer);
          untail();
          pending = [];
          held = 0;
          if (this.#streams.delete(stop)) this.#tails--;
          try {
            controller.close();
          } catch {
            // closed already
          }
        };
        this.#streams.add(stop);
        controller.enqueue(encoder.encode(": monitoring\n\n"));
      },
      cancel: () => stop(),
    }, new ByteLengthQueuingStrategy({ highWaterMark: TAIL_QUEUE }));
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
      },
    });
  }
  #tails = 0;

  /** MONITOR tails open now (pages watching the command feed). */
  get monitorTails(): number {
    return this.#tails;
  }

  #events(): Response {
    let stop = () => {};
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        const send = () => {
          try {
            controller.enqueue(
              encoder.encode(`data: ${JSON.stringify(this.stats())}\n\n`),
            );
          } catch {
            stop();
          }
        };
        const timer = setInterval(send, 1000);
        stop = () => {
          clearInterval(timer);
          this.#streams.delete(stop);
          try {
            controller.close();
          } catch {
            // closed already
          }
        };
        this.#streams.add(stop);
        send();
      },
      cancel: () => stop(),
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
      },
    });
  }
  #streams = new Set<() => void>();

  /** Stops live streams (when the server closes). */
  close(): void {
    for (const stop of [...this.#streams]) stop();
    this.#upstash?.close();
  }

  #keys(url: URL): Response {
    const pattern = url.searchParams.get("pattern") || "*";
    const cursor = whole(
      url.searchParams.get("cursor"),
      0,
      0,
      Number.MAX_SAFE_INTEGER,
      "cursor",
    );
    const count = whole(url.searchParams.get("count"), 100, 1, 1000, "count");
    const type = url.searchParams.get("type") || null;
    if (type !== null && !VALUE_TYPES.has(type)) {
      return problem(400, `unknown type: ${type}`);
    }
    const store = this.#made(this.#dbParam(url));
    if (store === undefined) {
      return json({ cursor: 0, keys: [], scanned: 0, total: 0 });
    }
    const match = textToBinary(pattern);
    const glob = match === "*" ? undefined : (k: string) => globMatch(match, k);
    // As SCAN ... TYPE: keys of other types are skipped.
    const filter = type === null ? glob : (k: string) => {
      if (glob !== undefined && !glob(k)) return false;
      const v = store.value(k);
      return v !== undefined &&
        (typeof v === "string" ? "string" : v.type) === type;
    };
    const keys: Record<string, unknown>[] = [];
    // Scan until the page is full, the end, or KEYS_SCAN_MS have passed: a
    // sparse pattern should not show empty pages. The page goes on asking
    // (showing `scanned` of `total`) until its page is full or the end.
    const deadline = performance.now() + KEYS_SCAN_MS;
    let next = cursor;
    let scanned = 0;
    do {
      const r = store.scan(next, count, filter);
      scanned += count; // keys visited (fewer at the end)
      for (const k of r.keys) {
        const info = this.#keyInfo(store, k);
        if (info !== null) keys.push(info);
      }
      next = r.cursor;
    } while (
      next !== 0 && keys.length < count && performance.now() < deadline
    );
    return json({ cursor: next, keys, scanned, total: store.size });
  }

  /** Name, type, size (bytes of a string, elements of a container), TTL
   * and encoding of a key; null when it is missing. Counts no hit. */
  #keyInfo(store: Store, key: string): Record<string, unknown> | null {
    const value = store.value(key);
    if (value === undefined) return null;
    const at = store.expiryOf(key);
    const string = typeof value === "string";
    return {
      key: describe(key),
      type: string ? "string" : value.type,
      size: string ? value.length : value.size,
      ...(string ? {} : { encoding: value.encoding(store.limits) }),
      ttl: at === undefined
        ? -1
        : Math.max(0, Math.ceil((at - store.clock()) / 1000)),
    };
  }

  /** A key with one page of its value: a byte range of a string, or a
   * page of a container's elements (`cursor` and `count` choose which). */
  #key(url: URL): Response {
    const key = keyFromId(url.searchParams.get("id"));
    if (key === undefined) return problem(400, "id must be a key's base64");
    const db = this.#dbParam(url);
    const store = this.#made(db);
    const info = store === undefined ? null : this.#keyInfo(store, key);
    if (store === undefined || info === null) {
      return problem(404, "no such key");
    }
    const cursor = url.searchParams.get("cursor");
    const count = url.searchParams.get("count");
    return json({
      ...info,
      ...this.#page(db, store, key, info.type as ValueType, cursor, count),
    });
  }

  #page(
    db: number,
    store: Store,
    key: string,
    type: ValueType,
    cursorParam: string | null,
    countParam: string | null,
  ): Record<string, unknown> {
    const max = Number.MAX_SAFE_INTEGER;
    if (type === "string") {
      // A range of the bytes (as GETRANGE), cut at a character boundary.
      const value = store.value(key) as string;
      const offset = whole(cursorParam, 0, 0, max, "cursor");
      const length = whole(
        countParam,
        STRING_PAGE,
        1,
        STRING_PAGE_MAX,
        "count",
      );
      let end = Math.min(value.length, offset + length);
      if (end < value.length) end = utf8Cut(value, end);
      const part = value.slice(offset, end);
      const text = decodeText(part);
      return {
        value: text !== null ? { text } : { hex: hexOf(binaryToBytes(part)) },
        offset,
        total: value.length,
        next: end < value.length ? end : null,
      };
    }
    const count = whole(countParam, PAGE, 1, PAGE_MAX, "count");
    const k = key;
    switch (type) {
      case "hash":
      case "set": {
        const cursor = cursorParam || "0";
        if (!/^\d{1,20}$/.test(cursor)) {
          throw new ApiError(400, "cursor must be a whole number");
        }
        const [next, flat] = this.#query(db, [
          type === "hash" ? "HSCAN" : "SSCAN",
          k,
          cursor,
          "COUNT",
          String(count),
        ]) as [string, string[]];
        const items = [];
        if (type === "hash") {
          for (let i = 0; i + 1 < flat.length; i += 2) {
            items.push({ field: show(flat[i]), value: show(flat[i + 1]) });
          }
        } else {
          for (const m of flat) items.push({ member: show(m) });
        }
        return { items, cursor, next: next === "0" ? null : next };
      }
      case "list": {
        const start = whole(cursorParam, 0, 0, max, "cursor");
        const flat = this.#query(db, [
          "LRANGE",
          k,
          String(start),
          String(start + count - 1),
        ]) as string[];
        const len = this.#query(db, ["LLEN", k]) as number;
        return {
          items: flat.map((v, i) => ({ index: start + i, value: show(v) })),
          cursor: start,
          next: start + count < len ? start + count : null,
        };
      }
      case "zset": {
        const start = whole(cursorParam, 0, 0, max, "cursor");
        const flat = this.#query(db, [
          "ZRANGE",
          k,
          String(start),
          String(start + count - 1),
          "WITHSCORES",
        ]) as string[];
        const items = [];
        for (let i = 0; i + 1 < flat.length; i += 2) {
          items.push({
            rank: start + i / 2,
            member: show(flat[i]),
            score: flat[i + 1],
          });
        }
        const card = this.#query(db, ["ZCARD", k]) as number;
        return {
          items,
          cursor: start,
          next: start + count < card ? start + count : null,
        };
      }
      case "stream": {
        // Newest first; the next page starts before the last id shown.
        const cursor = cursorParam || null;
        if (cursor !== null && !/^\d{1,20}-\d{1,20}$/.test(cursor)) {
          throw new ApiError(400, "cursor must be a stream id");
        }
        const entries = this.#query(db, [
          "XREVRANGE",
          k,
          cursor === null ? "+" : `(${cursor}`,
          "-",
          "COUNT",
          String(count),
        ]) as [string, string[]][];
        const items = entries.map(([id, flat]) => {
          const fields = [];
          for (let i = 0; i + 1 < flat.length; i += 2) {
            fields.push([show(flat[i]), show(flat[i + 1])]);
          }
          return { id, fields };
        });
        return {
          items,
          cursor,
          next: entries.length === count
            ? entries[entries.length - 1][0]
            : null,
        };
      }
    }
  }

  #decode(bytes: Uint8Array, bulk: "bytes" | "binary"): RespValue {
    const decoder = new ReplyDecoder({ bulk });
    decoder.feed(bytes);
    return decoder.next()?.value ?? null;
  }

  /** Runs a read command for a page, counting no keyspace hit or miss;
   * throws an ApiError (409) when it fails. */
  #query(db: number, argv: string[]): RespValue {
    const s = this.#session(db);
    const stats = this.#server.store.stats;
    const { hits, misses } = stats;
    s.out.reset();
    execute(this.#server.commands, s, argv);
    stats.hits = hits;
    stats.misses = misses;
    const value = this.#decode(s.out.bytes(), "binary");
    if (value instanceof Error) throw new ApiError(409, value.message);
    return value;
  }

  /** Runs a command as a client would, so writes are logged and counted.
   * Synchronous: a few in a row see no other client in between. */
  #exec(
    db: number,
    argv: string[],
    bulk: "bytes" | "binary" = "binary",
    s: Session = this.#session(db),
  ): RespValue {
    s.out.reset();
    execute(this.#server.commands, s, argv);
    this.#server.stats.commandsProcessed++;
    return this.#decode(s.out.bytes(), bulk);
  }

  /** Waits until the writes run so far are on disk (appendfsync always). */
  async #commit(): Promise<void> {
    const pending = this.#server.persistence.commit();
    if (pending !== undefined) await pending;
  }

  /** The key API's session, in database `db` (made when it was not). */
  #session(db: number): Session {
    const s = this.#apiSession ??= this.#server.internalSession("dashboard");
    selectDb(s, db);
    return s;
  }

  async #putKey(req: Request, url: URL): Promise<Response> {
    const body = await this.#body(req);
    if (body instanceof Response) return body;
    const db = this.#dbParam(url, body);
    const key = body.id !== undefined
      ? keyFromId(body.id)
      : typeof body.key === "string" && body.key !== ""
      ? textToBinary(body.key)
      : undefined;
    if (key === undefined) {
      return problem(400, "give the key as id (base64) or key (text)");
    }
    const value = element(body.value);
    if (value === undefined) {
      return problem(400, "value must be a string");
    }
    const ttl = body.ttl;
    if (
      ttl !== undefined && ttl !== null &&
      !(typeof ttl === "number" && Number.isInteger(ttl) && ttl > 0)
    ) {
      return problem(
        400,
        "ttl must be a positive whole number of seconds, or null",
      );
    }
    // A key named by the page (a new one) that exists already is replaced
    // only when the page says so (after asking its user).
    const store = this.#server.db(db);
    const existing = body.id === undefined ? this.#keyInfo(store, key) : null;
    if (existing !== null && body.overwrite !== true) {
      return json(
        {
          error: "the key exists already",
          exists: true,
          key: existing,
        },
        409,
      );
    }
    const argv = ["SET", key, value];
    if (typeof ttl === "number") argv.push("EX", String(ttl));
    else if (ttl === undefined) argv.push("KEEPTTL");
    const r = this.#exec(db, argv);
    await this.#commit();
    if (r instanceof Error) return problem(409, r.message);
    return json(this.#keyInfo(store, key));
  }

  async #deleteKey(url: URL): Promise<Response> {
    const key = keyFromId(url.searchParams.get("id"));
    if (key === undefined) return problem(400, "id must be a key's base64");
    const db = this.#dbParam(url);
    // Nothing to delete in a database no client has made.
    if (this.#made(db) === undefined) return json({ deleted: 0 });
    const r = this.#exec(db, ["DEL", key]);
    await this.#commit();
    if (r instanceof Error) return problem(409, r.message);
    return json({ deleted: r });
  }

  /**
   * Changes one element of a container, or creates a container key with
   * its first element (`key` and `create: true` instead of `id`). The
   * action names the command: hset/hdel (field, value), lpush/rpush
   * (value), lset (index, value), lrem (index and the value expected
   * there), sadd/srem (member), zadd (member, score), zrem (member),
   * xadd (fields: [[field, value], ...], entry id or "*"), xdel (entry),
   * and expire (ttl in seconds, or null to persist).
   */
  async #element(req: Request, url: URL): Promise<Response> {
    const body = await this.#body(req);
    if (body instanceof Response) return body;
    const db = this.#dbParam(url, body);
    const create = body.create === true;
    const key = body.id !== undefined
      ? keyFromId(body.id)
      : typeof body.key === "string" && body.key !== ""
      ? textToBinary(body.key)
      : undefined;
    if (key === undefined) {
      return problem(400, "give the key as id (base64) or key (text)");
    }
    const store = this.#server.db(db);
    const field = (name: string) =>
      need(element(body[name]), `${name} must be a string, {text} or {hex}`);
    const argvs: string[][] = [];
    switch (body.action) {
      case "hset":
        argvs.push(["HSET", key, field("field"), field("value")]);
        break;
      case "hdel":
        argvs.push(["HDEL", key, field("field")]);
        break;
      case "lpush":
      case "rpush":
        argvs.push([body.action.toUpperCase(), key, field("value")]);
        break;
      case "lset":
      case "lrem": {
        const index = whole(
          body.index,
          NaN,
          0,
          Number.MAX_SAFE_INTEGER,
          "index",
        );
        if (Number.isNaN(index)) return problem(400, "index is required");
        const value = field("value");
        if (body.action === "lset") {
          argvs.push(["LSET", key, String(index), value]);
          break;
        }
        // Lists have no removal by index: the item is swapped for a
        // unique marker removed at once (in the same turn, so no other
        // client sees it), when it still holds the value the page saw.
        const current = this.#query(db, ["LINDEX", key, String(index)]);
        if (current !== value) {
          return problem(409, "the list changed: reload the page");
        }
        const marker = `\x00kv-dashboard-${crypto.randomUUID()}`;
        argvs.push(["LSET", key, String(index), marker]);
        argvs.push(["LREM", key, "1", marker]);
        break;
      }
      case "sadd":
      case "srem":
        argvs.push([body.action.toUpperCase(), key, field("member")]);
        break;
      case "zadd": {
        const score = typeof body.score === "number"
          ? String(body.score)
          : body.score;
        if (typeof score !== "string") {
          return problem(400, "score must be a number");
        }
        argvs.push(["ZADD", key, score, field("member")]);
        break;
      }
      case "zrem":
        argvs.push(["ZREM", key, field("member")]);
        break;
      case "xadd": {
        const pairs = body.fields;
        if (!Array.isArray(pairs) || pairs.length === 0) {
          return problem(400, "fields must be a list of [field, value]");
        }
        const entry = body.entry === undefined ? "*" : body.entry;
        if (typeof entry !== "string") {
          return problem(400, "entry must be a stream id or *");
        }
        const argv = ["XADD", key, entry];
        for (const p of pairs) {
          if (!Array.isArray(p) || p.length !== 2) {
            return problem(400, "fields must be a list of [field, value]");
          }
          argv.push(
            need(element(p[0]), "a field must be a string"),
            need(element(p[1]), "a value must be a string"),
          );
        }
        argvs.push(argv);
        break;
      }
      case "xdel":
        if (typeof body.entry !== "string") {
          return problem(400, "entry must be a stream id");
        }
        argvs.push(["XDEL", key, body.entry]);
        break;
      case "expire": {
        const ttl = body.ttl;
        if (ttl === null) argvs.push(["PERSIST", key]);
        else if (typeof ttl === "number" && Number.isInteger(ttl) && ttl > 0) {
          argvs.push(["EXPIRE", key, String(ttl)]);
        } else {
          return problem(
            400,
            "ttl must be a positive whole number of seconds, or null",
          );
        }
        break;
      }
      default:
        return problem(400, "unknown action");
    }
    if (create && store.value(key) !== undefined) {
      // Replaced only when the page says so (after asking its user).
      if (body.overwrite !== true) {
        return json(
          {
            error: "the key exists already",
            exists: true,
            key: this.#keyInfo(store, key),
          },
          409,
        );
      }
      argvs.unshift(["DEL", key]);
    }
    let result: RespValue = null;
    for (const argv of argvs) {
      result = this.#exec(db, argv);
      if (result instanceof Error) break;
    }
    await this.#commit();
    if (result instanceof Error) return problem(409, result.message);
    return json({
      result: typeof result === "string" ? show(result) : result,
      key: this.#keyInfo(store, key),
    });
  }

  /**
   * Runs a console command in database `db` (the page's picker), in the
   * console's own session. When the command moved the session to another
   * database (SELECT, RESET, a transaction with SELECT; a script's
   * SELECT does not, as in Redis 7), the reply names it in `db`, and the
   * page's picker follows.
   */
  async #command(req: Request, url: URL): Promise<Response> {
    const body = await this.#body(req);
    if (body instanceof Response) return body;
    const db = this.#dbParam(url, body);
    if (typeof body.command !== "string") {
      return problem(400, "command must be a string");
    }
    const argv = splitArgs(textToBinary(body.command));
    if (argv === null) {
      return json({ output: "Invalid argument(s)\n", error: true });
    }
    if (argv.length === 0) return json({ output: "", error: false });
    const s = this.#consoleSession ??= this.#server.internalSession(
      "dashboard",
    );
    selectDb(s, db);
    const r = this.#exec(db, argv, "bytes", s);
    await this.#commit();
    return json({
      output: formatReplyTo(argv, r as Parameters<typeof formatReplyTo>[1]),
      error: r instanceof Error,
      ...(s.client.db === db ? {} : { db: s.client.db }),
    });
  }
}
