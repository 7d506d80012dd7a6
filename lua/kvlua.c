/*
 * kvlua.c: the glue between @kv/store's scripting (lua/engine.ts) and Lua
 * 5.1, compiled together to WebAssembly by lua/build.sh.
 *
 * One instance holds one Lua state: EVAL scripts or FUNCTION libraries. A
 * script runs in a coroutine with a count hook: every HOOK_EVERY
 * instructions the hook asks the host (host_tick) whether to go on, to
 * yield (the script has run past busy-reply-threshold: the server serves
 * other clients with -BUSY, then resumes it) or to stop (SCRIPT KILL).
 * redis.call is synchronous: the host runs the command and hands back its
 * reply in RESP, which is turned into Lua values as Redis does; the
 * script's result is turned into RESP for the calling client here too.
 *
 * Our own code, written from Redis 7.0's documented and observed behaviour.
 * MIT licence, as the rest of the project.
 */

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "lstate.h"

#define IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))

/* Runs a command: args encoded as [u32 argc]([u32 len][bytes])*. Writes the
 * reply (RESP, version `resp`) with kv_reply_buffer and returns its length. */
IMPORT(host_call) int host_call(const char *args, int len, int resp, int kind);
/* 0: go on, 1: yield, 2: kill the script. */
IMPORT(host_tick) int host_tick(void);
IMPORT(host_log) void host_log(int level, const char *msg, int len);
IMPORT(host_sha1hex) void host_sha1hex(const char *s, int len, char *out40);
IMPORT(host_set_repl) void host_set_repl(int flags);

#define HOOK_EVERY 100000
#define CALL_KIND_CALL 0
#define CALL_KIND_PCALL 1
#define CALL_KIND_ACL 2

#define RUN_DONE 0
#define RUN_YIELD 1
#define RUN_ERROR 2

static lua_State *L = NULL;
static int functions_mode = 0;
static lua_State *co = NULL;   /* the running script's coroutine */
static lua_State *idle = NULL; /* a finished one, ready for reuse */
static int co_ref = LUA_NOREF; /* keeps it from the collector */
static int script_resp = 2;    /* redis.setresp */
static int client_resp = 2;    /* the calling client's protocol */
static int hook_yielded = 0;
static int in_script = 0;

/* ---- growable byte buffers shared with the host ---- */

typedef struct {
  char *data;
  size_t len, cap;
} buf_t;

static buf_t in = {0}, out = {0}, reply = {0}, args = {0};

static void buf_reserve(buf_t *b, size_t extra) {
  if (b->len + extra <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra) cap *= 2;
  char *p = realloc(b->data, cap);
  if (p == NULL) abort();
  b->data = p;
  b->cap = cap;
}

static void buf_add(buf_t *b, const char *s, size_t n) {
  buf_reserve(b, n);
  memcpy(b->data + b->len, s, n);
  b->len += n;
}

static void buf_u32(buf_t *b, uint32_t v) { buf_add(b, (const char *)&v, 4); }

/* Host writes input here (script source, KEYS, ARGV). */
EXPORT(kv_in) char *kv_in(int size) {
  in.len = 0;
  buf_reserve(&in, (size_t)size + 1);
  return in.data;
}

/* The host writes a command's reply here during host_call. */
EXPORT(kv_reply_buffer) char *kv_reply_buffer(int size) {
  reply.len = 0;
  buf_reserve(&reply, (size_t)size + 1);
  reply.len = (size_t)size;
  reply.data[size] = 0;
  return reply.data;
}

EXPORT(kv_out) char *kv_out(void) { return out.data; }
EXPORT(kv_out_len) int kv_out_len(void) { return (int)out.len; }

/* ---- Redis's error tables ---- */

/* Pushes {err = "<CODE> <msg>"}: "-CODE msg" keeps its code, anything
 * else gets ERR; trailing CR/LF are trimmed (luaPushError's format). */
static void push_error(lua_State *l, const char *s, size_t n) {
  luaL_Buffer b;
  const char *msg = s;
  size_t mlen = n;
  luaL_buffinit(l, &b);
  if (n > 0 && s[0] == '-') {
    const char *sp = memchr(s, ' ', n);
    if (sp == NULL) {
      luaL_addstring(&b, "ERR ");
      msg = s + 1;
      mlen = n - 1;
    } else {
      luaL_addlstring(&b, s + 1, (size_t)(sp - s - 1));
      luaL_addchar(&b, ' ');
      msg = sp + 1;
      mlen = n - (size_t)(sp + 1 - s);
    }
  } else {
    luaL_addstring(&b, "ERR ");
  }
  while (mlen > 0 && (msg[0] == '\r' || msg[0] == '\n')) msg++, mlen--;
  while (mlen > 0 && (msg[mlen - 1] == '\r' || msg[mlen - 1] == '\n')) mlen--;
  /* luaPushError uses lua_pushstring: the message stops at a NUL */
  const char *nul = memchr(msg, 0, mlen);
  if (nul) mlen = (size_t)(nul - msg);
  luaL_addlstring(&b, msg, mlen);
  lua_newtable(l);
  lua_pushstring(l, "err");
  luaL_pushresult(&b);
  /* lua_pushstring semantics of the final message: stop at NUL */
  {
    size_t fl;
    const char *f = lua_tolstring(l, -1, &fl);
    if (memchr(f, 0, fl)) {
      lua_pushstring(l, f);
      lua_remove(l, -2);
    }
  }
  lua_settable(l, -3);
}

static int raise_error(lua_State *l, const char *msg) {
  push_error(l, msg, strlen(msg));
  return lua_error(l);
}

/* ---- RESP (a command's reply) to Lua ---- */

typedef struct {
  const char *p, *end;
} parser_t;

static long long parse_ll(parser_t *ps) {
  long long v = 0;
  int neg = 0;
  if (*ps->p == '-') neg = 1, ps->p++;
  else if (*ps->p == '+') ps->p++;
  while (ps->p < ps->end && *ps->p != '\r') v = v * 10 + (*ps->p++ - '0');
  ps->p += 2;
  return neg ? -v : v;
}

static const char *parse_line(parser_t *ps, size_t *n) {
  const char *s = ps->p;
  const char *e = memchr(s, '\r', (size_t)(ps->end - s));
  if (e == NULL) e = ps->end;
  *n = (size_t)(e - s);
  ps->p = e + 2;
  return s;
}

