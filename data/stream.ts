// Streams

import type { Store } from "../store.ts";

/** Streams, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.streams`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * console.log(typeof store.streams);
 * ```
 */
export class StreamOps {
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
