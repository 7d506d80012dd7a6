/**
 * The Lua engine: Lua 5.1.5 with Redis's libraries (cjson, cmsgpack,
 * struct, bit), compiled to WebAssembly (lua/kvlua.wasm, built by
 * lua/build.sh from lua/kvlua.c and the vendored sources). This module
 * loads it and drives it; commands/scripting.ts and commands/functions.ts
 * build EVAL and FUNCTION on it.
 *
 * A script runs in a Lua coroutine. Every 100,000 instructions a count hook
 * asks {@linkcode ScriptHost.tick} whether to go on, to yield (the server
 * then answers other clients with -BUSY and resumes the script a moment
 * later: JavaScript cannot run two things at once, so the VM runs in steps)
 * or to stop (SCRIPT KILL). `redis.call` is synchronous: the host runs the
 * command and hands its reply back in RESP.
 *
 * The module is loaded when the first script runs, so a server that never
 * runs one pays nothing for it.
 *
 * @module
 */

/** What a running script asks of the server. Must not throw. */
export interface ScriptHost {
  /** Runs a command (`kind` 0: redis.call, 1: redis.pcall, 2:
   * redis.acl_check_cmd) and returns its reply in RESP `resp`: bytes, or
   * the writer that holds them. */
  call(
    argv: string[],
    resp: 2 | 3,
    kind: number,
  ): Uint8Array | ReplyWriter;
  /** Asked every 100,000 instructions: 0 go on, 1 yield, 2 kill. */
  tick(): number;
  /** redis.log. */
  log(level: number, message: string): void;
  /** redis.set_repl. */
  setRepl(flags: number): void;
}

/** How {@linkcode LuaVM.run} and {@linkcode LuaVM.resume} ended. */
export const enum RunStatus {
  /** Finished: {@linkcode LuaVM.reply} holds the reply. */
  Done = 0,
  /** Yielded by the hook: call resume() later. */
  Yield = 1,
  /** Failed: {@linkcode LuaVM.reply} holds the error reply. */
  Error = 2,
}

interface Exports {
  memory: WebAssembly.Memory;
  __stack_pointer: WebAssembly.Global;
  __indirect_function_table: WebAssembly.Table;
  _initialize(): void;
  kv_in(size: number): number;
  kv_reply_buffer(size: number): number;
  kv_out(): number;
  kv_out_len(): number;
  kv_init(mode: number): number;
  kv_memory(): number;
  kv_compile(bodyLen: number): number;
  kv_forget(ref: number): void;
  kv_reset(): void;
  kv_run(
    ref: number,
    nkeys: number,
    nargs: number,
    resp: number,
    hook: number,
  ): number;
  kv_resume(): number;
  kv_lib_load(codeLen: number): number;
  kv_lib_commit(): void;
}

/** A function a library registered (redis.register_function). */
export interface RegisteredFunction {
  name: string;
  description: string | null;
  /** Bits: 1 no-writes, 2 allow-oom, 4 allow-stale, 8 no-cluster, 16
   * allow-cross-slot-keys. */
  flags: number;
}

let compiled: WebAssembly.Module | null = null;

function wasmModule(): WebAssembly.Module {
  if (compiled !== null) return compiled;
  const url = new URL("./kvlua.wasm", import.meta.url);
  if (url.protocol !== "file:") {
    throw new Error(
      "the Lua engine loads from a local file; call preloadLua() first",
    );
  }
  compiled = new WebAssembly.Module(Deno.readFileSync(url));
  return compiled;
}

/** Compiles the engine from a remote URL (a JSR import) ahead of use. */
export async function preloadLua(): Promise<void> {
  if (compiled !== null) return;
  const url = new URL("./kvlua.wasm", import.meta.url);
  if (url.protocol === "file:") {
    compiled = new WebAssembly.Module(await Deno.readFile(url));
  } else {
    compiled = await WebAssembly.compileStreaming(fetch(url));
  }
}

/** Thrown through the VM's frames for a Lua error (LUAI_THROW). */
const LUA_THROW = { lua: "error" };

const NO_HOST: ScriptHost = {
  call: () => new TextEncoder().encode("-ERR no script is running\r\n"),
  tick: () => 0,
  log: () => {},
  setRepl: () => {},
};

