// Sorted sets: byte-for-byte comparisons with redis-server, a seeded random
// comparison, the operations at the store level, and a large set.

import assert from "node:assert/strict";
import { type Cmd, compareWithRedis, hasRedis, runCase } from "./_compat.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { Store } from "../store.ts";
import { encodeCommand } from "../protocol.ts";
import { formatScore, parseScore, SortedSet } from "../data/zset.ts";

const CASES: Record<string, Cmd[]> = {
  "zadd basics": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZADD", "z", "1", "a"],
    ["ZADD", "z", "5", "a"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZCARD", "z"],
    ["ZCARD", "nokey"],
    ["ZADD", "z"],
    ["ZADD", "z", "1"],
    ["ZADD", "z", "1", "a", "2"],
    ["ZADD", "z", "x", "a"],
    ["ZADD", "z", "nan", "a"],
    ["ZADD", "z", "1", "a", "x", "b"],
    ["ZADD", "z", "", "a"],
    ["ZADD", "z", " 1", "a"],
    ["ZADD", "z", "1 ", "a"],
    ["ZADD", "z", "1e400", "a"],
    ["ZADD", "z", "1e-400", "a"],
    ["ZADD", "z", "inf", "i", "-inf", "j", "+inf", "k", "-Infinity", "l"],
    ["ZADD", "z", "0.1", "f", "1e20", "g", "1.5e-7", "h", "-0", "m"],
    ["ZADD", "z", "123456789012345678", "n", "0x10", "o", ".5", "p"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZSCORE", "z", "f"],
    ["ZSCORE", "z", "m"],
    ["ZSCORE", "z", "i"],
    ["ZSCORE", "z", "nope"],
    ["ZSCORE", "nokey", "a"],
    ["ZMSCORE", "z", "f", "nope", "i", "j"],
    ["ZMSCORE", "nokey", "a", "b"],
    ["ZMSCORE", "z"],
  ],
  "zadd options": [
    ["ZADD", "z", "NX", "XX", "1", "a"],
    ["ZADD", "z", "GT", "LT", "1", "a"],
    ["ZADD", "z", "NX", "GT", "1", "a"],
    ["ZADD", "z", "NX", "LT", "1", "a"],
    ["ZADD", "z", "INCR", "1", "a", "2", "b"],
    ["ZADD", "z", "INCR", "GT", "LT", "1", "a", "2", "b"],
    ["ZADD", "z", "GT", "LT", "1", "a", "2"],
    ["ZADD", "z", "XX", "1", "a"],
    ["EXISTS", "z"],
    ["ZADD", "z", "XX", "INCR", "1", "a"],
    ["EXISTS", "z"],
    ["ZADD", "z", "NX", "1", "a", "2", "b"],
    ["ZADD", "z", "NX", "5", "a", "3", "c"],
    ["ZADD", "z", "XX", "10", "a", "3", "d"],
    ["ZADD", "z", "CH", "10", "a", "20", "b", "4", "e"],
    ["ZADD", "z", "GT", "CH", "5", "a", "30", "b"],
    ["ZADD", "z", "LT", "CH", "5", "a", "30", "b"],
    ["ZADD", "z", "GT", "1", "new"],
    ["ZADD", "z", "xx", "ch", "gt", "100", "a"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZADD", "z", "INCR", "5", "a"],
    ["ZADD", "z", "NX", "INCR", "5", "a"],
    ["ZADD", "z", "XX", "INCR", "5", "zz"],
    ["ZADD", "z", "GT", "INCR", "-5", "a"],
    ["ZADD", "z", "LT", "INCR", "-5", "a"],
    ["ZADD", "z", "INCR", "-0", "fresh"],
    ["ZADD", "z", "INCR", "inf", "a"],
    ["ZADD", "z", "INCR", "-inf", "a"],
    ["ZSCORE", "z", "a"],
    ["ZADD", "z", "CH", "1", "a", "1", "a"],
  ],
  "zincrby": [
    ["ZINCRBY", "z", "1.5", "a"],
    ["ZINCRBY", "z", "2", "a"],
    ["ZINCRBY", "z", "x", "a"],
    ["ZINCRBY", "z", "nan", "a"],
    ["ZINCRBY", "z", "inf", "a"],
    ["ZINCRBY", "z", "-inf", "a"],
    ["ZINCRBY", "z", "0.1", "b"],
    ["ZINCRBY", "z", "0.2", "b"],
    ["ZINCRBY", "z"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
  ],
  "wrongtype": [
    ["SET", "s", "x"],
    ["ZADD", "s", "1", "a"],
    ["ZADD", "s", "XX", "1", "a"],
    ["ZADD", "s", "x", "a"],
    ["ZINCRBY", "s", "1", "a"],
    ["ZSCORE", "s", "a"],
    ["ZMSCORE", "s", "a"],
    ["ZCARD", "s"],
    ["ZCOUNT", "s", "0", "1"],
    ["ZCOUNT", "s", "x", "1"],
    ["ZLEXCOUNT", "s", "-", "+"],
    ["ZRANK", "s", "a"],
    ["ZREVRANK", "s", "a"],
    ["ZRANGE", "s", "0", "1"],
    ["ZRANGE", "s", "x", "1"],
    ["ZRANGESTORE", "d", "s", "0", "1"],
    ["ZRANGEBYSCORE", "s", "0", "1"],
    ["ZRANGEBYLEX", "s", "-", "+"],
    ["ZREM", "s", "a"],
    ["ZREMRANGEBYRANK", "s", "0", "1"],
    ["ZREMRANGEBYSCORE", "s", "0", "1"],
    ["ZREMRANGEBYLEX", "s", "-", "+"],
    ["ZPOPMIN", "s"],
    ["ZPOPMAX", "s", "2"],
    ["ZMPOP", "1", "s", "MIN"],
    ["ZRANDMEMBER", "s"],
    ["ZRANDMEMBER", "s", "2"],
    ["ZUNION", "1", "s"],
    ["ZUNIONSTORE", "d", "2", "s", "nokey"],
    ["ZINTER", "2", "nokey", "s"],
    ["ZDIFF", "1", "s"],
    ["ZINTERCARD", "1", "s"],
    ["ZSCAN", "s", "0"],
    ["LPUSH", "l", "x"],
    ["ZADD", "l", "1", "a"],
    ["ZRANGE", "l", "0", "-1"],
    ["ZUNION", "2", "l", "nokey", "BOGUS"],
  ],
  "zrange by rank": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
    ["ZRANGE", "z", "0", "-1"],
    ["ZRANGE", "z", "1", "3", "WITHSCORES"],
    ["ZRANGE", "z", "-2", "-1"],
    ["ZRANGE", "z", "-100", "100"],
    ["ZRANGE", "z", "3", "1"],
    ["ZRANGE", "z", "5", "10"],
    ["ZRANGE", "z", "0", "0", "REV"],
    ["ZRANGE", "z", "0", "-1", "REV", "WITHSCORES"],
    ["ZRANGE", "z", "0", "-1", "withscores", "withscores"],
    ["ZRANGE", "z", "0", "-1", "REV", "REV"],
    ["ZRANGE", "z", "0", "x"],
    ["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"],
    ["ZRANGE", "z", "0", "1", "LIMIT", "0", "-1"],
    ["ZRANGE", "z", "0", "1", "LIMIT", "0"],
    ["ZRANGE", "z", "0", "1", "LIMIT", "x", "1"],
    ["ZRANGE", "z", "0", "1", "BOGUS"],
    ["ZRANGE", "z", "0", "9223372036854775807"],
    ["ZRANGE", "z", "-9223372036854775808", "1"],
    ["ZRANGE", "z", "0", "9223372036854775808"],
    ["ZREVRANGE", "z", "0", "1"],
    ["ZREVRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZREVRANGE", "z", "0", "1", "REV"],
    ["ZREVRANGE", "z", "0", "1", "LIMIT", "0", "1"],
    ["ZREVRANGE", "z", "0", "1", "BYSCORE"],
    ["ZRANGE", "nokey", "0", "-1"],
    ["ZRANGE", "nokey", "x", "-1"],
  ],
  "zrange by score": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
    ["ZADD", "z", "-inf", "ninf", "+inf", "pinf"],
    ["ZRANGE", "z", "2", "4", "BYSCORE"],
    ["ZRANGE", "z", "(2", "(4", "BYSCORE", "WITHSCORES"],
    ["ZRANGE", "z", "-inf", "+inf", "BYSCORE"],
    ["ZRANGE", "z", "(-inf", "(+inf", "BYSCORE"],
    ["ZRANGE", "z", "4", "2", "BYSCORE", "REV"],
    ["ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"],
    ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "3"],
    ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "3"],
    ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "-1"],
    ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "0"],
    ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "100", "1"],
    ["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "BYLEX"],
    ["ZRANGE", "z", "3", "3", "BYSCORE"],
    ["ZRANGE", "z", "(3", "3", "BYSCORE"],
    ["ZRANGE", "z", "4", "2", "BYSCORE"],
    ["ZRANGE", "z", "x", "2", "BYSCORE"],
    ["ZRANGE", "z", "(", "2", "BYSCORE"],
    ["ZRANGE", "z", "", "2", "BYSCORE"],
    ["ZRANGE", "z", " 1", "2", "BYSCORE"],
    ["ZRANGE", "z", "1 ", "2", "BYSCORE"],
    ["ZRANGE", "z", "nan", "2", "BYSCORE"],
    ["ZRANGE", "z", "1e400", "2", "BYSCORE"],
    ["ZRANGE", "z", "((1", "2", "BYSCORE"],
    ["ZRANGEBYSCORE", "z", "2", "4"],
    ["ZRANGEBYSCORE", "z", "2", "4", "WITHSCORES", "LIMIT", "1", "1"],
    ["ZRANGEBYSCORE", "z", "2", "4", "LIMIT", "1", "1", "WITHSCORES"],
    ["ZRANGEBYSCORE", "z", "2", "4", "BYSCORE"],
    ["ZRANGEBYSCORE", "z", "2", "4", "REV"],
    ["ZRANGEBYSCORE", "z", "2", "4", "LIMIT", "1"],
    ["ZREVRANGEBYSCORE", "z", "4", "2"],
    ["ZREVRANGEBYSCORE", "z", "(4", "(2", "WITHSCORES"],
    ["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "3"],
    ["ZREVRANGEBYSCORE", "z", "2", "4"],
    ["ZRANGEBYSCORE", "nokey", "0", "1"],
    ["ZRANGEBYSCORE", "nokey", "x", "1"],
    ["ZCOUNT", "z", "2", "4"],
    ["ZCOUNT", "z", "(2", "(4"],
    ["ZCOUNT", "z", "-inf", "+inf"],
    ["ZCOUNT", "z", "4", "2"],
    ["ZCOUNT", "z", "a", "2"],
    ["ZCOUNT", "nokey", "0", "1"],
  ],
  "zrange by lex": [
    ["ZADD", "z", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "ab"],
    ["ZRANGE", "z", "-", "+", "BYLEX"],
    ["ZRANGE", "z", "[b", "(d", "BYLEX"],
    ["ZRANGE", "z", "(a", "[d", "BYLEX", "LIMIT", "1", "2"],
    ["ZRANGE", "z", "+", "-", "BYLEX", "REV"],
    ["ZRANGE", "z", "[d", "(a", "BYLEX", "REV", "LIMIT", "0", "2"],
    ["ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES"],
    ["ZRANGE", "z", "a", "+", "BYLEX"],
    ["ZRANGE", "z", "+", "-", "BYLEX"],
    ["ZRANGE", "z", "-", "-", "BYLEX"],
    ["ZRANGE", "z", "+", "+", "BYLEX"],
    ["ZRANGE", "z", "++", "+", "BYLEX"],
    ["ZRANGE", "z", "[", "+", "BYLEX"],
    ["ZRANGE", "z", "(", "+", "BYLEX"],
    ["ZRANGEBYLEX", "z", "[b", "[d"],
    ["ZRANGEBYLEX", "z", "[b", "[d", "LIMIT", "1", "1"],
    ["ZRANGEBYLEX", "z", "[b", "[d", "WITHSCORES"],
    ["ZRANGEBYLEX", "z", "b", "[d"],
    ["ZREVRANGEBYLEX", "z", "[d", "[b"],
    ["ZREVRANGEBYLEX", "z", "+", "-", "LIMIT", "2", "2"],
    ["ZREVRANGEBYLEX", "z", "[b", "[d"],
    ["ZLEXCOUNT", "z", "-", "+"],
    ["ZLEXCOUNT", "z", "[b", "(d"],
    ["ZLEXCOUNT", "z", "(b", "[b"],
    ["ZLEXCOUNT", "z", "b", "[b"],
    ["ZLEXCOUNT", "nokey", "-", "+"],
    ["ZREMRANGEBYLEX", "z", "[b", "[c"],
    ["ZREMRANGEBYLEX", "z", "x", "[c"],
    ["ZRANGE", "z", "0", "-1"],
    ["ZREMRANGEBYLEX", "z", "-", "+"],
    ["EXISTS", "z"],
    ["ZREMRANGEBYLEX", "nokey", "-", "+"],
  ],
  "zrangestore": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"],
    ["ZRANGESTORE", "d", "z", "0", "1"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZRANGESTORE", "d", "z", "(1", "+inf", "BYSCORE", "LIMIT", "1", "5"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    [
      "ZRANGESTORE",
      "d",
      "z",
      "+inf",
      "-inf",
      "BYSCORE",
      "REV",
      "LIMIT",
      "0",
      "2",
    ],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZRANGESTORE", "d", "z", "-", "+", "BYLEX"],
    ["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"],
    ["ZRANGESTORE", "d", "z", "0", "-1", "REV"],
    ["ZRANGE", "d", "0", "-1"],
    ["ZRANGESTORE", "d", "z", "5", "10"],
    ["EXISTS", "d"],
    ["SET", "d", "x"],
    ["ZRANGESTORE", "d", "nokey", "0", "-1"],
    ["EXISTS", "d"],
    ["SET", "d", "x"],
    ["ZRANGESTORE", "d", "z", "0", "0"],
    ["TYPE", "d"],
    ["ZRANGESTORE", "d", "z", "0", "x"],
    ["ZRANGESTORE", "d", "z", "x", "1", "BYSCORE"],
  ],
  "zrank zrem zremrange": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
    ["ZRANK", "z", "a"],
    ["ZRANK", "z", "e"],
    ["ZREVRANK", "z", "a"],
    ["ZRANK", "z", "x"],
    ["ZRANK", "nokey", "x"],
    ["ZREVRANK", "z", "x"],
    ["ZREM", "z", "a", "x", "a"],
    ["ZREM", "nokey", "a"],
    ["ZREMRANGEBYRANK", "z", "0", "0"],
    ["ZREMRANGEBYRANK", "z", "-1", "-1"],
    ["ZREMRANGEBYRANK", "z", "5", "10"],
    ["ZREMRANGEBYRANK", "z", "x", "10"],
    ["ZRANGE", "z", "0", "-1"],
    ["ZREMRANGEBYSCORE", "z", "(3", "+inf"],
    ["ZREMRANGEBYSCORE", "z", "x", "+inf"],
    ["ZREMRANGEBYSCORE", "nokey", "0", "1"],
    ["ZRANGE", "z", "0", "-1"],
    ["ZREM", "z", "c"],
    ["EXISTS", "z"],
    ["ZADD", "z", "1", "a", "2", "b"],
    ["ZREMRANGEBYRANK", "z", "0", "-1"],
    ["EXISTS", "z"],
    ["ZREMRANGEBYRANK", "nokey", "0", "-1"],
  ],
  "pops": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e"],
    ["ZPOPMIN", "z"],
    ["ZPOPMAX", "z"],
    ["ZPOPMIN", "z", "1"],
    ["ZPOPMAX", "z", "0"],
    ["ZPOPMIN", "z", "-1"],
    ["ZPOPMIN", "z", "x"],
    ["ZPOPMIN", "z", "1", "2"],
    ["ZPOPMIN", "z", "10"],
    ["EXISTS", "z"],
    ["ZPOPMIN", "nokey"],
    ["ZPOPMAX", "nokey", "2"],
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZADD", "y", "1", "x"],
    ["ZMPOP", "2", "nokey", "z", "MIN"],
    ["ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "10"],
    ["ZMPOP", "2", "nokey", "z", "MAX"],
    ["ZMPOP", "2", "z", "y", "min", "count", "1"],
    ["ZMPOP", "0", "z", "MIN"],
    ["ZMPOP", "-1", "z", "MIN"],
    ["ZMPOP", "x", "z", "MIN"],
    ["ZMPOP", "3", "z", "MIN"],
    ["ZMPOP", "1", "z", "BOTH"],
    ["ZMPOP", "1", "z", "MIN", "COUNT", "0"],
    ["ZMPOP", "1", "z", "MIN", "COUNT", "x"],
    ["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1"],
    ["ZMPOP", "1", "z", "MIN", "COUNT"],
    ["ZMPOP", "1", "z", "MIN", "EXTRA"],
    ["ZMPOP", "1", "nokey", "MIN"],
  ],
  "zrandmember": [
    ["ZADD", "z", "1", "a"],
    ["ZRANDMEMBER", "z"],
    ["ZRANDMEMBER", "nokey"],
    ["ZRANDMEMBER", "z", "1"],
    ["ZRANDMEMBER", "z", "5", "WITHSCORES"],
    ["ZRANDMEMBER", "z", "-3"],
    ["ZRANDMEMBER", "z", "-2", "WITHSCORES"],
    ["ZRANDMEMBER", "z", "0"],
    ["ZRANDMEMBER", "nokey", "3"],
    ["ZRANDMEMBER", "z", "x"],
    ["ZRANDMEMBER", "z", "1", "BOGUS"],
    ["ZRANDMEMBER", "z", "1", "WITHSCORES", "x"],
    ["ZRANDMEMBER", "z", "-9223372036854775808"],
    ["ZRANDMEMBER", "z", "9223372036854775808"],
    ["ZRANDMEMBER", "z", "-9223372036854775807", "WITHSCORES"],
    ["ZRANDMEMBER", "z", "4611686018427387904", "WITHSCORES"],
    ["ZRANDMEMBER", "z", "4611686018427387903", "WITHSCORES"],
  ],
  "set operations": [
    ["ZADD", "a", "1", "x", "2", "y", "3", "z"],
    ["ZADD", "b", "10", "y", "20", "z", "30", "w"],
    ["ZUNION", "2", "a", "b"],
    ["ZUNION", "2", "a", "b", "WITHSCORES"],
    ["ZUNION", "2", "a", "b", "WEIGHTS", "2", "-1", "WITHSCORES"],
    ["ZUNION", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES"],
    ["ZUNION", "2", "a", "b", "AGGREGATE", "max", "WITHSCORES"],
    ["ZUNION", "2", "a", "nokey", "WITHSCORES"],
    ["ZINTER", "2", "a", "b", "WITHSCORES"],
    ["ZINTER", "2", "a", "nokey"],
    ["ZINTER", "2", "a", "b", "WEIGHTS", "1", "0.5", "AGGREGATE", "SUM"],
    ["ZDIFF", "2", "a", "b", "WITHSCORES"],
    ["ZDIFF", "2", "nokey", "a"],
    ["ZDIFF", "2", "a", "b", "WEIGHTS", "1", "2"],
    ["ZDIFF", "1", "a", "AGGREGATE", "SUM"],
    ["ZUNIONSTORE", "d", "2", "a", "b"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "2", "3"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZDIFFSTORE", "d", "2", "a", "b"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["ZINTERSTORE", "d", "2", "a", "nokey"],
    ["EXISTS", "d"],
    ["ZUNIONSTORE", "d", "1", "a", "WITHSCORES"],
    ["ZUNIONSTORE", "d", "0", "a"],
    ["ZUNION", "0", "a"],
    ["ZINTER", "-1", "a"],
    ["ZUNION", "x", "a"],
    ["ZUNION", "3", "a", "b"],
    ["ZUNION", "2", "a", "b", "WEIGHTS", "1"],
    ["ZUNION", "2", "a", "b", "WEIGHTS", "1", "x"],
    ["ZUNION", "2", "a", "b", "AGGREGATE"],
    ["ZUNION", "2", "a", "b", "AGGREGATE", "AVG"],
    ["ZUNION", "2", "a", "b", "BOGUS"],
    ["ZUNIONSTORE", "a", "2", "a", "b"],
    ["ZRANGE", "a", "0", "-1", "WITHSCORES"],
    ["ZADD", "i", "inf", "x"],
    ["ZADD", "j", "-inf", "x"],
    ["ZUNION", "2", "i", "j", "WITHSCORES"],
    ["ZUNION", "1", "i", "WEIGHTS", "0", "WITHSCORES"],
    ["ZINTERCARD", "2", "a", "b"],
    ["ZINTERCARD", "2", "a", "b", "LIMIT", "1"],
    ["ZINTERCARD", "2", "a", "b", "LIMIT", "0"],
    ["ZINTERCARD", "2", "a", "nokey"],
    ["ZINTERCARD", "0", "a"],
    ["ZINTERCARD", "3", "a", "b"],
    ["ZINTERCARD", "2", "a", "b", "LIMIT", "-1"],
    ["ZINTERCARD", "2", "a", "b", "LIMIT"],
    ["ZINTERCARD", "2", "a", "b", "WITHSCORES"],
  ],
  "zscan": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c", "1.5", "ab"],
    ["ZSCAN", "z", "0"],
    ["ZSCAN", "z", "0", "MATCH", "a*"],
    ["ZSCAN", "z", "0", "COUNT", "1"],
    ["ZSCAN", "z", "0", "COUNT", "0"],
    ["ZSCAN", "z", "0", "COUNT", "x"],
    ["ZSCAN", "z", "0", "TYPE", "zset"],
    ["ZSCAN", "z", "0", "MATCH"],
    ["ZSCAN", "z", "x"],
    ["ZSCAN", "z", "-1"],
    ["ZSCAN", "nokey", "0"],
    ["ZSCAN", "nokey", "0", "COUNT", "0"],
  ],
  "arity": [
    ["ZADD", "z"],
    ["ZCARD"],
    ["ZSCORE", "z"],
    ["ZMSCORE", "z"],
    ["ZRANGE", "z", "0"],
    ["ZRANGESTORE", "d", "z", "0"],
    ["ZREM", "z"],
    ["ZPOPMIN"],
    ["ZMPOP", "1", "z"],
    ["ZUNION", "1"],
    ["ZUNIONSTORE", "d", "1"],
    ["ZINTERCARD", "1"],
    ["ZRANDMEMBER"],
    ["ZSCAN", "z"],
    ["ZCOUNT", "z", "0"],
    ["ZINCRBY", "z", "1"],
  ],
};

