// List commands: LPUSH, RPOP, LRANGE and the rest of the family.

import type { Handler } from "./_shared.ts";

/** Handlers of the lists family, by command name. */
export const listCommands: Record<string, Handler> = {};