static void resp_to_lua(lua_State *l, parser_t *ps, int push);

static void resp_to_lua(lua_State *l, parser_t *ps, int push) {
  char t = *ps->p++;
  size_t n;
  const char *s;
  long long len;
  if (push && !lua_checkstack(l, 6)) luaL_error(l, "reached lua stack limit");
  switch (t) {
    case '+':
      s = parse_line(ps, &n);
      if (push) {
        lua_newtable(l);
        lua_pushstring(l, "ok");
        lua_pushlstring(l, s, n);
        lua_settable(l, -3);
      }
      break;
    case '-':
      s = parse_line(ps, &n);
      if (push) {
        /* "-" + message, then luaPushError's split */
        luaL_Buffer b;
        luaL_buffinit(l, &b);
        luaL_addchar(&b, '-');
        luaL_addlstring(&b, s, n);
        luaL_pushresult(&b);
        size_t fl;
        const char *f = lua_tolstring(l, -1, &fl);
        push_error(l, f, fl);
        lua_remove(l, -2);
        lua_pushstring(l, "ignore_error_stats_update");
        lua_pushboolean(l, 1);
        lua_settable(l, -3);
      }
      break;
    case ':':
      len = parse_ll(ps);
      if (push) lua_pushnumber(l, (lua_Number)len);
      break;
    case '$':
      len = parse_ll(ps);
      if (len < 0) {
        if (push) lua_pushboolean(l, 0);
        break;
      }
      if (push) lua_pushlstring(l, ps->p, (size_t)len);
      ps->p += len + 2;
      break;
    case '*':
      len = parse_ll(ps);
      if (len < 0) {
        if (push) lua_pushboolean(l, 0);
        break;
      }
      if (push) lua_createtable(l, (int)len, 0);
      for (long long j = 0; j < len; j++) {
        if (push) lua_pushnumber(l, (lua_Number)(j + 1));
        resp_to_lua(l, ps, push);
        if (push) lua_settable(l, -3);
      }
      break;
    case '%':
      len = parse_ll(ps);
      if (push) {
        lua_newtable(l);
        lua_pushstring(l, "map");
        lua_newtable(l);
      }
      for (long long j = 0; j < len; j++) {
        resp_to_lua(l, ps, push);
        resp_to_lua(l, ps, push);
        if (push) lua_settable(l, -3);
      }
      if (push) lua_settable(l, -3);
      break;
    case '~':
      len = parse_ll(ps);
      if (push) {
        lua_newtable(l);
        lua_pushstring(l, "set");
        lua_newtable(l);
      }
      for (long long j = 0; j < len; j++) {
        resp_to_lua(l, ps, push);
        if (push) {
          lua_pushboolean(l, 1);
          lua_settable(l, -3);
        }
      }
      if (push) lua_settable(l, -3);
      break;
    case '_':
      ps->p += 2;
      if (push) lua_pushnil(l);
      break;
    case '#':
      if (push) lua_pushboolean(l, *ps->p == 't');
      ps->p += 3;
      break;
    case ',': {
      s = parse_line(ps, &n);
      if (push) {
        char tmp[64];
        double d;
        if (n >= sizeof(tmp)) n = sizeof(tmp) - 1;
        memcpy(tmp, s, n);
        tmp[n] = 0;
        if (strcmp(tmp, "inf") == 0) d = INFINITY;
        else if (strcmp(tmp, "-inf") == 0) d = -INFINITY;
        else if (strcmp(tmp, "nan") == 0 || strcmp(tmp, "-nan") == 0) d = NAN;
        else d = strtod(tmp, NULL);
        lua_newtable(l);
        lua_pushstring(l, "double");
        lua_pushnumber(l, d);
        lua_settable(l, -3);
      }
      break;
    }
    case '(':
      s = parse_line(ps, &n);
      if (push) {
        lua_newtable(l);
        lua_pushstring(l, "big_number");
        lua_pushlstring(l, s, n);
        lua_settable(l, -3);
      }
      break;
    case '=':
      len = parse_ll(ps);
      if (push) {
        lua_newtable(l);
        lua_pushstring(l, "verbatim_string");
        lua_newtable(l);
        lua_pushstring(l, "string");
        lua_pushlstring(l, ps->p + 4, (size_t)(len - 4));
        lua_settable(l, -3);
        lua_pushstring(l, "format");
        lua_pushlstring(l, ps->p, 3);
        lua_settable(l, -3);
        lua_settable(l, -3);
      }
      ps->p += len + 2;
      break;
    case '|':
      len = parse_ll(ps);
      for (long long j = 0; j < len; j++) {
        resp_to_lua(l, ps, 0);
        resp_to_lua(l, ps, 0);
      }
      resp_to_lua(l, ps, push);
      break;
    default:
      if (push) lua_pushnil(l);
      ps->p = ps->end;
  }
}

/* ---- redis.call / redis.pcall ---- */

static int encode_args(lua_State *l) {
  int argc = lua_gettop(l);
  args.len = 0;
  buf_u32(&args, (uint32_t)argc);
  for (int j = 1; j <= argc; j++) {
    char dbuf[64];
    const char *s;
    size_t n;
    if (lua_type(l, j) == LUA_TNUMBER) {
      n = (size_t)snprintf(dbuf, sizeof(dbuf), "%.17g", (double)lua_tonumber(l, j));
      s = dbuf;
    } else {
      s = lua_tolstring(l, j, &n);
      if (s == NULL) return -1;
    }
    buf_u32(&args, (uint32_t)n);
    buf_add(&args, s, n);
  }
  return argc;
}

static int redis_generic_call(lua_State *l, int kind) {
  int argc = lua_gettop(l);
  if (!in_script) {
    return raise_error(l, "redis.call/pcall can only be called inside a script invocation");
  }
  if (argc == 0) {
    push_error(l, "Please specify at least one argument for this redis lib call", 61);
    return kind == CALL_KIND_PCALL ? 1 : lua_error(l);
  }
  if (encode_args(l) < 0) {
    lua_settop(l, 0);
    push_error(l, "Lua redis lib command arguments must be strings or integers", 59);
    return kind == CALL_KIND_PCALL ? 1 : lua_error(l);
  }
  lua_settop(l, 0);
  int n = host_call(args.data, (int)args.len, script_resp, kind);
  parser_t ps = {reply.data, reply.data + n};
  int is_error = n > 0 && reply.data[0] == '-';
  resp_to_lua(l, &ps, 1);
  if (is_error && kind == CALL_KIND_CALL) return lua_error(l);
  return 1;
}