/**
 * One Lua state in its own WebAssembly instance.
 *
 * @example
 * ```ts ignore
 * // Internal: the server's EVAL and FUNCTION use it; @kv/store does not export it.
 * import { LuaVM, RunStatus } from "./engine.ts";
 * const vm = LuaVM.create(false);
 * const script = vm.compile("return 1 + 1"); // a handle, or the error message
 * if (typeof script === "number") {
 *   vm.run(script, [], [], 2, false) === RunStatus.Done; // true
 *   new TextDecoder().decode(vm.reply()); // ":2\r\n"
 * }
 * ```
 */
export class LuaVM {
  /** Who answers the running script's redis.call and hook. */
  host: ScriptHost = NO_HOST;
  #x: Exports;
  #mem: Uint8Array;

  private constructor(x: Exports) {
    this.#x = x;
    this.#mem = new Uint8Array(x.memory.buffer);
  }

  /** A new state: for EVAL scripts, or (`functions`) FUNCTION libraries. */
  static create(functions: boolean): LuaVM {
    let vm: LuaVM | null = null;
    let x: Exports | null = null;
    const memory = () => vm!.#memory();
    const text = (ptr: number, len: number): string =>
      bytesToBinary(memory(), ptr, ptr + len);
    const env = {
      kv_throw: () => {
        throw LUA_THROW;
      },
      kv_try: (fn: number, l: number, ud: number): number => {
        const sp = x!.__stack_pointer.value;
        try {
          (x!.__indirect_function_table.get(fn) as (
            a: number,
            b: number,
          ) => void)(l, ud);
          return 0;
        } catch (e) {
          if (e !== LUA_THROW) throw e;
          x!.__stack_pointer.value = sp;
          return 1;
        }
      },
      host_call: (ptr: number, _len: number, resp: number, kind: number) => {
        const m = memory();
        let at = ptr;
        const argc = u32(m, at);
        at += 4;
        const argv: string[] = new Array(argc);
        for (let i = 0; i < argc; i++) {
          const n = u32(m, at);
          at += 4;
          argv[i] = i === 0
            ? commandName(m, at, n)
            : bytesToBinary(m, at, at + n);
          at += n;
        }
        let reply: Uint8Array | ReplyWriter;
        try {
          reply = vm!.host.call(argv, resp === 3 ? 3 : 2, kind);
        } catch (e) {
          reply = new TextEncoder().encode(
            `-ERR ${String(e).replace(/[\r\n]/g, " ")}\r\n`,
          );
        }
        const dst = x!.kv_reply_buffer(reply.length);
        if (reply instanceof Uint8Array) memory().set(reply, dst);
        else reply.copyInto(memory(), dst);
        return reply.length;
      },
      host_tick: () => {
        try {
          return vm!.host.tick();
        } catch {
          return 0;
        }
      },
      host_log: (level: number, ptr: number, len: number) => {
        try {
          vm!.host.log(level, text(ptr, len));
        } catch {
          // logging must not fail a script
        }
      },
      host_sha1hex: (ptr: number, len: number, outPtr: number) => {
        const hex = sha1hex(memory().slice(ptr, ptr + len));
        const m = memory();
        for (let i = 0; i < 40; i++) m[outPtr + i] = hex.charCodeAt(i);
      },
      host_set_repl: (flags: number) => vm!.host.setRepl(flags),
    };
    const wasi = {
      fd_write: (
        _fd: number,
        iovs: number,
        iovsLen: number,
        written: number,
      ) => {
        const m = memory();
        const view = new DataView(m.buffer, m.byteOffset);
        let n = 0;
        for (let i = 0; i < iovsLen; i++) {
          n += view.getUint32(iovs + i * 8 + 4, true);
        }
        view.setUint32(written, n, true);
        return 0;
      },
      proc_exit: (code: number) => {
        throw new Error(`Lua engine exited (${code})`);
      },
      fd_close: () => 8,
      fd_fdstat_get: () => 8,
      fd_fdstat_set_flags: () => 8,
      fd_prestat_get: () => 8,
      fd_prestat_dir_name: () => 8,
      fd_read: () => 8,
      fd_renumber: () => 8,
      fd_seek: () => 8,
      path_open: () => 44,
    };
    const instance = new WebAssembly.Instance(wasmModule(), {
      env,
      wasi_snapshot_preview1: wasi,
    });
    x = instance.exports as unknown as Exports;
    vm = new LuaVM(x);
    x._initialize();
    x.kv_init(functions ? 1 : 0);
    return vm;
  }

