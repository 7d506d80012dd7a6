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
  formatFixed,
  geohashString,
  LAT_MAX,
  LAT_MIN,
  nativeTrig,
} from "../data/_geohash.ts";
import { formatHuman } from "../_number.ts";
import { encodeCommand } from "../protocol.ts";
import { type Container, Store, StoreError } from "../store.ts";

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

Deno.test({
  name: "geohash: distances use the C library's trigonometry, as Redis",
  ignore: Deno.build.os !== "linux",
  fn: () => assert.ok(nativeTrig()),
});

Deno.test("geohash: %.4f rounds ties to even as glibc", () => {
  assert.equal(formatDistance(0), "0.0000");
  assert.equal(formatDistance(0.03125), "0.0312");
  assert.equal(formatDistance(0.09375), "0.0938");
  assert.equal(formatDistance(1.5), "1.5000");
  assert.equal(formatDistance(166274.15156960038), "166274.1516");
  assert.equal(formatFixed(0.0078125, 6), "0.007812");
  assert.equal(formatFixed(-0, 6), "-0.000000");
  assert.equal(formatFixed(-1e-7, 6), "-0.000000");
});

const SICILY: Cmd = [
  "GEOADD",
  "Sicily",
  "13.361389",
  "38.115556",
  "Palermo",
  "15.087269",
  "37.502669",
  "Catania",
];
const MORE: Cmd = [
  "GEOADD",
  "Sicily",
  "12.758489",
  "38.788135",
  "edge1",
  "17.241510",
  "38.788135",
  "edge2",
  "13.5",
  "37.3",
  "Agrigento",
  "14.0",
  "37.5",
  "Caltanissetta",
];

