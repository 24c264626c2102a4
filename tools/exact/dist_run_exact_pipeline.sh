#!/usr/bin/env bash
# Usage: tools/exact/dist_run_exact_pipeline.sh CONFIG NUM_PROCS --work-dir DIR [run_exact_pipeline.py args...]
# The driver is one process; every training, test and pseudo-label stage
# runs with torchrun on NUM_PROCS processes (gloo on CPU without GPUs).
CONFIG=$1
NPROC=$2
TOOLS=$(dirname "$0")
PYTHON=${PYTHON:-python}
exec "$PYTHON" "$TOOLS"/run_exact_pipeline.py "$CONFIG" --launcher pytorch \
    --nproc-per-node "$NPROC" "${@:3}"
