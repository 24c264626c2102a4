# Copyright (c) mmexact contributors. All rights reserved.
"""``cleanup_distributed``: ``os._exit`` only after a gloo teardown, and
atexit handlers (experiment loggers) run on every path."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = r'''
import atexit, os, sys
marker, mode = sys.argv[1], sys.argv[2]
rank = os.environ.get('RANK', '-')
atexit.register(lambda: open(marker, 'a').write(f'atexit {rank}\n'))
import torch.distributed as dist
from mmexact.apis import cleanup_distributed
if mode == 'single-group':
    # a one-process group posing as another backend (NCCL needs GPUs)
    os.environ.update(RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1')
    dist.init_process_group('gloo')
    dist.get_backend = lambda *a, **k: 'nccl'
elif mode == 'torchrun':
    dist.init_process_group('gloo')
torn = cleanup_distributed(exit_process=True)
open(marker, 'a').write(f'returned {rank} {torn}\n')
'''


def _port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def _run(tmp_path, mode):
    script = tmp_path / 'exit_script.py'
    script.write_text(SCRIPT)
    marker = tmp_path / 'marker.txt'
    env = dict(os.environ, PYTHONPATH=REPO, OMP_NUM_THREADS='1',
               MASTER_PORT=_port())
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
        env.pop(key, None)
    if mode == 'torchrun':
        cmd = [sys.executable, '-m', 'torch.distributed.run',
               '--nproc_per_node=2', f'--master_port={env["MASTER_PORT"]}',
               str(script), str(marker), mode]
    else:
        cmd = [sys.executable, str(script), str(marker), mode]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return sorted(marker.read_text().splitlines())


@pytest.mark.parametrize('mode, expected', [
    # no process group: returns, the interpreter exits normally
    ('none', ['atexit -', 'returned - False']),
    # another backend (stands for NCCL): torn down, returns, normal exit
    ('single-group', ['atexit -', 'returned - True']),
    # gloo: handlers run, then os._exit (the function does not return)
    ('torchrun', ['atexit 0', 'atexit 1']),
])
def test_atexit_handlers_run(tmp_path, mode, expected):
    assert _run(tmp_path, mode) == expected
