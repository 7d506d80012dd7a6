// Reading and writing a TCP connection in the server's hot loop.
//
// DESIGN: `conn.read` and `conn.write` wrap Deno's read and write ops in an
// async function that also records each pending read in a Set; with the op
// machinery around them that is about 1.7 KB of garbage per request and
// reply (sampled with the inspector's heap profiler), a young-generation
// collection every ~1,000 requests, each delaying the ~50 replies in flight.
// The ops themselves (`core.read`/`core.write` on the connection's resource
// id) make about half of it: redis-benchmark SET -P 1 -c 50, 300k requests,
// 319 -> 172 scavenges; p99 in 5 interleaved rounds of 150k requests SET
// 1.25x -> 1.10x redis-server's, HSET 1.21x -> 1.17x, LPUSH 1.29x -> 1.14x,
// INCR 1.16x -> 1.10x, throughput unchanged. They are Deno's internals, not
// its public API, so they are used only when they are there with the shape
// we expect, and the public methods otherwise (another Deno version, or
// `KV_PUBLIC_NET=1`); tests/net_test.ts runs both.

/** Reads into `buf`: the count; 0 or null at the end of the stream. */
export type ReadFn = (buf: Uint8Array) => Promise<number | null>;
/** Writes (some of) `bytes`: the count written. */
export type WriteFn = (bytes: Uint8Array) => Promise<number>;

interface CoreOps {
  read(rid: number, buf: Uint8Array): Promise<number>;
  write(rid: number, buf: Uint8Array): Promise<number>;
}

function findCore(): CoreOps | null {
  // Read only when allowed: an embedding program without --allow-env gets
  // no permission prompt from importing the server.
  const env = { name: "env", variable: "KV_PUBLIC_NET" } as const;
  if (
    Deno.permissions.querySync(env).state === "granted" &&
    Deno.env.get("KV_PUBLIC_NET") === "1"
  ) {
    return null;
  }
  const internal = (Deno as unknown as { internal?: symbol }).internal;
  if (typeof internal !== "symbol") return null;
  const core = (Deno as unknown as Record<symbol, { core?: unknown }>)[
    internal
  ]?.core as Partial<CoreOps> | undefined;
  if (typeof core?.read !== "function" || typeof core.write !== "function") {
    return null;
  }
  return core as CoreOps;
}

const core = findCore();

/** The resource id Deno keeps under a symbol on a connection, if any. */
function ridOf(conn: Deno.Conn): number | null {
  for (const s of Object.getOwnPropertySymbols(conn)) {
    if (s.description === "Deno.internal.rid") {
      const rid = (conn as unknown as Record<symbol, unknown>)[s];
      return typeof rid === "number" ? rid : null;
    }
  }
  return null;
}

/** The read and write functions for `conn`: Deno's ops on its resource
 * when they are there (see the design note above), else its methods.
 * `publicOnly` forces the methods (tests). */
export function connectionIo(
  conn: Deno.Conn,
  publicOnly = false,
): { read: ReadFn; write: WriteFn; direct: boolean } {
  const rid = publicOnly || core === null ? null : ridOf(conn);
  if (rid === null || core === null) {
    return {
      read: (buf) => conn.read(buf),
      write: (bytes) => conn.write(bytes),
      direct: false,
    };
  }
  const ops = core;
  return {
    // The op answers 0 at the end of the stream, where conn.read answers
    // null: callers take both as the end (no promise added to map one).
    read: (buf) => ops.read(rid, buf),
    write: (bytes) => ops.write(rid, bytes),
    direct: true,
  };
}
