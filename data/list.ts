// Lists

import type { Store } from "../store.ts";

/** Lists, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.lists`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * console.log(typeof store.lists);
 * ```
 */
export class ListOps {
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
