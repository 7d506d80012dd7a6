// Geo commands: GEOADD, GEOSEARCH and the rest of the family.

import type { Handler } from "./_shared.ts";

/** Handlers of the geo family, by command name. */
export const geoCommands: Record<string, Handler> = {};
