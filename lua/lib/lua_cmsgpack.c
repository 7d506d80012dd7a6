/*
 * lua_cmsgpack.c - the `cmsgpack` library (MessagePack encoding/decoding)
 * for Lua 5.1, as Redis 7.0 ships it inside its Lua (lua-cmsgpack 0.4.0).
 *
 * This is our own implementation of the library's documented behaviour,
 * written for @kv/store; it shares no code with lua-cmsgpack.
 * Licence: MIT (the project's licence, see LICENSE at the repository root).
 *
 * cmsgpack.pack(v1, ...)            -> string, the values encoded one after another
 * cmsgpack.unpack(s)                -> every value encoded in s
 * cmsgpack.unpack_one(s [, off])    -> next offset (-1 at the end), one value
 * cmsgpack.unpack_limit(s, n [, off]) -> next offset, up to n values
 *
 * Encoding: nil/functions/userdata -> nil; integral doubles in int64 range ->
 * the smallest msgpack integer; other numbers -> float 32 when exact, else
 * float 64; strings -> fixstr/str8/str16/str32; tables whose keys are exactly
 * 1..N -> arrays, other tables -> maps; tables nested 16 deep -> nil.
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#define MP_MAX_NESTING 16

/* ------------------------------------------------------------ encoding */

/* double -> int64 as x86-64 cvttsd2si does (out of range/NaN: INT64_MIN) */
static int64_t mp_d2i(double d)
{
    if (d != d || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

/* double -> int as x86 cvttsd2si (32-bit) does */
static int mp_d2int(double d)
{
    if (d != d || d >= 2147483648.0 || d < -2147483648.0) return INT_MIN;
    return (int)d;
}

/* growable output buffer (plain C memory: the encoder uses the Lua stack
 * freely while it walks tables, which a luaL_Buffer would not allow) */
typedef struct {
    unsigned char *p;
    size_t len, cap;
    int failed;
} mp_out;

static void mp_add(mp_out *o, const void *src, size_t n)
{
    if (o->failed) return;
    if (o->cap - o->len < n) {
        size_t want = o->cap ? o->cap : 64;
        unsigned char *np;
        while (want - o->len < n) {
            if (want > ((size_t)-1) / 2) { o->failed = 1; return; }
            want *= 2;
        }
        np = (unsigned char *)realloc(o->p, want);
        if (np == NULL) { o->failed = 1; return; }
        o->p = np;
        o->cap = want;
    }
    memcpy(o->p + o->len, src, n);
    o->len += n;
}

static void mp_add_byte(mp_out *o, unsigned char c) { mp_add(o, &c, 1); }

static void mp_put_tagged(mp_out *o, unsigned char tag, uint64_t v, int nbytes)
{
    unsigned char tmp[9];
    int i;
    tmp[0] = tag;
    for (i = 0; i < nbytes; i++) tmp[1 + i] = (unsigned char)(v >> (8 * (nbytes - 1 - i)));
    mp_add(o, tmp, (size_t)nbytes + 1);
}

static void mp_enc_int(mp_out *o, int64_t n)
{
    if (n >= 0) {
        if (n <= 127) mp_add_byte(o, (unsigned char)n);
        else if (n <= 0xff) mp_put_tagged(o, 0xcc, (uint64_t)n, 1);
        else if (n <= 0xffff) mp_put_tagged(o, 0xcd, (uint64_t)n, 2);
        else if (n <= 0xffffffffLL) mp_put_tagged(o, 0xce, (uint64_t)n, 4);
        else mp_put_tagged(o, 0xcf, (uint64_t)n, 8);
    } else {
        if (n >= -32) mp_add_byte(o, (unsigned char)(n & 0xff));
        else if (n >= -128) mp_put_tagged(o, 0xd0, (uint64_t)n, 1);
        else if (n >= -32768) mp_put_tagged(o, 0xd1, (uint64_t)n, 2);
        else if (n >= -2147483648LL) mp_put_tagged(o, 0xd2, (uint64_t)n, 4);
        else mp_put_tagged(o, 0xd3, (uint64_t)n, 8);
    }
}

static void mp_enc_double(mp_out *o, double d)
{
    float f = (float)d;
    if ((double)f == d) {
        uint32_t bits;
        memcpy(&bits, &f, 4);
        mp_put_tagged(o, 0xca, bits, 4);
    } else {
        uint64_t bits;
        memcpy(&bits, &d, 8);
        mp_put_tagged(o, 0xcb, bits, 8);
    }
}

static void mp_enc_number(mp_out *o, double d)
{
    if (!isinf(d) && (double)mp_d2i(d) == d) mp_enc_int(o, mp_d2i(d));
    else mp_enc_double(o, d);
}

static void mp_enc_string(mp_out *o, const char *s, size_t len)
{
    if (len < 32) mp_add_byte(o, (unsigned char)(0xa0 | len));
    else if (len <= 0xff) mp_put_tagged(o, 0xd9, len, 1);
    else if (len <= 0xffff) mp_put_tagged(o, 0xda, len, 2);
    else mp_put_tagged(o, 0xdb, (uint64_t)len & 0xffffffffu, 4);
    mp_add(o, s, len);
}

static void mp_enc_header(mp_out *o, uint64_t n, unsigned char fix,
                          unsigned char t16, unsigned char t32)
{
    if (n <= 15) mp_add_byte(o, (unsigned char)(fix | n));
    else if (n <= 0xffff) mp_put_tagged(o, t16, n, 2);
    else mp_put_tagged(o, t32, n & 0xffffffffu, 4);
}

/* The table at the top of the stack has exactly the keys 1..N (N >= 0)? */
static int mp_is_array(lua_State *L)
{
    int top = lua_gettop(L);
    int count = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        double k;
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER || (k = (double)lua_tonumber(L, -1)) <= 0 ||
            isinf(k) || (double)mp_d2int(k) != k) {
            lua_settop(L, top);
            return 0;
        }
        if (k > max) max = (int)k;
        count++;
    }
    lua_settop(L, top);
    return max == count;
}