static int redis_call(lua_State *l) { return redis_generic_call(l, CALL_KIND_CALL); }
static int redis_pcall(lua_State *l) { return redis_generic_call(l, CALL_KIND_PCALL); }

static int redis_acl_check_cmd(lua_State *l) {
  if (!in_script) {
    return raise_error(l, "redis.acl_check_cmd can only be called inside a script invocation");
  }
  if (lua_gettop(l) == 0) {
    return raise_error(l, "Please specify at least one argument for this redis lib call");
  }
  if (encode_args(l) < 0) {
    return raise_error(l, "Lua redis lib command arguments must be strings or integers");
  }
  lua_settop(l, 0);
  int n = host_call(args.data, (int)args.len, 2, CALL_KIND_ACL);
  if (n > 0 && reply.data[0] == '-') {
    parser_t ps = {reply.data, reply.data + n};
    resp_to_lua(l, &ps, 1);
    return lua_error(l);
  }
  lua_pushboolean(l, n > 1 && reply.data[1] == '1');
  return 1;
}

/* pcall that hands back the message of a Redis error table (Redis 7's
 * luaRedisPcall, for scripts written before errors became tables). */
static int lua_pcall_compat(lua_State *l) {
  int argc = lua_gettop(l);
  luaL_checkany(l, 1);
  lua_pushboolean(l, 1);
  lua_insert(l, 1);
  if (lua_pcall(l, argc - 1, LUA_MULTRET, 0)) {
    lua_remove(l, 1);
    if (lua_istable(l, -1)) {
      lua_getfield(l, -1, "err");
      if (lua_isstring(l, -1)) lua_replace(l, -2);
      else lua_pop(l, 1);
    }
    lua_pushboolean(l, 0);
    lua_insert(l, 1);
  }
  return lua_gettop(l);
}

static int redis_sha1hex(lua_State *l) {
  size_t n;
  char digest[41];
  if (lua_gettop(l) != 1) return raise_error(l, "wrong number of arguments");
  const char *s = lua_tolstring(l, 1, &n);
  if (s == NULL) s = "", n = 0;
  host_sha1hex(s, (int)n, digest);
  digest[40] = 0;
  lua_pushstring(l, digest);
  return 1;
}

static int redis_error_reply(lua_State *l) {
  if (lua_gettop(l) != 1 || lua_type(l, -1) != LUA_TSTRING) {
    push_error(l, "wrong number or type of arguments", 33);
    return 1;
  }
  const char *e = lua_tostring(l, -1);
  if (e[0] == '-') {
    push_error(l, e, strlen(e));
  } else {
    lua_pushfstring(l, "-%s", e);
    push_error(l, lua_tostring(l, -1), strlen(lua_tostring(l, -1)));
  }
  return 1;
}

static int redis_status_reply(lua_State *l) {
  if (lua_gettop(l) != 1 || lua_type(l, -1) != LUA_TSTRING) {
    push_error(l, "wrong number or type of arguments", 33);
    return 1;
  }
  lua_newtable(l);
  lua_pushstring(l, "ok");
  lua_pushvalue(l, -3);
  lua_settable(l, -3);
  return 1;
}

static int redis_log(lua_State *l) {
  int argc = lua_gettop(l);
  if (argc < 2) return raise_error(l, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(l, -argc)) return raise_error(l, "First argument must be a number (log level).");
  int level = (int)lua_tonumber(l, -argc);
  if (level < 0 || level > 3) return raise_error(l, "Invalid debug level.");
  luaL_Buffer b;
  luaL_buffinit(l, &b);
  int first = 1;
  for (int j = 2; j <= argc; j++) {
    size_t n;
    const char *s = lua_tolstring(l, j, &n);
    if (s) {
      if (!first) luaL_addchar(&b, ' ');
      luaL_addlstring(&b, s, n);
      first = 0;
    }
  }
  luaL_pushresult(&b);
  size_t n;
  const char *s = lua_tolstring(l, -1, &n);
  host_log(level, s, (int)n);
  return 0;
}

static int redis_setresp(lua_State *l) {
  if (!in_script) {
    return raise_error(l, "redis.setresp can only be called inside a script invocation");
  }
  if (lua_gettop(l) != 1) return raise_error(l, "redis.setresp() requires one argument.");
  int resp = (int)lua_tonumber(l, -1);
  if (resp != 2 && resp != 3) return raise_error(l, "RESP version must be 2 or 3.");
  script_resp = resp;
  return 0;
}

