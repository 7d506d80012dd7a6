// Formats replies the way redis-cli prints them: "raw" (when stdout is not
// a terminal: values as they are, one per line) and "tty" ((integer) 1,
// (nil), "quoted" strings, numbered arrays).

import {
  DoubleText,
  PushMessage,
  ReplyError,
  type RespValue,
  VerbatimString,
} from "./protocol.ts";

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** Quotes bytes as redis-cli's sdscatrepr: escapes, and \xHH for bytes
 * that are not printable ASCII. */
export function quoteBytes(b: Uint8Array): string {
  let s = '"';
  for (const c of b) {
    if (c === 92 || c === 34) s += "\\" + String.fromCharCode(c);
    else if (c === 10) s += "\\n";
    else if (c === 13) s += "\\r";
    else if (c === 9) s += "\\t";
    else if (c === 7) s += "\\a";
    else if (c === 8) s += "\\b";
    else if (c >= 32 && c <= 126) s += String.fromCharCode(c);
    else s += "\\x" + c.toString(16).padStart(2, "0");
  }
  return s + '"';
}

function elements(v: RespValue): RespValue[] | null {
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  if (v instanceof PushMessage) return v.data;
  if (v instanceof Map) return [...v].flat();
  return null;
}

function scalarText(v: RespValue): string {
  if (v instanceof Uint8Array) return utf8.decode(v);
  if (v instanceof VerbatimString) return v.text;
  if (v instanceof ReplyError) return v.message;
  return String(v);
}

/** redis-cli's raw output, without the final newline. */
export function formatRaw(v: RespValue): string {
  if (v === null) return "";
  if (v instanceof ReplyError) return v.message + "\n";
  if (typeof v === "boolean") return v ? "(true)" : "(false)";
  if (v instanceof Map) {
    const parts: string[] = [];
    for (const [k, e] of v) parts.push(`${formatRaw(k)} ${formatRaw(e)}`);
    return parts.join("\n");
  }
  const items = elements(v);
  if (items !== null) return items.map(formatRaw).join("\n");
  return scalarText(v);
}

/** redis-cli's `--csv` output, without the final newline: strings
 * quoted, nil as `NULL`, errors as `ERROR,"..."`, aggregates (maps too)
 * flattened with commas. */
export function formatCSV(v: RespValue): string {
  if (v === null) return "NULL";
  if (v instanceof ReplyError) {
    return "ERROR," + quoteBytes(encoder.encode(v.message));
  }
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v instanceof DoubleText) return v.text;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "string") return quoteBytes(encoder.encode(v));
  if (v instanceof Uint8Array) return quoteBytes(v);
  if (v instanceof VerbatimString) return quoteBytes(encoder.encode(v.text));
  const items = elements(v);
  return items === null ? "" : items.map(formatCSV).join(",");
}

/** redis-cli's terminal output, ending in a newline. */
export function formatTTY(v: RespValue, prefix = ""): string {
  if (v === null) return "(nil)\n";
  if (v instanceof ReplyError) return `(error) ${v.message}\n`;
  if (typeof v === "boolean") return v ? "(true)\n" : "(false)\n";
  if (v instanceof DoubleText) return `(double) ${v.text}\n`;
  if (typeof v === "number") {
    return Number.isInteger(v) ? `(integer) ${v}\n` : `(double) ${v}\n`;
  }
  if (typeof v === "bigint") return `(integer) ${v}\n`;
  if (typeof v === "string") return v + "\n"; // a simple string
  if (v instanceof Uint8Array) return quoteBytes(v) + "\n";
  if (v instanceof VerbatimString) return v.text + "\n";
  const isMap = v instanceof Map;
  const items = elements(v)!;
  if (items.length === 0) {
    if (isMap) return "(empty hash)\n";
    if (v instanceof Set) return "(empty set)\n";
    if (v instanceof PushMessage) return "(empty push)\n";
    return "(empty array)\n";
  }
  const count = isMap ? items.length / 2 : items.length;
  const width = String(count).length;
  const sep = isMap ? "#" : v instanceof Set ? "~" : ")";
  const inner = prefix + " ".repeat(width + 2);
  let out = "";
  for (let i = 0; i < items.length; i++) {
    const n = (isMap ? i / 2 : i) + 1;
    out += `${i === 0 ? "" : prefix}${String(n).padStart(width)}${sep} `;
    out += formatTTY(items[i], inner);
    if (isMap) {
      out = out.slice(0, -1) + " => " + formatTTY(items[++i], inner);
    }
  }
  return out;
}

/** Builds a synopsis such as `SET key value [NX|XX] [GET] ...` from
 * COMMAND DOCS arguments, as redis-cli's hints do. */
export function synopsis(args: unknown): string {
  if (!Array.isArray(args)) return "";
  return args.map((a) => argument(a as Map<string, unknown>)).join(" ");
}

function field(a: Map<string, unknown> | Record<string, unknown>, k: string) {
  return a instanceof Map ? a.get(k) : a[k];
}

function argument(a: Map<string, unknown>): string {
  const name = String(field(a, "name") ?? "");
  const type = String(field(a, "type") ?? "");
  const token = field(a, "token") as string | undefined;
  const flagsRaw = field(a, "flags");
  const flags = flagsRaw instanceof Set
    ? [...flagsRaw].map(String)
    : Array.isArray(flagsRaw)
    ? flagsRaw.map(String)
    : [];
  const sub = field(a, "arguments");
  let s = token ?? "";
  if (type !== "pure-token") {
    if (token) s += " ";
    if (type === "oneof") {
      s += (sub as Map<string, unknown>[]).map(argument).join("|");
    } else if (type === "block") {
      s += (sub as Map<string, unknown>[]).map(argument).join(" ");
    } else {
      s += name;
    }
  }
  if (flags.includes("multiple")) {
    s += flags.includes("multiple_token") && token
      ? ` [${s} ...]`
      : ` [${type === "block" || type === "oneof" ? s : name} ...]`;
  }
  return flags.includes("optional") ? `[${s}]` : s;
}

/** Whether redis-cli prints this command's reply raw (the text as it is,
 * CRLFs included) whatever the output mode: INFO, CLIENT LIST/INFO,
 * MEMORY DOCTOR, LATENCY DOCTOR and the like (redis-cli's list). */
export function printsRaw(args: readonly (string | Uint8Array)[]): boolean {
  const word = (i: number) => {
    const a = args[i];
    if (a === undefined) return "";
    return (typeof a === "string" ? a : utf8.decode(a)).toLowerCase();
  };
  const [name, sub] = [word(0), word(1)];
  const n = args.length;
  return name === "info" || name === "lolwut" ||
    (n >= 2 && name === "debug" &&
      ["htstats", "htstats-key", "client-eviction"].includes(sub)) ||
    (n >= 2 && name === "memory" &&
      (sub === "malloc-stats" || sub === "doctor")) ||
    (n === 2 && name === "cluster" && (sub === "nodes" || sub === "info")) ||
    (n >= 2 && name === "client" && (sub === "list" || sub === "info")) ||
    (n === 3 && name === "latency" && sub === "graph") ||
    (n === 2 && name === "latency" && sub === "doctor") ||
    (n >= 2 && name === "proxy" && sub === "info");
}

/** A reply as redis-cli's prompt prints it for the command `args`:
 * {@linkcode formatTTY}, except the commands of {@linkcode printsRaw},
 * whose text prints as it is (INFO's lines, ending in CRLF, and no
 * newline added). */
export function formatReplyTo(
  args: readonly (string | Uint8Array)[],
  v: RespValue,
): string {
  return printsRaw(args) ? formatRaw(v) : formatTTY(v);
}
