// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.

import type { Handler } from "./_shared.ts";
import { CommandError } from "./_shared.ts";
import { notify } from "./pubsub.ts";

const pfadd: Handler = (s, argv) => {
  const updated = s.store.hyperloglogs.pfadd(argv[1], argv.slice(2));
  if (updated) notify(s, "pfadd", argv[1], "$");
  s.out.int(updated ? 1 : 0);
};

// PFCOUNT of one key may refresh the cached estimate inside the value: the
// append-only log then gets the PFCOUNT, as Redis propagates it (logged only
// when the cache changed: the store's dirty counter moved).
const pfcount: Handler = (s, argv) => {
  if (argv.length === 2) s.propagate = [argv];
  s.out.int(s.store.hyperloglogs.pfcount(argv.slice(1)));
};

const pfmerge: Handler = (s, argv) => {
  s.store.hyperloglogs.pfmerge(argv[1], argv.slice(2));
  notify(s, "pfadd", argv[1], "$");
  s.out.ok();
};

const pfdebug: Handler = (s, argv) => {
  const ops = s.store.hyperloglogs;
  const cmd = argv[1];
  const key = argv[2];
  const sub = cmd.toLowerCase();
  switch (sub) {
    case "getreg": {
      const regs = ops.debugGetreg(key);
      s.out.array(regs.length);
      for (let i = 0; i < regs.length; i++) s.out.int(regs[i]);
      return;
    }
    case "decode":
      s.out.bulk(ops.debugDecode(key));
      return;
    case "encoding":
      s.out.simple(ops.debugEncoding(key));
      return;
    case "todense":
      s.out.int(ops.debugTodense(key) ? 1 : 0);
      return;
    default:
      // Redis looks the key up before it reads the subcommand.
      ops.debugEncoding(key);
      throw new CommandError(`ERR Unknown PFDEBUG subcommand '${cmd}'`);
  }
};

const pfselftest: Handler = (s) => {
  s.store.hyperloglogs.selftest();
  s.out.ok();
};

/** Handlers of the hyperloglog family, by command name. */
export const hyperloglogCommands: Record<string, Handler> = {
  pfadd,
  pfcount,
  pfmerge,
  pfdebug,
  pfselftest,
};
