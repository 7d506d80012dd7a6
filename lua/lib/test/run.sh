#!/bin/sh
# Builds Lua 5.1.5 natively (sources from $LUA_SRC, default
# /tmp/src/lua-5.1.5/src) with our bit/struct/cmsgpack libraries into a
# temporary directory, starts a redis-server on $PORT (default 6395), runs
# every case of cases.lua natively and through `redis-cli EVAL`, and compares.
# Usage: sh lua/lib/test/run.sh [-v]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$(cd "$HERE/.." && pwd)
LUA_SRC=${LUA_SRC:-/tmp/src/lua-5.1.5/src}
PORT=${PORT:-6395}
CC=${CC:-gcc}
BUILD=$(mktemp -d)
STARTED=0
cleanup() {
    if [ "$STARTED" = 1 ]; then redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; fi
    rm -rf "$BUILD"
}
trap cleanup EXIT INT TERM

CORE="lapi lcode ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser
lstate lstring ltable ltm lundump lvm lzio lauxlib lbaselib ldblib liolib
lmathlib loslib ltablib lstrlib loadlib linit"
objs=""
for f in $CORE; do
    $CC -O2 -w -DLUA_USE_POSIX -I"$LUA_SRC" -c "$LUA_SRC/$f.c" -o "$BUILD/$f.o"
    objs="$objs $BUILD/$f.o"
done
for f in lua_bit lua_struct lua_cmsgpack; do
    $CC -O2 -std=c99 -Wall -Wextra -Werror -I"$LUA_SRC" -c "$LIB/$f.c" -o "$BUILD/$f.o"
    objs="$objs $BUILD/$f.o"
done
$CC -O2 -std=c99 -Wall -Wextra -I"$LUA_SRC" -c "$HERE/host.c" -o "$BUILD/host.o"
$CC -o "$BUILD/host" "$BUILD/host.o" $objs -lm

if ! redis-cli -p "$PORT" ping >/dev/null 2>&1; then
    redis-server --port "$PORT" --save '' --daemonize yes >/dev/null
    STARTED=1
    i=0
    until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 50 ] && { echo "redis-server did not start"; exit 1; }
        sleep 0.1
    done
fi
"$BUILD/host" "$HERE/runner.lua" "$HERE/cases.lua" "$PORT" "$BUILD" "${1:-}"
