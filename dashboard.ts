/**
 * The web dashboard: a small JSON API over the server's store and command
 * table, plus the page in `web/`, served with `Deno.serve` in the server's
 * process (`--http-port`).
 *
 * Security: with `--requirepass` the page asks for the password and keeps
 * a session in an HttpOnly, SameSite=Strict cookie checked on every API
 * call; without a password it serves only when bound to loopback. Requests
 * that change state are POST, PUT or DELETE with JSON bodies and must carry
 * an Origin header naming this very server.
 *
 * @module
 */

import { sameSecret } from "./_secret.ts";
import { ReplyDecoder, splitArgs } from "./protocol.ts";
import { binaryToBytes, textToBinary } from "./_bytes.ts";
import { formatTTY } from "./_reply_format.ts";
import { globMatch } from "./_glob.ts";
import { execute, type Session } from "./commands.ts";
import { isLoopback, type Server } from "./server.ts";
import { VERSION } from "./version.ts";

const SESSION_COOKIE = "kv_session";
const SESSION_IDLE_MS = 24 * 60 * 60 * 1000;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

const STATIC: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/app.js": "app.js",
  "/style.css": "style.css",
};
const ENDPOINTS = new Set([
  "/api/session",
  "/api/login",
  "/api/logout",
  "/api/stats",
  "/api/events",
  "/api/keys",
  "/api/key",
  "/api/command",
]);
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** A key or value as the page sees it: UTF-8 text when it is, and always
 * the bytes in hex and base64 (the id the API takes back). */
export interface Bytes {
  /** base64 of the bytes: how the API names a key. */
  id: string;
  /** The text, or null when the bytes are not UTF-8. */
  text: string | null;
  /** The bytes in hex. */
  hex: string;
}

