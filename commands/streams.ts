// Stream commands: XADD, XREADGROUP and the rest of the family.

import type { Handler } from "./_shared.ts";

/** Handlers of the streams family, by command name. */
export const streamCommands: Record<string, Handler> = {};