/** Sets as inputs (score 1): run once the server has SADD. */
const SET_CASES: Record<string, Cmd[]> = {
  "sets as inputs": [
    ["ZADD", "a", "1", "x", "2", "y", "3", "z"],
    ["ZADD", "b", "10", "y", "20", "z", "30", "w"],
    ["SADD", "s", "x", "w", "v"],
    ["ZUNION", "3", "a", "b", "s", "WITHSCORES"],
    ["ZUNION", "2", "a", "s", "WEIGHTS", "2", "3", "WITHSCORES"],
    ["ZINTER", "2", "a", "s", "WITHSCORES"],
    ["ZDIFF", "2", "b", "s", "WITHSCORES"],
    ["ZDIFF", "2", "s", "a", "WITHSCORES"],
    ["ZINTERCARD", "2", "a", "s"],
    ["ZUNIONSTORE", "d", "1", "s"],
    ["ZRANGE", "d", "0", "-1", "WITHSCORES"],
    ["LPUSH", "h", "v"],
    ["ZSCORE", "h", "f"],
    ["ZUNION", "2", "a", "h"],
  ],
};

Deno.test({
  name: "zsets: replies identical to redis-server",
  ignore: !hasRedis,
  async fn(t) {
    await compareWithRedis(t, CASES);
    await using ours = await startServer();
    if (ours.commands.get("sadd")?.run !== undefined) {
      await compareWithRedis(t, SET_CASES);
    }
  },
});

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

