// Sorted sets

import type { Store } from "../store.ts";

/** Sorted sets, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.zsets`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * console.log(typeof store.zsets);
 * ```
 */
export class SortedSetOps {
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
