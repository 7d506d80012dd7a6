/**
 * @kv/store: an in-memory key-value server for Deno that speaks the Redis
 * protocol (RESP2 and RESP3), and the pieces it is made of.
 *
 * @example Run a server from code
 * ```ts ignore
 * import { Server } from "@kv/store";
 * const server = new Server({ port: 0 });
 * await server.listen();
 * console.log(`listening on ${server.port}`);
 * await server.close();
 * ```
 *
 * @example Use the store in-process
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.set("greeting", "hello");
 * store.get("greeting"); // "hello"
 * ```
 * @module
 */

export {
  isLocalPeer,
  isLoopback,
  Server,
  type ServerOptions,
} from "./server.ts";
export {
  type Clock,
  type ScanResult,
  type SetOptions,
  Store,
  type StoreOptions,
  type StoreStats,
} from "./store.ts";
export {
  encodeCommand,
  formatDouble,
  ProtocolError,
  PushMessage,
  ReplyDecoder,
  type ReplyDecoderOptions,
  ReplyError,
  ReplyWriter,
  RequestDecoder,
  type RequestDecoderOptions,
  type RespValue,
  splitArgs,
  VerbatimString,
} from "./protocol.ts";
export type { CommandInfoData } from "./commands/_table_data.ts";
export {
  type ClientState,
  type Command,
  type CommandDefinition,
  CommandError,
  type CommandTable,
  type Handler,
  type ServerState,
  type ServerStats,
  type Session,
} from "./commands.ts";
export {
  DEFAULT_CONFIG,
  defaultConfig,
  type LogLevel,
  parseServerArgs,
  type ServerConfig,
} from "./config.ts";
export {
  binaryToBytes,
  binaryToText,
  bytesToBinary,
  textToBinary,
} from "./_bytes.ts";
export { VERSION } from "./version.ts";
export type { LogSink } from "./_log.ts";
