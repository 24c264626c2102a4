#!/usr/bin/env bash
# Usage: tools/exact/dist_generate_pseudo_labels.sh CONFIG NUM_PROCS CHECKPOINT... --out-dir DIR [args...]
# Windows sharded over NUM_PROCS processes (tools/dist_launch.sh); the result
# is bitwise that of one process.
HERE=$(dirname "$0")
exec "$HERE"/../dist_launch.sh "$2" "$HERE"/generate_pseudo_labels.py "$1" "${@:3}"
