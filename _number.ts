// Redis's number rules: strict 64-bit integers (string2ll), and the
// formatting of INCRBYFLOAT results.

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Parses a byte string as Redis's string2ll: optional `-`, digits, no
 * leading zeros, no spaces, within int64. Returns null when invalid. */
export function parseInt64(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  const negative = s.charCodeAt(0) === 45;
  if (negative) {
    i = 1;
    if (n === 1) return null;
  }
  const first = s.charCodeAt(i);
  if (first === 48) return n === 1 ? 0 : null;
  if (first < 49 || first > 57) return null;
  if (n - i <= 15) {
    let v = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return null;
      v = v * 10 + c;
    }
    return negative ? -v : v;
  }
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  const big = BigInt(s);
  if (big > INT64_MAX || big < INT64_MIN) return null;
  return Number.isSafeInteger(Number(big)) ? Number(big) : big;
}

/** Adds two int64 values; null when the sum overflows int64. */
export function addInt64(
  a: number | bigint,
  b: number | bigint,
): number | bigint | null {
  if (typeof a === "number" && typeof b === "number") {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  const r = BigInt(a) + BigInt(b);
  if (r > INT64_MAX || r < INT64_MIN) return null;
  return Number.isSafeInteger(Number(r)) ? Number(r) : r;
}

/** True for int64's smallest value, which DECRBY cannot negate. */
export function isInt64Min(v: number | bigint): boolean {
  return typeof v === "bigint" && v === INT64_MIN;
}

/** Negates an int64 (not INT64_MIN). */
export function negate(v: number | bigint): number | bigint {
  if (typeof v === "number") return v === 0 ? 0 : -v;
  const r = -v;
  return Number.isSafeInteger(Number(r)) ? Number(r) : r;
}

// A decimal number held exactly: mantissa * 10^-scale.
interface Decimal {
  m: bigint;
  scale: number;
}

const DECIMAL_RE = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

function parseDecimal(s: string): Decimal | null {
  const match = DECIMAL_RE.exec(s);
  if (match === null) return null;
  const [, sign, int, frac = "", exp = "0"] = match;
  if (int === "" && frac === "") return null;
  const e = Number(exp);
  if (!Number.isFinite(e) || Math.abs(e) > 400) return null;
  let m = BigInt((int || "0") + frac);
  if (sign === "-") m = -m;
  const scale = frac.length - e;
  if (scale < 0) return { m: m * 10n ** BigInt(-scale), scale: 0 };
  return { m, scale };
}

/** Parses a float the way Redis accepts one (strtold, no spaces, no NaN).
 * Returns null when invalid. */
export function parseFloatStrict(s: string): number | null {
  if (s.length === 0 || s.length > 5000) return null;
  const c = s.charCodeAt(0);
  if (c === 32 || (c >= 9 && c <= 13)) return null;
  if (DECIMAL_RE.test(s)) {
    const v = Number(s);
    return Number.isNaN(v) ? null : v;
  }
  const lower = s.toLowerCase();
  if (/^[+-]?(inf|infinity)$/.test(lower)) {
    return lower.startsWith("-") ? -Infinity : Infinity;
  }
  if (/^[+-]?0x[0-9a-f]+$/.test(lower)) {
    const v = Number.parseInt(lower.replace(/^[+-]/, ""), 16);
    return lower.startsWith("-") ? -v : v;
  }
  return null;
}

/**
 * Adds two floats given as strings for INCRBYFLOAT and formats the result
 * as Redis does ("%.17Lf" with trailing zeros removed). Decimal inputs are
 * added exactly, which is what Redis's long double gives for the numbers
 * people type (10.5 + 0.1 = 10.6). Returns null when an input is not a
 * float and "inf" when the result is not finite.
 */
export function addFloatStrings(a: string, b: string): string | null {
  const x = parseFloatStrict(a);
  const y = parseFloatStrict(b);
  if (x === null || y === null) return null;
  if (!Number.isFinite(x + y)) return "inf";
  const da = parseDecimal(a);
  const db = parseDecimal(b);
  if (da === null || db === null) return formatHuman(x + y);
  const scale = Math.max(da.scale, db.scale);
  const m = da.m * 10n ** BigInt(scale - da.scale) +
    db.m * 10n ** BigInt(scale - db.scale);
  return formatDecimal(m, scale);
}

function formatDecimal(m: bigint, scale: number): string {
  // Round to 17 fractional digits, half away from zero.
  if (scale > 17) {
    const div = 10n ** BigInt(scale - 17);
    const neg = m < 0n;
    let abs = neg ? -m : m;
    const rem = abs % div;
    abs = abs / div + (rem * 2n >= div ? 1n : 0n);
    m = neg ? -abs : abs;
    scale = 17;
  }
  const neg = m < 0n;
  let digits = (neg ? -m : m).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    let int = digits.slice(0, digits.length - scale);
    let frac = digits.slice(digits.length - scale).replace(/0+$/, "");
    if (int === "") int = "0";
    digits = frac === "" ? int : `${int}.${frac}`;
    frac = "";
  }
  if (digits === "0") return "0";
  return neg ? `-${digits}` : digits;
}

/** Formats a double like Redis's LD_STR_HUMAN mode. */
export function formatHuman(v: number): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e21) {
    return BigInt(v).toString();
  }
  const fixed = v.toFixed(17).replace(/\.?0+$/, "");
  return fixed === "-0" ? "0" : fixed;
}
