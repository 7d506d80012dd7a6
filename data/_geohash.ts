// Geohashes as Redis's geo commands use them: 26 bits per coordinate,
// interleaved into a 52-bit integer that is the sorted set score (longitude
// bits on the odd positions, latitude bits on the even ones), decoding to
// the centre of the cell, the haversine distance on Redis's earth radius,
// and the 9 cells a radius or box search reads.
//
// The arithmetic is done in doubles in the same order as Redis does it, so
// scores, positions and distances come out bit for bit the same.

/** Smallest longitude a point may have. */
export const LON_MIN = -180;
/** Largest longitude a point may have. */
export const LON_MAX = 180;
/** Smallest latitude a point may have (EPSG:900913's limit). */
export const LAT_MIN = -85.05112878;
/** Largest latitude a point may have. */
export const LAT_MAX = 85.05112878;
/** Bits per coordinate of a stored point. */
export const STEP_MAX = 26;
/** Earth's quadratic mean radius in meters (WGS-84), as Redis uses it. */
export const EARTH_RADIUS = 6372797.560856;

const MERCATOR_MAX = 20037726.37;

/** The sin, cos and asin distances are computed with. */
interface Trig {
  sin(x: number): number;
  cos(x: number): number;
  asin(x: number): number;
}

/**
 * Redis computes distances with the C library's sin, cos and asin, whose
 * last bit differs from V8's Math in about one call in a thousand (neither
 * is always correctly rounded): visible in STOREDIST scores (17 digits)
 * and at search borders. So when the process may load native libraries
 * (`--allow-ffi`) on Linux, we call glibc's libm as Redis does (a call
 * costs a few ns); otherwise Math, which agrees but for those last bits.
 */
function loadTrig(): Trig {
  try {
    if (
      typeof Deno !== "undefined" && Deno.build.os === "linux" &&
      Deno.permissions.querySync({ name: "ffi" }).state === "granted"
    ) {
      const lib = Deno.dlopen("libm.so.6", {
        sin: { parameters: ["f64"], result: "f64" },
        cos: { parameters: ["f64"], result: "f64" },
        asin: { parameters: ["f64"], result: "f64" },
      });
      return lib.symbols;
    }
  } catch {
    // no libm to load: Math it is
  }
  return Math;
}

// DESIGN: libm is opened on the first distance, not when this module
// loads: the FFI machinery and the library cost every server about 3 MB of
// RSS at start-up, and most never run a GEO command.
let trig: Trig | null = null;

/** The trigonometry in use, loaded on first use. */
function trigFns(): Trig {
  return trig ??= loadTrig();
}

/** Whether distances use the C library's trigonometry (bit-exact with
 * redis-server on Linux) rather than Math's. */
export function nativeTrig(): boolean {
  return trigFns() !== Math;
}
const D_R = Math.PI / 180;
const TWO32 = 4294967296;

/** A rectangle of coordinates. */
export interface Area {
  lonMin: number;
  lonMax: number;
  latMin: number;
  latMax: number;
}

/** A search shape: a circle (`height` and `width` 0) or a box, centred on
 * `lon`,`lat`, with sizes in `unit`s (`toMeters` meters each). */
export interface Shape {
  lon: number;
  lat: number;
  /** Radius of a circle (in units), or -1 for a box. */
  radius: number;
  /** Box width and height, in units. */
  width: number;
  height: number;
  /** Meters per unit. */
  toMeters: number;
}

/** Spreads the 16 low bits of x onto the even bits of a 32-bit word. */
function spread16(x: number): number {
  x &= 0xffff;
  x = (x | (x << 8)) & 0x00ff00ff;
  x = (x | (x << 4)) & 0x0f0f0f0f;
  x = (x | (x << 2)) & 0x33333333;
  x = (x | (x << 1)) & 0x55555555;
  return x;
}

/** Gathers the even bits of a 32-bit word into 16 bits. */
function squeeze32(x: number): number {
  x &= 0x55555555;
  x = (x | (x >>> 1)) & 0x33333333;
  x = (x | (x >>> 2)) & 0x0f0f0f0f;
  x = (x | (x >>> 4)) & 0x00ff00ff;
  x = (x | (x >>> 8)) & 0x0000ffff;
  return x;
}

/** True when the pair is inside the range a point may have. */
export function validLonLat(lon: number, lat: number): boolean {
  return lon >= LON_MIN && lon <= LON_MAX && lat >= LAT_MIN &&
    lat <= LAT_MAX;
}

