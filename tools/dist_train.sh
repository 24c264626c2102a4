#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG NUM_PROCS [train.py args...]
# torchrun (tools/dist_launch.sh); without GPUs tools/train.py uses gloo on CPU.
TOOLS=$(dirname "$0")
exec "$TOOLS"/dist_launch.sh "$2" "$TOOLS"/train.py "$1" "${@:3}"
