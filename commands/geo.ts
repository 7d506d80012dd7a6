// Geo commands: GEOADD, GEOSEARCH and the rest of the family.

import { CommandError, Errors, type Handler, type Session } from "./_shared.ts";
import { formatHuman, parseFloatStrict, parseInt64 } from "../_number.ts";
import type { ReplyWriter } from "../protocol.ts";
import { notify } from "./pubsub.ts";
import {
  GEO_ERRORS,
  GEO_UNITS,
  type GeoMatch,
  type GeoUnit,
  type GeoZset,
  invalidLonLat,
  memberPosition,
  orderMatches,
  searchPoints,
  storeMatches,
} from "../data/geo.ts";
import {
  distance,
  encodeScore,
  formatDistance,
  geohashString,
  validLonLat,
} from "../data/_geohash.ts";

const NOT_FLOAT = "ERR value is not a valid float";

/** A double as Redis's getDoubleFromObject accepts one (strtod: no
 * spaces, no NaN, no overflow or underflow), or null. */
function parseDouble(s: string): number | null {
  const v = parseFloatStrict(s);
  if (v === null) return null;
  if (!Number.isFinite(v) && !/inf/i.test(s)) return null; // ERANGE
  if (v === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ""))) return null;
  return v;
}

function doubleArg(s: string, error = NOT_FLOAT): number {
  const v = parseDouble(s);
  if (v === null) throw new CommandError(error);
  return v;
}

/** Longitude and latitude at argv[i], argv[i + 1], validated. */
function lonLatArgs(argv: string[], i: number): [number, number] {
  const lon = doubleArg(argv[i]);
  const lat = doubleArg(argv[i + 1]);
  if (!validLonLat(lon, lat)) throw new CommandError(invalidLonLat(lon, lat));
  return [lon, lat];
}

function unitArg(s: string): number {
  const toMeters = GEO_UNITS[s.toLowerCase() as GeoUnit];
  if (s.length > 2 || toMeters === undefined) {
    throw new CommandError(GEO_ERRORS.unit);
  }
  return toMeters;
}

const encoder = new TextEncoder();

/** A coordinate as Redis's addReplyHumanLongDouble writes it. */
function humanDouble(out: ReplyWriter, v: number): void {
  const s = formatHuman(v);
  if (out.resp === 3) out.raw(encoder.encode(`,${s}\r\n`));
  else out.bulk(s);
}

function matchesOf(s: Session, key: string): GeoZset | undefined {
  return s.store.readAs<GeoZset>(key, "zset");
}

const geoadd: Handler = (s, argv) => {
  let nx = false, xx = false, ch = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const opt = argv[i].toUpperCase();
    if (opt === "NX") nx = true;
    else if (opt === "XX") xx = true;
    else if (opt === "CH") ch = true;
    else break;
  }
  const n = argv.length - i;
  if (n % 3 !== 0 || (nx && xx) || n === 0) {
    throw new CommandError(Errors.syntax);
  }
  // Straight to ZADD's pairs, as Redis rewrites GEOADD into a ZADD.
  const pairs: [string, number][] = new Array(n / 3);
  for (let k = 0; i < argv.length; i += 3, k++) {
    const [lon, lat] = lonLatArgs(argv, i);
    pairs[k] = [argv[i + 2], encodeScore(lon, lat)];
  }
  const dirty = s.store.dirty;
  const added = s.store.zsets.zadd(argv[1], pairs, { nx, xx, ch });
  if (s.store.dirty !== dirty) notify(s, "zadd", argv[1], "z");
  s.out.int(added);
};

const geopos: Handler = (s, argv) => {
  const z = matchesOf(s, argv[1]);
  s.out.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const p = memberPosition(z, argv[j]);
    if (p === undefined) {
      s.out.nilArray();
    } else {
      s.out.array(2);
      humanDouble(s.out, p[0]);
      humanDouble(s.out, p[1]);
    }
  }
};

const geohash: Handler = (s, argv) => {
  const z = matchesOf(s, argv[1]);
  s.out.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const p = memberPosition(z, argv[j]);
    if (p === undefined) s.out.nil();
    else s.out.bulk(geohashString(p[0], p[1]));
  }
};

