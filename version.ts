/** Versions this server reports.
 *
 * @example
 * ```ts
 * import { VERSION } from "@kv/store";
 * console.log(VERSION.kv, VERSION.redis); // "0.1.0" "7.0.0"
 * ```
 */
export const VERSION = {
  /** The @kv/store package version. */
  kv: "0.1.0",
  /** The Redis version whose behaviour we follow (INFO, HELLO). */
  redis: "7.0.0",
} as const;
