// The classes of keyspace notifications (`notify-keyspace-events`), as
// Redis's notify.c numbers, parses and prints them.

/** `K`: publish to `__keyspace@0__:<key>`. */
export const NOTIFY_KEYSPACE = 1;
/** `E`: publish to `__keyevent@0__:<event>`. */
export const NOTIFY_KEYEVENT = 2;
/** `g`: generic commands (DEL, EXPIRE, RENAME, ...). */
export const NOTIFY_GENERIC = 4;
/** `$`: string commands. */
export const NOTIFY_STRING = 8;
/** `l`: list commands. */
export const NOTIFY_LIST = 16;
/** `s`: set commands. */
export const NOTIFY_SET = 32;
/** `h`: hash commands. */
export const NOTIFY_HASH = 64;
/** `z`: sorted set commands. */
export const NOTIFY_ZSET = 128;
/** `x`: expired keys. */
export const NOTIFY_EXPIRED = 256;
/** `e`: evicted keys. */
export const NOTIFY_EVICTED = 512;
/** `t`: stream commands. */
export const NOTIFY_STREAM = 1024;
/** `m`: key misses (not part of `A`). */
export const NOTIFY_KEY_MISS = 2048;
/** `d`: module events. */
export const NOTIFY_MODULE = 4096;
/** `n`: new keys (not part of `A`). */
export const NOTIFY_NEW = 8192;
/** `A`: `g$lshzxetd`. */
export const NOTIFY_ALL = NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST |
  NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED |
  NOTIFY_STREAM | NOTIFY_MODULE;

const LETTERS: Record<string, number> = {
  A: NOTIFY_ALL,
  g: NOTIFY_GENERIC,
  $: NOTIFY_STRING,
  l: NOTIFY_LIST,
  s: NOTIFY_SET,
  h: NOTIFY_HASH,
  z: NOTIFY_ZSET,
  x: NOTIFY_EXPIRED,
  e: NOTIFY_EVICTED,
  K: NOTIFY_KEYSPACE,
  E: NOTIFY_KEYEVENT,
  t: NOTIFY_STREAM,
  m: NOTIFY_KEY_MISS,
  d: NOTIFY_MODULE,
  n: NOTIFY_NEW,
};

/** The class bit of one flag letter (`l` for list events, ...); 0 for an
 * unknown letter. */
export function notifyClass(letter: string): number {
  return LETTERS[letter] ?? 0;
}

/** Parses a `notify-keyspace-events` value; null when a letter is not a
 * class. */
export function parseNotifyFlags(s: string): number | null {
  let flags = 0;
  for (const ch of s) {
    const bit = LETTERS[ch];
    if (bit === undefined) return null;
    flags |= bit;
  }
  return flags;
}

/** Prints flags as CONFIG GET does (`A` for all; `n` only without it, as
 * Redis 7.0 prints them). */
export function formatNotifyFlags(flags: number): string {
  let s = "";
  if ((flags & NOTIFY_ALL) === NOTIFY_ALL) s = "A";
  else {
    if (flags & NOTIFY_GENERIC) s += "g";
    if (flags & NOTIFY_STRING) s += "$";
    if (flags & NOTIFY_LIST) s += "l";
    if (flags & NOTIFY_SET) s += "s";
    if (flags & NOTIFY_HASH) s += "h";
    if (flags & NOTIFY_ZSET) s += "z";
    if (flags & NOTIFY_EXPIRED) s += "x";
    if (flags & NOTIFY_EVICTED) s += "e";
    if (flags & NOTIFY_STREAM) s += "t";
    if (flags & NOTIFY_MODULE) s += "d";
    if (flags & NOTIFY_NEW) s += "n";
  }
  if (flags & NOTIFY_KEYSPACE) s += "K";
  if (flags & NOTIFY_KEYEVENT) s += "E";
  if (flags & NOTIFY_KEY_MISS) s += "m";
  return s;
}