// The two 32-bit halves of the last encoded hash (no allocation).
let encodedHi = 0;
let encodedLo = 0;

/** Encodes into encodedHi/encodedLo; the coordinates must be valid. */
function encodeHalves(
  lon: number,
  lat: number,
  step: number,
  latMin: number,
  latMax: number,
): void {
  let latOffset = (lat - latMin) / (latMax - latMin);
  let lonOffset = (lon - LON_MIN) / (LON_MAX - LON_MIN);
  const scale = 2 ** step;
  latOffset *= scale;
  lonOffset *= scale;
  // C converts to uint32_t: truncation (offsets are never negative).
  const la = Math.trunc(latOffset) >>> 0;
  const lo = Math.trunc(lonOffset) >>> 0;
  encodedLo = (spread16(la) | (spread16(lo) << 1)) >>> 0;
  encodedHi = (spread16(la >>> 16) | (spread16(lo >>> 16) << 1)) >>> 0;
}

/** The sorted set score of a point, as GEOADD stores it (a 52-bit integer;
 * a point on the top or east edge makes a wider one, rounded as a double
 * as Redis's ZADD parses it). The coordinates must be valid. */
export function encodeScore(lon: number, lat: number): number {
  encodeHalves(lon, lat, STEP_MAX, LAT_MIN, LAT_MAX);
  return encodedHi * TWO32 + encodedLo;
}

/** The hash of a point at `step` bits per coordinate, as a bigint. */
export function encodeCell(lon: number, lat: number, step: number): bigint {
  encodeHalves(lon, lat, step, LAT_MIN, LAT_MAX);
  return (BigInt(encodedHi) << 32n) | BigInt(encodedLo);
}

const GEOALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

/** GEOHASH's 11-character standard geohash of a position (re-encoded with
 * latitudes -90..90; the last character is always '0'). */
export function geohashString(lon: number, lat: number): string {
  encodeHalves(lon, lat, STEP_MAX, -90, 90);
  const bits = (BigInt(encodedHi) << 32n) | BigInt(encodedLo);
  let out = "";
  for (let i = 0; i < 10; i++) {
    out += GEOALPHABET[Number((bits >> BigInt(52 - (i + 1) * 5)) & 31n)];
  }
  return out + "0";
}

/** The two 32-bit halves of a score as C's (uint64_t) cast makes them on
 * x86-64. */
function scoreHalves(score: number): void {
  if (score >= 0 && score < 2 ** 53) {
    const t = Math.trunc(score);
    encodedHi = Math.floor(t / TWO32);
    encodedLo = t - encodedHi * TWO32;
    return;
  }
  let u: bigint;
  if (score >= 2 ** 63) {
    u = score < 2 ** 64 ? BigInt(score) : 0n; // +inf and beyond: 0
  } else if (score >= -(2 ** 63)) {
    u = BigInt.asUintN(64, BigInt(Math.trunc(score)));
  } else {
    u = 1n << 63n; // -inf, NaN, below -2^63: the "indefinite" integer
  }
  encodedHi = Number(u >> 32n);
  encodedLo = Number(u & 0xffffffffn);
}

/** Decodes the cell of `latBits`/`lonBits` at `step` into `area`. */
function decodeInto(
  latBits: number,
  lonBits: number,
  step: number,
  area: Area,
): void {
  const scale = 2 ** step;
  const latScale = LAT_MAX - LAT_MIN;
  const lonScale = LON_MAX - LON_MIN;
  // (ilato + 1) is computed in 32-bit unsigned arithmetic in Redis.
  const latNext = (latBits + 1) >>> 0;
  const lonNext = (lonBits + 1) >>> 0;
  area.latMin = LAT_MIN + (latBits / scale) * latScale;
  area.latMax = LAT_MIN + (latNext / scale) * latScale;
  area.lonMin = LON_MIN + (lonBits / scale) * lonScale;
  area.lonMax = LON_MIN + (lonNext / scale) * lonScale;
}

const scratch: Area = { lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 };

/** The position ([longitude, latitude]) a score decodes to: the centre of
 * its cell, clamped to the valid range. Writes into `out` when given. */