/** A random command of the family over a few keys and members. */
function randomCommand(r: () => number): Cmd {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  const key = () => pick(["z1", "z2", "z3"]);
  const member = () => `m${Math.floor(r() * 24)}`;
  const score = () =>
    pick(["0", "1", "2", "3", "-1", "2.5", "10", "-0", "inf", "-inf", "0.1"]);
  const bound = () =>
    pick(["-inf", "+inf", "0", "(0", "1", "(2", "3", "(10", "2.5", "x"]);
  const lex = () => pick(["-", "+", "[m1", "(m1", "[m15", "(m3", "[m7", "m"]);
  const rank = () => String(Math.floor(r() * 30) - 15);
  switch (Math.floor(r() * 24)) {
    case 0:
    case 1:
    case 2: {
      const opts = [];
      for (const o of ["NX", "XX", "GT", "LT", "CH"]) {
        if (r() < 0.12) opts.push(o);
      }
      const cmd: Cmd = ["ZADD", key(), ...opts];
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) cmd.push(score(), member());
      return cmd;
    }
    case 3:
      return ["ZADD", "lex", "0", member(), "0", member()];
    case 4:
      return r() < 0.5 ? ["ZINCRBY", key(), score(), member()] : [
        "ZADD",
        key(),
        pick(["INCR", "GT", "LT", "XX", "NX"]),
        "INCR",
        score(),
        member(),
      ];
    case 5:
      return ["ZREM", key(), member(), member()];
    case 6:
      return [
        "ZRANGE",
        key(),
        rank(),
        rank(),
        ...(r() < 0.5 ? ["WITHSCORES"] : []),
        ...(r() < 0.3 ? ["REV"] : []),
      ];
    case 7: {
      const cmd: Cmd = ["ZRANGE", key(), bound(), bound(), "BYSCORE"];
      if (r() < 0.5) cmd.push("REV");
      if (r() < 0.5) cmd.push("WITHSCORES");
      if (r() < 0.4) cmd.push("LIMIT", rank(), rank());
      return cmd;
    }
    case 8:
      return [
        pick(["ZRANGEBYSCORE", "ZREVRANGEBYSCORE"]),
        key(),
        bound(),
        bound(),
        ...(r() < 0.5 ? ["WITHSCORES"] : []),
      ];
    case 9:
      return ["ZCOUNT", key(), bound(), bound()];
    case 10:
      return [pick(["ZRANK", "ZREVRANK", "ZSCORE"]), key(), member()];
    case 11:
      return ["ZMSCORE", key(), member(), member(), member()];
    case 12:
      return [
        pick(["ZPOPMIN", "ZPOPMAX"]),
        key(),
        ...(r() < 0.6 ? [String(Math.floor(r() * 4))] : []),
      ];
    case 13:
      return ["ZREMRANGEBYRANK", key(), rank(), rank()];
    case 14:
      return ["ZREMRANGEBYSCORE", key(), bound(), bound()];
    case 15:
      return [
        pick(["ZRANGEBYLEX", "ZREVRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"]),
        "lex",
        lex(),
        lex(),
      ];
    case 16:
      return [
        "ZRANGE",
        "lex",
        lex(),
        lex(),
        "BYLEX",
        ...(r() < 0.4 ? ["LIMIT", rank(), rank()] : []),
      ];
    case 17: {
      const op = pick(["ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"]);
      const cmd: Cmd = [op, key(), "2", key(), key()];
      if (op !== "ZDIFFSTORE" && r() < 0.5) {
        cmd.push("WEIGHTS", pick(["1", "2", "-1"]), pick(["0", "3"]));
      }
      if (op !== "ZDIFFSTORE" && r() < 0.5) {
        cmd.push("AGGREGATE", pick(["SUM", "MIN", "MAX"]));
      }
      return cmd;
    }
    case 18:
      return [
        pick(["ZUNION", "ZINTER", "ZDIFF"]),
        "3",
        key(),
        key(),
        key(),
        "WITHSCORES",
      ];
    case 19:
      return ["ZRANGESTORE", key(), key(), rank(), rank()];
    case 20:
      return ["ZCARD", key()];
    case 21:
      return [
        "ZMPOP",
        "2",
        key(),
        key(),
        pick(["MIN", "MAX"]),
        "COUNT",
        String(1 + Math.floor(r() * 3)),
      ];
    case 22:
      return ["ZINTERCARD", "2", key(), key()];
    default:
      return ["ZRANGE", key(), "0", "-1", "WITHSCORES"];
  }
}