/** Each case starts from an empty keyspace. */
const CASES: Record<string, Cmd[]> = {
  "geoadd": [
    SICILY,
    ["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"],
    ["GEOADD", "Sicily", "13.361389", "38.115556", "Palermo"],
    ["GEOADD", "Sicily", "CH", "13.4", "38.115556", "Palermo"],
    ["GEOADD", "Sicily", "NX", "1", "2", "Palermo", "3", "4", "new"],
    ["GEOADD", "Sicily", "XX", "1", "2", "Palermo", "3", "4", "new2"],
    ["GEOADD", "Sicily", "XX", "CH", "1", "2", "Palermo"],
    ["GEOADD", "Sicily", "nx", "ch", "5", "6", "x"],
    ["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"],
    ["GEOADD", "Sicily", "NX", "XX", "1", "2", "a"],
    ["GEOADD", "Sicily", "1", "2"],
    ["GEOADD", "Sicily", "CH", "CH", "CH"],
    ["GEOADD", "Sicily", "GT", "1", "2", "x"],
    ["GEOADD", "Sicily", "GT", "1", "x"],
    ["GEOADD", "Sicily", "200", "100", "x"],
    ["GEOADD", "Sicily", "1", "2", "ok", "-180.1", "0", "x"],
    ["GEOADD", "Sicily", "0", "85.06", "x"],
    ["GEOADD", "Sicily", "0", "-85.06", "x"],
    ["GEOADD", "Sicily", "1e400", "0", "x"],
    ["GEOADD", "Sicily", "inf", "0", "x"],
    ["GEOADD", "Sicily", "-inf", "0", "x"],
    ["GEOADD", "Sicily", "-0", "100", "x"],
    ["GEOADD", "Sicily", "200.0078125", "-0.0000001", "x"],
    ["GEOADD", "Sicily", "1e300", "-1e22", "x"],
    ["GEOADD", "Sicily", "0x10", "100", "x"],
    ["GEOADD", "Sicily", "nan", "0", "x"],
    ["GEOADD", "Sicily", " 1", "0", "x"],
    ["GEOADD", "Sicily", "abc", "0", "x"],
    ["GEOADD", "Sicily", "0", "abc", "x"],
    ["GEOADD", "Sicily", "1e-400", "0", "x"],
    ["ZCARD", "Sicily"],
    [
      "GEOADD",
      "edges",
      "180",
      "85.05112878",
      "ne",
      "-180",
      "-85.05112878",
      "sw",
    ],
    ["GEOADD", "edges", "180", "0", "e", "0", "0", "zero", "-180", "0", "w"],
    ["ZRANGE", "edges", "0", "-1", "WITHSCORES"],
    ["GEOPOS", "edges", "ne", "sw", "e", "zero", "w"],
    ["GEOHASH", "edges", "ne", "sw", "e", "zero", "w"],
    ["GEOADD", "Sicily"],
    ["GEOADD", "Sicily", "1", "2", "3", "4"],
    ["SET", "str", "v"],
    ["GEOADD", "str", "1", "2", "x"],
    ["GEOADD", "bin\x00key", "1", "2", "m\xff\x00"],
    ["GEOPOS", "bin\x00key", "m\xff\x00"],
  ],
  "geopos geohash geodist": [
    SICILY,
    ["GEOPOS", "Sicily", "Palermo", "Catania", "missing"],
    ["GEOPOS", "Sicily"],
    ["GEOPOS", "nokey", "a", "b"],
    ["GEOPOS", "nokey"],
    ["GEOHASH", "Sicily", "Palermo", "Catania", "missing"],
    ["GEOHASH", "Sicily"],
    ["GEOHASH", "nokey", "a"],
    ["GEODIST", "Sicily", "Palermo", "Catania"],
    ["GEODIST", "Sicily", "Palermo", "Catania", "km"],
    ["GEODIST", "Sicily", "Palermo", "Catania", "KM"],
    ["GEODIST", "Sicily", "Palermo", "Catania", "mi"],
    ["GEODIST", "Sicily", "Palermo", "Catania", "ft"],
    ["GEODIST", "Sicily", "Palermo", "Catania", "M"],
    ["GEODIST", "Sicily", "Palermo", "Palermo"],
    ["GEODIST", "Sicily", "Palermo", "missing"],
    ["GEODIST", "Sicily", "missing", "Palermo"],
    ["GEODIST", "Sicily", "Palermo", "Catania", "yd"],
    ["GEODIST", "Sicily", "Palermo", "Catania", "km", "x"],
    ["GEODIST", "nokey", "a", "b"],
    ["GEODIST", "nokey", "a", "b", "foo"],
    ["GEODIST", "Sicily", "a"],
    ["SET", "str", "v"],
    ["GEOPOS", "str", "a"],
    ["GEOHASH", "str", "a"],
    ["GEODIST", "str", "a", "b"],
    ["GEODIST", "str", "a", "b", "foo"],
    ["LPUSH", "list", "a"],
    ["GEOPOS", "list", "a"],
    ["GEODIST", "list", "a", "b"],
    ["ZADD", "z", "-1", "neg", "1.5", "frac", "9007199254740992", "big"],
    ["GEOPOS", "z", "neg", "frac", "big"],
    ["GEOHASH", "z", "neg", "frac", "big"],
    ["GEODIST", "z", "neg", "big"],
    ["ZADD", "z", "1e20", "huge", "inf", "top", "-inf", "bottom", "3.7", "x"],
    ["GEOPOS", "z", "huge", "top", "bottom", "x"],
    ["GEORADIUS", "z", "0", "0", "30000", "km", "WITHHASH", "WITHCOORD"],
    ["GEORADIUS", "z", "-180", "-85", "30000", "km", "WITHHASH", "ASC"],
  ],
  "georadius": [
    SICILY,
    MORE,
    ["GEORADIUS", "Sicily", "15", "37", "200", "km"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "ASC"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "DESC"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHCOORD"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHHASH"],
    [
      "GEORADIUS",
      "Sicily",
      "15",
      "37",
      "200",
      "km",
      "WITHDIST",
      "WITHCOORD",
      "WITHHASH",
      "COUNT",
      "2",
    ],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "DESC"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "2", "ANY"],
    [
      "GEORADIUS",
      "Sicily",
      "15",
      "37",
      "500",
      "mi",
      "COUNT",
      "3",
      "ANY",
      "ASC",
    ],
    ["GEORADIUS", "Sicily", "15", "37", "100000", "ft", "withdist"],
    ["GEORADIUS", "Sicily", "15", "37", "0", "m"],
    ["GEORADIUS", "Sicily", "15", "37", "1", "m"],
    ["GEORADIUS", "Sicily", "15", "37", "10000", "km"],
    ["GEORADIUS", "Sicily", "15", "37", "20000", "km", "ASC", "WITHDIST"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "dst"],
    ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
    ["GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "dst"],
    ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
    [
      "GEORADIUS",
      "Sicily",
      "15",
      "37",
      "200",
      "km",
      "STOREDIST",
      "dst",
      "COUNT",
      "1",
    ],
    ["ZRANGE", "dst", "0", "-1", "WITHSCORES"],
    ["GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "dst"],
    ["EXISTS", "dst"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "STORE", "Sicily"],
    ["EXISTS", "Sicily"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km"],
    ["GEORADIUS", "nokey", "200", "0", "1", "km"],
    ["GEORADIUS", "nokey", "0", "0", "-1", "km"],
    ["GEORADIUS", "nokey", "0", "0", "x", "km"],
    ["GEORADIUS", "nokey", "0", "0", "1", "kmh"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "bogus"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "ANY"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "COUNT", "0"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "COUNT", "-3"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "COUNT", "x"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "COUNT"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "STORE"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "WITHDIST", "STORE", "x"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "STOREDIST", "x", "WITHHASH"],
    ["GEORADIUS", "nokey", "0", "0", "1", "km", "FROMMEMBER", "x"],
    ["GEORADIUS", "nokey", "0", "0", "1"],
    ["SET", "str", "v"],
    ["GEORADIUS", "str", "0", "0", "1", "km"],
    ["GEORADIUS", "str", "0", "0", "x", "km"],
  ],
  "georadius_ro and bymember": [
    SICILY,
    MORE,
    ["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHDIST", "ASC"],
    ["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STORE", "x"],
    ["GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "STOREDIST", "x"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST", "DESC"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "0", "km", "WITHDIST"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "STORE", "d"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "STOREDIST", "d"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["GEORADIUSBYMEMBER", "Sicily", "missing", "200", "km"],
    ["GEORADIUSBYMEMBER", "Sicily", "missing", "x", "km"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "x", "km"],
    ["GEORADIUSBYMEMBER", "Sicily", "Palermo", "1", "x"],
    ["GEORADIUSBYMEMBER", "nokey", "x", "a", "km"],
    ["GEORADIUSBYMEMBER", "nokey", "x", "1", "km", "STORE", "Sicily"],
    ["EXISTS", "Sicily"],
    ["GEORADIUSBYMEMBER", "nokey", "x", "1", "km", "WITHDIST", "STORE", "y"],
    ["GEORADIUSBYMEMBER_RO", "nokey", "x", "1", "km"],
    ["GEORADIUSBYMEMBER_RO", "nokey", "x", "1", "km", "STORE", "y"],
    ["GEORADIUSBYMEMBER_RO", "nokey", "x", "1", "km", "BYRADIUS", "1", "km"],
    SICILY,
    ["GEORADIUSBYMEMBER_RO", "Sicily", "Catania", "1000", "km", "WITHCOORD"],
    ["SET", "str", "v"],
    ["GEORADIUSBYMEMBER", "str", "x", "1", "km"],
    ["GEORADIUSBYMEMBER", "str", "x", "1", "km", "STORE", "y"],
  ],
  "geosearch": [
    SICILY,
    MORE,
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "15",
      "37",
      "BYRADIUS",
      "200",
      "km",
      "ASC",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "15",
      "37",
      "BYBOX",
      "400",
      "400",
      "km",
      "ASC",
      "WITHDIST",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "15",
      "37",
      "BYBOX",
      "400",
      "100",
      "km",
      "WITHCOORD",
      "WITHHASH",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYBOX",
      "300",
      "300",
      "mi",
      "DESC",
      "WITHDIST",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "100",
      "km",
      "COUNT",
      "2",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "1000",
      "km",
      "COUNT",
      "2",
      "ANY",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "1000",
      "km",
      "COUNT",
      "2",
      "DESC",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYBOX",
      "0",
      "0",
      "km",
      "WITHDIST",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "frommember",
      "Palermo",
      "frommember",
      "Catania",
      "byradius",
      "1",
      "km",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "15",
      "37",
      "BYRADIUS",
      "1",
      "km",
      "BYRADIUS",
      "300",
      "km",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "FROMLONLAT",
      "15",
      "37",
      "BYRADIUS",
      "1",
      "km",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "15",
      "37",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "1",
      "km",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "15",
      "37",
      "BYRADIUS",
      "1",
      "km",
      "BYBOX",
      "1",
      "1",
      "km",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "15",
      "37",
      "BYBOX",
      "1",
      "1",
      "km",
      "BYRADIUS",
      "1",
      "km",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "WITHDIST",
      "WITHHASH",
      "WITHCOORD",
    ],
    ["GEOSEARCH", "Sicily", "BYRADIUS", "1", "km", "WITHDIST", "WITHHASH"],
    ["Geosearch", "Sicily", "FROMLONLAT", "1", "2", "WITHDIST", "WITHHASH"],
    ["GEOSEARCH", "Sicily", "FROMMEMBER", "missing", "BYRADIUS", "1", "km"],
    ["GEOSEARCH", "Sicily", "BYRADIUS", "-1", "km", "FROMMEMBER", "missing"],
    ["GEOSEARCH", "Sicily", "FROMMEMBER", "missing", "BYRADIUS", "-1", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "1", "foo"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "-1", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "-1", "x", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "x", "1", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "x", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "1", "kmx"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "1"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYRADIUS", "x", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "200", "BYRADIUS", "1", "km"],
    ["GEOSEARCH", "Sicily", "FROMLONLAT", "1", "x", "BYRADIUS", "1", "km"],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "1",
      "2",
      "BYRADIUS",
      "1",
      "km",
      "ANY",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "1",
      "2",
      "BYRADIUS",
      "1",
      "km",
      "COUNT",
      "0",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "1",
      "2",
      "BYRADIUS",
      "1",
      "km",
      "STORE",
      "x",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "1",
      "2",
      "BYRADIUS",
      "1",
      "km",
      "STOREDIST",
    ],
    [
      "GEOSEARCH",
      "Sicily",
      "FROMLONLAT",
      "1",
      "2",
      "BYRADIUS",
      "1",
      "km",
      "COUNT",
    ],
    ["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"],
    ["GEOSEARCH", "nokey", "FROMMEMBER", "x", "WITHDIST"],
    ["GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km", "ANY"],
    ["SET", "str", "v"],
    ["GEOSEARCH", "str", "FROMMEMBER", "x", "BYRADIUS", "1", "km"],
    ["GEOSEARCH", "str", "FROMMEMBER", "x", "BYRADIUS", "-1", "km"],
  ],
  "geosearchstore": [
    SICILY,
    MORE,
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMLONLAT",
      "15",
      "37",
      "BYRADIUS",
      "200",
      "km",
    ],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMLONLAT",
      "15",
      "37",
      "BYBOX",
      "400",
      "400",
      "km",
      "STOREDIST",
    ],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "500",
      "km",
      "COUNT",
      "2",
      "DESC",
      "STOREDIST",
    ],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "500",
      "km",
      "COUNT",
      "3",
      "ANY",
    ],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    [
      "GEOSEARCHSTORE",
      "Sicily",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "1",
      "km",
    ],
    ["ZRANGE", "Sicily", "0", "-1", "WITHSCORES"],
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMLONLAT",
      "0",
      "0",
      "BYRADIUS",
      "1",
      "km",
    ],
    ["EXISTS", "d"],
    ["SET", "d", "string"],
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMLONLAT",
      "13.36",
      "38.11",
      "BYRADIUS",
      "10",
      "km",
    ],
    ["TYPE", "d"],
    ["GEOSEARCHSTORE", "d", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"],
    ["EXISTS", "d"],
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMMEMBER",
      "x",
      "BYRADIUS",
      "1",
      "km",
      "WITHDIST",
    ],
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "1",
      "km",
      "STORE",
      "x",
    ],
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "1",
      "km",
      "STOREDIST",
      "x",
    ],
    [
      "GEOSEARCHSTORE",
      "d",
      "Sicily",
      "FROMMEMBER",
      "Palermo",
      "STOREDIST",
      "WITHHASH",
    ],
    ["GEOSEARCHSTORE", "d", "Sicily", "BYRADIUS", "1", "km", "STOREDIST"],
    ["GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1"],
    ["SET", "str", "v"],
    [
      "GEOSEARCHSTORE",
      "d",
      "str",
      "FROMMEMBER",
      "Palermo",
      "BYRADIUS",
      "1",
      "km",
    ],
  ],
  "equal distances with COUNT and without": [
    [
      "GEOADD",
      "t",
      ...Array.from({ length: 60 }, (_, i) => [
        String(10 + (i % 3) * 0.001),
        "40",
        `m${i}`,
      ]).flat(),
    ],
    ["GEOSEARCH", "t", "FROMLONLAT", "10", "40", "BYRADIUS", "9", "km", "ASC"],
    ["GEOSEARCH", "t", "FROMLONLAT", "10", "40", "BYRADIUS", "9", "km", "DESC"],
    [
      "GEOSEARCH",
      "t",
      "FROMLONLAT",
      "10",
      "40",
      "BYRADIUS",
      "9",
      "km",
      "COUNT",
      "7",
    ],
    [
      "GEOSEARCH",
      "t",
      "FROMLONLAT",
      "10",
      "40",
      "BYRADIUS",
      "9",
      "km",
      "COUNT",
      "45",
      "DESC",
    ],
    [
      "GEORADIUS",
      "t",
      "10",
      "40",
      "9",
      "km",
      "COUNT",
      "59",
      "DESC",
      "WITHDIST",
    ],
    [
      "GEOSEARCHSTORE",
      "d",
      "t",
      "FROMLONLAT",
      "10",
      "40",
      "BYBOX",
      "9",
      "9",
      "km",
      "COUNT",
      "30",
      "DESC",
    ],
    ["ZRANGE", "d", "0", "-1"],
  ],
  "encodings of stored results": [
    [
      "GEOADD",
      "big",
      ...Array.from({ length: 200 }, (_, i) => [
        String(10 + i / 1000),
        String(40 + (i % 7) / 1000),
        `m${i}`,
      ]).flat(),
    ],
    [
      "GEOSEARCHSTORE",
      "d",
      "big",
      "FROMLONLAT",
      "10.1",
      "40",
      "BYRADIUS",
      "100",
      "km",
    ],
    ["ZCARD", "d"],
    [
      "GEOSEARCH",
      "big",
      "FROMLONLAT",
      "10.1",
      "40",
      "BYRADIUS",
      "5",
      "km",
      "COUNT",
      "5",
      "WITHDIST",
    ],
    [
      "GEOSEARCH",
      "big",
      "FROMLONLAT",
      "10.1",
      "40",
      "BYBOX",
      "3",
      "2",
      "km",
      "DESC",
      "WITHDIST",
    ],
    ["GEOADD", "long", "1", "2", "x".repeat(100)],
  ],
};

