// A Redis Cluster of redis-server processes on loopback ports, made by
// `redis-cli --cluster create`, for the tests that talk to one
// (client_cluster_test.ts, migrate_test.ts).

import assert from "node:assert/strict";
import { Client } from "../client.ts";
import type { RespValue } from "../protocol.ts";
import { run, waitForPort } from "./_helpers.ts";
import { spawnRedis } from "../tools/_processes.ts";

/** A port whose cluster bus port (port + 10000) is free too. */
export function clusterPort(taken: Set<number>): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const a = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (a.addr as Deno.NetAddr).port;
    try {
      if (port + 10000 > 65535 || taken.has(port) || taken.has(port + 10000)) {
        continue;
      }
      try {
        Deno.listen({ hostname: "127.0.0.1", port: port + 10000 }).close();
      } catch {
        continue;
      }
      taken.add(port);
      taken.add(port + 10000);
      return port;
    } finally {
      a.close();
    }
  }
  throw new Error("no free port pair for a cluster node");
}

/** A Redis Cluster of redis-server processes in one temporary directory. */
export class RedisCluster {
  readonly processes = new Map<number, Deno.ChildProcess>();
  constructor(readonly dir: string, readonly ports: number[]) {}

  static async start(n = 3): Promise<RedisCluster> {
    const dir = await Deno.makeTempDir({ prefix: "kv-cluster-" });
    const taken = new Set<number>();
    const ports = Array.from({ length: n }, () => clusterPort(taken));
    const cluster = new RedisCluster(dir, ports);
    try {
      for (const port of ports) await cluster.startNode(port);
      const r = await run("redis-cli", [
        "--cluster",
        "create",
        ...ports.map((p) => `127.0.0.1:${p}`),
        "--cluster-replicas",
        "0",
        "--cluster-yes",
      ], { ms: 60_000 });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      await cluster.waitOk();
    } catch (e) {
      await cluster.stop();
      throw e;
    }
    return cluster;
  }

  /** Starts (or starts again) the node on `port`, with its nodes.conf. */
  async startNode(port: number): Promise<void> {
    const child = spawnRedis(port, this.dir, [
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      `${this.dir}/nodes-${port}.conf`,
    ]);
    this.processes.set(port, child);
    await waitForPort(port);
  }

  /** SIGKILLs the node on `port` and waits for it to exit. */
  async kill(port: number): Promise<void> {
    const child = this.processes.get(port);
    if (child === undefined) return;
    this.processes.delete(port);
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
    await child.status;
  }

  /** Waits (bounded) until every node says `cluster_state:ok` and knows
   * every node. */
  async waitOk(ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    let last = "";
    while (Date.now() < deadline) {
      let ok = true;
      for (const port of this.ports) {
        try {
          await using c = await Client.connect({ port, reconnect: false });
          const info = String(await c.execute("CLUSTER", "INFO"));
          const known = /cluster_known_nodes:(\d+)/.exec(info)?.[1];
          if (
            !info.includes("cluster_state:ok") ||
            known !== String(this.ports.length)
          ) {
            ok = false;
            last = `${port}: ${info.split("\r\n").slice(0, 2).join(" ")}`;
          }
        } catch (e) {
          ok = false;
          last = `${port}: ${e}`;
        }
      }
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the cluster is not ok after ${ms} ms: ${last}`);
  }

  /** A plain (not cluster) connection to one node. */
  node(port: number): Promise<Client> {
    return Client.connect({ port, reconnect: false });
  }

  /** The port of the node serving `slot`, as the cluster says. */
  async ownerOf(slot: number): Promise<number> {
    await using c = await this.node(this.ports[0]);
    const slots = await c.execute("CLUSTER", "SLOTS") as RespValue[][];
    for (const [start, end, primary] of slots) {
      if (slot >= Number(start) && slot <= Number(end)) {
        return Number((primary as RespValue[])[1]);
      }
    }
    throw new Error(`no node serves slot ${slot}`);
  }

  /** The node ID of the node on `port`. */
  async idOf(port: number): Promise<string> {
    await using c = await this.node(port);
    return String(await c.execute("CLUSTER", "MYID"));
  }

  async stop(): Promise<void> {
    for (const port of [...this.processes.keys()]) await this.kill(port);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
