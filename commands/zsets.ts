// Sorted set commands: ZADD, ZRANGE and the rest of the family.

import type { Handler } from "./_shared.ts";

/** Handlers of the zsets family, by command name. */
export const zsetCommands: Record<string, Handler> = {};