function describe(s: string): Bytes {
  const bytes = binaryToBytes(s);
  let text: string | null;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = null;
  }
  let hex = "";
  for (const b of bytes.subarray(0, 4096)) {
    hex += b.toString(16).padStart(2, "0");
  }
  return { id: btoa(s), text, hex };
}

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
  #session: Session | null = null;
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
    this.#sessions.set(token, Date.now());
    return true;
  }

  /** State-changing requests must come from a page of this very server. */
  #sameOrigin(req: Request): boolean {
    const origin = req.headers.get("origin");
    const host = req.headers.get("host");
    if (origin === null || host === null) return false;
    try {
      const o = new URL(origin);
      return o.host === host &&
        (o.protocol === "http:" || o.protocol === "https:");
    } catch {
      return false;
    }
  }

  async #body(req: Request): Promise<Record<string, unknown> | Response> {
    if (!(req.headers.get("content-type") ?? "").includes("application/json")) {
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

  /** Answers one HTTP request. */
  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname;
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
    if (changes && !this.#sameOrigin(req)) {
      return problem(
        403,
        "cross-origin request refused (Origin must be this server)",
      );
    }
    try {
      if (path === "/api/session") return this.#sessionInfo(req);
      if (path === "/api/login" && req.method === "POST") {
        return await this.#login(req);
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
        case "GET /api/keys":
          return this.#keys(url);
        case "GET /api/key":
          return this.#key(url);
        case "PUT /api/key":
          return await this.#putKey(req);
        case "DELETE /api/key":
          return await this.#deleteKey(url);
        case "POST /api/command":
          return await this.#command(req);
      }
      return ENDPOINTS.has(path)
        ? problem(405, `${req.method} is not allowed here`)
        : problem(404, "no such endpoint");
    } catch (e) {
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
    });
  }

  async #login(req: Request): Promise<Response> {
    const body = await this.#body(req);
    if (body instanceof Response) return body;
    const required = this.#server.config.requirepass;
    if (required === "") return json({ ok: true });
    if (
      typeof body.password !== "string" || !sameSecret(body.password, required)
    ) {
      this.#server.log("verbose", "Dashboard: failed login");
      return problem(401, "wrong password");
    }
    const token = Array.from(crypto.getRandomValues(new Uint8Array(32)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    this.#sessions.set(token, Date.now());
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
    return {
      opsPerSec: s.opsPerSec,
      ...(history ? { history: s.opsHistory } : {}),
      clients: s.clientCount,
      keys: store.size,
      expires: store.volatileSize,
      memory: { rss: m.rss, used: m.heapUsed + m.external },
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
    };
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
  }

  #keys(url: URL): Response {
    const pattern = url.searchParams.get("pattern") || "*";
    const cursor = Number(url.searchParams.get("cursor") ?? "0");
    const count = Math.min(
      1000,
      Math.max(1, Number(url.searchParams.get("count") ?? "100")),
    );
    if (
      !Number.isSafeInteger(cursor) || cursor < 0 || !Number.isFinite(count)
    ) {
      return problem(400, "cursor and count must be whole numbers");
    }
    const store = this.#server.store;
    const match = textToBinary(pattern);
    const keys: Record<string, unknown>[] = [];
    // Scan until the page is full (or the end): a sparse pattern should
    // not show empty pages.
    let next = cursor;
    let rounds = 0;
    do {
      const r = store.scan(
        next,
        count,
        match === "*" ? undefined : (k) => globMatch(match, k),
      );
      for (const k of r.keys) keys.push(this.#keyInfo(k));
      next = r.cursor;
    } while (next !== 0 && keys.length < count && ++rounds < 50);
    return json({ cursor: next, keys });
  }

  #keyInfo(key: string): Record<string, unknown> {
    const store = this.#server.store;
    const value = store.get(key);
    const at = store.expiryOf(key);
    return {
      key: describe(key),
      type: value === undefined ? "none" : "string",
      size: value?.length ?? 0,
      ttl: at === undefined
        ? -1
        : Math.max(0, Math.ceil((at - store.clock()) / 1000)),
    };
  }

  #key(url: URL): Response {
    const key = keyFromId(url.searchParams.get("id"));
    if (key === undefined) return problem(400, "id must be a key's base64");
    const value = this.#server.store.get(key);
    if (value === undefined) return problem(404, "no such key");
    return json({ ...this.#keyInfo(key), value: describe(value) });
  }

  /** Runs a command as a client would, so writes are logged and counted. */
  async #run(argv: string[]): Promise<{ value: unknown; error?: string }> {
    const s = this.#dashboardSession();
    s.out.reset();
    execute(this.#server.commands, s, argv);
    this.#server.stats.commandsProcessed++;
    const pending = this.#server.persistence.commit();
    if (pending !== undefined) await pending;
    const decoder = new ReplyDecoder({ bulk: "bytes" });
    decoder.feed(s.out.bytes());
    const value = decoder.next()?.value ?? null;
    if (value instanceof Error) return { value, error: value.message };
    return { value };
  }

  #dashboardSession(): Session {
    return this.#session ??= this.#server.internalSession("dashboard");
  }

  async #putKey(req: Request): Promise<Response> {
    const body = await this.#body(req);
    if (body instanceof Response) return body;
    const key = body.id !== undefined
      ? keyFromId(body.id)
      : typeof body.key === "string" && body.key !== ""
      ? textToBinary(body.key)
      : undefined;
    if (key === undefined) {
      return problem(400, "give the key as id (base64) or key (text)");
    }
    if (typeof body.value !== "string") {
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
    const argv = ["SET", key, textToBinary(body.value)];
    if (typeof ttl === "number") argv.push("EX", String(ttl));
    else if (ttl === undefined) argv.push("KEEPTTL");
    const r = await this.#run(argv);
    if (r.error) return problem(409, r.error);
    return json(this.#keyInfo(key));
  }

  async #deleteKey(url: URL): Promise<Response> {
    const key = keyFromId(url.searchParams.get("id"));
    if (key === undefined) return problem(400, "id must be a key's base64");
    const r = await this.#run(["DEL", key]);
    if (r.error) return problem(409, r.error);
    return json({ deleted: r.value });
  }

  async #command(req: Request): Promise<Response> {
    const body = await this.#body(req);
    if (body instanceof Response) return body;
    if (typeof body.command !== "string") {
      return problem(400, "command must be a string");
    }
    const argv = splitArgs(textToBinary(body.command));
    if (argv === null) {
      return json({ output: "Invalid argument(s)\n", error: true });
    }
    if (argv.length === 0) return json({ output: "", error: false });
    const r = await this.#run(argv);
    return json({
      output: formatTTY(r.value as Parameters<typeof formatTTY>[0]),
      error: r.error !== undefined,
    });
  }
}
