/*
 * host.c - native test host for our bit/struct/cmsgpack libraries: a Lua
 * 5.1 state with the standard libraries plus ours, running the Lua script
 * given as argv[1] with the remaining arguments in the global `arg`.
 * MIT licence (the project's).
 */
#include <stdio.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

int luaopen_bit(lua_State *L);
int luaopen_struct(lua_State *L);
int luaopen_cmsgpack(lua_State *L);

int main(int argc, char **argv)
{
    lua_State *L;
    int i, status;
    if (argc < 2) {
        fprintf(stderr, "usage: %s script.lua [args...]\n", argv[0]);
        return 2;
    }
    L = luaL_newstate();
    luaL_openlibs(L);
    luaopen_bit(L);
    luaopen_struct(L);
    luaopen_cmsgpack(L);
    lua_settop(L, 0);
    lua_newtable(L);
    for (i = 2; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    status = luaL_dofile(L, argv[1]);
    if (status != 0) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    lua_close(L);
    return 0;
}