Deno.test({
  name: "geo: replies are byte-identical to redis-server's",
  ignore: !hasRedis,
  fn: async (t) => {
    await compareWithRedis(t, CASES);
  },
});

/** A random geo command over a small key and member space. */
function randomCommand(rand: () => number): Cmd {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const member = () => `m${Math.floor(rand() * 16)}`;
  const key = () => pick(["g", "g", "g", "h", "s", "d"]);
  // Some points share a spot: equal distances, ordered as Redis sorts.
  const spots: [string, string][] = [["11", "41"], ["11.001", "41"], [
    "10.5",
    "40.5",
  ]];
  const coord = (): [string, string] =>
    rand() < 0.15
      ? pick(spots)
      : rand() < 0.9
      ? [(10 + rand() * 2).toFixed(6), (40 + rand() * 2).toFixed(6)]
      : [(rand() * 360 - 180).toFixed(5), ((rand() * 2 - 1) * 85).toFixed(5)];
  const unit = () => pick(["m", "km", "mi", "ft", "KM"]);
  const radius = (u: string) => {
    const km = pick([1, 10, 50, 100, 200, 1000, 20000]) * rand();
    const m = km * 1000 / ({ m: 1, km: 1000, mi: 1609.34, ft: 0.3048 }[
      u.toLowerCase() as "m"
    ]!);
    return m.toFixed(pick([0, 2, 4]));
  };
  const options = (store: boolean): string[] => {
    const groups: string[][] = [];
    if (!store && rand() < 0.4) groups.push(["WITHDIST"]);
    if (!store && rand() < 0.3) groups.push(["WITHCOORD"]);
    if (!store && rand() < 0.2) groups.push(["WITHHASH"]);
    if (rand() < 0.5) groups.push([pick(["ASC", "DESC"])]);
    const count = rand() < 0.4;
    if (count) groups.push(["COUNT", String(1 + Math.floor(rand() * 5))]);
    if (rand() < (count ? 0.3 : 0.03)) groups.push(["ANY"]);
    for (let i = groups.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [groups[i], groups[j]] = [groups[j], groups[i]];
    }
    return groups.flat();
  };
  const r = rand();
  if (r < 0.25) {
    const cmd: Cmd = ["GEOADD", pick(["g", "g", "h", "s"])];
    if (rand() < 0.2) cmd.push(pick(["NX", "XX", "CH", "CH"]));
    const n = 1 + Math.floor(rand() * 3);
    for (let i = 0; i < n; i++) cmd.push(...coord(), member());
    return cmd;
  }
  if (r < 0.3) return ["GEOPOS", key(), member(), member()];
  if (r < 0.35) return ["GEOHASH", key(), member(), member()];
  if (r < 0.42) return ["GEODIST", key(), member(), member(), unit()];
  if (r < 0.47) return ["ZREM", pick(["g", "h"]), member()];
  if (r < 0.49) return ["DEL", pick(["g", "h", "d"])];
  if (r < 0.52) return ["ZRANGE", "d", "0", "-1", "WITHSCORES"];
  if (r < 0.6) {
    const u = unit();
    return ["GEORADIUS", key(), ...coord(), radius(u), u, ...options(false)];
  }
  if (r < 0.66) {
    const u = unit();
    const store = rand() < 0.3;
    return [
      "GEORADIUSBYMEMBER",
      key(),
      member(),
      radius(u),
      u,
      ...options(store),
      ...(store ? [pick(["STORE", "STOREDIST"]), "d"] : []),
    ];
  }
  const store = r > 0.9;
  const cmd: Cmd = store
    ? ["GEOSEARCHSTORE", "d", key()]
    : ["GEOSEARCH", key()];
  if (rand() < 0.5) cmd.push("FROMMEMBER", member());
  else cmd.push("FROMLONLAT", ...coord());
  const u = unit();
  if (rand() < 0.5) cmd.push("BYRADIUS", radius(u), u);
  else cmd.push("BYBOX", radius(u), radius(u), u);
  cmd.push(...options(store));
  if (store && rand() < 0.5) cmd.push("STOREDIST");
  return cmd;
}

