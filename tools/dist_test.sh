#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py args...]
TOOLS=$(dirname "$0")
exec "$TOOLS"/dist_launch.sh "$3" "$TOOLS"/test.py "$1" "$2" "${@:4}"
