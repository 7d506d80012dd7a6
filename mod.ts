/**
 * @kv/store: an in-memory key-value server for Deno that speaks the Redis
 * protocol (RESP2 and RESP3), a typed client that works against it and
 * against Redis, and the keyspace itself for in-process use.
 *
 * @example Talk to a server (ours or Redis)
 * ```ts
 * import { Client } from "@kv/store";
 * await using client = await Client.connect(); // 127.0.0.1:31337
 * await client.set("greeting", "hello", { ex: 60 });
 * console.log(await client.get("greeting")); // "hello"
 * ```
 *
 * @example Run a server from code, e.g. in your app's tests
 * ```ts
 * import { Server } from "@kv/store";
 * await using server = new Server({ port: 0 });
 * await server.listen();
 * console.log(`listening on ${server.port}`);
 * ```
 *
 * @example Use the store in-process: same commands, no socket
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.set("greeting", "hello");
 * store.incrBy("visits", 1); // 1
 * store.get("greeting"); // "hello"
 * ```
 * @module
 */

// The entry points first: the client, the server, the in-process store.
export { Client, type ClientOptions } from "./client.ts";
export { Server, type ServerOptions } from "./server.ts";
export { Store, type StoreOptions } from "./store.ts";
export { ConnectionError, TimeoutError } from "./client.ts";
export { ReplyError } from "./protocol.ts";

export {
  type Arg,
  type BitFieldOperation,
  type BitOffsetRange,
  type ClientEventMap,
  type ClientOnly,
  ClientTransaction,
  type ClusterNode,
  type DefinedScript,
  type DefineScriptOptions,
  type DeletedStreamMessage,
  type DistanceUnit,
  type ExpireCondition as ClientExpireCondition,
  type Expiry,
  type FieldValues,
  type FunctionInfo,
  type FunctionLibrary,
  type FunctionListOptions,
  type FunctionLoadOptions,
  type FunctionStats,
  type GeoCoordinates,
  type GeoMember,
  type GeoQueryOptions,
  type GeoQueryStoreOptions,
  type GeoSearchBy,
  type GeoSearchFrom,
  type GeoSearchMatch,
  type GetExOptions,
  type HScanPage,
  type Key,
  type KeyedElement,
  type KeyedMember,
  type KeyScanOptions,
  type LcsIdxReply,
  type LcsMatch,
  type ListPopResult,
  type ListSide,
  LocalCache,
  type LPosOptions,
  methodName,
  type Mode,
  Pipeline,
  type PubSubMessage,
  type Queue,
  type ReconnectOptions,
  type Replies,
  type Reply,
  replyToText,
  type Result,
  type ScanOptions,
  type ScanPage,
  type Score,
  type ScoreBound,
  type ScoredMember,
  type ScriptReply,
  type SetCommandOptions,
  type SortOptions,
  type SScanPage,
  type StreamIds,
  type StreamMessage,
  type StreamRead,
  Subscription,
  type Transform,
  type Value,
  type XAddCommandOptions,
  type XAutoClaimReply,
  type XClaimCommandOptions,
  type XInfoConsumer,
  type XInfoGroup,
  type XInfoStreamReply,
  type XPendingEntry,
  type XPendingRange,
  type XPendingSummary,
  type XReadOptions,
  type XTrimCommandOptions,
  type ZAddCommandOptions,
  type ZCombineCommandOptions,
  type ZPopResult,
  type ZRangeByOptions,
  type ZRangeCommandOptions,
  type ZScanPage,
} from "./client.ts";
export { isLocalPeer, isLoopback } from "./server.ts";
export {
  type DbSnapshot,
  Persistence,
  PersistenceError,
  type PersistenceHost,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
} from "./persistence.ts";
export {
  type Clock,
  type ConditionalSetOptions,
  type ConditionalSetResult,
  type Container,
  defaultEncodingLimits,
  type EncodingLimits,
  type ExpireCondition,
  type ScanResult,
  type SetOptions,
  type Snapshot,
  type SnapshotEntry,
  STORE_ERRORS,
  type StoredValue,
  StoreError,
  type StoreStats,
  type ValueType,
} from "./store.ts";
export {
  DoubleText,
  encodeCommand,
  formatDouble,
  ProtocolError,
  PushMessage,
  ReplyDecoder,
  type ReplyDecoderOptions,
  ReplyValueError,
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
export { Hash, HASH_ERRORS, HashOps } from "./data/hash.ts";
export { List, ListOps } from "./data/list.ts";
export {
  type FieldScanOptions,
  type FieldScanStep,
  RedisSet,
  SetOps,
} from "./data/set.ts";
export {
  type Aggregate,
  type LexRange,
  type ScoreRange,
  SortedSet,
  SortedSetOps,
  type ZAddOptions,
  type ZCombineOptions,
  type ZRangeOptions,
} from "./data/zset.ts";
export {
  formatId,
  type ParsedId,
  parseStreamBound,
  parseStreamId,
  type PendingEntry,
  type PendingSummary,
  Stream,
  STREAM_ERRORS,
  type StreamConsumerInfo,
  type StreamEntry,
  type StreamFullInfo,
  type StreamGroupInfo,
  type StreamId,
  type StreamInfo,
  StreamOps,
  type StreamTrimOptions,
  type U64,
  type XAddOptions,
  type XAutoClaimResult,
  type XClaimOptions,
  type XReadGroupOptions,
} from "./data/stream.ts";
export {
  type BitfieldOp,
  Bitmap,
  BitmapOps,
  type BitRange,
  type LcsIdxResult,
} from "./data/bitmap.ts";
export { HyperLogLog, HyperLogLogOps } from "./data/hyperloglog.ts";
export {
  type GeoAddOptions,
  type GeoBy,
  type GeoFrom,
  GeoOps,
  type GeoSearchOptions,
  type GeoSearchResult,
  type GeoUnit,
} from "./data/geo.ts";
export type { LogSink } from "./_log.ts";
export type { KeyWatchers } from "./store.ts";
export { Transaction } from "./commands/transactions.ts";
export { type BlockedClient, Blocking } from "./commands/blocking.ts";
export {
  defaultMemorySettings,
  EVICTION_POLICIES,
  type EvictionPolicy,
  type EvictResult,
  MemoryManager,
  type MemorySettings,
} from "./data/_memory.ts";
export { ClientTracking, Tracking } from "./commands/tracking.ts";
export { type Kind, PubSub, Subscriptions } from "./commands/pubsub.ts";