Deno.test({
  name: "geo: seeded random commands get redis-server's replies",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const a = await Conn.open(redis.port);
    const b = await Conn.open(ours.port);
    try {
      for (const seed of [1, 2, 3, 4, 5]) {
        const rand = rng(seed);
        for (const c of [a, b]) {
          await c.call("FLUSHALL");
          await c.call("SET", "s", "string");
        }
        for (let i = 0; i < 2000; i++) {
          const cmd = randomCommand(rand);
          const bytes = encodeCommand(cmd);
          const expected = await a.rawReplies(bytes);
          const actual = await b.rawReplies(bytes);
          assert.equal(
            actual,
            expected,
            `seed ${seed} #${i}: ${cmd.join(" ")}`,
          );
        }
      }
    } finally {
      a.close();
      b.close();
    }
  },
});

Deno.test("geo ops: embedded use", () => {
  const store = new Store();
  const geo = store.geo;
  assert.equal(
    geo.geoadd("Sicily", [
      [13.361389, 38.115556, "Palermo"],
      [15.087269, 37.502669, "Catania"],
    ]),
    2,
  );
  assert.equal(store.zsets.zscore("Sicily", "Palermo"), 3479099956230698);
  assert.equal(
    geo.geoadd("Sicily", [[13.4, 38.1, "Palermo"]], { ch: true }),
    1,
  );
  assert.equal(geo.geoadd("Sicily", [[1, 2, "Palermo"]], { nx: true }), 0);
  assert.equal(geo.geoadd("Sicily", [[1, 2, "new"]], { xx: true }), 0);
  geo.geoadd("Sicily", [[13.361389, 38.115556, "Palermo"]]);
  const [pos, none] = geo.geopos("Sicily", ["Palermo", "nope"]);
  assert.equal(formatHuman(pos![0]), "13.36138933897018433");
  assert.equal(none, null);
  assert.equal(
    formatDistance(geo.geodist("Sicily", "Palermo", "Catania", "km")!),
    "166.2742",
  );
  assert.equal(geo.geodist("Sicily", "Palermo", "nope"), null);
  assert.equal(geo.geodist("missing", "a", "b"), null);
  assert.deepEqual(geo.geohash("Sicily", ["Palermo", "x"]), [
    "sqc8b49rny0",
    null,
  ]);
  const found = geo.geosearch("Sicily", { lon: 15, lat: 37 }, {
    radius: 200,
    unit: "km",
  }, { order: "DESC" });
  assert.deepEqual(found.map((r) => r.member), ["Palermo", "Catania"]);
  assert.equal(formatDistance(found[0].distance), "190.4424");
  assert.equal(found[0].hash, 3479099956230698);
  assert.deepEqual(
    geo.geosearch("Sicily", { member: "Palermo" }, {
      width: 400,
      height: 400,
      unit: "km",
    }, { count: 1 }).map((r) => r.member),
    ["Palermo"],
  );
  assert.deepEqual(
    geo.geosearch("missing", { member: "x" }, { radius: 1 }),
    [],
  );
  assert.equal(
    geo.geosearchstore("dst", "Sicily", { lon: 15, lat: 37 }, {
      radius: 200,
      unit: "km",
    }, { storedist: true }),
    2,
  );
  assert.equal(
    formatDistance(store.zsets.zscore("dst", "Catania")!),
    "56.4413",
  );
  assert.equal(
    geo.geosearchstore("dst", "Sicily", { lon: 0, lat: 0 }, { radius: 1 }),
    0,
  );
  assert.equal(store.has("dst"), false);
  // Errors, as the commands word them.
  assert.throws(
    () => geo.geoadd("Sicily", [[1, 2, "ok"], [200, 100, "bad"]]),
    new StoreError(
      "ERR invalid longitude,latitude pair 200.000000,100.000000",
    ),
  );
  assert.equal(geo.geopos("Sicily", ["ok"])[0], null); // nothing was added
  assert.throws(
    () => geo.geosearch("Sicily", { member: "nope" }, { radius: 1 }),
    new StoreError("ERR could not decode requested zset member"),
  );
  assert.throws(
    () =>
      geo.geosearch("Sicily", { lon: 0, lat: 0 }, { radius: 1 }, { any: true }),
    new StoreError("ERR the ANY argument requires COUNT argument"),
  );
  assert.throws(
    () => geo.geosearch("Sicily", { lon: 0, lat: 0 }, { radius: -1 }),
    new StoreError("ERR radius cannot be negative"),
  );
  assert.throws(
    () => geo.geodist("Sicily", "a", "b", "yd" as "m"),
    new StoreError("ERR unsupported unit provided. please use M, KM, FT, MI"),
  );
  store.set("str", "v");
  assert.throws(() => geo.geopos("str", ["a"]), StoreError);
  assert.throws(() => geo.geoadd("str", [[1, 2, "a"]]), StoreError);
});

