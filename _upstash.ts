/**
 * The Upstash REST API, served by the dashboard's HTTP server
 * (`--http-port`), so HTTP clients written for Upstash Redis (such as the
 * npm package `@upstash/redis`) work unchanged against this server.
 *
 * Endpoints (methods GET, HEAD, POST and PUT; OPTIONS answers CORS
 * preflights):
 * - `POST /` with a JSON array `["SET", "k", "v", "EX", 100]`: one command;
 *   `{"result": ...}`, or `{"error": "ERR ..."}` with status 400.
 * - `POST /pipeline` with an array of commands: `[{"result": ...},
 *   {"error": ...}, ...]` (status 200), run in order, not atomically.
 * - `POST /multi-exec`: the commands as one MULTI/EXEC transaction. A
 *   command refused while queuing (unknown, wrong arity) discards the
 *   whole transaction (status 400, one `{"error"}`); errors of commands
 *   that ran are reported each in its place, as EXEC does.
 * - `/<command>/<arg>/...`: a command in the path (segments
 *   percent-decoded to bytes); a POST body, when not empty, is appended as
 *   the last argument (a value of any bytes), then the query parameters
 *   as `name value` pairs (`?EX=100`; `?NX` adds only `NX`).
 * - `/subscribe/<channel>...`, `/psubscribe/<pattern>...` and `/monitor`:
 *   server-sent events (`data: message,<channel>,<message>`, as Upstash).
 *
 * Replies are RESP2 turned into JSON: bulk and simple strings as strings
 * (bytes that are not UTF-8 replaced by U+FFFD, as Upstash does), integers
 * as numbers, nil as null, arrays as arrays, an error inside an array as
 * its message. With `Upstash-Encoding: base64` every string is the base64
 * of its bytes, except a command's own `OK` status (what `@upstash/redis`
 * expects). With `Upstash-Response-Format: resp2` the raw RESP2 bytes are
 * sent instead (`application/octet-stream`).
 *
 * Commands run in a session of their own for each request, through the
 * same dispatcher as TCP clients: writes are logged and counted, keyspace
 * events fire, blocked clients are served. Database 0 unless a SELECT in
 * the same request (a pipeline or transaction) picks another. Commands
 * that need a connection are refused: blocking ones (BLPOP, ... XREAD
 * BLOCK), (P|S)SUBSCRIBE and MONITOR (use the event-stream endpoints),
 * MULTI/EXEC/DISCARD/WATCH/UNWATCH (use /multi-exec), HELLO, CLIENT
 * TRACKING and CLIENT REPLY.
 *
 * Auth: with `requirepass`, `Authorization: Bearer <password>` or
 * `?_token=<password>` (401 otherwise), any Host, and CORS open to every
 * origin, as Upstash. With no password it answers only when the server
 * listens on loopback, takes any token (or none), checks the Host as the
 * dashboard does (no DNS rebinding), and refuses what a browser marks as
 * coming from another site (Origin, Sec-Fetch-Site): a web page must not
 * drive a password-less server.
 *
 * @module
 */

import { sameSecret } from "./_secret.ts";
import { bytesToBinary, textToBinary } from "./_bytes.ts";
import { ReplyDecoder, ReplyError, type RespValue } from "./protocol.ts";
import { execute, type Session } from "./commands.ts";
import { readyBlockings, serveReady } from "./commands/blocking.ts";
import { Introspection } from "./commands/introspection.ts";
import { isLoopback, type Server } from "./server.ts";

const lenient = new TextDecoder("utf-8");
/** JSON.rawJSON (not in TypeScript's lib yet): a number written as is. */
const rawJson = (JSON as unknown as { rawJSON(text: string): unknown })
  .rawJSON;
const strict = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Paths of the JSON endpoints. */
const PIPELINE = "/pipeline";
const MULTI_EXEC = "/multi-exec";

const ALLOWED_METHODS = "GET, HEAD, POST, PUT, OPTIONS";
const DEFAULT_ALLOWED_HEADERS =
  "authorization, content-type, upstash-encoding, upstash-response-format";

/** Bytes an event stream may hold for a reader that does not keep up
 * (as Redis's client-output-buffer-limit for pub/sub: 32 MB): past that
 * the stream is closed. */
const STREAM_QUEUE = 32 * 1024 * 1024;
/** How often a MONITOR stream sends what it gathered (ms). */
const MONITOR_FLUSH_MS = 100;