static int redis_set_repl(lua_State *l) {
  if (!in_script) {
    return raise_error(l, "redis.set_repl can only be called inside a script invocation");
  }
  if (lua_gettop(l) != 1) return raise_error(l, "redis.set_repl() requires two arguments.");
  int flags = (int)lua_tonumber(l, -1);
  if ((flags & ~3) != 0) {
    return raise_error(l, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  }
  host_set_repl(flags);
  return 0;
}

static int redis_replicate_commands(lua_State *l) {
  lua_pushboolean(l, 1);
  return 1;
}

static int redis_breakpoint(lua_State *l) {
  lua_pushboolean(l, 0);
  return 1;
}

static int redis_debug(lua_State *l) {
  (void)l;
  return 0;
}

/* ---- math.random as Redis: rand48, the same sequence on every machine ---- */

static uint64_t rand48_x = 0x1234ABCD330EULL;

static void rand48_seed(int32_t seed) {
  rand48_x = (((uint64_t)(uint32_t)seed) << 16) | 0x330E;
}

static int32_t rand48_next(void) {
  rand48_x = (0x5DEECE66DULL * rand48_x + 0xB) & 0xFFFFFFFFFFFFULL;
  return (int32_t)(rand48_x >> 17);
}

static int math_random(lua_State *l) {
  if (!in_script) return luaL_error(l, "math.random can only be called inside a script invocation");
  lua_Number r = (lua_Number)(rand48_next() % 2147483647) / (lua_Number)2147483647;
  switch (lua_gettop(l)) {
    case 0:
      lua_pushnumber(l, r);
      break;
    case 1: {
      int u = luaL_checkint(l, 1);
      luaL_argcheck(l, 1 <= u, 1, "interval is empty");
      lua_pushnumber(l, floor(r * u) + 1);
      break;
    }
    case 2: {
      int lo = luaL_checkint(l, 1);
      int up = luaL_checkint(l, 2);
      luaL_argcheck(l, lo <= up, 2, "interval is empty");
      lua_pushnumber(l, floor(r * (up - lo + 1)) + lo);
      break;
    }
    default:
      return luaL_error(l, "wrong number of arguments");
  }
  return 1;
}

static int math_randomseed(lua_State *l) {
  if (!in_script) return luaL_error(l, "math.randomseed can only be called inside a script invocation");
  rand48_seed(luaL_checkint(l, 1));
  return 0;
}

/* ---- globals protection ---- */

static int global_read_error(lua_State *l) {
  if (lua_gettop(l) != 2) luaL_error(l, "Wrong number of arguments to luaProtectedTableError");
  if (!lua_isstring(l, -1) && !lua_isnumber(l, -1)) {
    luaL_error(l, "Second argument to luaProtectedTableError must be a string or number");
  }
  return luaL_error(l, "Script attempted to access nonexistent global variable '%s'", lua_tostring(l, -1));
}

static void set_error_metatable(lua_State *l) {
  lua_newtable(l);
  lua_pushcfunction(l, global_read_error);
  lua_setfield(l, -2, "__index");
  lua_setmetatable(l, -2);
}

static void protect_recursively(lua_State *l) {
  if (lua_isreadonlytable(l, -1)) return;
  lua_enablereadonlytable(l, -1, 1);
  lua_checkstack(l, 2);
  lua_pushnil(l);
  while (lua_next(l, -2)) {
    if (lua_istable(l, -1)) protect_recursively(l);
    lua_pop(l, 1);
  }
  if (lua_getmetatable(l, -1)) {
    protect_recursively(l);
    lua_pop(l, 1);
  }
}

static const char *const allowed_globals[] = {
    "string", "cjson", "bit", "cmsgpack", "math", "table", "struct", "redis",
    "xpcall", "tostring", "setmetatable", "next", "assert", "tonumber",
    "rawequal", "collectgarbage", "getmetatable", "rawset", "pcall",
    "coroutine", "type", "_G", "select", "unpack", "gcinfo", "pairs", "rawget",
    "loadstring", "ipairs", "_VERSION", "load", "error",
    "__redis__err__handler", NULL};

static int is_allowed(const char *name) {
  for (int i = 0; allowed_globals[i]; i++) {
    if (strcmp(allowed_globals[i], name) == 0) return 1;
  }
  return 0;
}

LUALIB_API int luaopen_cjson(lua_State *l);
LUALIB_API int luaopen_struct(lua_State *l);
LUALIB_API int luaopen_cmsgpack(lua_State *l);
LUALIB_API int luaopen_bit(lua_State *l);

static void open_lib(lua_State *l, const char *name, lua_CFunction f) {
  lua_pushcfunction(l, f);
  lua_pushstring(l, name);
  lua_call(l, 1, 0);
}

static void set_field_fn(lua_State *l, const char *name, lua_CFunction f) {
  lua_pushstring(l, name);
  lua_pushcfunction(l, f);
  lua_settable(l, -3);
}

static void set_field_num(lua_State *l, const char *name, lua_Number v) {
  lua_pushstring(l, name);
  lua_pushnumber(l, v);
  lua_settable(l, -3);
}

static int register_function(lua_State *l);

/* The error handler's work, done on the dead coroutine's stack: where the
 * error happened (the Lua function that raised it, or called the C
 * function that did). */
static void error_position(lua_State *c, const char **source, int *line) {
  lua_Debug ar;
  *source = NULL;
  *line = -1;
  for (int level = 0; level < 2; level++) {
    if (!lua_getstack(c, level, &ar)) return;
    if (!lua_getinfo(c, "Sl", &ar)) return;
    if (ar.what && strcmp(ar.what, "C") == 0 && level == 0) continue;
    *source = ar.source;
    *line = ar.currentline;
    return;
  }
}

static void build_state(void) {
  L = luaL_newstate();
  open_lib(L, "", luaopen_base);
  open_lib(L, LUA_TABLIBNAME, luaopen_table);
  open_lib(L, LUA_STRLIBNAME, luaopen_string);
  open_lib(L, LUA_MATHLIBNAME, luaopen_math);
  open_lib(L, "cjson", luaopen_cjson);
  open_lib(L, "struct", luaopen_struct);
  open_lib(L, "cmsgpack", luaopen_cmsgpack);
  open_lib(L, "bit", luaopen_bit);

  lua_pushcfunction(L, lua_pcall_compat);
  lua_setglobal(L, "pcall");

  /* Redis keeps its error handler as a global; ours works on the dead
   * coroutine's stack (finish), so this one only turns an error into
   * Redis's error table. */
  luaL_loadbuffer(L,
                  "local e = ...\n"
                  "if type(e) ~= 'table' then e = {err = 'ERR ' .. tostring(e)} end\n"
                  "return e\n",
                  strlen("local e = ...\n"
                         "if type(e) ~= 'table' then e = {err = 'ERR ' .. tostring(e)} end\n"
                         "return e\n"), "@err_handler");
  lua_setglobal(L, "__redis__err__handler");

  lua_newtable(L);
  set_field_fn(L, "call", redis_call);
  set_field_fn(L, "pcall", redis_pcall);
  set_field_fn(L, "log", redis_log);
  set_field_num(L, "LOG_DEBUG", 0);
  set_field_num(L, "LOG_VERBOSE", 1);
  set_field_num(L, "LOG_NOTICE", 2);
  set_field_num(L, "LOG_WARNING", 3);
  set_field_num(L, "REDIS_VERSION_NUM", 0x0007000f);
  lua_pushstring(L, "REDIS_VERSION");
  lua_pushstring(L, "7.0.15");
  lua_settable(L, -3);
  set_field_fn(L, "setresp", redis_setresp);
  set_field_fn(L, "sha1hex", redis_sha1hex);
  set_field_fn(L, "error_reply", redis_error_reply);
  set_field_fn(L, "status_reply", redis_status_reply);
  set_field_fn(L, "set_repl", redis_set_repl);
  set_field_num(L, "REPL_NONE", 0);
  set_field_num(L, "REPL_AOF", 1);
  set_field_num(L, "REPL_SLAVE", 2);
  set_field_num(L, "REPL_REPLICA", 2);
  set_field_num(L, "REPL_ALL", 3);
  if (!functions_mode) {
    set_field_fn(L, "replicate_commands", redis_replicate_commands);
    set_field_fn(L, "breakpoint", redis_breakpoint);
    set_field_fn(L, "debug", redis_debug);
  }
  set_field_fn(L, "acl_check_cmd", redis_acl_check_cmd);
  lua_setglobal(L, "redis");

  lua_getglobal(L, "math");
  set_field_fn(L, "random", math_random);
  set_field_fn(L, "randomseed", math_randomseed);
  lua_pop(L, 1);

  /* Only the allowed globals stay. */
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    const char *name = lua_tostring(L, -1);
    if (!is_allowed(name)) {
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, -4);
    }
  }
  lua_pop(L, 1);

  if (functions_mode) {
    /* FUNCTION: the real globals stay empty and read-only; a metatable
     * sends reads to an API table: the library API (redis with
     * register_function and log only) while a library loads, the runtime
     * API (what EVAL sees, less KEYS, ARGV and the error handler) while
     * its functions run. */
    lua_pushnil(L);
    lua_setglobal(L, "__redis__err__handler");
    lua_newtable(L); /* load API */
    lua_newtable(L); /* its redis */
    set_field_fn(L, "register_function", register_function);
    set_field_fn(L, "log", redis_log);
    set_field_num(L, "LOG_DEBUG", 0);
    set_field_num(L, "LOG_VERBOSE", 1);
    set_field_num(L, "LOG_NOTICE", 2);
    set_field_num(L, "LOG_WARNING", 3);
    set_field_num(L, "REDIS_VERSION_NUM", 0x0007000f);
    lua_pushstring(L, "REDIS_VERSION");
    lua_pushstring(L, "7.0.15");
    lua_settable(L, -3);
    set_error_metatable(L);
    lua_setfield(L, -2, "redis");
    set_error_metatable(L);
    protect_recursively(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "kv_load_api");

    lua_pushvalue(L, LUA_GLOBALSINDEX); /* the runtime API: today's globals */
    set_error_metatable(L);
    protect_recursively(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "kv_run_api");

    lua_newtable(L); /* new, empty globals */
    lua_newtable(L); /* their metatable */
    lua_getfield(L, LUA_REGISTRYINDEX, "kv_run_api");
    lua_setfield(L, -2, "__index");
    lua_enablereadonlytable(L, -1, 1);
    lua_setmetatable(L, -2);
    lua_enablereadonlytable(L, -1, 1);
    lua_replace(L, LUA_GLOBALSINDEX);
    return;
  }

  /* Reading a missing global is an error; every reachable table is
   * read-only. */
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  set_error_metatable(L);
  protect_recursively(L);
  lua_pop(L, 1);
}