Deno.test({
  name: "zsets: seeded random commands agree with redis-server",
  ignore: !hasRedis,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    // Small listpack limits, so both encodings (and conversions) are used.
    ours.store.limits.zsetMaxListpackEntries = 8;
    ours.store.limits.zsetMaxListpackValue = 64;
    for (const resp of [2, 3] as const) {
      const r = rng(resp * 796);
      const a = await Conn.open(redis.port);
      const b = await Conn.open(ours.port);
      try {
        await a.call("CONFIG", "SET", "zset-max-listpack-entries", "8");
        for (const c of [a, b]) {
          await c.call("FLUSHALL");
          if (resp === 3) await c.call("HELLO", "3");
        }
        const recent: string[] = [];
        for (let i = 0; i < 2000; i++) {
          const cmd = randomCommand(r);
          const payload = encodeCommand(cmd);
          const expected = await a.rawReplies(payload);
          const actual = await b.rawReplies(payload);
          recent.push(`${cmd.join(" ")} -> ${JSON.stringify(expected)}`);
          if (recent.length > 30) recent.shift();
          assert.equal(
            actual,
            expected,
            `#${i} RESP${resp} ${cmd.join(" ")}; before:\n${recent.join("\n")}`,
          );
        }
        // Same final content.
        for (const k of ["z1", "z2", "z3", "lex"]) {
          const cmd = encodeCommand(["ZRANGE", k, "0", "-1", "WITHSCORES"]);
          assert.equal(await b.rawReplies(cmd), await a.rawReplies(cmd));
        }
      } finally {
        a.close();
        b.close();
      }
    }
  },
});

