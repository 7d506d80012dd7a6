// Geo indexes on sorted sets with 52-bit geohash scores

import type { Store } from "../store.ts";
import type { SortedSet } from "./zset.ts";
import { StoreError } from "../_errors.ts";
import {
  cellScores,
  decodeScore,
  distance,
  distanceIfInShape,
  encodeScore,
  formatFixed,
  geohashString,
  searchCells,
  type Shape,
  validLonLat,
} from "./_geohash.ts";

/** A distance unit of the geo commands. */
export type GeoUnit = "m" | "km" | "ft" | "mi";

/** Meters per unit, as Redis converts. */
export const GEO_UNITS: Readonly<Record<GeoUnit, number>> = Object.freeze({
  m: 1,
  km: 1000,
  ft: 0.3048,
  mi: 1609.34,
});

/** Redis's error texts of the geo commands. */
export const GEO_ERRORS = {
  noMember: "ERR could not decode requested zset member",
  unit: "ERR unsupported unit provided. please use M, KM, FT, MI",
  negativeRadius: "ERR radius cannot be negative",
  negativeBox: "ERR height or width cannot be negative",
  count: "ERR COUNT must be > 0",
  anyNeedsCount: "ERR the ANY argument requires COUNT argument",
} as const;

/** The error for coordinates out of range, worded as Redis's "%f,%f". */
export function invalidLonLat(lon: number, lat: number): string {
  return `ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${
    formatFixed(lat, 6)
  }`;
}

/** Options of {@linkcode GeoOps.geoadd}, as GEOADD's. */
export interface GeoAddOptions {
  /** Only add new members. */
  nx?: boolean;
  /** Only update existing members. */
  xx?: boolean;
  /** Count changed members too, not only added ones. */
  ch?: boolean;
}

/** Where a search starts: a member of the index or a position. */
export type GeoFrom = { member: string } | { lon: number; lat: number };

/** What a search covers: a circle or an axis-aligned box, sized in `unit`. */
export type GeoBy =
  | { radius: number; unit?: GeoUnit }
  | { width: number; height: number; unit?: GeoUnit };

/** Options of {@linkcode GeoOps.geosearch}, as GEOSEARCH's. */
export interface GeoSearchOptions {
  /** Sort by distance; without it the order is the index's (unless
   * `count` is given without `any`, which sorts ascending). */
  order?: "ASC" | "DESC";
  /** At most this many results (> 0). */
  count?: number;
  /** With `count`: stop as soon as that many were found. */
  any?: boolean;
}

/** One result of a search. */
export interface GeoSearchResult {
  /** The member. */
  member: string;
  /** Distance from the centre, in the search's unit. */
  distance: number;
  /** The member's score (its 52-bit geohash). */
  hash: number;
  /** Longitude of the member's cell centre. */
  lon: number;
  /** Latitude of the member's cell centre. */
  lat: number;
}

// The geo commands read and write sorted sets through the sorted set
// module's public API.

/** A sorted set holding a geo index. */
export type GeoZset = SortedSet;

const SCAN_CHUNK = 64;

/** Calls `visit` for the members with min <= score < max, in order, until
 * it returns false. */
function scanScores(
  z: SortedSet,
  min: number,
  max: number,
  visit: (member: string, score: number) => boolean,
): void {
  const [start, end] = z.scoreRanks({ min, max, maxExclusive: true });
  let go = true;
  const fn = (member: string, score: number) => {
    if (go) go = visit(member, score);
  };
  for (let a = start; a < end && go; a += SCAN_CHUNK) {
    z.forRanks(a, Math.min(a + SCAN_CHUNK, end) - 1, false, fn);
  }
}

