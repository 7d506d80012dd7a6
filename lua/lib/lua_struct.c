/*
 * lua_struct.c - the `struct` library (pack/unpack binary records) for
 * Lua 5.1, as Redis 7.0 ships it inside its Lua (Roberto Ierusalimschy's
 * struct library with Redis's bounds and overflow checks).
 *
 * This is our own implementation of the library's documented behaviour,
 * written for @kv/store; it shares no code with the original.
 * Licence: MIT (the project's licence, see LICENSE at the repository root).
 *
 * Format letters:  > big endian, < little endian, ![n] max alignment n
 * (default 8), x one padding byte, b/B signed/unsigned char, h/H short (2),
 * l/L long (8), T size_t (8), i/I[n] integer of n bytes (default 4, at most
 * 32), f float, d double, s zero-terminated string, c[n] n chars (c0: whole
 * string when packing, previous unpacked number as the length when
 * unpacking), ' ' ignored.  Sizes are those of the x86-64 Redis build, on
 * every target, and out-of-range doubles convert to integers the way that
 * build does.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#define ST_BIG 0
#define ST_LITTLE 1
#define ST_MAXINTSIZE 32
#define ST_MAXALIGN 8

typedef struct {
    int endian;
    int align;
} st_header;

static int st_native_endian(void)
{
    const uint16_t probe = 1;
    unsigned char first;
    memcpy(&first, &probe, 1);
    return first ? ST_LITTLE : ST_BIG;
}

/* double -> int64 as x86-64 cvttsd2si does (out of range/NaN: INT64_MIN) */
static int64_t st_d2i(double d)
{
    if (d != d || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)d;
}

/* double -> uint64 as gcc on x86-64 compiles an unsigned conversion */
static uint64_t st_d2u(double d)
{
    if (!(d >= 9223372036854775808.0)) return (uint64_t)st_d2i(d);
    return (uint64_t)st_d2i(d - 9223372036854775808.0) ^ ((uint64_t)1 << 63);
}

static int st_getnum(lua_State *L, const char **fmt, int dflt)
{
    int v = 0;
    if (!isdigit((unsigned char)**fmt)) return dflt;
    do {
        int digit = **fmt - '0';
        if (v > INT_MAX / 10 || v * 10 > INT_MAX - digit)
            luaL_error(L, "integral size overflow");
        v = v * 10 + digit;
        (*fmt)++;
    } while (isdigit((unsigned char)**fmt));
    return v;
}

/* size in bytes of option `opt` (0 for options without data) */
static uint64_t st_optsize(lua_State *L, int opt, const char **fmt)
{
    switch (opt) {
    case 'b': case 'B': return 1;
    case 'h': case 'H': return 2;
    case 'l': case 'L': case 'T': case 'd': return 8;
    case 'f': return 4;
    case 'x': return 1;
    case 'c': return (uint64_t)st_getnum(L, fmt, 1);
    case 'i': case 'I': {
        int n = st_getnum(L, fmt, 4);
        if (n > ST_MAXINTSIZE)
            luaL_error(L, "integral size %d is larger than limit of %d", n, ST_MAXINTSIZE);
        return (uint64_t)n;
    }
    default: return 0;
    }
}

static uint64_t st_padding(uint64_t pos, const st_header *h, int opt, uint64_t size)
{
    if (size == 0 || opt == 'c') return 0;
    if (size > (uint64_t)h->align) size = (uint64_t)h->align;
    return (size - (pos & (size - 1))) & (size - 1);
}

static int st_is_pow2(int v) { return v > 0 && (v & (v - 1)) == 0; }

/* options that change the header or are ignored; anything else is an error */
static void st_control(lua_State *L, int opt, const char **fmt, st_header *h)
{
    switch (opt) {
    case ' ': return;
    case '>': h->endian = ST_BIG; return;
    case '<': h->endian = ST_LITTLE; return;
    case '!': {
        int a = st_getnum(L, fmt, ST_MAXALIGN);
        if (!st_is_pow2(a)) luaL_error(L, "alignment %d is not a power of 2", a);
        h->align = a;
        return;
    }
    default:
        luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
    }
}

static void st_swap_if_needed(unsigned char *p, int n, int endian)
{
    int i;
    if (endian == st_native_endian()) return;
    for (i = 0; i < n / 2; i++) {
        unsigned char t = p[i];
        p[i] = p[n - 1 - i];
        p[n - 1 - i] = t;
    }
}

static void st_put_int(lua_State *L, luaL_Buffer *b, int arg, int endian, int size)
{
    lua_Number n = luaL_checknumber(L, arg);
    uint64_t v = (n < 0) ? (uint64_t)st_d2i((double)n) : st_d2u((double)n);
    unsigned char out[ST_MAXINTSIZE];
    int i;
    for (i = 0; i < size; i++) {
        /* bytes past the 8th are zero */
        unsigned char byte = (unsigned char)(v & 0xff);
        v = (i < 7) ? v >> 8 : 0;
        out[endian == ST_LITTLE ? i : size - 1 - i] = byte;
    }
    luaL_addlstring(b, (const char *)out, (size_t)size);
}