Deno.test({
  name: "zsets: ZRANDMEMBER by its properties",
  ignore: !hasRedis,
  async fn() {
    await using ours = await startServer();
    const c = await Conn.open(ours.port);
    try {
      const members = Array.from({ length: 200 }, (_, i) => `m${i}`);
      const args = members.flatMap((m, i) => [String(i), m]);
      await c.call("ZADD", "z", ...args);
      await c.call("ZADD", "small", "1", "a", "2", "b", "3", "c");
      const one = await c.call("ZRANDMEMBER", "z") as string;
      assert.ok(members.includes(one));
      const distinct = await c.call("ZRANDMEMBER", "z", "50") as string[];
      assert.equal(distinct.length, 50);
      assert.equal(new Set(distinct).size, 50);
      const many = await c.call("ZRANDMEMBER", "z", "150") as string[];
      assert.equal(new Set(many).size, 150);
      const repeats = await c.call("ZRANDMEMBER", "small", "-20") as string[];
      assert.equal(repeats.length, 20);
      assert.ok(repeats.every((m) => ["a", "b", "c"].includes(m)));
      const all = await c.call("ZRANDMEMBER", "small", "10", "WITHSCORES");
      assert.deepEqual(
        (all as string[]).reduce<string[][]>(
          (
            acc,
            x,
            i,
          ) => (i % 2 ? acc[acc.length - 1].push(x) : acc.push([x]), acc),
          [],
        ).sort(),
        [["a", "1"], ["b", "2"], ["c", "3"]],
      );
      await c.call("HELLO", "3");
      const pairs = await c.call("ZRANDMEMBER", "small", "-4", "WITHSCORES");
      assert.equal((pairs as unknown[]).length, 4);
      for (const p of pairs as [string, number][]) {
        assert.equal(Number(p[0].charCodeAt(0) - 96), p[1]);
      }
    } finally {
      c.close();
    }
  },
});