/** A search's shape from its centre and extent. */
export function makeShape(lon: number, lat: number, by: GeoBy): Shape {
  const toMeters = GEO_UNITS[by.unit ?? "m"];
  if (toMeters === undefined) throw new StoreError(GEO_ERRORS.unit);
  if ("radius" in by) {
    if (!(by.radius >= 0)) throw new StoreError(GEO_ERRORS.negativeRadius);
    return { lon, lat, radius: by.radius, width: 0, height: 0, toMeters };
  }
  if (by.width < 0 || by.height < 0) {
    throw new StoreError(GEO_ERRORS.negativeBox);
  }
  return {
    lon,
    lat,
    radius: -1,
    width: by.width,
    height: by.height,
    toMeters,
  };
}

/** The position a member's score decodes to, or undefined when missing. */
export function memberPosition(
  z: GeoZset | undefined,
  member: string,
): [number, number] | undefined {
  const score = z?.score(member);
  return score === undefined ? undefined : decodeScore(score);
}

/** A point found by a search (distance in meters until the reply). */
export interface GeoMatch {
  member: string;
  score: number;
  dist: number;
  lon: number;
  lat: number;
}

/**
 * The members inside `shape`, in the order Redis finds them (the 9 cells
 * around the centre, each in score order); with `limit` > 0, stops once
 * that many were found.
 */
export function searchPoints(
  z: GeoZset,
  shape: Shape,
  limit: number,
): GeoMatch[] {
  const { cells, step } = searchCells(shape);
  const out: GeoMatch[] = [];
  const xy: [number, number] = [0, 0];
  let last = -1;
  const visit = (member: string, score: number): boolean => {
    decodeScore(score, xy);
    const d = distanceIfInShape(shape, xy[0], xy[1]);
    if (d >= 0) {
      out.push({ member, score, dist: d, lon: xy[0], lat: xy[1] });
    }
    return !(limit > 0 && out.length >= limit);
  };
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell === null) continue;
    // Huge radiuses make neighbours repeat: skip a cell equal to the last.
    if (last > 0 && cells[last] === cell) continue;
    if (limit > 0 && out.length >= limit) break;
    const [min, max] = cellScores(cell, step);
    scanScores(z, min, max, visit);
    last = i;
  }
  return out;
}

/** Sorts matches by distance and keeps at most `count` (0: all), ties
 * ordered as Redis orders them: a full sort is glibc's qsort (a stable
 * merge sort, as Array.prototype.sort), a partial one Redis's pqsort. */
export function orderMatches(
  matches: GeoMatch[],
  order: "ASC" | "DESC" | undefined,
  count: number,
): GeoMatch[] {
  if (order !== undefined) {
    const cmp = order === "ASC" ? ascending : descending;
    if (count > 0 && count < matches.length) {
      partialSort(matches, 0, matches.length, cmp, 0, count - 1);
    } else {
      matches.sort(cmp);
    }
  }
  if (count > 0 && matches.length > count) matches.length = count;
  return matches;
}

type Compare = (a: GeoMatch, b: GeoMatch) => number;

function ascending(a: GeoMatch, b: GeoMatch): number {
  return a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1;
}

function descending(a: GeoMatch, b: GeoMatch): number {
  return -ascending(a, b);
}

function swap(x: GeoMatch[], i: number, j: number): void {
  const t = x[i];
  x[i] = x[j];
  x[j] = t;
}

function median3(x: GeoMatch[], a: number, b: number, c: number, cmp: Compare) {
  return cmp(x[a], x[b]) < 0
    ? (cmp(x[b], x[c]) < 0 ? b : cmp(x[a], x[c]) < 0 ? c : a)
    : (cmp(x[b], x[c]) > 0 ? b : cmp(x[a], x[c]) < 0 ? a : c);
}

/**
 * Sorts x[a .. a + n) only as far as the ranks lo..hi need: Bentley and
 * McIlroy's three-way quicksort that skips the partitions holding neither
 * rank, as Redis's pqsort (its element moves decide the order of equal
 * distances, so they are the same here).
 */
