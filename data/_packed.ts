// Lengths inside the packed strings that small hashes, sets and sorted sets
// are kept in (as Redis keeps small ones in a listpack): one char below 128,
// else 7 bits a char, low first.

/** Where the last {@linkcode readLen} (or a module's own scan) stopped:
 * one shared cursor, so the hot scans return a value and a position
 * without allocating. */
export const lenEnd = { after: 0 };

/** The length encoded at `i` in a packed string; sets `lenEnd.after` to the
 * position after it. */
export function readLen(p: string, i: number): number {
  let c = p.charCodeAt(i++);
  if (c < 128) {
    lenEnd.after = i;
    return c;
  }
  let n = c & 127;
  let scale = 128;
  do {
    c = p.charCodeAt(i++);
    n += (c & 127) * scale;
    scale *= 128;
  } while (c >= 128);
  lenEnd.after = i;
  return n;
}

/** The encoding of a length in a packed string. */
export function lenChars(n: number): string {
  if (n < 128) return String.fromCharCode(n);
  let s = "";
  while (n >= 128) {
    s += String.fromCharCode(128 | (n & 127));
    n = Math.floor(n / 128);
  }
  return s + String.fromCharCode(n);
}
