// Redis's glob matcher (util.c stringmatchlen), ported over byte strings:
// `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, and `\` to escape.

/** True when `str` matches the Redis glob `pattern`. */
export function globMatch(
  pattern: string,
  str: string,
  nocase = false,
): boolean {
  if (pattern === "*") return true;
  const skip = { longer: false };
  return matchAt(pattern, 0, str, 0, nocase, skip, 0);
}

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function matchAt(
  pat: string,
  p: number,
  str: string,
  s: number,
  nocase: boolean,
  skip: { longer: boolean },
  nesting: number,
): boolean {
  if (nesting > 1000) return false; // protection against abusive patterns
  const plen = pat.length;
  const slen = str.length;
  while (p < plen && s < slen) {
    const pc = pat.charCodeAt(p);
    if (pc === 42) { // '*'
      while (p + 1 < plen && pat.charCodeAt(p + 1) === 42) p++;
      if (p + 1 === plen) return true;
      while (s < slen) {
        if (matchAt(pat, p + 1, str, s, nocase, skip, nesting + 1)) return true;
        if (skip.longer) return false;
        s++;
      }
      skip.longer = true;
      return false;
    } else if (pc === 63) { // '?'
      s++;
    } else if (pc === 91) { // '['
      p++;
      const not = pat.charCodeAt(p) === 94; // '^'
      if (not) p++;
      let match = false;
      const c = str.charCodeAt(s);
      while (true) {
        if (p >= plen) {
          p--;
          break;
        }
        const x = pat.charCodeAt(p);
        if (x === 92 && plen - p >= 2) { // '\\'
          p++;
          if (pat.charCodeAt(p) === c) match = true;
        } else if (x === 93) { // ']'
          break;
        } else if (plen - p >= 3 && pat.charCodeAt(p + 1) === 45) { // a-z
          let start = x;
          let end = pat.charCodeAt(p + 2);
          let cc = c;
          if (start > end) [start, end] = [end, start];
          if (nocase) {
            start = lower(start);
            end = lower(end);
            cc = lower(cc);
          }
          p += 2;
          if (cc >= start && cc <= end) match = true;
        } else if (nocase ? lower(x) === lower(c) : x === c) {
          match = true;
        }
        p++;
      }
      if (not) match = !match;
      if (!match) return false;
      s++;
    } else {
      let x = pc;
      if (x === 92 && plen - p >= 2) { // '\\' escapes the next char
        p++;
        x = pat.charCodeAt(p);
      }
      const c = str.charCodeAt(s);
      if (nocase ? lower(x) !== lower(c) : x !== c) return false;
      s++;
    }
    p++;
    if (s === slen) {
      while (p < plen && pat.charCodeAt(p) === 42) p++;
      break;
    }
  }
  return p === plen && s === slen;
}
