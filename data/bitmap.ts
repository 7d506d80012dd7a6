// Bitmaps and bit fields on string values, and LCS

import type { Store } from "../store.ts";

/** Bitmaps and bit fields on string values, and LCS, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.bitmaps`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * console.log(typeof store.bitmaps);
 * ```
 */
export class BitmapOps {
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