EXPORT(kv_init) int kv_init(int mode) {
  functions_mode = mode;
  build_state();
  return 0;
}

EXPORT(kv_memory) int kv_memory(void) {
  return lua_gc(L, LUA_GCCOUNT, 0) * 1024 + lua_gc(L, LUA_GCCOUNTB, 0);
}

/* ---- compiling ---- */

/* Compiles the body in `in`; returns its handle (a registry reference), or
 * -1 on a compile error (message in out). */
EXPORT(kv_compile) int kv_compile(int body_len) {
  out.len = 0;
  if (luaL_loadbuffer(L, in.data, (size_t)body_len, "@user_script")) {
    size_t n;
    const char *e = lua_tolstring(L, -1, &n);
    if (e == NULL) e = "", n = 0;
    buf_add(&out, e, n);
    lua_pop(L, 1);
    return -1;
  }
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Forgets a compiled script or function (its handle). */
EXPORT(kv_forget) void kv_forget(int ref) { luaL_unref(L, LUA_REGISTRYINDEX, ref); }

EXPORT(kv_reset) void kv_reset(void) {
  if (L) lua_close(L);
  L = NULL;
  co = NULL;
  idle = NULL;
  co_ref = LUA_NOREF;
  build_state();
}

/* ---- Lua to the client's reply ---- */

static void out_str(const char *s) { buf_add(&out, s, strlen(s)); }

static void out_len(char prefix, long long n) {
  char tmp[32];
  int k = snprintf(tmp, sizeof(tmp), "%c%lld\r\n", prefix, n);
  buf_add(&out, tmp, (size_t)k);
}

static void out_bulk(const char *s, size_t n) {
  out_len('$', (long long)n);
  buf_add(&out, s, n);
  buf_add(&out, "\r\n", 2);
}

/* a status or error line: CR and LF become spaces */
static void out_line(char prefix, const char *s, size_t n) {
  buf_reserve(&out, n + 3);
  out.data[out.len++] = prefix;
  for (size_t i = 0; i < n; i++) {
    char ch = s[i];
    out.data[out.len++] = (ch == '\r' || ch == '\n') ? ' ' : ch;
  }
  out.data[out.len++] = '\r';
  out.data[out.len++] = '\n';
}

static void out_null(void) {
  if (client_resp == 2) out_str("$-1\r\n");
  else out_str("_\r\n");
}

static void out_double(double d) {
  char tmp[64];
  int k;
  if (isinf(d)) {
    k = snprintf(tmp, sizeof(tmp), "%s", d > 0 ? "inf" : "-inf");
  } else {
    k = snprintf(tmp, sizeof(tmp), "%.17g", d);
  }
  if (client_resp == 2) out_bulk(tmp, (size_t)k);
  else {
    out_str(",");
    buf_add(&out, tmp, (size_t)k);
    out_str("\r\n");
  }
}

static long long number_to_ll(lua_Number d) {
  /* x86-64's cvttsd2si: NaN and anything out of range give INT64_MIN */
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return INT64_MIN;
  return (long long)d;
}

/* Writes the header `prefix n` before what was written since `at`. */
static void insert_header(size_t at, char prefix, long long n) {
  char tmp[32];
  int k = snprintf(tmp, sizeof(tmp), "%c%lld\r\n", prefix, n);
  buf_reserve(&out, (size_t)k);
  memmove(out.data + at + k, out.data + at, out.len - at);
  memcpy(out.data + at, tmp, (size_t)k);
  out.len += (size_t)k;
}

static void error_from_table(lua_State *l, int idx);

static void lua_to_resp(lua_State *l, int depth) {
  int t = lua_type(l, -1);
  if (!lua_checkstack(l, 4) || depth > 1000) {
    out_str("-ERR reached lua stack limit\r\n");
    lua_pop(l, 1);
    return;
  }
  switch (t) {
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(l, -1, &n);
      out_bulk(s, n);
      break;
    }
    case LUA_TBOOLEAN:
      if (script_resp == 2) {
        if (lua_toboolean(l, -1)) out_str(":1\r\n");
        else out_null();
      } else {
        if (client_resp == 2) out_str(lua_toboolean(l, -1) ? ":1\r\n" : ":0\r\n");
        else out_str(lua_toboolean(l, -1) ? "#t\r\n" : "#f\r\n");
      }
      break;
    case LUA_TNUMBER:
      out_len(':', number_to_ll(lua_tonumber(l, -1)));
      break;
    case LUA_TTABLE: {
      lua_pushstring(l, "err");
      lua_rawget(l, -2);
      if (lua_type(l, -1) == LUA_TSTRING) {
        lua_pop(l, 1);
        error_from_table(l, -1);
        break;
      }
      lua_pop(l, 1);
      lua_pushstring(l, "ok");
      lua_rawget(l, -2);
      if (lua_type(l, -1) == LUA_TSTRING) {
        const char *s = lua_tostring(l, -1);
        out_line('+', s, strlen(s));
        lua_pop(l, 1);
        break;
      }
      lua_pop(l, 1);
      lua_pushstring(l, "double");
      lua_rawget(l, -2);
      if (lua_type(l, -1) == LUA_TNUMBER) {
        out_double(lua_tonumber(l, -1));
        lua_pop(l, 1);
        break;
      }
      lua_pop(l, 1);
      lua_pushstring(l, "big_number");
      lua_rawget(l, -2);
      if (lua_type(l, -1) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(l, -1, &n);
        if (client_resp == 2) {
          /* CR/LF mapped to spaces, as a bulk string */
          out_len('$', (long long)n);
          size_t at = out.len;
          buf_add(&out, s, n);
          for (size_t i = at; i < out.len; i++) {
            if (out.data[i] == '\r' || out.data[i] == '\n') out.data[i] = ' ';
          }
          out_str("\r\n");
        } else {
          out_line('(', s, n);
        }
        lua_pop(l, 1);
        break;
      }
      lua_pop(l, 1);
      lua_pushstring(l, "verbatim_string");
      lua_rawget(l, -2);
      if (lua_type(l, -1) == LUA_TTABLE) {
        lua_pushstring(l, "format");
        lua_rawget(l, -2);
        if (lua_type(l, -1) == LUA_TSTRING) {
          const char *format = lua_tostring(l, -1);
          lua_pushstring(l, "string");
          lua_rawget(l, -3);
          if (lua_type(l, -1) == LUA_TSTRING) {
            size_t n;
            const char *s = lua_tolstring(l, -1, &n);
            if (client_resp == 2) {
              out_bulk(s, n);
            } else {
              out_len('=', (long long)n + 4);
              char fmt[4] = {' ', ' ', ' ', ':'};
              for (int i = 0; i < 3 && format[i]; i++) fmt[i] = format[i];
              buf_add(&out, fmt, 4);
              buf_add(&out, s, n);
              out_str("\r\n");
            }
            lua_pop(l, 4);
            return;
          }
          lua_pop(l, 1);
        }
        lua_pop(l, 1);
      }
      lua_pop(l, 1);
      lua_pushstring(l, "map");
      lua_rawget(l, -2);
      if (lua_type(l, -1) == LUA_TTABLE) {
        size_t at = out.len;
        long long n = 0;
        lua_pushnil(l);
        while (lua_next(l, -2)) {
          lua_pushvalue(l, -2);
          lua_to_resp(l, depth + 1);
          lua_to_resp(l, depth + 1);
          n++;
        }
        if (client_resp == 2) insert_header(at, '*', n * 2);
        else insert_header(at, '%', n);
        lua_pop(l, 1);
        break;
      }
      lua_pop(l, 1);
      lua_pushstring(l, "set");
      lua_rawget(l, -2);
      if (lua_type(l, -1) == LUA_TTABLE) {
        size_t at = out.len;
        long long n = 0;
        lua_pushnil(l);
        while (lua_next(l, -2)) {
          lua_pop(l, 1);
          lua_pushvalue(l, -1);
          lua_to_resp(l, depth + 1);
          n++;
        }
        insert_header(at, client_resp == 2 ? '*' : '~', n);
        lua_pop(l, 1);
        break;
      }
      lua_pop(l, 1);
      {
        size_t at = out.len;
        long long n = 0;
        for (int j = 1;; j++) {
          lua_pushnumber(l, j);
          lua_rawget(l, -2);
          if (lua_type(l, -1) == LUA_TNIL) {
            lua_pop(l, 1);
            break;
          }
          lua_to_resp(l, depth + 1);
          n++;
        }
        insert_header(at, '*', n);
      }
      break;
    }
    default:
      out_null();
  }
  lua_pop(l, 1);
}