const geodist: Handler = (s, argv) => {
  let toMeters = 1;
  if (argv.length === 5) toMeters = unitArg(argv[4]);
  else if (argv.length > 5) throw new CommandError(Errors.syntax);
  const z = matchesOf(s, argv[1]);
  const a = memberPosition(z, argv[2]);
  const b = a === undefined ? undefined : memberPosition(z, argv[3]);
  if (a === undefined || b === undefined) {
    s.out.nil();
    return;
  }
  s.out.bulk(formatDistance(distance(a[0], a[1], b[0], b[1]) / toMeters));
};

// Variants of the search commands, as Redis's georadiusGeneric flags.
const BY_COORDS = 1, BY_MEMBER = 2, NO_STORE = 4, SEARCH = 8, SEARCH_STORE = 16;

/** GEORADIUS, GEORADIUSBYMEMBER (and _RO), GEOSEARCH, GEOSEARCHSTORE:
 * arguments checked in Redis's order (the source member is looked up as
 * its argument is reached). */
function search(srcIndex: number, flags: number): Handler {
  return (s, argv) => {
    const z = matchesOf(s, argv[srcIndex]);
    let lon = 0, lat = 0, radius = -1, width = 0, height = 0, toMeters = 0;
    let base: number;
    let storeKey: string | undefined;
    let storedist = false;
    if (flags & BY_COORDS) {
      base = 6;
      [lon, lat] = lonLatArgs(argv, 2);
      radius = radiusArg(argv[4]);
      toMeters = unitArg(argv[5]);
    } else if (flags & BY_MEMBER) {
      base = 5;
      if (z !== undefined) {
        const p = memberPosition(z, argv[2]);
        if (p === undefined) throw new CommandError(GEO_ERRORS.noMember);
        [lon, lat] = p;
        radius = radiusArg(argv[3]);
        toMeters = unitArg(argv[4]);
      }
    } else {
      base = 2;
      if (flags & SEARCH_STORE) {
        base = 3;
        storeKey = argv[1];
      }
    }
    let withDist = false, withHash = false, withCoord = false, any = false;
    let fromMember = false, fromLonLat = false, byRadius = false;
    let byBox = false;
    let order: "ASC" | "DESC" | undefined;
    let count = 0;
    const n = argv.length;
    for (let i = base; i < n; i++) {
      const opt = argv[i].toUpperCase();
      const left = n - i - 1; // arguments after this one
      if (opt === "WITHDIST") withDist = true;
      else if (opt === "WITHHASH") withHash = true;
      else if (opt === "WITHCOORD") withCoord = true;
      else if (opt === "ANY") any = true;
      else if (opt === "ASC") order = "ASC";
      else if (opt === "DESC") order = "DESC";
      else if (opt === "COUNT" && left >= 1) {
        const v = parseInt64(argv[++i]);
        if (v === null) throw new CommandError(Errors.notInteger);
        if (v <= 0) throw new CommandError(GEO_ERRORS.count);
        count = Number(v);
      } else if (
        (opt === "STORE" || opt === "STOREDIST") && left >= 1 &&
        !(flags & (NO_STORE | SEARCH))
      ) {
        storeKey = argv[++i];
        storedist = opt === "STOREDIST";
      } else if (opt === "STOREDIST" && (flags & SEARCH_STORE)) {
        storedist = true;
      } else if (
        opt === "FROMMEMBER" && left >= 1 && (flags & SEARCH) && !fromLonLat
      ) {
        i++;
        fromMember = true;
        if (z === undefined) continue;
        const p = memberPosition(z, argv[i]);
        if (p === undefined) throw new CommandError(GEO_ERRORS.noMember);
        [lon, lat] = p;
      } else if (
        opt === "FROMLONLAT" && left >= 2 && (flags & SEARCH) && !fromMember
      ) {
        [lon, lat] = lonLatArgs(argv, i + 1);
        fromLonLat = true;
        i += 2;
      } else if (
        opt === "BYRADIUS" && left >= 2 && (flags & SEARCH) && !byBox
      ) {
        radius = radiusArg(argv[i + 1]);
        toMeters = unitArg(argv[i + 2]);
        byRadius = true;
        i += 2;
      } else if (
        opt === "BYBOX" && left >= 3 && (flags & SEARCH) && !byRadius
      ) {
        width = doubleArg(argv[i + 1], "ERR need numeric width");
        height = doubleArg(argv[i + 2], "ERR need numeric height");
        if (width < 0 || height < 0) {
          throw new CommandError(GEO_ERRORS.negativeBox);
        }
        toMeters = unitArg(argv[i + 3]);
        radius = -1;
        byBox = true;
        i += 3;
      } else {
        throw new CommandError(Errors.syntax);
      }
    }
    if (storeKey !== undefined && (withDist || withHash || withCoord)) {
      throw new CommandError(
        `ERR ${
          flags & SEARCH_STORE ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS"
        } is not compatible with WITHDIST, WITHHASH and WITHCOORD options`,
      );
    }
    if ((flags & SEARCH) && !fromMember && !fromLonLat) {
      throw new CommandError(
        `ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${
          argv[0]
        }`,
      );
    }
    if ((flags & SEARCH) && !byRadius && !byBox) {
      throw new CommandError(
        `ERR exactly one of BYRADIUS and BYBOX can be specified for ${argv[0]}`,
      );
    }
    if (any && count === 0) throw new CommandError(GEO_ERRORS.anyNeedsCount);
    if (z === undefined) {
      if (storeKey !== undefined) {
        const existed = s.store.has(storeKey);
        storeMatches(s.store, storeKey, [], false, 1);
        if (existed) notify(s, "del", storeKey, "g");
        s.out.int(0);
      } else {
        s.out.array(0);
      }
      return;
    }
    if (count > 0 && order === undefined && !any) order = "ASC";
    const shape = { lon, lat, radius, width, height, toMeters };
    const found = orderMatches(
      searchPoints(z, shape, any ? count : 0),
      order,
      count,
    );
    if (storeKey !== undefined) {
      const existed = s.store.has(storeKey);
      const n = storeMatches(s.store, storeKey, found, storedist, toMeters);
      const event = flags & SEARCH ? "geosearchstore" : "georadiusstore";
      if (n > 0) notify(s, event, storeKey, "z");
      else if (existed) notify(s, "del", storeKey, "g");
      s.out.int(n);
      return;
    }
    reply(s.out, found, toMeters, withDist, withHash, withCoord);
  };
}

