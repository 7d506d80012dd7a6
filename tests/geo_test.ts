// Geo commands: geohash arithmetic against redis-server's own numbers,
// byte-for-byte comparisons, a seeded random comparison, the embedded ops,
// and a large index.

import assert from "node:assert/strict";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import {
  decodeScore,
  distance,
  encodeScore,
  formatDistance,
  geohashString,
  LAT_MAX,
  LAT_MIN,
} from "../data/_geohash.ts";
import { formatHuman } from "../_number.ts";

/** A small seeded generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test({
  name: "geohash: scores, positions, hashes and distances are redis-server's",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    const c = await Conn.open(redis.port);
    try {
      const rand = rng(7);
      const points: [number, number][] = [
        [0, 0],
        [-180, LAT_MIN],
        [180, LAT_MAX],
        [180, 0],
        [-180, 0],
        [13.361389, 38.115556],
        [-0.000001, -0.000001],
        [179.99999999, 85.05],
      ];
      for (let i = 0; i < 400; i++) {
        const lon = (rand() * 360 - 180).toFixed(1 + (i % 12));
        const lat = ((rand() * 2 - 1) * LAT_MAX).toFixed(1 + (i % 12));
        points.push([Number(lon), Number(lat)]);
      }
      const args: (string | number)[] = ["GEOADD", "g"];
      points.forEach(([lon, lat], i) => args.push(String(lon), String(lat), i));
      assert.equal(await c.call(...args), points.length);
      for (let i = 0; i < points.length; i++) {
        const [lon, lat] = points[i];
        const score = encodeScore(lon, lat);
        assert.equal(
          String(score),
          await c.call("ZSCORE", "g", i),
          `${lon} ${lat}`,
        );
        const [x, y] = decodeScore(score);
        assert.deepEqual(
          [formatHuman(x), formatHuman(y)],
          await c.call("GEOPOS", "g", i).then((r) => (r as string[][])[0]),
        );
        assert.equal(
          geohashString(x, y),
          (await c.call("GEOHASH", "g", i) as string[])[0],
        );
        if (i > 0) {
          const [px, py] = decodeScore(encodeScore(...points[i - 1]));
          for (const [unit, m] of [["m", 1], ["km", 1000], ["mi", 1609.34]]) {
            assert.equal(
              formatDistance(distance(px, py, x, y) / (m as number)),
              await c.call("GEODIST", "g", i - 1, i, unit),
            );
          }
        }
      }
      // Scores that are no geohash decode as Redis's (uint64_t) cast does.
      const odd = [-1, 2 ** 52, 2 ** 60, 1.5, -(2 ** 70), 2 ** 65, 123456789];
      for (const score of odd) {
        await c.call("ZADD", "z", String(score), "m");
        const [x, y] = decodeScore(score);
        assert.deepEqual(
          [formatHuman(x), formatHuman(y)],
          await c.call("GEOPOS", "z", "m").then((r) => (r as string[][])[0]),
          `score ${score}`,
        );
      }
    } finally {
      c.close();
    }
  },
});

Deno.test("geohash: %.4f rounds ties to even as glibc", () => {
  assert.equal(formatDistance(0), "0.0000");
  assert.equal(formatDistance(0.03125), "0.0312");
  assert.equal(formatDistance(0.09375), "0.0938");
  assert.equal(formatDistance(1.5), "1.5000");
  assert.equal(formatDistance(166274.15156960038), "166274.1516");
});