  #memory(): Uint8Array {
    // Growing the memory detaches the old buffer (its views read as
    // empty): only then is a new view needed.
    if (this.#mem.length === 0) {
      this.#mem = new Uint8Array(this.#x.memory.buffer);
    }
    return this.#mem;
  }

  /** Copies byte strings into the input buffer: the first as is, the
   * others (`a`, then `b`) as [u32 length][bytes]. Returns the first one's
   * length. */
  #input(
    first: string,
    a: readonly string[] = [],
    b: readonly string[] = [],
  ): number {
    let size = first.length;
    for (const s of a) size += 4 + s.length;
    for (const s of b) size += 4 + s.length;
    let at = this.#x.kv_in(size);
    const m = this.#memory();
    for (let i = 0; i < first.length; i++) m[at++] = first.charCodeAt(i);
    for (let k = 0; k < a.length + b.length; k++) {
      const s = k < a.length ? a[k] : b[k - a.length];
      const n = s.length;
      m[at++] = n & 255;
      m[at++] = (n >>> 8) & 255;
      m[at++] = (n >>> 16) & 255;
      m[at++] = (n >>> 24) & 255;
      for (let i = 0; i < n; i++) m[at++] = s.charCodeAt(i);
    }
    return first.length;
  }

  /** What the last compile, run or resume wrote (a reply, or an error
   * message). A copy. */
  reply(): Uint8Array {
    const p = this.#x.kv_out();
    return this.#memory().slice(p, p + this.#x.kv_out_len());
  }

  /** Appends what the last run or resume wrote to `out`. */
  replyTo(out: ReplyWriter): void {
    const p = this.#x.kv_out();
    out.rawRange(this.#memory(), p, p + this.#x.kv_out_len());
  }

  /** What the last run or resume wrote, as a view into the engine's
   * memory: valid until the engine runs again. */
  replyView(): Uint8Array {
    const p = this.#x.kv_out();
    return this.#memory().subarray(p, p + this.#x.kv_out_len());
  }

  /** Compiles a script body; returns its handle (for run), or the
   * compiler's error message. */
  compile(body: string): number | string {
    this.#input(body);
    const ref = this.#x.kv_compile(body.length);
    if (ref >= 0) return ref;
    return new TextDecoder().decode(this.reply());
  }

  /** Runs a FUNCTION library's code so it registers its functions (kept
   * only after {@linkcode LuaVM.commitLibrary}); returns them, or the error
   * message. */
  loadLibrary(code: string): RegisteredFunction[] | string {
    this.#input(code);
    if (this.#x.kv_lib_load(code.length)) {
      return new TextDecoder().decode(this.reply());
    }
    const b = this.reply();
    const view = new DataView(b.buffer, b.byteOffset, b.length);
    let at = 0;
    const str = (n: number) => {
      let s = "";
      for (let i = 0; i < n; i++) s += String.fromCharCode(b[at + i]);
      at += n;
      return s;
    };
    const count = view.getUint32(at, true);
    at += 4;
    const fns: RegisteredFunction[] = [];
    for (let i = 0; i < count; i++) {
      const n = view.getUint32(at, true);
      at += 4;
      const name = str(n);
      const d = view.getUint32(at, true);
      at += 4;
      const description = d === 0xFFFFFFFF ? null : str(d);
      const flags = view.getUint32(at, true);
      at += 4;
      fns.push({ name, description, flags });
    }
    return fns;
  }

  /** Keeps the functions the last {@linkcode LuaVM.loadLibrary}
   * registered; returns their handles, in the same order. */
  commitLibrary(): number[] {
    this.#x.kv_lib_commit();
    const b = this.replyView();
    const refs: number[] = [];
    for (let i = 0; i < b.length; i += 4) refs.push(u32(b, i));
    return refs;
  }

  /** Forgets a compiled script or function. */
  forget(ref: number): void {
    this.#x.kv_forget(ref);
  }

  /** Starts a compiled script or function (its handle). */
  run(
    ref: number,
    keys: readonly string[],
    args: readonly string[],
    resp: 2 | 3,
    hook: boolean,
  ): RunStatus {
    this.#input("", keys, args);
    return this.#x.kv_run(
      ref,
      keys.length,
      args.length,
      resp,
      hook ? 1 : 0,
    );
  }

  /** Goes on with a yielded script. */
  resume(): RunStatus {
    return this.#x.kv_resume();
  }

  /** Bytes the Lua state uses (INFO used_memory_lua). */
  memory(): number {
    return this.#x.kv_memory();
  }

  /** Drops every compiled script and global state. */
  reset(): void {
    this.#x.kv_reset();
  }
}

