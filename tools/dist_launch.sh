#!/usr/bin/env bash
# Usage: tools/dist_launch.sh NUM_PROCS TOOL [tool args...]
# Runs TOOL on NUM_PROCS processes with torchrun and `--launcher pytorch`;
# without GPUs the tools use gloo on CPU. NNODES, NODE_RANK, PORT,
# MASTER_ADDR and PYTHON may be set in the environment.
NPROC=$1
TOOL=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" --master_port="$PORT" \
    "$TOOL" "${@:3}" --launcher pytorch
