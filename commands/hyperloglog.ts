// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE.

import type { Handler } from "./_shared.ts";

/** Handlers of the hyperloglog family, by command name. */
export const hyperloglogCommands: Record<string, Handler> = {};