static int st_pack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    st_header h;
    luaL_Buffer b;
    int arg = 2;
    uint64_t total = 0;
    h.endian = st_native_endian();
    h.align = 1;
    lua_pushnil(L); /* separates the arguments from the buffer's stack use */
    luaL_buffinit(L, &b);
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        uint64_t size = st_optsize(L, opt, &fmt);
        uint64_t pad = st_padding(total, &h, opt, size);
        total += pad;
        while (pad-- > 0) luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L':
        case 'T': case 'i': case 'I':
            st_put_int(L, &b, arg++, h.endian, (int)size);
            break;
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': {
            float f = (float)luaL_checknumber(L, arg++);
            unsigned char bytes[4];
            memcpy(bytes, &f, 4);
            st_swap_if_needed(bytes, 4, h.endian);
            luaL_addlstring(&b, (const char *)bytes, 4);
            break;
        }
        case 'd': {
            double d = (double)luaL_checknumber(L, arg++);
            unsigned char bytes[8];
            memcpy(bytes, &d, 8);
            st_swap_if_needed(bytes, 8, h.endian);
            luaL_addlstring(&b, (const char *)bytes, 8);
            break;
        }
        case 'c': case 's': {
            size_t len;
            const char *s = luaL_checklstring(L, arg++, &len);
            if (size == 0) size = len;
            /* the argument number reported is the one after the string */
            luaL_argcheck(L, (uint64_t)len >= size, arg, "string too short");
            luaL_addlstring(&b, s, (size_t)size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            st_control(L, opt, &fmt, &h);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

static lua_Number st_get_int(const unsigned char *p, int endian, int is_signed, int size)
{
    uint64_t v = 0;
    int i;
    for (i = 0; i < size; i++) {
        unsigned char byte = p[endian == ST_BIG ? i : size - 1 - i];
        v = (v << 8) | byte;
    }
    if (!is_signed) return (lua_Number)v;
    {
        /* sign mask from bit size*8-1 (shift count taken modulo 64) */
        uint64_t mask = ~(uint64_t)0 << ((unsigned)(size * 8 - 1) & 63u);
        if (v & mask) v |= mask;
        return (lua_Number)(int64_t)v;
    }
}

static int st_unpack(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    size_t ldata;
    const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 2, &ldata);
    uint64_t ld = (uint64_t)ldata;
    uint64_t pos = (uint64_t)st_d2i((double)luaL_optnumber(L, 3, 1));
    st_header h;
    int n = 0;
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    h.endian = st_native_endian();
    h.align = 1;
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        uint64_t size = st_optsize(L, opt, &fmt);
        pos += st_padding(pos, &h, opt, size);
        luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b': case 'B': case 'h': case 'H': case 'l': case 'L':
        case 'T': case 'i': case 'I':
            lua_pushnumber(L, st_get_int(data + pos, h.endian, islower(opt), (int)size));
            n++;
            break;
        case 'x':
            break;
        case 'f': {
            float f;
            unsigned char bytes[4];
            memcpy(bytes, data + pos, 4);
            st_swap_if_needed(bytes, 4, h.endian);
            memcpy(&f, bytes, 4);
            lua_pushnumber(L, (lua_Number)f);
            n++;
            break;
        }
        case 'd': {
            double d;
            unsigned char bytes[8];
            memcpy(bytes, data + pos, 8);
            st_swap_if_needed(bytes, 8, h.endian);
            memcpy(&d, bytes, 8);
            lua_pushnumber(L, (lua_Number)d);
            n++;
            break;
        }
        case 'c':
            if (size == 0) {
                if (n == 0 || !lua_isnumber(L, -1))
                    luaL_error(L, "format 'c0' needs a previous size");
                size = st_d2u((double)lua_tonumber(L, -1));
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= ld && pos <= ld - size, 2, "data string too short");
            }
            lua_pushlstring(L, (const char *)data + pos, (size_t)size);
            n++;
            break;
        case 's': {
            const unsigned char *end = memchr(data + pos, '\0', (size_t)(ld - pos));
            if (end == NULL) luaL_error(L, "unfinished string in data");
            size = (uint64_t)(end - (data + pos)) + 1;
            lua_pushlstring(L, (const char *)data + pos, (size_t)size - 1);
            n++;
            break;
        }
        default:
            st_control(L, opt, &fmt, &h);
        }
        pos += size;
    }
    lua_pushnumber(L, (lua_Number)(pos + 1));
    return n + 1;
}

static int st_size(lua_State *L)
{
    const char *fmt = luaL_checkstring(L, 1);
    st_header h;
    uint64_t pos = 0;
    h.endian = st_native_endian();
    h.align = 1;
    while (*fmt) {
        int opt = (unsigned char)*fmt++;
        uint64_t size = st_optsize(L, opt, &fmt);
        pos += st_padding(pos, &h, opt, size);
        if (opt == 's')
            luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0)
            luaL_argerror(L, 1, "option 'c0' has no fixed size");
        if (!isalnum(opt)) st_control(L, opt, &fmt, &h);
        pos += size;
    }
    lua_pushnumber(L, (lua_Number)pos);
    return 1;
}

static const luaL_Reg st_funcs[] = {
    {"pack", st_pack},
    {"unpack", st_unpack},
    {"size", st_size},
    {NULL, NULL}
};

int luaopen_struct(lua_State *L)
{
    luaL_register(L, "struct", st_funcs);
    return 1;
}
