// The errors the store and the data structures throw, with Redis's texts
// (so the server can reply with them as they are).

/** An operation the store refuses, with Redis's error text (for example
 * `ERR value is not an integer or out of range`), so the server can reply
 * with it as is.
 *
 * @example
 * ```ts
 * import { Store, StoreError } from "@kv/store";
 * const store = new Store();
 * store.set("s", "abc");
 * try {
 *   store.incrBy("s", 1);
 * } catch (e) {
 *   if (e instanceof StoreError) console.log(e.message); // ERR value is not an integer or out of range
 * }
 * ```
 */
export class StoreError extends Error {
  /** Creates an error; `message` starts with its code. */
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}

/** The error texts {@linkcode StoreError} uses, as Redis words them.
 *
 * @example
 * ```ts
 * import { STORE_ERRORS } from "@kv/store";
 * console.log(STORE_ERRORS.noSuchKey); // "ERR no such key"
 * ```
 */
export const STORE_ERRORS = {
  notInteger: "ERR value is not an integer or out of range",
  notFloat: "ERR value is not a valid float",
  overflow: "ERR increment or decrement would overflow",
  decrementOverflow: "ERR decrement would overflow",
  nanOrInfinity: "ERR increment would produce NaN or Infinity",
  noSuchKey: "ERR no such key",
  tooBig: "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
  offset: "ERR offset is out of range",
  wrongType:
    "WRONGTYPE Operation against a key holding the wrong kind of value",
} as const;