Deno.test("zsets: score formatting and parsing", () => {
  assert.equal(formatScore(0.1), "0.10000000000000001");
  assert.equal(formatScore(1e20), "1e+20");
  assert.equal(formatScore(1.5e-7), "1.4999999999999999e-07");
  assert.equal(formatScore(123456789012345678), "1.2345678901234568e+17");
  assert.equal(formatScore(1e16), "10000000000000000");
  assert.equal(formatScore(-0), "-0");
  assert.equal(formatScore(5e-324), "4.9406564584124654e-324");
  assert.equal(formatScore(-Infinity), "-inf");
  assert.equal(parseScore("1e400"), null);
  assert.equal(parseScore(" 1"), null);
  assert.equal(parseScore("+inf"), Infinity);
  assert.equal(parseScore("0x10"), 16);
  assert.equal(parseScore("nan"), null);
});

Deno.test("zsets: operations at the store level", () => {
  const store = new Store();
  const z = store.zsets;
  assert.equal(z.zadd("k", [["a", 1], ["b", 2], ["c", 3]]), 3);
  assert.equal(z.zadd("k", [["a", 5]], { nx: true }), 0);
  assert.equal(z.zadd("k", [["a", 5], ["d", 4]], { xx: true, ch: true }), 1);
  assert.equal(z.zadd("k", [["a", 1]], { gt: true, ch: true }), 0);
  assert.equal(z.zincrby("k", "b", 10), 12);
  assert.equal(z.zincrby("k", "b", 1, { lt: true }), undefined);
  assert.equal(z.zscore("k", "a"), 5);
  assert.deepEqual(z.zmscore("k", ["a", "x"]), [5, undefined]);
  assert.equal(z.zcard("k"), 3);
  assert.equal(z.zrank("k", "c"), 0);
  assert.equal(z.zrank("k", "c", true), 2);
  assert.deepEqual(z.zrange("k", 0, -1), [["c", 3], ["a", 5], ["b", 12]]);
  assert.deepEqual(z.zrange("k", 0, 0, true), [["b", 12]]);
  assert.deepEqual(
    z.zrangeByScore("k", { min: 3, max: 12, minExclusive: true }, {
      reverse: true,
      count: 1,
    }),
    [["b", 12]],
  );
  assert.equal(z.zcount("k", { min: -Infinity, max: 5 }), 2);
  assert.equal(z.zstore("dst", z.zrange("k", 0, 1)), 2);
  assert.deepEqual(z.zrange("dst", 0, -1), [["c", 3], ["a", 5]]);
  assert.deepEqual(z.zunion(["k", "dst"], { aggregate: "max" }), [
    ["c", 3],
    ["a", 5],
    ["b", 12],
  ]);
  assert.deepEqual(z.zinter(["k", "dst"]), [["c", 6], ["a", 10]]);
  assert.deepEqual(z.zdiff(["k", "dst"]), [["b", 12]]);
  assert.equal(z.zintercard(["k", "dst"], 1), 1);
  assert.deepEqual(z.zpop("k", 1, true), [["b", 12]]);
  assert.deepEqual(z.zmpop(["none", "k"], false, 5), ["k", [["c", 3], [
    "a",
    5,
  ]]]);
  assert.equal(store.has("k"), false);
  assert.equal(z.zrem("dst", ["a", "c", "x"]), 2);
  assert.equal(store.has("dst"), false);
  store.set("s", "x");
  assert.throws(() => z.zadd("s", [["a", 1]]), /WRONGTYPE/);
  z.zadd("inf", [["a", Infinity]]);
  assert.throws(() => z.zincrby("inf", "a", -Infinity), /NaN/);
  z.zadd("lex", [["a", 0], ["b", 0], ["c", 0]]);
  assert.deepEqual(z.zrangeByLex("lex", { min: "b" }), [["b", 0], ["c", 0]]);
  assert.equal(z.zlexcount("lex", { max: "b", maxExclusive: true }), 1);
  assert.equal(z.zremRangeByLex("lex", { min: "a", max: "b" }), 2);
  assert.equal(z.zremRangeByScore("lex", { min: 0, max: 0 }), 1);
  z.zadd("r", [["a", 1], ["b", 2], ["c", 3]]);
  assert.equal(z.zremRangeByRank("r", -2, -1), 2);
  assert.deepEqual(z.zrandmember("r", -3), [["a", 1], ["a", 1], ["a", 1]]);
});

Deno.test("zsets: encodings turn as redis-server's do", () => {
  const store = new Store();
  const z = store.zsets;
  const enc = (k: string) => store.zsets.lookup(k)!.encoding(store.limits);
  // 128 members: listpack; the 129th: skiplist, for good.
  z.zadd("k", Array.from({ length: 128 }, (_, i) => [`m${i}`, i]));
  assert.equal(enc("k"), "listpack");
  z.zadd("k", [["one-more", 1]]);
  assert.equal(enc("k"), "skiplist");
  z.zremRangeByRank("k", 0, -3);
  assert.equal(enc("k"), "skiplist");
  // A member longer than 64 bytes.
  z.zadd("long", [["a", 1]]);
  z.zadd("long", [["x".repeat(65), 1]]);
  assert.equal(enc("long"), "skiplist");
  z.zadd("first", [["x".repeat(65), 1]]);
  assert.equal(enc("first"), "skiplist");
  z.zadd("ok", [["x".repeat(64), 1]]);
  assert.equal(enc("ok"), "listpack");
  // Stored results: by their size.
  z.zstore("small", z.zrange("k", 0, -1));
  assert.equal(enc("small"), "listpack");
  z.zstore("big", Array.from({ length: 129 }, (_, i) => [`m${i}`, i]));
  assert.equal(enc("big"), "skiplist");
  store.limits.zsetMaxListpackEntries = 0;
  z.zadd("zero", [["a", 1]]);
  assert.equal(enc("zero"), "skiplist");
  // -0 is kept as 0 by a listpack, as -0 by a skiplist.
  store.limits.zsetMaxListpackEntries = 128;
  z.zadd("neg", [["a", -0]]);
  assert.ok(Object.is(z.zscore("neg", "a"), 0));
  z.zadd("big", [["a", -0]]);
  assert.ok(Object.is(z.zscore("big", "a"), -0));
});