export function decodeScore(
  score: number,
  out: [number, number] = [0, 0],
): [number, number] {
  scoreHalves(score);
  const hi = encodedHi, lo = encodedLo;
  const latBits = (squeeze32(lo) | (squeeze32(hi) << 16)) >>> 0;
  const lonBits = (squeeze32(lo >>> 1) | (squeeze32(hi >>> 1) << 16)) >>> 0;
  decodeInto(latBits, lonBits, STEP_MAX, scratch);
  let lon = (scratch.lonMin + scratch.lonMax) / 2;
  if (lon > LON_MAX) lon = LON_MAX;
  if (lon < LON_MIN) lon = LON_MIN;
  let lat = (scratch.latMin + scratch.latMax) / 2;
  if (lat > LAT_MAX) lat = LAT_MAX;
  if (lat < LAT_MIN) lat = LAT_MIN;
  out[0] = lon;
  out[1] = lat;
  return out;
}

/** The area of a cell given as a bigint hash at `step`. */
export function decodeCell(bits: bigint, step: number): Area {
  const hi = Number((bits >> 32n) & 0xffffffffn);
  const lo = Number(bits & 0xffffffffn);
  const latBits = (squeeze32(lo) | (squeeze32(hi) << 16)) >>> 0;
  const lonBits = (squeeze32(lo >>> 1) | (squeeze32(hi >>> 1) << 16)) >>> 0;
  const area: Area = { lonMin: 0, lonMax: 0, latMin: 0, latMax: 0 };
  decodeInto(latBits, lonBits, step, area);
  return area;
}

const ODD = 0xaaaaaaaaaaaaaaaan; // longitude bits
const EVEN = 0x5555555555555555n; // latitude bits
const U64 = 0xffffffffffffffffn;

/** Moves a cell east (d > 0) or west (d < 0), wrapping around. */
function moveX(bits: bigint, step: number, d: number): bigint {
  const shift = BigInt(64 - step * 2);
  let x = bits & ODD;
  const y = bits & EVEN;
  const zz = EVEN >> shift;
  if (d > 0) x = (x + zz + 1n) & U64;
  else x = ((x | zz) - (zz + 1n)) & U64;
  x &= ODD >> shift;
  return x | y;
}

/** Moves a cell north (d > 0) or south (d < 0), wrapping around. */
function moveY(bits: bigint, step: number, d: number): bigint {
  const shift = BigInt(64 - step * 2);
  const x = bits & ODD;
  let y = bits & EVEN;
  const zz = ODD >> shift;
  if (d > 0) y = (y + zz + 1n) & U64;
  else y = ((y | zz) - (zz + 1n)) & U64;
  y &= EVEN >> shift;
  return x | y;
}

/** The bits per coordinate of the cells a search of `meters` around
 * latitude `lat` reads. */
