// Bitmap commands (SETBIT, BITCOUNT, BITFIELD, ...) and LCS.

import type { Handler } from "./_shared.ts";

/** Handlers of the bitmaps family, by command name. */
export const bitmapCommands: Record<string, Handler> = {};