Deno.test("zsets: clone, copy-on-write and rewrite", async () => {
  const store = new Store();
  const z = store.zsets;
  z.zadd("k", Array.from({ length: 1000 }, (_, i) => [`m${i}`, i % 37]));
  const original = z.lookup("k")!;
  const copy = original.clone();
  z.zrem("k", ["m1", "m2"]);
  z.zadd("k", [["new", 5]]);
  assert.equal(copy.size, 1000);
  assert.equal(copy.score("new"), undefined);
  assert.equal(copy.score("m1"), 1);
  copy.set("m3", 100);
  assert.equal(z.zscore("k", "m3"), 3);

  // A snapshot keeps the value as it was.
  const before = Array.from(z.lookup("k")!.entries());
  {
    using snap = store.snapshot();
    z.zadd("k", [["during", 1]]);
    z.zrem("k", ["m10"]);
    const entries = snap.next(100);
    const value = entries.find(([key]) => key === "k")![1] as SortedSet;
    assert.deepEqual(Array.from(value.entries()), before);
  }
  assert.equal(z.zscore("k", "during"), 1);

  // The rewrite rebuilds the same set on redis-server and on ours.
  const big = z.lookup("k")!;
  big.set("inf", Infinity);
  big.set("tiny", 1.5e-7);
  const cmds = Array.from(big.rewrite("k", 100));
  assert.ok(cmds.length > 5);
  const check: Cmd[] = [...cmds, ["ZRANGE", "k", "0", "-1", "WITHSCORES"]];
  const rebuilt = new Store();
  for (const cmd of cmds) {
    const entries: [string, number][] = [];
    for (let i = 2; i < cmd.length; i += 2) {
      entries.push([cmd[i + 1], parseScore(cmd[i])!]);
    }
    rebuilt.zsets.zadd(cmd[1], entries);
  }
  assert.deepEqual(
    Array.from(rebuilt.zsets.lookup("k")!.entries()),
    Array.from(big.entries()),
  );
  if (hasRedis) {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const expected = await runCase(redis.port, check, 2);
    const actual = await runCase(ours.port, check, 2);
    assert.deepEqual(actual, expected);
  }
});

Deno.test("zsets: a million members keep O(log n) operations", () => {
  const store = new Store();
  const z = store.zsets;
  const n = 1_000_000;
  let t = performance.now();
  const batch: [string, number][] = [];
  for (let i = 0; i < n; i++) {
    batch.push([`member:${i}`, (i * 7919) % n]);
    if (batch.length === 1000) {
      z.zadd("big", batch);
      batch.length = 0;
    }
  }
  const addMs = performance.now() - t;
  assert.equal(z.zcard("big"), n);
  assert.ok(addMs < 8000, `1M ZADD took ${addMs} ms`);
  // Ranks, ranges, counts and removals: each well under a millisecond.
  t = performance.now();
  for (let i = 0; i < 10_000; i++) {
    const m = `member:${(i * 104729) % n}`;
    const rank = z.zrank("big", m)!;
    assert.equal(rank, z.zscore("big", m));
    assert.equal(z.zrange("big", rank, rank)[0][0], m);
  }
  const s = z.zrangeByScore("big", { min: 500_000, max: 500_009 });
  assert.equal(s.length, 10);
  assert.equal(
    z.zcount("big", { min: 0, max: n / 2, maxExclusive: true }),
    n / 2,
  );
  for (let i = 0; i < 10_000; i++) z.zrem("big", [`member:${i}`]);
  for (let i = 0; i < 10_000; i++) z.zadd("big", [[`member:${i}`, -i]]);
  assert.deepEqual(z.zrange("big", 0, 0), [["member:9999", -9999]]);
  const opsMs = performance.now() - t;
  assert.ok(opsMs < 3000, `40k operations took ${opsMs} ms`);
});

Deno.test("zsets: ZSCAN of a big set returns every member that stays", async () => {
  await using ours = await startServer();
  const c = await Conn.open(ours.port);
  try {
    const args: string[] = [];
    for (let i = 0; i < 1000; i++) args.push(String(i / 4), `m${i}`);
    await c.call("ZADD", "z", ...args);
    const seen = new Map<string, string>();
    let cursor = "0";
    let calls = 0;
    do {
      const [next, items] = await c.call(
        "ZSCAN",
        "z",
        cursor,
        "COUNT",
        "50",
      ) as [string, string[]];
      for (let i = 0; i < items.length; i += 2) {
        seen.set(items[i], items[i + 1]);
      }
      // Changes meanwhile: members removed and added.
      await c.call("ZREM", "z", `m${calls * 7}`);
      await c.call("ZADD", "z", "1", `new${calls}`);
      cursor = next;
    } while (cursor !== "0" && ++calls < 1000);
    assert.ok(calls < 1000);
    for (let i = 0; i < 1000; i++) {
      if (i % 7 === 0 && i / 7 <= calls) continue; // removed meanwhile
      assert.equal(seen.get(`m${i}`), formatScore(i / 4), `m${i}`);
    }
    const [, some] = await c.call(
      "ZSCAN",
      "z",
      "0",
      "MATCH",
      "m99*",
      "COUNT",
      "2000",
    ) as [
      string,
      string[],
    ];
    assert.deepEqual(
      some.filter((_, i) => i % 2 === 0).sort(),
      [
        "m99",
        "m990",
        "m991",
        "m992",
        "m993",
        "m994",
        "m995",
        "m996",
        "m997",
        "m998",
        "m999",
      ],
    );
  } finally {
    c.close();
  }
});

