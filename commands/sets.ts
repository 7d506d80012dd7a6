// Set commands: SADD, SINTER and the rest of the family.

import type { Handler } from "./_shared.ts";

/** Handlers of the sets family, by command name. */
export const setCommands: Record<string, Handler> = {};