function partialSort(
  x: GeoMatch[],
  a: number,
  n: number,
  cmp: Compare,
  lo: number,
  hi: number,
): void {
  while (true) {
    if (n < 7) {
      for (let m = a + 1; m < a + n; m++) {
        for (let l = m; l > a && cmp(x[l - 1], x[l]) > 0; l--) {
          swap(x, l, l - 1);
        }
      }
      return;
    }
    let pm = a + (n >>> 1);
    if (n > 7) {
      let pl = a;
      let pn = a + n - 1;
      if (n > 40) {
        const d = n >>> 3;
        pl = median3(x, pl, pl + d, pl + 2 * d, cmp);
        pm = median3(x, pm - d, pm, pm + d, cmp);
        pn = median3(x, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = median3(x, pl, pm, pn, cmp);
    }
    swap(x, a, pm);
    let pa = a + 1, pb = a + 1;
    let pc = a + n - 1, pd = a + n - 1;
    while (true) {
      let r: number;
      while (pb <= pc && (r = cmp(x[pb], x[a])) <= 0) {
        if (r === 0) swap(x, pa++, pb);
        pb++;
      }
      while (pb <= pc && (r = cmp(x[pc], x[a])) >= 0) {
        if (r === 0) swap(x, pc, pd--);
        pc--;
      }
      if (pb > pc) break;
      swap(x, pb++, pc--);
    }
    const end = a + n;
    let r = Math.min(pa - a, pb - pa);
    for (let i = 0; i < r; i++) swap(x, a + i, pb - r + i);
    r = Math.min(pd - pc, end - pd - 1);
    for (let i = 0; i < r; i++) swap(x, pb + i, end - r + i);
    const outside = (p: number, m: number) =>
      (lo < p && hi < p) || (lo >= p + m && hi >= p + m);
    if ((r = pb - pa) > 1 && !outside(a, r)) partialSort(x, a, r, cmp, lo, hi);
    if ((r = pd - pc) > 1) {
      a = end - r;
      n = r;
      if (!outside(a, n)) continue;
    }
    return;
  }
}

/** Geo indexes on sorted sets with 52-bit geohash scores, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.geo`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.geo.geoadd("Sicily", [
 *   [13.361389, 38.115556, "Palermo"],
 *   [15.087269, 37.502669, "Catania"],
 * ]);
 * console.log(store.geo.geodist("Sicily", "Palermo", "Catania", "km")); // 166.27415156960032
 * ```
 */
export class GeoOps {
  readonly #store: Store;
  /** Operations on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }
  /** The store operated on. */
  get store(): Store {
    return this.#store;
  }

  /** GEOADD: adds or updates `[longitude, latitude, member]` points (a
   * sorted set, as ZADD makes it); returns how many were added (or, with
   * `ch`, added or moved). Throws for coordinates out of range before
   * changing anything. */
  geoadd(
    key: string,
    points: Iterable<readonly [number, number, string]>,
    options: GeoAddOptions = {},
  ): number {
    const pairs: [string, number][] = [];
    for (const [lon, lat, member] of points) {
      if (!validLonLat(lon, lat)) {
        throw new StoreError(invalidLonLat(lon, lat));
      }
      pairs.push([member, encodeScore(lon, lat)]);
    }
    return this.#store.zsets.zadd(key, pairs, options);
  }

  /** GEOPOS: the `[longitude, latitude]` of each member (null when
   * missing). */
  geopos(key: string, members: readonly string[]): ([number, number] | null)[] {
    const z = this.#store.readAs<GeoZset>(key, "zset");
    return members.map((m) => memberPosition(z, m) ?? null);
  }

  /** GEODIST: the distance between two members in `unit` (meters by
   * default), or null when either is missing. */
  geodist(
    key: string,
    a: string,
    b: string,
    unit: GeoUnit = "m",
  ): number | null {
    const toMeters = GEO_UNITS[unit];
    if (toMeters === undefined) throw new StoreError(GEO_ERRORS.unit);
    const z = this.#store.readAs<GeoZset>(key, "zset");
    const pa = memberPosition(z, a);
    const pb = memberPosition(z, b);
    if (pa === undefined || pb === undefined) return null;
    return distance(pa[0], pa[1], pb[0], pb[1]) / toMeters;
  }

  /** GEOHASH: the 11-character geohash of each member (null when
   * missing). */
  geohash(key: string, members: readonly string[]): (string | null)[] {
    const z = this.#store.readAs<GeoZset>(key, "zset");
    return members.map((m) => {
      const p = memberPosition(z, m);
      return p === undefined ? null : geohashString(p[0], p[1]);
    });
  }

  /** GEOSEARCH: the members within a radius or box of a member or a
   * position, with their distance (in the search's unit), hash and
   * position. */
  geosearch(
    key: string,
    from: GeoFrom,
    by: GeoBy,
    options: GeoSearchOptions = {},
  ): GeoSearchResult[] {
    const z = this.#store.readAs<GeoZset>(key, "zset");
    const found = this.#search(z, from, by, options);
    if (found === undefined) return [];
    const toMeters = GEO_UNITS[by.unit ?? "m"];
    return found.map((m) => ({
      member: m.member,
      distance: m.dist / toMeters,
      hash: m.score,
      lon: m.lon,
      lat: m.lat,
    }));
  }

  /** GEOSEARCHSTORE: stores the search's result at `destination` as a
   * sorted set (scores: the hashes, or with `storedist` the distances in
   * the search's unit); an empty result deletes it. Returns the number of
   * members stored. */
  geosearchstore(
    destination: string,
    key: string,
    from: GeoFrom,
    by: GeoBy,
    options: GeoSearchOptions & { storedist?: boolean } = {},
  ): number {
    const z = this.#store.readAs<GeoZset>(key, "zset");
    const found = this.#search(z, from, by, options) ?? [];
    return storeMatches(
      this.#store,
      destination,
      found,
      options.storedist ?? false,
      GEO_UNITS[by.unit ?? "m"],
    );
  }

  #search(
    z: GeoZset | undefined,
    from: GeoFrom,
    by: GeoBy,
    options: GeoSearchOptions,
  ): GeoMatch[] | undefined {
    let lon: number, lat: number;
    if ("member" in from) {
      if (z === undefined) return undefined;
      const p = memberPosition(z, from.member);
      if (p === undefined) throw new StoreError(GEO_ERRORS.noMember);
      [lon, lat] = p;
    } else {
      ({ lon, lat } = from);
      if (!validLonLat(lon, lat)) {
        throw new StoreError(invalidLonLat(lon, lat));
      }
    }
    const shape = makeShape(lon, lat, by);
    const count = options.count ?? 0;
    if (options.count !== undefined && !(count > 0)) {
      throw new StoreError(GEO_ERRORS.count);
    }
    if (options.any && count === 0) {
      throw new StoreError(GEO_ERRORS.anyNeedsCount);
    }
    if (z === undefined) return undefined;
    let order = options.order;
    if (count > 0 && order === undefined && !options.any) order = "ASC";
    const found = searchPoints(z, shape, options.any ? count : 0);
    return orderMatches(found, order, count);
  }
}

/** Stores matches at `dest` as GEORADIUS STORE / GEOSEARCHSTORE do:
 * scores are the hashes, or the distances in the unit with `storedist`; an
 * empty result deletes `dest`. Returns how many were stored. */
export function storeMatches(
  store: Store,
  dest: string,
  matches: GeoMatch[],
  storedist: boolean,
  toMeters: number,
): number {
  if (matches.length === 0) {
    if (store.delete(dest)) store.dirty++;
    return 0;
  }
  const n = store.zsets.zstore(
    dest,
    matches.map((m) => [m.member, storedist ? m.dist / toMeters : m.score]),
  );
  store.dirty += n - 1; // Redis counts every member stored
  return matches.length;
}