function radiusArg(raw: string): number {
  const r = doubleArg(raw, "ERR need numeric radius");
  if (r < 0) throw new CommandError(GEO_ERRORS.negativeRadius);
  return r;
}

/** A score as C's (long long) cast makes it on x86-64 (scores that are
 * not geohashes are truncated; out of range is the minimum). */
function asLongLong(score: number): number | bigint {
  if (Number.isSafeInteger(score)) return score;
  if (!(Math.abs(score) < 2 ** 63)) return -(2n ** 63n);
  const t = Math.trunc(score);
  return Number.isSafeInteger(t) ? t : BigInt(t);
}

function reply(
  out: ReplyWriter,
  found: GeoMatch[],
  toMeters: number,
  withDist: boolean,
  withHash: boolean,
  withCoord: boolean,
): void {
  const extra = (withDist ? 1 : 0) + (withHash ? 1 : 0) + (withCoord ? 1 : 0);
  out.array(found.length);
  for (const m of found) {
    if (extra > 0) out.array(extra + 1);
    out.bulk(m.member);
    if (withDist) out.bulk(formatDistance(m.dist / toMeters));
    if (withHash) out.int(asLongLong(m.score));
    if (withCoord) {
      out.array(2);
      humanDouble(out, m.lon);
      humanDouble(out, m.lat);
    }
  }
}

/** Handlers of the geo family, by command name. */
export const geoCommands: Record<string, Handler> = {
  geoadd,
  geopos,
  geohash,
  geodist,
  georadius: search(1, BY_COORDS),
  georadius_ro: search(1, BY_COORDS | NO_STORE),
  georadiusbymember: search(1, BY_MEMBER),
  georadiusbymember_ro: search(1, BY_MEMBER | NO_STORE),
  geosearch: search(1, SEARCH),
  geosearchstore: search(2, SEARCH | SEARCH_STORE),
};