/* encode the value at the top of the stack and pop it */
static void mp_enc_value(lua_State *L, mp_out *o, int level)
{
    int t = lua_type(L, -1);
    if (t == LUA_TTABLE && level == MP_MAX_NESTING) t = LUA_TNIL;
    switch (t) {
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        mp_enc_string(o, s, len);
        break;
    }
    case LUA_TBOOLEAN:
        mp_add_byte(o, lua_toboolean(L, -1) ? 0xc3 : 0xc2);
        break;
    case LUA_TNUMBER:
        mp_enc_number(o, (double)lua_tonumber(L, -1));
        break;
    case LUA_TTABLE:
        luaL_checkstack(L, 3, "in function mp_encode_lua_table");
        if (mp_is_array(L)) {
            size_t len = lua_objlen(L, -1), j;
            mp_enc_header(o, len, 0x90, 0xdc, 0xdd);
            for (j = 1; j <= len; j++) {
                lua_pushnumber(L, (lua_Number)j);
                lua_gettable(L, -2);
                mp_enc_value(L, o, level + 1);
            }
        } else {
            uint64_t count = 0;
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                lua_pop(L, 1);
                count++;
            }
            mp_enc_header(o, count, 0x80, 0xde, 0xdf);
            lua_pushnil(L);
            while (lua_next(L, -2)) {
                /* table key value -> encode a copy of the key, then value */
                lua_pushvalue(L, -2);
                mp_enc_value(L, o, level + 1);
                mp_enc_value(L, o, level + 1);
            }
        }
        break;
    default:
        mp_add_byte(o, 0xc0);
        break;
    }
    lua_pop(L, 1);
}

static int mp_pack(lua_State *L)
{
    int nargs = lua_gettop(L);
    int i;
    mp_out o;
    if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    o.p = NULL;
    o.len = o.cap = 0;
    o.failed = 0;
    for (i = 1; i <= nargs; i++) {
        luaL_checkstack(L, 1, "in function mp_check");
        lua_pushvalue(L, i);
        mp_enc_value(L, &o, 0);
    }
    if (o.failed) {
        free(o.p);
        return luaL_error(L, "not enough memory");
    }
    lua_pushlstring(L, o.p ? (const char *)o.p : "", o.len);
    free(o.p);
    return 1;
}

/* ------------------------------------------------------------ decoding */

enum { MP_OK = 0, MP_ERR_EOF = 1, MP_ERR_FORMAT = 2 };

typedef struct {
    const unsigned char *p;
    size_t left;
    int err;
} mp_in;

#define MP_NEED(c, n) do { if ((c)->left < (size_t)(n)) { (c)->err = MP_ERR_EOF; return; } } while (0)
#define MP_SKIP(c, n) do { (c)->p += (n); (c)->left -= (n); } while (0)