/* An error reply from a table {err=...}: "-" + the message (with its code),
 * CR/LF as spaces. */
static void error_from_table(lua_State *l, int idx) {
  lua_getfield(l, idx, "err");
  size_t n;
  const char *s = lua_tolstring(l, -1, &n);
  const char *nul = memchr(s, 0, n);
  if (nul) n = (size_t)(nul - s);
  out_line('-', s, n);
  lua_pop(l, 1);
}

/* ---- running ---- */

static void count_hook(lua_State *l, lua_Debug *ar) {
  (void)ar;
  int what = host_tick();
  if (what == 2) {
    lua_sethook(l, count_hook, LUA_MASKLINE, 0);
    raise_error(l, "Script killed by user with SCRIPT KILL...");
  } else if (what == 1 && l->nCcalls == l->baseCcalls && l == co) {
    hook_yielded = 1;
    lua_yield(l, 0);
  }
}

static void push_array(lua_State *l, const char **p, int n) {
  lua_createtable(l, n, 0);
  for (int j = 0; j < n; j++) {
    uint32_t len;
    memcpy(&len, *p, 4);
    *p += 4;
    lua_pushlstring(l, *p, len);
    *p += len;
    lua_rawseti(l, -2, j + 1);
  }
}

static int finish(int status);

/* Starts the script or function `ref` with KEYS and ARGV (in `in`, each
 * [u32 len][bytes]). resp: the client's protocol. hook: 1 to
 * install the count hook. Returns RUN_DONE (reply in out), RUN_YIELD or
 * RUN_ERROR (error reply in out). */
