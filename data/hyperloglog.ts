// HyperLogLog counters in Redis's HYLL string format

import type { Store } from "../store.ts";

/** HyperLogLog counters in Redis's HYLL string format, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.hyperloglogs`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * console.log(typeof store.hyperloglogs);
 * ```
 */
export class HyperLogLogOps {
  readonly #store: Store;
  /** Operations on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }
  /** The store operated on. */
  get store(): Store {
    return this.#store;
  }
}