const BLOCKING = new Set([
  "blpop",
  "brpop",
  "brpoplpush",
  "blmove",
  "blmpop",
  "bzpopmin",
  "bzpopmax",
  "bzmpop",
]);
const SUBSCRIBING = new Set([
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
]);
const TRANSACTIONS = new Set(["multi", "exec", "discard", "watch", "unwatch"]);

/** Why a command cannot run over HTTP, or undefined when it can. */
function refusal(argv: string[]): string | undefined {
  const name = argv[0].toLowerCase();
  const shown = argv[0].toUpperCase().slice(0, 64);
  if (BLOCKING.has(name)) {
    return `ERR ${shown} is not supported by the REST API: blocking commands need a connection`;
  }
  if (name === "xread" || name === "xreadgroup") {
    // BLOCK among the options (before STREAMS, after which come keys).
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i].toLowerCase();
      if (a === "streams") break;
      if (a === "block") {
        return `ERR ${shown} with BLOCK is not supported by the REST API: blocking commands need a connection`;
      }
    }
    return undefined;
  }
  if (SUBSCRIBING.has(name)) {
    return `ERR ${shown} is not supported by the REST API: use the /subscribe or /psubscribe event stream`;
  }
  if (name === "monitor") {
    return "ERR MONITOR is not supported by the REST API: use the /monitor event stream";
  }
  if (TRANSACTIONS.has(name)) {
    return `ERR ${shown} is not supported by the REST API: send the commands to /multi-exec`;
  }
  if (name === "hello") {
    return "ERR HELLO is not supported by the REST API: it speaks RESP2 only";
  }
  if (name === "client" && argv.length > 1) {
    const sub = argv[1].toLowerCase();
    if (sub === "tracking" || sub === "reply") {
      return `ERR CLIENT ${
        argv[1].toUpperCase()
      } is not supported by the REST API: it needs a connection`;
    }
  }
  return undefined;
}

/** Percent-decodes a URL part to a byte string (`+` as a space in query
 * strings, as forms and URLSearchParams send it). */
function percentDecode(s: string, plusIsSpace: boolean): string {
  let out = "";
  let plain = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += textToBinary(plain);
      plain = "";
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === 43 && plusIsSpace) {
      plain += " ";
    } else {
      plain += s[i];
    }
  }
  return out + textToBinary(plain);
}

/** The query string's parameters in order, decoded: [name, value] (value
 * undefined when the parameter has no `=`). */
function queryPairs(search: string): [string, string | undefined][] {
  const pairs: [string, string | undefined][] = [];
  for (const part of search.replace(/^\?/, "").split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    pairs.push(
      eq === -1 ? [percentDecode(part, true), undefined] : [
        percentDecode(part.slice(0, eq), true),
        percentDecode(part.slice(eq + 1), true),
      ],
    );
  }
  return pairs;
}

/** Parses a JSON body keeping numbers as they were written (so
 * `12345678901234567890` and `1.50` reach the command unchanged). */
function parseJson(bytes: Uint8Array): unknown {
  const text = strict.decode(bytes);
  return JSON.parse(
    text,
    // The third argument (the source text) is not in TypeScript's lib yet.
    ((_key: string, value: unknown, context?: { source?: string }) =>
      typeof value === "number" && context?.source !== undefined
        ? { number: context.source }
        : value) as (key: string, value: unknown) => unknown,
  );
}

/** One argument of a JSON command: a string (sent as its UTF-8 bytes), a
 * number (as written) or a boolean; undefined for anything else. */
function argOf(v: unknown): string | undefined {
  if (typeof v === "string") return textToBinary(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (
    typeof v === "object" && v !== null && !Array.isArray(v) &&
    typeof (v as { number?: unknown }).number === "string"
  ) {
    return (v as { number: string }).number;
  }
  return undefined;
}

const NOT_A_COMMAND =
  "ERR a command is a JSON array of its name and arguments (strings, numbers or booleans)";

/** A command from JSON, or the error to answer. */
function commandOf(v: unknown): string[] | { error: string } {
  if (!Array.isArray(v) || v.length === 0) return { error: NOT_A_COMMAND };
  const argv: string[] = [];
  for (const item of v) {
    const arg = argOf(item);
    if (arg === undefined) return { error: NOT_A_COMMAND };
    argv.push(arg);
  }
  return argv;
}

/** A request the API refuses before running anything. */
class Refused extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** RESP2 reply to JSON. `top`: the command's own reply (its `OK` status
 * stays `OK` in base64, as Upstash sends it). */