EXPORT(kv_run) int kv_run(int ref, int nkeys, int nargs, int resp, int hook) {
  const char *p = in.data;
  out.len = 0;
  client_resp = resp;
  script_resp = 2;
  hook_yielded = 0;
  if (idle != NULL) {
    /* the coroutine of the last script, which ended normally: reused */
    co = idle;
    idle = NULL;
    lua_settop(co, 0);
  } else {
    co = lua_newthread(L);
    co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_rawgeti(co, LUA_REGISTRYINDEX, ref);
  if (!functions_mode) {
    lua_enablereadonlytable(co, LUA_GLOBALSINDEX, 0);
    push_array(co, &p, nkeys);
    lua_setglobal(co, "KEYS");
    push_array(co, &p, nargs);
    lua_setglobal(co, "ARGV");
    lua_enablereadonlytable(co, LUA_GLOBALSINDEX, 1);
  } else {
    push_array(co, &p, nkeys);
    push_array(co, &p, nargs);
  }
  if (hook) lua_sethook(co, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
  in_script = 1;
  return finish(lua_resume(co, functions_mode ? 2 : 0));
}

EXPORT(kv_resume) int kv_resume(void) {
  out.len = 0;
  hook_yielded = 0;
  return finish(lua_resume(co, 0));
}

static void release(int ok) {
  in_script = 0;
  lua_sethook(co, NULL, 0, 0);
  if (ok) {
    idle = co; /* still referenced by co_ref */
  } else {
    luaL_unref(L, LUA_REGISTRYINDEX, co_ref);
    co_ref = LUA_NOREF;
  }
  co = NULL;
  static int gc_count = 0;
  if (++gc_count == 50) {
    lua_gc(L, LUA_GCSTEP, 50);
    gc_count = 0;
  }
}

EXPORT(kv_sha_name) const char *kv_sha_name(void);

static int finish(int status) {
  if (status == LUA_YIELD && hook_yielded) return RUN_YIELD;
  if (status == LUA_YIELD) {
    /* coroutine.yield() outside a coroutine: Redis runs scripts in a
     * protected call, where that is an error */
    lua_settop(co, 0);
    lua_pushstring(co, "attempt to yield across metamethod/C-call boundary");
    status = LUA_ERRRUN;
  }
  if (status == 0) {
    if (lua_gettop(co) == 0) lua_pushnil(co);
    else lua_settop(co, 1);
    lua_to_resp(co, 0);
    release(1);
    return RUN_DONE;
  }
  /* Error: as Redis's error handler plus luaCallFunction's reply. */
  const char *source;
  int line;
  error_position(co, &source, &line);
  if (lua_istable(co, -1)) {
    lua_getfield(co, -1, "err");
    if (lua_isstring(co, -1)) {
      size_t n;
      const char *s = lua_tolstring(co, -1, &n);
      out_str("-");
      buf_add(&out, s, strlen(s) < n ? strlen(s) : n);
    } else {
      out_str("-");
    }
    lua_pop(co, 1);
  } else {
    out_str("-ERR ");
    size_t n;
    const char *s = lua_tolstring(co, -1, &n);
    if (s == NULL) {
      /* an error object that is neither a string nor a table */
      lua_getglobal(co, "tostring");
      lua_pushvalue(co, -2);
      lua_pcall(co, 1, 1, 0);
      s = lua_tolstring(co, -1, &n);
      if (s == NULL) s = "nil", n = 3;
    }
    buf_add(&out, s, strlen(s) < n ? strlen(s) : n);
  }
  if (source != NULL && line >= 0) {
    char tmp[64];
    int k = snprintf(tmp, sizeof(tmp), ":%d.", line);
    out_str(" script: ");
    /* the host appends the name and the position marker: see engine.ts */
    out_str("\x01");
    out_str(source);
    buf_add(&out, tmp, (size_t)k);
  }
  release(0);
  return RUN_ERROR;
}

/* ---- functions (FUNCTION LOAD) ---- */

static int loading = 0;

#define FLAG_NO_WRITES 1
#define FLAG_ALLOW_OOM 2
#define FLAG_ALLOW_STALE 4
#define FLAG_NO_CLUSTER 8
#define FLAG_ALLOW_CROSS_SLOT 16

static const char *const flag_names[] = {"no-writes", "allow-oom", "allow-stale", "no-cluster",
                                         "allow-cross-slot-keys", NULL};

/* Reads the flags table at the top of the stack; -1 on an unknown flag. */
static int read_flags(lua_State *l) {
  int flags = 0;
  for (int j = 1;; j++) {
    lua_pushnumber(l, j);
    lua_gettable(l, -2);
    if (lua_type(l, -1) == LUA_TNIL) {
      lua_pop(l, 1);
      return flags;
    }
    if (!lua_isstring(l, -1)) {
      lua_pop(l, 1);
      return -1;
    }
    const char *name = lua_tostring(l, -1);
    int found = 0;
    for (int i = 0; flag_names[i]; i++) {
      if (strcasecmp(flag_names[i], name) == 0) {
        flags |= 1 << i;
        found = 1;
        break;
      }
    }
    lua_pop(l, 1);
    if (!found) return -1;
  }
}

static int valid_name(const char *s, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return 0;
    }
  }
  return 1;
}

/* redis.register_function(name, callback) or
 * redis.register_function{function_name=, callback=, flags=, description=}:
 * adds {name, callback, flags, description} to registry.kv_pending. */
