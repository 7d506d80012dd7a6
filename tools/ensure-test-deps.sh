#!/bin/sh
# Installs what the tests and benchmarks need when it is missing:
# redis-server, redis-cli and redis-benchmark (Debian's redis packages),
# tmux for the interactive CLI tests, chromium for the dashboard's browser
# tests. Safe to run repeatedly.
set -e
missing=""
for tool in redis-server redis-cli redis-benchmark tmux; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -z "$missing" ] && exit 0
echo "installing test dependencies (missing:$missing)" >&2
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "need root or sudo to install redis-server, redis-tools, tmux and chromium" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq redis-server redis-tools tmux chromium >/dev/null
# The package may start a system redis on 6379; our tests use their own ports.
