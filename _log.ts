// Leveled logs to stderr in Redis's format:
//   pid:M 22 Nov 2026 02:28:31.123 * Ready to accept connections

import type { LogLevel } from "./config.ts";

const RANK: Record<LogLevel, number> = {
  debug: 0,
  verbose: 1,
  notice: 2,
  warning: 3,
};
const MARK: Record<LogLevel, string> = {
  debug: ".",
  verbose: "-",
  notice: "*",
  warning: "#",
};
const MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");
const encoder = new TextEncoder();

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

/** Formats a timestamp as Redis's logs do: `22 Nov 2026 02:28:31.123`. */
export function logTime(d: Date): string {
  return `${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.` +
    pad(d.getMilliseconds(), 3);
}

/** Where log lines go; stderr unless told otherwise.
 *
 * @example
 * ```ts ignore
 * const lines: string[] = [];
 * const server = new Server({ logSink: (line) => lines.push(line) });
 * ```
 */
export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => {
  try {
    Deno.stderr.writeSync(encoder.encode(line));
  } catch {
    // stderr closed: nothing sensible to do
  }
};

/** A logger that drops lines below the level `getLevel()` returns; the
 * role letter after the pid is `role()`'s (Redis's `M` primary, `S`
 * replica). */
export function createLogger(
  getLevel: () => LogLevel,
  sink: LogSink = stderrSink,
  role: () => string = () => "M",
): (level: LogLevel, msg: string) => void {
  return (level, msg) => {
    if (RANK[level] < RANK[getLevel()]) return;
    sink(
      `${Deno.pid}:${role()} ${logTime(new Date())} ${MARK[level]} ${msg}\n`,
    );
  };
}

/** True when `level` would be logged at the configured level. */
export function logs(configured: LogLevel, level: LogLevel): boolean {
  return RANK[level] >= RANK[configured];
}