static int register_function(lua_State *l) {
  if (!loading) {
    return raise_error(l, "redis.register_function can only be called on FUNCTION LOAD command");
  }
  int argc = lua_gettop(l);
  int fn_index = 0, flags = 0;
  const char *err = NULL;
  lua_newtable(l); /* the entry being built, at argc + 1 */
  int entry = argc + 1;
  if (argc < 1 || argc > 2) {
    err = "wrong number of arguments to redis.register_function";
  } else if (argc == 2) {
    if (!lua_isstring(l, 1)) {
      err = "first argument to redis.register_function must be a string";
    } else if (!lua_isfunction(l, 2)) {
      err = "second argument to redis.register_function must be a function";
    } else {
      lua_pushvalue(l, 1);
      lua_setfield(l, entry, "name");
      lua_pushvalue(l, 2);
      lua_setfield(l, entry, "callback");
      fn_index = 1;
    }
  } else if (!lua_istable(l, 1)) {
    err = "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).";
  } else {
    int has_name = 0;
    lua_pushnil(l);
    while (err == NULL && lua_next(l, 1)) {
      if (!lua_isstring(l, -2)) {
        err = "named argument key given to redis.register_function is not a string";
      } else {
        const char *key = lua_tostring(l, -2);
        if (strcasecmp(key, "function_name") == 0) {
          if (!lua_isstring(l, -1)) err = "function_name argument given to redis.register_function must be a string";
          else {
            lua_pushvalue(l, -1);
            lua_setfield(l, entry, "name");
            has_name = 1;
          }
        } else if (strcasecmp(key, "description") == 0) {
          if (!lua_isstring(l, -1)) err = "description argument given to redis.register_function must be a string";
          else {
            lua_pushvalue(l, -1);
            lua_setfield(l, entry, "description");
          }
        } else if (strcasecmp(key, "callback") == 0) {
          if (!lua_isfunction(l, -1)) err = "callback argument given to redis.register_function must be a function";
          else {
            lua_pushvalue(l, -1);
            lua_setfield(l, entry, "callback");
            fn_index = 1;
          }
        } else if (strcasecmp(key, "flags") == 0) {
          if (!lua_istable(l, -1)) {
            err = "flags argument to redis.register_function must be a table representing function flags";
          } else if ((flags = read_flags(l)) < 0) {
            err = "unknown flag given";
          }
        } else {
          err = "unknown argument given to redis.register_function";
        }
      }
      lua_pop(l, 1);
    }
    if (err == NULL && !has_name) err = "redis.register_function must get a function name argument";
    if (err == NULL && !fn_index) err = "redis.register_function must get a callback argument";
  }
  if (err != NULL) return raise_error(l, err);
  lua_getfield(l, entry, "name");
  size_t nlen;
  const char *name = lua_tolstring(l, -1, &nlen);
  int name_idx = lua_gettop(l);
  if (!valid_name(name, nlen)) {
    return raise_error(l, "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long");
  }
  lua_getfield(l, LUA_REGISTRYINDEX, "kv_pending");
  int n = (int)lua_objlen(l, -1);
  for (int j = 1; j <= n; j++) {
    lua_rawgeti(l, -1, j);
    lua_getfield(l, -1, "name");
    int same = lua_rawequal(l, -1, name_idx);
    lua_pop(l, 2);
    if (same) return raise_error(l, "Function already exists in the library");
  }
  lua_pushnumber(l, flags);
  lua_setfield(l, entry, "flags");
  lua_pushvalue(l, entry);
  lua_rawseti(l, -2, n + 1);
  return 0;
}

static void set_globals_api(const char *api) {
  lua_getmetatable(L, LUA_GLOBALSINDEX);
  lua_enablereadonlytable(L, -1, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, api);
  lua_setfield(L, -2, "__index");
  lua_enablereadonlytable(L, -1, 1);
  lua_pop(L, 1);
}

static void load_hook(lua_State *l, lua_Debug *ar) {
  (void)ar;
  if (host_tick() == 2) {
    lua_sethook(l, load_hook, LUA_MASKLINE, 0);
    raise_error(l, "FUNCTION LOAD timeout");
  }
}

/* Runs a library's code (in `in`, code_len bytes, its shebang line already
 * blanked) so it registers its functions. 0: done, `out` lists them as
 * [u32 name len][name][u32 desc len or 0xFFFFFFFF][desc][u32 flags] after
 * a u32 count; 1: an error (message in out). Nothing is kept until
 * kv_lib_commit. */
EXPORT(kv_lib_load) int kv_lib_load(int code_len) {
  out.len = 0;
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "kv_pending");
  if (luaL_loadbuffer(L, in.data, (size_t)code_len, "@user_function")) {
    out_str("Error compiling function: ");
    out_str(lua_tostring(L, -1));
    lua_pop(L, 1);
    return 1;
  }
  set_globals_api("kv_load_api");
  loading = 1;
  lua_sethook(L, load_hook, LUA_MASKCOUNT, HOOK_EVERY);
  int status = lua_pcall(L, 0, 0, 0);
  lua_sethook(L, NULL, 0, 0);
  loading = 0;
  set_globals_api("kv_run_api");
  if (status) {
    out_str("Error registering functions: ");
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) out_str(lua_tostring(L, -1));
      lua_pop(L, 1);
    } else {
      out_str("ERR ");
      const char *s = lua_tostring(L, -1);
      out_str(s ? s : "unknown error");
    }
    lua_pop(L, 1);
    return 1;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "kv_pending");
  int n = (int)lua_objlen(L, -1);
  buf_u32(&out, (uint32_t)n);
  for (int j = 1; j <= n; j++) {
    size_t len;
    lua_rawgeti(L, -1, j);
    lua_getfield(L, -1, "name");
    const char *s = lua_tolstring(L, -1, &len);
    buf_u32(&out, (uint32_t)len);
    buf_add(&out, s, len);
    lua_pop(L, 1);
    lua_getfield(L, -1, "description");
    if (lua_isstring(L, -1)) {
      s = lua_tolstring(L, -1, &len);
      buf_u32(&out, (uint32_t)len);
      buf_add(&out, s, len);
    } else {
      buf_u32(&out, 0xFFFFFFFFu);
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "flags");
    buf_u32(&out, (uint32_t)lua_tonumber(L, -1));
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return 0;
}

/* Keeps what the last kv_lib_load registered: `out` gets a u32 handle
 * per function, in the order they were listed. */
EXPORT(kv_lib_commit) void kv_lib_commit(void) {
  out.len = 0;
  lua_getfield(L, LUA_REGISTRYINDEX, "kv_pending");
  int n = (int)lua_objlen(L, -1);
  for (int j = 1; j <= n; j++) {
    lua_rawgeti(L, -1, j);
    lua_getfield(L, -1, "callback");
    buf_u32(&out, (uint32_t)luaL_ref(L, LUA_REGISTRYINDEX));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "kv_pending");
}
