// Hash commands: HSET, HGET and the rest of the family.

import type { Handler } from "./_shared.ts";

/** Handlers of the hashes family, by command name. */
export const hashCommands: Record<string, Handler> = {};