Deno.test("geo ops: a geo key is a sorted set: clone, snapshot, rewrite", async () => {
  const store = new Store();
  const rand = rng(11);
  const points: [number, number, string][] = [];
  for (let i = 0; i < 300; i++) {
    points.push([rand() * 4 - 2, rand() * 4 - 2, `p${i}`]);
  }
  store.geo.geoadd("g", points);
  const before = store.zsets.zrange("g", 0, -1);
  // clone() is independent of the original.
  const copy = (store.value("g") as Container).clone();
  store.geo.geoadd("g", [[0, 0, "added"]]);
  assert.equal(copy.size, 300);
  assert.equal(store.zsets.zcard("g"), 301);
  // A snapshot keeps the value it began with.
  {
    using snap = store.snapshot();
    store.geo.geoadd("g", [[1, 1, "later"]]);
    const [[key, value]] = snap.next(10);
    assert.equal(key, "g");
    assert.equal((value as Container).size, 301);
  }
  assert.equal(store.zsets.zcard("g"), 302);
  store.zsets.zrem("g", ["added", "later"]);
  assert.deepEqual(store.zsets.zrange("g", 0, -1), before);
  if (!hasRedis) return;
  // The rewrite rebuilds the same index on redis-server: same searches.
  await using redis = await RedisServer.start();
  const c = await Conn.open(redis.port);
  try {
    for (const cmd of (store.value("g") as Container).rewrite("g", 64)) {
      await c.call(...cmd);
    }
    for (let i = 0; i < 20; i++) {
      const lon = rand() * 4 - 2, lat = rand() * 4 - 2, km = rand() * 200;
      const ours = store.geo.geosearch("g", { lon, lat }, {
        radius: km,
        unit: "km",
      }, { order: "ASC" });
      const theirs = await c.call(
        "GEOSEARCH",
        "g",
        "FROMLONLAT",
        String(lon),
        String(lat),
        "BYRADIUS",
        String(km),
        "km",
        "ASC",
        "WITHDIST",
        "WITHHASH",
      ) as [string, string, number][];
      assert.deepEqual(
        ours.map((r) => [r.member, formatDistance(r.distance), r.hash]),
        theirs,
      );
    }
  } finally {
    c.close();
  }
});

