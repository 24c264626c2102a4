#!/usr/bin/env bash
# Usage: tools/dist_generate_pseudo_labels.sh CONFIG NUM_PROCS CHECKPOINT... --out-dir DIR [args...]
# Windows sharded over NUM_PROCS processes (tools/dist_launch.sh); the result
# is bitwise that of one process.
TOOLS=$(dirname "$0")
exec "$TOOLS"/dist_launch.sh "$2" "$TOOLS"/generate_pseudo_labels.py "$1" "${@:3}"
