#!/bin/sh
# Builds lua/kvlua.wasm: Lua 5.1.5 (lua/lua-5.1.5, with our patches marked
# "kv"), lua-cjson 2.1.0 (lua/cjson), our bit/struct/cmsgpack (lua/lib) and
# the glue (lua/kvlua.c), for wasm32 with clang and wasi-libc.
# Needs: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32
# The result is committed, so neither the server nor CI needs a C compiler.
set -eu
cd "$(dirname "$0")"
CC="${CC:-clang}"
FLAGS="--target=wasm32-wasi -O2 -DKV_WASM -DENABLE_CJSON_GLOBAL -DLUA_USE_APICHECK_OFF \
  -mnontrapping-fptoint -mbulk-memory -ftls-model=local-exec -Ilua-5.1.5 -Wno-everything \
  -nostdinc -isystem "$(clang -print-resource-dir)/include" -isystem /usr/include/wasm32-wasi"
SRC="lua-5.1.5/lapi.c lua-5.1.5/lauxlib.c lua-5.1.5/lbaselib.c lua-5.1.5/lcode.c
  lua-5.1.5/ldebug.c lua-5.1.5/ldo.c lua-5.1.5/ldump.c lua-5.1.5/lfunc.c lua-5.1.5/lgc.c
  lua-5.1.5/llex.c lua-5.1.5/lmathlib.c lua-5.1.5/lmem.c lua-5.1.5/lobject.c
  lua-5.1.5/lopcodes.c lua-5.1.5/lparser.c lua-5.1.5/lstate.c lua-5.1.5/lstring.c
  lua-5.1.5/lstrlib.c lua-5.1.5/ltable.c lua-5.1.5/ltablib.c lua-5.1.5/ltm.c
  lua-5.1.5/lundump.c lua-5.1.5/lvm.c lua-5.1.5/lzio.c
  cjson/lua_cjson.c cjson/strbuf.c cjson/fpconv.c
  ${LIBS:-lib/lua_bit.c lib/lua_struct.c lib/lua_cmsgpack.c}
  kvlua.c"
# shellcheck disable=SC2086
$CC $FLAGS -mexec-model=reactor -Wl,--export-table -Wl,--export=__stack_pointer \
  -Wl,-z,stack-size=1048576 -Wl,--strip-all -o kvlua.wasm $SRC
ls -l kvlua.wasm