import { binaryToBytes, bytesToBinary, commandName } from "../_bytes.ts";
import type { ReplyWriter } from "../protocol.ts";

function u32(m: Uint8Array, at: number): number {
  return (m[at] | (m[at + 1] << 8) | (m[at + 2] << 16) | (m[at + 3] << 24)) >>>
    0;
}

/** SHA-1's message schedule, reused. */
const schedule = new Int32Array(80);

/** SHA-1 of bytes or a byte string, in lowercase hex (FIPS 180-4).
 *
 * DESIGN: our own, not node:crypto's createHash: importing node:crypto
 * costs every server about 9 ms and 4 MB of RSS at start-up (it loads much
 * of the Node compatibility layer), and a script's hash is needed
 * synchronously (EVAL, SCRIPT LOAD, redis.sha1hex), so it could not be
 * loaded on first use. Scripts are hashed once per body (the cache is by
 * body), so its speed hardly matters; tests/replacements_test.ts checks it
 * against node:crypto. */
export function sha1hex(data: Uint8Array | string): string {
  // A byte string's chars are its bytes (node's "latin1": the low 8 bits).
  const bytes = typeof data === "string" ? binaryToBytes(data) : data;
  const n = bytes.length;
  // The whole blocks are read in place; the rest goes into `tail` with the
  // padding: 0x80, zeros, and the length in bits (64 bits, big-endian).
  const whole = n & ~63;
  const tail = new Uint8Array(((n - whole + 8) >>> 6 << 6) + 64);
  tail.set(bytes.subarray(whole));
  tail[n - whole] = 0x80;
  const bits = n * 8;
  const end = tail.length;
  const high = Math.floor(bits / 0x100000000);
  tail[end - 8] = high >>> 24;
  tail[end - 7] = high >>> 16;
  tail[end - 6] = high >>> 8;
  tail[end - 5] = high;
  tail[end - 4] = bits >>> 24;
  tail[end - 3] = bits >>> 16;
  tail[end - 2] = bits >>> 8;
  tail[end - 1] = bits;
  let h0 = 0x67452301, h1 = 0xefcdab89 | 0, h2 = 0x98badcfe | 0;
  let h3 = 0x10325476, h4 = 0xc3d2e1f0 | 0;
  const w = schedule;
  const blocks = whole / 64 + end / 64;
  for (let b = 0; b < blocks; b++) {
    const src = b < whole / 64 ? bytes : tail;
    const at = b < whole / 64 ? b * 64 : (b - whole / 64) * 64;
    for (let t = 0; t < 16; t++) {
      const i = at + t * 4;
      w[t] = (src[i] << 24) | (src[i + 1] << 16) | (src[i + 2] << 8) |
        src[i + 3];
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16];
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = h0, bb = h1, c = h2, d = h3, e = h4;
    for (let t = 0; t < 80; t++) {
      let f: number;
      let k: number;
      if (t < 20) {
        f = (bb & c) | (~bb & d);
        k = 0x5a827999;
      } else if (t < 40) {
        f = bb ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (t < 60) {
        f = (bb & c) | (bb & d) | (c & d);
        k = 0x8f1bbcdc;
      } else {
        f = bb ^ c ^ d;
        k = 0xca62c1d6;
      }
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]) | 0;
      e = d;
      d = c;
      c = (bb << 30) | (bb >>> 2);
      bb = a;
      a = temp;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + bb) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  let hex = "";
  for (const h of [h0, h1, h2, h3, h4]) {
    hex += (h >>> 0).toString(16).padStart(8, "0");
  }
  return hex;
}