// --- Packed form ---------------------------------------------------------------

/** Members past the packed form's 32: plain, long (past 64 chars, so a
 * skiplist), binary and empty. */
function bigBatch(r: () => number, key: string): Cmd {
  const cmd: Cmd = ["ZADD", key];
  const n = 5 + Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    const x = r();
    const member = x < 0.02
      ? "L".repeat(65 + Math.floor(r() * 3))
      : x < 0.05
      ? "\x00\xff" + Math.floor(r() * 4)
      : x < 0.06
      ? ""
      : `m${Math.floor(r() * 70)}`;
    const score = r() < 0.3 ? "0" : r() < 0.1 ? "-0" : String(
      Math.floor(r() * 40) / 4 - 3,
    );
    cmd.push(score, member);
  }
  return cmd;
}

Deno.test({
  name:
    "zsets: packed, big listpack and skiplist forms agree with redis-server",
  ignore: !hasRedis,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using a = await Conn.open(redis.port);
    using b = await Conn.open(ours.port);
    for (const entries of [128, 40]) {
      const r = rng(entries * 31);
      await a.call("CONFIG", "SET", "zset-max-listpack-entries", `${entries}`);
      ours.store.limits.zsetMaxListpackEntries = entries;
      for (const c of [a, b]) await c.call("FLUSHALL");
      for (let i = 0; i < 2500; i++) {
        const cmd = r() < 0.08
          ? bigBatch(r, pick3(r))
          : r() < 0.01
          ? ["DEL", pick3(r)]
          : randomCommand(r);
        const payload = encodeCommand(cmd);
        const expected = await a.rawReplies(payload);
        const actual = await b.rawReplies(payload);
        const where = `#${i} (${entries}) ${cmd.join(" ").slice(0, 200)}`;
        assert.equal(actual, expected, where);
        if (i % 5 === 0) {
          for (const k of ["z1", "z2", "z3"]) {
            const want = await a.call("OBJECT", "ENCODING", k);
            const z = ours.store.value(k) as SortedSet | undefined;
            assert.equal(
              z?.encoding(ours.store.limits) ?? null,
              want === null ? null : String(want),
              `${where}: ${k}`,
            );
          }
        }
      }
      for (const k of ["z1", "z2", "z3", "lex"]) {
        const cmd = encodeCommand(["ZRANGE", k, "0", "-1", "WITHSCORES"]);
        assert.equal(await b.rawReplies(cmd), await a.rawReplies(cmd));
      }
    }
  },
});

function pick3(r: () => number): string {
  return ["z1", "z2", "z3"][Math.floor(r() * 3)];
}

Deno.test("zsets: packed sets agree with a model (clone, rewrite, ranks)", () => {
  const r = rng(5150);
  const limits = new Store().limits;
  const specials = [
    0,
    -0,
    1,
    -1,
    0.1,
    2.5,
    Infinity,
    -Infinity,
    1e300,
    -5e-324,
  ];
  for (let round = 0; round < 40; round++) {
    const z = new SortedSet();
    const ref = new Map<string, number>();
    const copies: [SortedSet, [string, number][]][] = [];
    const want = () =>
      [...ref].sort((x, y) =>
        x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)
      );
    for (let i = 0; i < 200; i++) {
      const m = r() < 0.05 ? "" : `m${Math.floor(r() * (round % 2 ? 20 : 45))}`;
      const s = r() < 0.5
        ? specials[Math.floor(r() * specials.length)]
        : Math.floor(r() * 10);
      if (r() < 0.65) {
        assert.equal(z.set(m, s, limits), !ref.has(m));
        ref.set(m, s === 0 ? 0 : s);
      } else {
        assert.equal(z.delete(m), ref.delete(m));
      }
      assert.equal(z.size, ref.size);
      assert.equal(z.score(m), ref.get(m));
      if (i % 40 === 0) copies.push([z.clone(), want()]);
    }
    const sorted = want();
    assert.deepEqual([...z.entries()], sorted);
    for (const [k, [m]] of sorted.entries()) {
      assert.equal(z.rank(m), k);
      assert.deepEqual(z.at(k), sorted[k]);
    }
    if (sorted.length > 2) {
      assert.deepEqual(
        z.slice(1, sorted.length - 2, true),
        sorted.slice(1, -1).reverse(),
      );
      const mid = sorted[1][1];
      const [lo, hi] = z.scoreRanks({ min: mid, max: Infinity });
      assert.equal(hi - lo, sorted.filter(([, s]) => s >= mid).length);
    }
    for (const [copy, entries] of copies) {
      assert.deepEqual([...copy.entries()], entries);
    }
    const back = new SortedSet();
    for (const cmd of z.rewrite("k", 5)) {
      for (let i = 2; i < cmd.length; i += 2) {
        back.set(cmd[i + 1], parseScore(cmd[i])!, limits);
      }
    }
    assert.deepEqual([...back.entries()], sorted);
    assert.equal(back.encoding(limits), z.encoding(limits));
  }
});

Deno.test("zsets: a snapshot keeps a packed set as it was", () => {
  const store = new Store();
  store.zsets.zadd("z", [["a", 1], ["b", 2], ["c", -0]]);
  using snap = store.snapshot();
  store.zsets.zadd("z", [["a", 5], ["d", 0.5]]);
  store.zsets.zrem("z", ["b"]);
  let seen: [string, number][] = [];
  for (let chunk = snap.next(10); chunk.length > 0; chunk = snap.next(10)) {
    for (const [, value] of chunk) seen = [...(value as SortedSet).entries()];
  }
  assert.deepEqual(seen, [["c", 0], ["a", 1], ["b", 2]]);
  assert.deepEqual(store.zsets.zrange("z", 0, -1), [
    ["c", 0],
    ["d", 0.5],
    ["a", 5],
  ]);
});

Deno.test("zsets: 300k small sorted sets stay fast", () => {
  const store = new Store();
  const t = performance.now();
  for (let i = 0; i < 300_000; i++) {
    store.zsets.zadd(`z:${i}`, [["a", 1], [`m${i}`, i & 7], ["c", 3]]);
  }
  for (let i = 0; i < 300_000; i++) {
    assert.equal(store.zsets.zscore(`z:${i}`, `m${i}`), i & 7);
  }
  const took = performance.now() - t;
  assert.ok(took < 8000, `300k small sorted sets took ${took} ms`);
});