Deno.test("geo ops: a million points, searches stay proportional to what they find", () => {
  const store = new Store();
  const rand = rng(5);
  const n = 1_000_000;
  let t = performance.now();
  const batch: [number, number, string][] = [];
  for (let i = 0; i < n; i++) {
    batch.push([rand() * 360 - 180, (rand() * 2 - 1) * 85, `m${i}`]);
    if (batch.length === 10_000) {
      store.geo.geoadd("world", batch);
      batch.length = 0;
    }
  }
  const addMs = performance.now() - t;
  assert.equal(store.zsets.zcard("world"), n);
  t = performance.now();
  let found = 0;
  for (let i = 0; i < 2000; i++) {
    found += store.geo.geosearch(
      "world",
      { lon: rand() * 360 - 180, lat: (rand() * 2 - 1) * 80 },
      { radius: 50, unit: "km" },
      { order: "ASC" },
    ).length;
  }
  const searchMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 100_000; i++) store.geo.geopos("world", [`m${i}`]);
  const posMs = performance.now() - t;
  // About 10 points in a 50 km circle at the equator, more nearer the poles.
  assert.ok(found > 5000 && found < 100_000, `found ${found}`);
  assert.ok(addMs < 8000, `adding took ${addMs} ms`);
  assert.ok(searchMs < 2000, `2000 searches took ${searchMs} ms`);
  assert.ok(posMs < 1000, `100k GEOPOS took ${posMs} ms`);
});