static uint64_t mp_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}

static void mp_dec_value(lua_State *L, mp_in *c);

static void mp_dec_array(lua_State *L, mp_in *c, uint64_t n)
{
    double idx = 1;
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    while (n-- > 0) {
        lua_pushnumber(L, idx);
        idx += 1;
        mp_dec_value(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

static void mp_dec_map(lua_State *L, mp_in *c, uint64_t n)
{
    lua_newtable(L);
    while (n-- > 0) {
        mp_dec_value(L, c);
        if (c->err) return;
        mp_dec_value(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

static void mp_dec_str(lua_State *L, mp_in *c, int hdr, uint64_t len)
{
    MP_SKIP(c, (size_t)hdr);
    if ((uint64_t)c->left < len) { c->err = MP_ERR_EOF; return; }
    lua_pushlstring(L, (const char *)c->p, (size_t)len);
    MP_SKIP(c, (size_t)len);
}

/* decode one value onto the stack (or set c->err) */
static void mp_dec_value(lua_State *L, mp_in *c)
{
    unsigned char tag;
    MP_NEED(c, 1);
    luaL_checkstack(L, 1, "too many return values at once; "
                          "use unpack_one or unpack_limit instead.");
    tag = c->p[0];
    switch (tag) {
    case 0xc0: lua_pushnil(L); MP_SKIP(c, 1); return;
    case 0xc2: lua_pushboolean(L, 0); MP_SKIP(c, 1); return;
    case 0xc3: lua_pushboolean(L, 1); MP_SKIP(c, 1); return;
    case 0xca: {
        uint32_t bits;
        float f;
        MP_NEED(c, 5);
        bits = (uint32_t)mp_be(c->p + 1, 4);
        memcpy(&f, &bits, 4);
        lua_pushnumber(L, (lua_Number)f);
        MP_SKIP(c, 5);
        return;
    }
    case 0xcb: {
        uint64_t bits;
        double d;
        MP_NEED(c, 9);
        bits = mp_be(c->p + 1, 8);
        memcpy(&d, &bits, 8);
        lua_pushnumber(L, (lua_Number)d);
        MP_SKIP(c, 9);
        return;
    }
    case 0xcc: MP_NEED(c, 2); lua_pushnumber(L, (lua_Number)c->p[1]); MP_SKIP(c, 2); return;
    case 0xcd: MP_NEED(c, 3); lua_pushnumber(L, (lua_Number)mp_be(c->p + 1, 2)); MP_SKIP(c, 3); return;
    case 0xce: MP_NEED(c, 5); lua_pushnumber(L, (lua_Number)mp_be(c->p + 1, 4)); MP_SKIP(c, 5); return;
    /* uint 64 is read as a signed 64-bit integer, as Redis does */
    case 0xcf: MP_NEED(c, 9); lua_pushnumber(L, (lua_Number)(int64_t)mp_be(c->p + 1, 8)); MP_SKIP(c, 9); return;
    case 0xd0: MP_NEED(c, 2); lua_pushnumber(L, (lua_Number)(int8_t)c->p[1]); MP_SKIP(c, 2); return;
    case 0xd1: MP_NEED(c, 3); lua_pushnumber(L, (lua_Number)(int16_t)(uint16_t)mp_be(c->p + 1, 2)); MP_SKIP(c, 3); return;
    case 0xd2: MP_NEED(c, 5); lua_pushnumber(L, (lua_Number)(int32_t)(uint32_t)mp_be(c->p + 1, 4)); MP_SKIP(c, 5); return;
    case 0xd3: MP_NEED(c, 9); lua_pushnumber(L, (lua_Number)(int64_t)mp_be(c->p + 1, 8)); MP_SKIP(c, 9); return;
    case 0xd9: MP_NEED(c, 2); mp_dec_str(L, c, 2, c->p[1]); return;
    case 0xda: MP_NEED(c, 3); mp_dec_str(L, c, 3, mp_be(c->p + 1, 2)); return;
    case 0xdb: MP_NEED(c, 5); mp_dec_str(L, c, 5, mp_be(c->p + 1, 4)); return;
    case 0xdc: {
        uint64_t n;
        MP_NEED(c, 3);
        n = mp_be(c->p + 1, 2);
        MP_SKIP(c, 3);
        mp_dec_array(L, c, n);
        return;
    }
    case 0xdd: {
        uint64_t n;
        MP_NEED(c, 5);
        n = mp_be(c->p + 1, 4);
        MP_SKIP(c, 5);
        mp_dec_array(L, c, n);
        return;
    }
    case 0xde: {
        uint64_t n;
        MP_NEED(c, 3);
        n = mp_be(c->p + 1, 2);
        MP_SKIP(c, 3);
        mp_dec_map(L, c, n);
        return;
    }
    case 0xdf: {
        uint64_t n;
        MP_NEED(c, 5);
        n = mp_be(c->p + 1, 4);
        MP_SKIP(c, 5);
        mp_dec_map(L, c, n);
        return;
    }
    default:
        break;
    }
    if ((tag & 0x80) == 0) {                /* positive fixint */
        lua_pushnumber(L, (lua_Number)tag);
        MP_SKIP(c, 1);
    } else if ((tag & 0xe0) == 0xe0) {      /* negative fixint */
        lua_pushnumber(L, (lua_Number)(int8_t)tag);
        MP_SKIP(c, 1);
    } else if ((tag & 0xe0) == 0xa0) {      /* fixstr */
        MP_NEED(c, 1 + (size_t)(tag & 0x1f));
        mp_dec_str(L, c, 1, tag & 0x1f);
    } else if ((tag & 0xf0) == 0x90) {      /* fixarray */
        MP_SKIP(c, 1);
        mp_dec_array(L, c, tag & 0x0f);
    } else if ((tag & 0xf0) == 0x80) {      /* fixmap */
        MP_SKIP(c, 1);
        mp_dec_map(L, c, tag & 0x0f);
    } else {
        c->err = MP_ERR_FORMAT;
    }
}

/* limit == 0 and offset == 0: decode everything, no offset returned */
static int mp_unpack_common(lua_State *L, int64_t limit, int64_t offset)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int all = (limit == 0 && offset == 0);
    int count;
    mp_in c;
    /* %d shows the low 32 bits, and the second number is the input length */
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                          (int)(uint32_t)offset, (int)len);
    if ((uint64_t)offset > (uint64_t)len)
        return luaL_error(L, "Start offset %d greater than input length %d.",
                          (int)(uint32_t)offset, (int)len);
    if (all) limit = INT_MAX;
    c.p = (const unsigned char *)s + (size_t)offset;
    c.left = len - (size_t)offset;
    c.err = MP_OK;
    for (count = 0; c.left > 0 && count < limit; count++) {
        mp_dec_value(L, &c);
        if (c.err == MP_ERR_EOF) return luaL_error(L, "Missing bytes in input.");
        if (c.err == MP_ERR_FORMAT) return luaL_error(L, "Bad data format in input.");
    }
    if (!all) {
        luaL_checkstack(L, 1, "in function mp_unpack_full");
        lua_pushnumber(L, c.left == 0 ? -1 : (lua_Number)(int)(len - c.left));
        lua_insert(L, 2);
        count++;
    }
    return count;
}

/* integer argument as the 64-bit lua_Integer of x86-64 Redis */
static int64_t mp_int_arg(lua_State *L, int idx, int optional)
{
    if (optional && lua_isnoneornil(L, idx)) return 0;
    return mp_d2i((double)luaL_checknumber(L, idx));
}

static int mp_unpack(lua_State *L)
{
    return mp_unpack_common(L, 0, 0);
}

static int mp_unpack_one(lua_State *L)
{
    int64_t offset = mp_int_arg(L, 2, 1);
    lua_settop(L, 1);
    return mp_unpack_common(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L)
{
    int64_t limit = mp_int_arg(L, 2, 0);
    int64_t offset = mp_int_arg(L, 3, 1);
    lua_settop(L, 1);
    return mp_unpack_common(L, limit, offset);
}

static const luaL_Reg mp_funcs[] = {
    {"pack", mp_pack},
    {"unpack", mp_unpack},
    {"unpack_one", mp_unpack_one},
    {"unpack_limit", mp_unpack_limit},
    {NULL, NULL}
};

int luaopen_cmsgpack(lua_State *L)
{
    const luaL_Reg *f;
    lua_newtable(L);
    for (f = mp_funcs; f->name != NULL; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, -2, f->name);
    }
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    lua_pushvalue(L, -1);
    lua_setglobal(L, "cmsgpack");
    return 1;
}
