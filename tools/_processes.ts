// Starting helper processes on loopback ports, shared by the tests and the
// benchmark: a free port, waiting for a listener, and redis-server.

/** The arguments of a checkout's `deno task serve` after "deno" (read
 * from its deno.json), so benchmarks run what users run. `root` ends
 * without a slash or with one. */
export async function serveArgs(root: string): Promise<string[]> {
  const path = root.endsWith("/") ? `${root}deno.json` : `${root}/deno.json`;
  const config = JSON.parse(await Deno.readTextFile(path));
  return (config.tasks.serve as string).split(/\s+/).slice(1);
}

/** A free loopback port. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Waits until something accepts connections on the port (bounded). */
export async function waitForPort(port: number, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listening on ${port} after ${ms} ms`);
}

/** Spawns redis-server on loopback `port` with no persistence, its files
 * in `dir`, and `args` after (they win over these). */
export function spawnRedis(
  port: number,
  dir: string,
  args: string[] = [],
): Deno.ChildProcess {
  return new Deno.Command("redis-server", {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      ...args,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** A redis-server on a free loopback port, with no persistence, in a
 * temporary directory that goes away with it. */
export class RedisServer {
  constructor(
    readonly process: Deno.ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {}

  /** Starts redis-server with extra arguments (e.g. `--bind 0.0.0.0`), on
   * `port` (a free one by default; given, to start one again there). */
  static async start(
    args: string[] = [],
    port: number = freePort(),
  ): Promise<RedisServer> {
    const dir = await Deno.makeTempDir({ prefix: "kv-redis-" });
    const child = spawnRedis(port, dir, args);
    const server = new RedisServer(child, port, dir);
    try {
      await waitForPort(port);
    } catch (e) {
      await server.stop();
      throw e;
    }
    return server;
  }

  /** Kills the process and removes its directory. */
  async stop(): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // gone
    }
    await this.process.status;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
