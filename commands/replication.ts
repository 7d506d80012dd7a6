// Replication commands: REPLICAOF / SLAVEOF, REPLCONF, PSYNC, SYNC, ROLE
// (Redis 7.0 semantics; the work is in ../replication.ts). WAIT is in
// blocking.ts, INFO replication in server.ts.

import { Replication } from "../replication.ts";
import {
  CommandError,
  Errors,
  type Handler,
  int64Arg,
  upper,
} from "./_shared.ts";

const replicaof: Handler = (s, argv) => {
  const repl = Replication.of(s.server);
  if (upper(argv[1]) === "NO" && upper(argv[2]) === "ONE") {
    repl.promote();
    s.out.ok();
    return;
  }
  if (repl.replicas.some((r) => r.client === s.client)) {
    throw new CommandError(
      "ERR Command is not valid when client is a replica.",
    );
  }
  const port = int64Arg(argv[2]);
  if (typeof port !== "number" || port < 0 || port > 65535) {
    throw new CommandError("ERR Invalid master port");
  }
  const m = repl.master;
  if (m !== null && m.host === argv[1] && m.port === port) {
    s.out.simple("OK Already connected to specified master");
    return;
  }
  repl.follow(argv[1], port);
  s.out.ok();
};

const replconf: Handler = (s, argv) => {
  if (argv.length % 2 === 0) throw new CommandError(Errors.syntax);
  const repl = Replication.of(s.server);
  const hello = repl.hello(s.client);
  for (let j = 1; j < argv.length; j += 2) {
    const opt = argv[j].toLowerCase();
    const value = argv[j + 1];
    if (opt === "listening-port") {
      const port = int64Arg(value);
      hello.port = Number(port);
    } else if (opt === "ip-address") {
      if (value.length >= 46) {
        throw new CommandError(
          `ERR REPLCONF ip-address provided by replica instance is too long: ${value.length} bytes`,
        );
      }
      hello.ip = value;
    } else if (opt === "capa") {
      const capa = value.toLowerCase();
      if (capa === "eof") hello.capaEof = true;
      else if (capa === "psync2") hello.capaPsync2 = true;
    } else if (opt === "ack") {
      // Never answered; a client that is not a replica is ignored.
      const n = Number(value);
      if (Number.isSafeInteger(n)) repl.ack(s.client, n);
      return;
    } else if (opt === "getack") {
      if (repl.master !== null) repl.master.sendAck();
      return;
    } else if (opt === "rdb-only") {
      const v = Number(value);
      if (value !== "0" && value !== "1" || !Number.isFinite(v)) {
        throw new CommandError(Errors.syntax);
      }
    } else {
      throw new CommandError(`ERR Unrecognized REPLCONF option: ${argv[j]}`);
    }
  }
  s.out.ok();
};

const psync: Handler = (s, argv) => {
  const repl = Replication.of(s.server);
  if (repl.replicas.some((r) => r.client === s.client)) return;
  if (repl.master !== null) {
    throw new CommandError(
      repl.master.state === "connected"
        ? "ERR this server serves no replicas while it is a replica itself"
        : "NOMASTERLINK Can't SYNC while not connected with my master",
    );
  }
  if (s.out.length > 0) {
    throw new CommandError(
      "ERR SYNC and PSYNC are invalid with pending output",
    );
  }
  if (argv[0].toLowerCase() === "psync") int64Arg(argv[2]);
  repl.psync(s.client, argv);
};

const role: Handler = (s) => {
  const repl = Replication.of(s.server);
  const m = repl.master;
  if (m === null) {
    const online = repl.replicas.filter((r) => r.state === "online");
    s.out.array(3);
    s.out.bulk("master");
    s.out.int(repl.offset);
    s.out.array(online.length);
    for (const r of online) {
      s.out.array(3);
      s.out.bulk(r.hello.ip);
      s.out.bulk(String(r.hello.port));
      s.out.bulk(String(r.ackOffset));
    }
    return;
  }
  s.out.array(5);
  s.out.bulk("slave");
  s.out.bulk(m.host);
  s.out.int(m.port);
  s.out.bulk(m.state);
  s.out.int(m.state === "connected" ? repl.offset : -1);
};

/** Handlers of the replication commands, by command name. */
export const replicationCommands: Record<string, Handler> = {
  replicaof,
  slaveof: replicaof,
  replconf,
  psync,
  sync: psync,
  role,
};
