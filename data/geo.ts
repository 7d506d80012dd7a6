// Geo indexes on sorted sets with 52-bit geohash scores

import type { Store } from "../store.ts";

/** Geo indexes on sorted sets with 52-bit geohash scores, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.geo`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * console.log(typeof store.geo);
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
}