Deno.test({
  name:
    "geo: keys made by GEOADD and the STORE variants have redis-server's encodings",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    const c = await Conn.open(redis.port);
    const store = new Store();
    const cases: Cmd[][] = [
      [["GEOADD", "k", ...points(128, "m")]],
      [["GEOADD", "k", ...points(129, "m")]],
      [["GEOADD", "k", ...points(10, "x".repeat(64))]],
      [["GEOADD", "k", ...points(10, "x".repeat(65))]],
      [["GEOADD", "k", ...points(129, "m")], ["ZREM", "k", "m0", "m1"]],
      [
        ["GEOADD", "src", ...points(300, "m")],
        [
          "GEOSEARCHSTORE",
          "k",
          "src",
          "FROMLONLAT",
          "10",
          "40",
          "BYRADIUS",
          "20",
          "km",
        ],
      ],
      [
        ["GEOADD", "src", ...points(300, "m")],
        [
          "GEOSEARCHSTORE",
          "k",
          "src",
          "FROMLONLAT",
          "10",
          "40",
          "BYRADIUS",
          "2",
          "km",
        ],
      ],
      [
        ["GEOADD", "src", ...points(300, "m")],
        [
          "GEORADIUS",
          "src",
          "10",
          "40",
          "50",
          "km",
          "COUNT",
          "128",
          "STORE",
          "k",
        ],
      ],
    ];
    try {
      for (const cmds of cases) {
        await c.call("FLUSHALL");
        store.flush();
        for (const cmd of cmds) {
          await c.call(...cmd);
          applyGeo(store, cmd);
        }
        const expected = await c.call("OBJECT", "ENCODING", "k");
        const value = store.value("k") as Container;
        assert.equal(value.encoding(store.limits), expected, cmds.join(" | "));
        assert.equal(value.size, await c.call("ZCARD", "k"));
      }
    } finally {
      c.close();
    }
  },
});

/** `n` points around 10,40 named prefix + index, as GEOADD arguments. */
function points(n: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(String(10 + (i % 20) / 1000), String(40 + i / 20000), prefix + i);
  }
  return out;
}

/** The few commands of the encoding test, through the embedded API. */
function applyGeo(store: Store, cmd: Cmd): void {
  const a = cmd.map(String);
  if (a[0] === "GEOADD") {
    const pts: [number, number, string][] = [];
    for (let i = 2; i < a.length; i += 3) {
      pts.push([+a[i], +a[i + 1], a[i + 2]]);
    }
    store.geo.geoadd(a[1], pts);
  } else if (a[0] === "ZREM") {
    store.zsets.zrem(a[1], a.slice(2));
  } else if (a[0] === "GEOSEARCHSTORE") {
    store.geo.geosearchstore(a[1], a[2], { lon: +a[4], lat: +a[5] }, {
      radius: +a[7],
      unit: a[8] as "km",
    });
  } else if (a[0] === "GEORADIUS") {
    store.geo.geosearchstore(a[9], a[1], { lon: +a[2], lat: +a[3] }, {
      radius: +a[4],
      unit: a[5] as "km",
    }, { count: +a[7] });
  }
}
