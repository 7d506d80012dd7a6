// Persistence commands: SAVE, BGSAVE, LASTSAVE, BGREWRITEAOF.

import {
  CommandError,
  Errors,
  type Handler,
  type Session,
  upper,
} from "./_shared.ts";

/** An embedded server given no `dir` keeps no files: saving is refused. */
function needFiles(s: Session): void {
  if (!s.server.persistence.enabled) {
    throw new CommandError(
      "ERR this server keeps no files: it was started without a dir",
    );
  }
}

const save: Handler = (s) => {
  needFiles(s);
  const p = s.server.persistence;
  if (p.bgsaveInProgress) {
    throw new CommandError("ERR Background save already in progress");
  }
  try {
    p.saveSync();
  } catch {
    throw new CommandError("ERR"); // Redis replies a bare -ERR; see the log
  }
  s.out.ok();
};

const bgsave: Handler = (s, argv) => {
  let schedule = false;
  if (argv.length > 1) {
    if (argv.length === 2 && upper(argv[1]) === "SCHEDULE") schedule = true;
    else throw new CommandError(Errors.syntax);
  }
  needFiles(s);
  switch (s.server.persistence.bgsave(schedule)) {
    case "started":
      s.out.simple("Background saving started");
      return;
    case "scheduled":
      s.out.simple("Background saving scheduled");
      return;
    case "in-progress":
      throw new CommandError("ERR Background save already in progress");
    case "busy":
      throw new CommandError(
        "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
      );
  }
};

const lastsave: Handler = (s) => {
  s.out.int(Math.floor(s.server.persistence.lastSave / 1000));
};

const bgrewriteaof: Handler = (s) => {
  needFiles(s);
  switch (s.server.persistence.bgrewriteaof()) {
    case "started":
      s.out.simple("Background append only file rewriting started");
      return;
    case "scheduled":
      s.out.simple("Background append only file rewriting scheduled");
      return;
    case "in-progress":
      throw new CommandError(
        "ERR Background append only file rewriting already in progress",
      );
  }
};

/** Handlers of the persistence family, by command name. */
export const persistenceCommands: Record<string, Handler> = {
  save,
  bgsave,
  lastsave,
  bgrewriteaof,
};
