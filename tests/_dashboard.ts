// Helpers for tests of the web dashboard: a server with it on, whether
// Chromium is there, where screenshots go.

import { freePort, run, startServer } from "./_helpers.ts";
import { CHROMIUM } from "../tools/_browser.ts";

/** Where the tests' screenshots go. */
export const SHOTS = new URL("./screenshots/", import.meta.url).pathname;

/** Whether Debian's Chromium is installed (the page tests need it). */
export const hasBrowser: boolean = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

/** Our server with the dashboard on a free port, and the dashboard's URL. */
export async function dashboard(
  options: Parameters<typeof startServer>[0] = {},
): Promise<{ server: Awaited<ReturnType<typeof startServer>>; base: string }> {
  const server = await startServer({ httpPort: freePort(), ...options });
  return { server, base: `http://127.0.0.1:${server.httpPort}` };
}

/** What redis-cli prints for a command against `port`, trimmed. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run("redis-cli", ["-p", String(port), ...args])).stdout.trim();
}