function toJson(v: RespValue, base64: boolean, top: boolean): unknown {
  if (v === null || typeof v === "number") return v;
  if (typeof v === "bigint") return rawJson(v.toString());
  if (typeof v === "string") { // a simple string (+)
    return base64 && !(top && v === "OK")
      ? btoa(bytesToBinary(encoder.encode(v)))
      : v;
  }
  if (v instanceof Uint8Array) {
    return base64 ? btoa(bytesToBinary(v)) : lenient.decode(v);
  }
  if (v instanceof ReplyError) return toJson(v.message, base64, false);
  if (Array.isArray(v)) return v.map((x) => toJson(x, base64, false));
  // RESP3 types (not sent to a RESP2 session): as RESP2 would send them.
  if (typeof v === "boolean") return v ? 1 : 0;
  if (v instanceof Map) {
    const flat: unknown[] = [];
    for (const [k, x] of v) {
      flat.push(toJson(k, base64, false), toJson(x, base64, false));
    }
    return flat;
  }
  if (v instanceof Set) return [...v].map((x) => toJson(x, base64, false));
  return toJson(encoder.encode(String(v)), base64, false);
}

/** A reply as one entry of the API: `{result}` or `{error}`. */
function entry(v: RespValue, base64: boolean): Record<string, unknown> {
  return v instanceof ReplyError
    ? { error: v.message }
    : { result: toJson(v, base64, true) };
}

function decodeOne(bytes: Uint8Array): RespValue {
  const d = new ReplyDecoder({ bulk: "bytes" });
  d.feed(bytes);
  return d.next()?.value ?? null;
}

