/** Versions this server reports.
 *
 * @example
 * ```ts ignore
 * import { VERSION } from "./version.ts";
 * console.log(VERSION.kv);
 * ```
 */
export const VERSION = {
  /** The @kv/store package version. */
  kv: "0.1.0",
  /** The Redis version whose behaviour we follow (INFO, HELLO). */
  redis: "7.0.0",
} as const;