export function estimateStep(meters: number, lat: number): number {
  if (meters === 0) return 26;
  let step = 1;
  while (meters < MERCATOR_MAX) {
    meters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** The haversine distance in meters between two points. */
export function distance(
  lon1: number,
  lat1: number,
  lon2: number,
  lat2: number,
): number {
  const lat1r = lat1 * D_R;
  const lon1r = lon1 * D_R;
  const lat2r = lat2 * D_R;
  const lon2r = lon2 * D_R;
  const t = trigFns();
  const u = t.sin((lat2r - lat1r) / 2);
  const v = t.sin((lon2r - lon1r) / 2);
  return 2.0 * EARTH_RADIUS *
    t.asin(Math.sqrt(u * u + t.cos(lat1r) * t.cos(lat2r) * v * v));
}

/** The distance in meters from the shape's centre to a point, or -1 when
 * the point is outside the shape. */
export function distanceIfInShape(
  shape: Shape,
  lon: number,
  lat: number,
): number {
  if (shape.radius >= 0) {
    const d = distance(shape.lon, shape.lat, lon, lat);
    return d > shape.radius * shape.toMeters ? -1 : d;
  }
  const width = shape.width * shape.toMeters;
  const height = shape.height * shape.toMeters;
  const lonDistance = distance(lon, lat, shape.lon, lat);
  const latDistance = distance(lon, lat, lon, shape.lat);
  if (lonDistance > width / 2 || latDistance > height / 2) return -1;
  return distance(shape.lon, shape.lat, lon, lat);
}

/** The bounding box of a shape, as Redis computes it. */
export function boundingBox(shape: Shape): Area {
  const { lon, lat } = shape;
  const circle = shape.radius >= 0;
  const height = shape.toMeters * (circle ? shape.radius : shape.height / 2);
  const width = shape.toMeters * (circle ? shape.radius : shape.width / 2);
  const latDelta = (height / EARTH_RADIUS) / D_R;
  const t = trigFns();
  const lonDeltaTop = (width / EARTH_RADIUS / t.cos((lat + latDelta) * D_R)) /
    D_R;
  const lonDeltaBottom =
    (width / EARTH_RADIUS / t.cos((lat - latDelta) * D_R)) /
    D_R;
  const south = lat < 0;
  return {
    lonMin: south ? lon - lonDeltaBottom : lon - lonDeltaTop,
    lonMax: south ? lon + lonDeltaBottom : lon + lonDeltaTop,
    latMin: lat - latDelta,
    latMax: lat + latDelta,
  };
}

/** The cells a search reads, in Redis's order (centre, N, S, E, W, NE, NW,
 * SE, SW; null for the ones left out), and their step. */
export interface SearchCells {
  cells: (bigint | null)[];
  step: number;
}

/** The 9 cells that cover a shape, as Redis chooses them. */
export function searchCells(shape: Shape): SearchCells {
  const bounds = boundingBox(shape);
  let meters = shape.radius >= 0 ? shape.radius : Math.sqrt(
    (shape.width / 2) * (shape.width / 2) +
      (shape.height / 2) * (shape.height / 2),
  );
  meters *= shape.toMeters;
  let step = estimateStep(meters, shape.lat);
  let hash = encodeCell(shape.lon, shape.lat, step);
  let n = neighbours(hash, step);
  let area = decodeCell(hash, step);
  // A neighbour too close to the search area to cover it: one step less.
  if (
    decodeCell(n[0], step).latMax < bounds.latMax ||
    decodeCell(n[1], step).latMin > bounds.latMin ||
    decodeCell(n[2], step).lonMax < bounds.lonMax ||
    decodeCell(n[3], step).lonMin > bounds.lonMin
  ) {
    if (step > 1) {
      step--;
      hash = encodeCell(shape.lon, shape.lat, step);
      n = neighbours(hash, step);
      area = decodeCell(hash, step);
    }
  }
  const cells: (bigint | null)[] = [hash, ...n];
  if (step >= 2) {
    // indexes: 1 N, 2 S, 3 E, 4 W, 5 NE, 6 NW, 7 SE, 8 SW
    if (area.latMin < bounds.latMin) cells[2] = cells[8] = cells[7] = null;
    if (area.latMax > bounds.latMax) cells[1] = cells[5] = cells[6] = null;
    if (area.lonMin < bounds.lonMin) cells[4] = cells[8] = cells[6] = null;
    if (area.lonMax > bounds.lonMax) cells[3] = cells[7] = cells[5] = null;
  }
  return { cells, step };
}

/** N, S, E, W, NE, NW, SE, SW of a cell. */
function neighbours(hash: bigint, step: number): bigint[] {
  return [
    moveY(hash, step, 1),
    moveY(hash, step, -1),
    moveX(hash, step, 1),
    moveX(hash, step, -1),
    moveY(moveX(hash, step, 1), step, 1),
    moveY(moveX(hash, step, -1), step, 1),
    moveY(moveX(hash, step, 1), step, -1),
    moveY(moveX(hash, step, -1), step, -1),
  ];
}

/** The score range [min, max) of the points inside a cell. */
export function cellScores(bits: bigint, step: number): [number, number] {
  const shift = BigInt(52 - step * 2);
  return [
    Number(BigInt.asUintN(64, bits << shift)),
    Number(BigInt.asUintN(64, (bits + 1n) << shift)),
  ];
}

/** `d` printed as C's "%.<digits>f" does: the exact binary value rounded
 * half to even, as glibc (toFixed rounds exact ties up). */
export function formatFixed(d: number, digits: number): string {
  if (d === Infinity) return "inf";
  if (d === -Infinity) return "-inf";
  if (Number.isNaN(d)) return "nan";
  const sign = d < 0 || Object.is(d, -0) ? "-" : "";
  const a = Math.abs(d);
  if (a >= 1e21) return `${sign}${BigInt(a)}.${"0".repeat(digits)}`;
  const scale = 10 ** digits;
  const scaled = a * scale;
  if (
    Number.isInteger(a * 2 ** (digits + 1)) && scaled < 2 ** 52 &&
    scaled % 1 === 0.5
  ) {
    let n = Math.floor(scaled);
    if (n % 2 === 1) n++;
    const s = String(n).padStart(digits + 1, "0");
    return `${sign}${s.slice(0, -digits)}.${s.slice(-digits)}`;
  }
  return sign + a.toFixed(digits);
}

/** A distance as Redis prints it ("%.4f"). */
export function formatDistance(d: number): string {
  return formatFixed(d, 4);
}
