#!/usr/bin/env bash
# Usage: tools/dist_generate_pseudo_labels.sh CONFIG NUM_PROCS CHECKPOINT... --out-dir DIR [args...]
# Uses torchrun; without GPUs the processes run on CPU with gloo.
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
TOOLS=$(dirname "$0")
PYTHON=${PYTHON:-python}
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$TOOLS"/generate_pseudo_labels.py "$CONFIG" --launcher pytorch "${@:3}"
