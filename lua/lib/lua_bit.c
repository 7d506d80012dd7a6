/*
 * lua_bit.c - the `bit` library (bit operations on 32-bit integers) for
 * Lua 5.1, as Redis 7.0 ships it inside its Lua (LuaBitOp 1.0.2).
 *
 * This is our own implementation of the library's documented behaviour,
 * written for @kv/store; it shares no code with LuaBitOp.
 * Licence: MIT (the project's licence, see LICENSE at the repository root).
 *
 * Semantics:
 *  - every argument is converted to a 32-bit integer: the number is reduced
 *    modulo 2^32, rounding fractions to nearest (ties to even), which is what
 *    adding 2^52+2^51 to the double and keeping the low 32 bits of its
 *    representation does; non-numbers raise "number expected, got <type>".
 *  - results are signed 32-bit integers (except tohex, which returns a string).
 *  - shift and rotate counts use only their 5 low bits.
 */
#include <stdint.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

typedef uint32_t bitval;

/* Convert argument `idx` to 32 bits, LuaBitOp style. */
static bitval bit_arg(lua_State *L, int idx)
{
    double d = (double)lua_tonumber(L, idx);
    uint64_t raw;
    bitval v;
    /* 2^52 + 2^51: puts the integer part in the low mantissa bits */
    d = d + 6755399441055744.0;
    memcpy(&raw, &d, sizeof raw);
    v = (bitval)(raw & 0xffffffffu);
    if (v == 0 && !lua_isnumber(L, idx))
        luaL_typerror(L, idx, "number");
    return v;
}

static int bit_ret(lua_State *L, bitval v)
{
    lua_pushnumber(L, (lua_Number)(int32_t)v);
    return 1;
}

static int bit_tobit(lua_State *L) { return bit_ret(L, bit_arg(L, 1)); }

static int bit_bnot(lua_State *L) { return bit_ret(L, ~bit_arg(L, 1)); }

/* band/bor/bxor: argument 1 first, then the others from the last down */
static int bit_band(lua_State *L)
{
    bitval acc = bit_arg(L, 1);
    int i;
    for (i = lua_gettop(L); i > 1; i--) acc &= bit_arg(L, i);
    return bit_ret(L, acc);
}

static int bit_bor(lua_State *L)
{
    bitval acc = bit_arg(L, 1);
    int i;
    for (i = lua_gettop(L); i > 1; i--) acc |= bit_arg(L, i);
    return bit_ret(L, acc);
}

static int bit_bxor(lua_State *L)
{
    bitval acc = bit_arg(L, 1);
    int i;
    for (i = lua_gettop(L); i > 1; i--) acc ^= bit_arg(L, i);
    return bit_ret(L, acc);
}

static int bit_lshift(lua_State *L)
{
    bitval x = bit_arg(L, 1);
    unsigned n = bit_arg(L, 2) & 31u;
    return bit_ret(L, x << n);
}

static int bit_rshift(lua_State *L)
{
    bitval x = bit_arg(L, 1);
    unsigned n = bit_arg(L, 2) & 31u;
    return bit_ret(L, x >> n);
}

static int bit_arshift(lua_State *L)
{
    bitval x = bit_arg(L, 1);
    unsigned n = bit_arg(L, 2) & 31u;
    bitval r = x >> n;
    /* replicate the sign bit into the vacated high bits */
    if ((x & 0x80000000u) && n > 0) r |= ~(bitval)0 << (32 - n);
    return bit_ret(L, r);
}

static int bit_rol(lua_State *L)
{
    bitval x = bit_arg(L, 1);
    unsigned n = bit_arg(L, 2) & 31u;
    return bit_ret(L, n ? (x << n) | (x >> (32 - n)) : x);
}

static int bit_ror(lua_State *L)
{
    bitval x = bit_arg(L, 1);
    unsigned n = bit_arg(L, 2) & 31u;
    return bit_ret(L, n ? (x >> n) | (x << (32 - n)) : x);
}

static int bit_bswap(lua_State *L)
{
    bitval x = bit_arg(L, 1);
    bitval r = (x >> 24) | ((x >> 8) & 0xff00u) | ((x & 0xff00u) << 8) | (x << 24);
    return bit_ret(L, r);
}

static int bit_tohex(lua_State *L)
{
    static const char lower[] = "0123456789abcdef";
    static const char upper[] = "0123456789ABCDEF";
    bitval x = bit_arg(L, 1);
    int32_t n = lua_isnone(L, 2) ? 8 : (int32_t)bit_arg(L, 2);
    const char *digits = lower;
    char out[8];
    int i;
    if (n < 0) {
        /* negative count: upper-case digits; -2^31 stays "large" */
        n = (n == INT32_MIN) ? 8 : -n;
        digits = upper;
    }
    if (n > 8) n = 8;
    for (i = n - 1; i >= 0; i--) {
        out[i] = digits[x & 15u];
        x >>= 4;
    }
    lua_pushlstring(L, out, (size_t)n);
    return 1;
}

static const luaL_Reg bit_funcs[] = {
    {"tobit", bit_tobit},
    {"bnot", bit_bnot},
    {"band", bit_band},
    {"bor", bit_bor},
    {"bxor", bit_bxor},
    {"lshift", bit_lshift},
    {"rshift", bit_rshift},
    {"arshift", bit_arshift},
    {"rol", bit_rol},
    {"ror", bit_ror},
    {"bswap", bit_bswap},
    {"tohex", bit_tohex},
    {NULL, NULL}
};

int luaopen_bit(lua_State *L)
{
    luaL_register(L, "bit", bit_funcs);
    return 1;
}