/** Reads a body of at most `cap` bytes; null when it is larger. */
async function readBody(req: Request, cap: number): Promise<Uint8Array | null> {
  const length = Number(req.headers.get("content-length") ?? "0");
  if (length > cap) return null;
  if (req.body === null) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > cap) {
      await reader.cancel().catch(() => {});
      return null;
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The Upstash REST API of one {@linkcode Server}. The dashboard hands it
 * the requests {@linkcode UpstashApi.claims} names.
 */
export class UpstashApi {
  #server: Server;
  #streams = new Set<() => void>();

  /** Creates the API for a server. */
  constructor(server: Server) {
    this.#server = server;
  }

  /** True for the requests this API answers: everything but the
   * dashboard's page (GET or HEAD `/` and its files) and `/api/...`. */
  static claims(method: string, path: string, pageFiles: Set<string>): boolean {
    if (path.startsWith("/api/")) return false;
    if (path === "/") return method !== "GET" && method !== "HEAD";
    return !pageFiles.has(path);
  }

  /** Event streams open now (subscribers and monitors). */
  get streams(): number {
    return this.#streams.size;
  }

  /** Ends the event streams (when the server closes). */
  close(): void {
    for (const stop of [...this.#streams]) stop();
  }

  #headers(): Record<string, string> {
    return this.#server.config.requirepass === ""
      ? {}
      : { "access-control-allow-origin": "*" };
  }

  #json(body: unknown, status = 200, extra: HeadersInit = {}): Response {
    return new Response(JSON.stringify(body), {
      status,
      headers: {
        "content-type": "application/json",
        "cache-control": "no-store",
        ...this.#headers(),
        ...extra,
      },
    });
  }

  #error(status: number, error: string, extra: HeadersInit = {}): Response {
    return this.#json({ error }, status, extra);
  }

  /**
   * Answers one request. `hostAllowed` is the dashboard's Host check,
   * applied when no password is set (no DNS rebinding).
   */
  async handle(
    req: Request,
    hostAllowed: (host: string | null) => boolean,
  ): Promise<Response> {
    const c = this.#server.config;
    const password = c.requirepass;
    const url = new URL(req.url);
    if (password === "") {
      if (!isLoopback(c.host)) {
        return this.#error(
          403,
          `the REST API is off: the server listens on ${c.host} with no password (set requirepass)`,
        );
      }
      const host = req.headers.get("host") ?? url.host;
      if (!hostAllowed(host)) {
        return this.#error(
          421,
          "unknown host name: use localhost, 127.0.0.1 or the address the server listens on",
        );
      }
      if (this.#crossSite(req, host)) {
        return this.#error(
          403,
          "cross-site browser request refused: set a password (requirepass) to open the REST API to other origins",
        );
      }
    }
    const method = req.method;
    if (method === "OPTIONS") return this.#preflight(req);
    if (
      method !== "GET" && method !== "HEAD" && method !== "POST" &&
      method !== "PUT"
    ) {
      return this.#error(405, `${method} is not allowed`, {
        allow: ALLOWED_METHODS,
      });
    }
    const query = queryPairs(url.search);
    if (password !== "") {
      const auth = req.headers.get("authorization");
      const bearer = auth === null ? null : /^Bearer\s+(.+)$/i.exec(auth);
      const token = bearer !== null
        ? textToBinary(bearer[1].trim())
        : query.find(([k]) => k === "_token")?.[1];
      if (token === undefined || token === null) {
        return this.#error(
          401,
          "Unauthorized: give the password as Authorization: Bearer <password>",
          { "www-authenticate": "Bearer" },
        );
      }
      if (!sameSecret(token, password)) {
        return this.#error(
          401,
          "WRONGPASS invalid username-password pair or user is disabled.",
          { "www-authenticate": 'Bearer error="invalid_token"' },
        );
      }
    }
    const base64 = (req.headers.get("upstash-encoding") ?? "").toLowerCase() ===
      "base64";
    const format = (req.headers.get("upstash-response-format") ?? "json")
      .toLowerCase();
    if (format !== "json" && format !== "resp2") {
      return this.#error(
        400,
        "ERR Upstash-Response-Format must be json or resp2",
      );
    }
    if (format === "resp2" && base64) {
      return this.#error(
        400,
        "ERR Upstash-Encoding: base64 does not go with Upstash-Response-Format: resp2",
      );
    }
    const raw = format === "resp2";
    const path = url.pathname;
    try {
      // The body may hold a value up to proto-max-bulk-len, and more.
      const cap = c.protoMaxBulkLen + 1024 * 1024;
      if (path === "/" || path === PIPELINE || path === MULTI_EXEC) {
        if (method !== "POST" && method !== "PUT") {
          return this.#error(405, `send the commands with POST`, {
            allow: "POST, PUT, OPTIONS",
          });
        }
        const bytes = await readBody(req, cap);
        if (bytes === null) {
          return this.#error(413, "ERR the request body is too large");
        }
        let body: unknown;
        try {
          body = parseJson(bytes);
        } catch {
          return this.#error(400, "ERR the body is not valid JSON");
        }
        if (path === "/") return await this.#single(body, base64, raw);
        if (path === PIPELINE) {
          return await this.#pipeline(body, base64, raw);
        }
        return await this.#multiExec(body, base64);
      }
      const segments = path.slice(1).split("/").map((p) =>
        percentDecode(p, false)
      );
      const name = segments[0].toLowerCase();
      if (
        (name === "subscribe" || name === "psubscribe" ||
          (name === "monitor" && segments.length === 1)) &&
        this.#streams.size >= c.maxclients
      ) {
        return this.#error(429, "ERR max number of clients reached");
      }
      if (name === "subscribe" || name === "psubscribe") {
        await readBody(req, 64 * 1024); // the client sends "[]"
        return this.#subscribe(
          name === "psubscribe",
          segments.slice(1),
        );
      }
      if (name === "monitor" && segments.length === 1) {
        await readBody(req, 64 * 1024);
        return this.#monitor();
      }
      const argv = segments;
      if (method === "POST" || method === "PUT") {
        const bytes = await readBody(req, cap);
        if (bytes === null) {
          return this.#error(413, "ERR the request body is too large");
        }
        if (bytes.length > 0) argv.push(bytesToBinary(bytes));
      }
      for (const [k, v] of query) {
        if (k === "_token") continue;
        argv.push(k);
        if (v !== undefined) argv.push(v);
      }
      return await this.#single(argv, base64, raw, true);
    } catch (e) {
      if (e instanceof Refused) return this.#error(e.status, e.message);
      this.#server.log(
        "warning",
        `REST API error on ${method} ${path}: ${e}`,
      );
      return this.#error(500, "ERR internal error");
    }
  }

  /** A request a browser marks as coming from another site. */
  #crossSite(req: Request, host: string): boolean {
    const site = req.headers.get("sec-fetch-site");
    if (site !== null && site !== "same-origin" && site !== "none") {
      return true;
    }
    const origin = req.headers.get("origin");
    if (origin === null) return false;
    try {
      return new URL(origin).host !== host;
    } catch {
      return true;
    }
  }

  #preflight(req: Request): Response {
    if (this.#server.config.requirepass === "") {
      // Same-origin pages need no preflight; other origins are refused.
      return this.#error(
        403,
        "cross-origin requests need a password (requirepass)",
      );
    }
    return new Response(null, {
      status: 204,
      headers: {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": ALLOWED_METHODS,
        "access-control-allow-headers":
          req.headers.get("access-control-request-headers") ??
            DEFAULT_ALLOWED_HEADERS,
        "access-control-max-age": "86400",
      },
    });
  }

  /** A session for one request's commands, in database 0. */
  #session(): Session {
    return this.#server.internalSession("upstash");
  }

  /** Runs one command as a TCP client's would run; returns its reply's
   * RESP2 bytes (a copy). */
  #run(s: Session, argv: string[]): Uint8Array {
    const max = this.#server.config.protoMaxBulkLen;
    s.out.reset();
    if (argv.some((a) => a.length > max)) {
      s.out.error("ERR Protocol error: invalid bulk length");
    } else {
      execute(this.#server.commands, s, argv);
      this.#server.stats.commandsProcessed++;
      // Clients blocked on keys this command wrote are served now.
      if (readyBlockings.length !== 0) serveReady();
    }
    return s.out.bytes().slice();
  }

  /** Waits until the writes run so far are on disk (appendfsync always),
   * before answering, as the server does for its clients. */
  async #commit(): Promise<void> {
    const pending = this.#server.persistence.commit();
    if (pending !== undefined) await pending;
  }

  #raw(parts: Uint8Array[], status = 200): Response {
    const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      body.set(p, at);
      at += p.length;
    }
    return new Response(body, {
      status,
      headers: {
        "content-type": "application/octet-stream",
        "cache-control": "no-store",
        ...this.#headers(),
      },
    });
  }

  async #single(
    body: unknown,
    base64: boolean,
    raw: boolean,
    fromPath = false,
  ): Promise<Response> {
    const argv = fromPath ? body as string[] : commandOf(body);
    if (!Array.isArray(argv)) return this.#error(400, argv.error);
    if (argv[0] === "") return this.#error(400, "ERR no command given");
    const refused = refusal(argv);
    if (refused !== undefined) return this.#error(400, refused);
    const bytes = this.#run(this.#session(), argv);
    await this.#commit();
    const failed = bytes[0] === 45; // '-'
    if (raw) return this.#raw([bytes], failed ? 400 : 200);
    const reply = decodeOne(bytes);
    return failed
      ? this.#error(400, (reply as ReplyError).message)
      : this.#json({ result: toJson(reply, base64, true) });
  }

  /** The commands of a pipeline or transaction body, or Refused. */
  #commands(body: unknown): (string[] | { error: string })[] {
    if (!Array.isArray(body) || body.length === 0) {
      throw new Refused(
        400,
        "ERR the body must be a non-empty JSON array of commands (each an array)",
      );
    }
    return body.map(commandOf);
  }

  async #pipeline(
    body: unknown,
    base64: boolean,
    raw: boolean,
  ): Promise<Response> {
    const commands = this.#commands(body);
    const s = this.#session();
    const replies: Uint8Array[] = [];
    for (const argv of commands) {
      const error = Array.isArray(argv) ? refusal(argv) : argv.error;
      replies.push(
        error !== undefined
          ? encoder.encode(`-${error}\r\n`)
          : this.#run(s, argv as string[]),
      );
    }
    await this.#commit();
    if (raw) return this.#raw(replies);
    return this.#json(replies.map((r) => entry(decodeOne(r), base64)));
  }

  async #multiExec(
    body: unknown,
    base64: boolean,
  ): Promise<Response> {
    const commands = this.#commands(body);
    // Malformed or refused: nothing runs.
    for (let i = 0; i < commands.length; i++) {
      const argv = commands[i];
      const error = Array.isArray(argv) ? refusal(argv) : argv.error;
      if (error !== undefined) {
        return this.#error(
          400,
          `${error} (command ${i + 1} of the transaction; nothing ran)`,
        );
      }
    }
    const s = this.#session();
    this.#run(s, ["MULTI"]);
    let queueError: string | undefined;
    for (let i = 0; i < commands.length; i++) {
      const r = decodeOne(this.#run(s, commands[i] as string[]));
      if (r instanceof ReplyError && queueError === undefined) {
        queueError = `command ${i + 1}: ${r.message}`;
      }
    }
    const reply = decodeOne(this.#run(s, ["EXEC"]));
    await this.#commit();
    if (reply instanceof ReplyError) {
      return this.#error(
        400,
        queueError === undefined
          ? reply.message
          : `${reply.message} (${queueError})`,
      );
    }
    if (!Array.isArray(reply)) {
      return this.#error(400, "EXECABORT the transaction did not run");
    }
    return this.#json(reply.map((r) => entry(r, base64)));
  }

  /** An event stream: `start` gets a function that sends events and the
   * stop function; returns what to do when the stream ends. */
  #eventStream(
    start: (send: (lines: string[]) => void, stop: () => void) => () => void,
  ): Response {
    let stop = () => {};
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        let ended = false;
        let cleanup = () => {};
        stop = () => {
          if (ended) return;
          ended = true;
          this.#streams.delete(stop);
          cleanup();
          try {
            controller.close();
          } catch {
            // closed already
          }
        };
        const send = (lines: string[]) => {
          if (ended || lines.length === 0) return;
          // A reader that does not keep up: dropped, as Redis drops a
          // subscriber past its output buffer limit.
          if ((controller.desiredSize ?? 0) < 0) return stop();
          let text = "";
          for (const line of lines) {
            // One event a line of the message (SSE has no escapes).
            text += line.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`)
              .join("") + "\n";
          }
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            stop();
          }
        };
        this.#streams.add(stop);
        cleanup = start(send, () => stop());
      },
      cancel: () => stop(),
    }, new ByteLengthQueuingStrategy({ highWaterMark: STREAM_QUEUE }));
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        ...this.#headers(),
      },
    });
  }

  /** SUBSCRIBE or PSUBSCRIBE as an event stream: `subscribe,<channel>,<n>`
   * then `message,<channel>,<message>` (`pmessage,<pattern>,<channel>,
   * <message>`), text as UTF-8. */
  #subscribe(pattern: boolean, names: string[]): Response {
    if (names.length === 0 || names.some((n) => n === "")) {
      return this.#error(400, "ERR name the channels: /subscribe/<channel>");
    }
    const s = this.#session();
    const text = (v: RespValue) =>
      v instanceof Uint8Array
        ? lenient.decode(v)
        : typeof v === "number"
        ? String(v)
        : String(v);
    return this.#eventStream((send) => {
      let scheduled = false;
      const drain = () => {
        scheduled = false;
        const bytes = s.out.bytes();
        if (bytes.length === 0) return;
        const d = new ReplyDecoder({ bulk: "bytes" });
        d.feed(bytes.slice());
        s.out.reset();
        const lines: string[] = [];
        for (let r = d.next(); r !== undefined; r = d.next()) {
          const v = r.value;
          if (Array.isArray(v)) lines.push(v.map(text).join(","));
        }
        send(lines);
      };
      s.client.wake = () => {
        if (scheduled) return;
        scheduled = true;
        queueMicrotask(drain);
      };
      s.out.reset();
      execute(this.#server.commands, s, [
        pattern ? "PSUBSCRIBE" : "SUBSCRIBE",
        ...names,
      ]);
      this.#server.stats.commandsProcessed++;
      drain();
      return () => this.#server.pubsub.dropClient(s.client);
    });
  }

  /** MONITOR as an event stream: `"OK"`, then a line per command. */
  #monitor(): Response {
    const intro = Introspection.of(this.#server.state);
    return this.#eventStream((send, stop) => {
      let pending: string[] = [];
      let held = 0;
      const untail = intro.tail((line) => {
        // Lines wait at most STREAM_QUEUE characters between flushes.
        held += line.length;
        if (held > STREAM_QUEUE) return stop();
        pending.push(line);
      });
      const timer = setInterval(() => {
        const lines = pending;
        pending = [];
        held = 0;
        send(lines);
      }, MONITOR_FLUSH_MS);
      send(['"OK"']);
      return () => {
        clearInterval(timer);
        untail();
        pending = [];
      };
    });
  }
}
