# Copyright (c) mmexact contributors. All rights reserved.
"""What the orchestrating tools share: running a tool in a child process
(optionally under ``torchrun``) and finding the checkpoints of a run."""
import glob
import os.path as osp
import re
import socket
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

__all__ = ['run_python', 'free_port', 'checkpoint_iter', 'iter_checkpoints']


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_python(args: Sequence[str],
               cwd: Optional[str] = None,
               log: Optional[str] = None,
               env: Optional[Dict[str, str]] = None,
               nproc: int = 1,
               echo_root: Optional[str] = None) -> float:
    """Run ``python ARGS`` (a tool script and its arguments) with this
    interpreter, echoing the command line.

    Args:
        args (Sequence[str]): The script and its arguments.
        cwd (str, optional): Working directory of the child.
        log (str, optional): Append the child's output to this file instead
            of the console; on failure its last 40 lines are printed.
        env (dict, optional): Environment of the child.
        nproc (int): More than 1: start it with ``torchrun`` on ``nproc``
            processes and ``--launcher pytorch``. Defaults to 1.
        echo_root (str, optional): Paths below it are echoed relative to it.

    Returns:
        float: Wall time of the child in seconds.

    Raises:
        subprocess.CalledProcessError: The child failed.
    """
    args = [str(a) for a in args]
    if nproc > 1:
        args = ['-m', 'torch.distributed.run', f'--nproc_per_node={nproc}',
                f'--master_port={free_port()}'] + args + [
                    '--launcher', 'pytorch'
                ]
    line = '+ ' + ' '.join(
        osp.relpath(a, echo_root) if echo_root and a.startswith(echo_root)
        else a for a in args)
    start = time.time()
    if log is None:
        print(line, flush=True)
        subprocess.run([sys.executable] + args, check=True, cwd=cwd, env=env)
        return time.time() - start
    print(f'{line}  (output: {osp.relpath(log)})', flush=True)
    with open(log, 'a') as f:
        f.write(line + '\n')
        f.flush()
        proc = subprocess.run([sys.executable] + args, cwd=cwd, env=env,
                              stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        with open(log) as f:
            tail = f.readlines()[-40:]
        sys.stderr.write(f'{args[0]} failed; the end of {log}:\n' +
                         ''.join(tail))
        raise subprocess.CalledProcessError(proc.returncode, args)
    return time.time() - start


def checkpoint_iter(path: str) -> int:
    """The iteration in a checkpoint's file name (``iter_1200.pth``,
    ``best_mIoU_iter_1200.pth``); -1 if it has none."""
    m = re.search(r'iter_(\d+)\.pth$', path)
    return int(m.group(1)) if m else -1


def iter_checkpoints(work_dir: str, prefix: str = 'iter_') -> List[str]:
    """The checkpoints ``<work_dir>/<prefix>*.pth`` in iteration order."""
    return sorted(glob.glob(osp.join(work_dir, f'{prefix}*.pth')),
                  key=checkpoint_iter)


def best_checkpoint(work_dir: str, metric: str = 'mIoU') -> str:
    """The ``best_<metric>_iter_*.pth`` of a work dir; without one (no
    validation ran) the last ``iter_*.pth``, with a printed note.

    Raises:
        FileNotFoundError: If the work dir holds no checkpoint.
    """
    best = sorted(glob.glob(osp.join(work_dir, f'best_{metric}_iter_*.pth')),
                  key=checkpoint_iter)
    if best:
        return best[-1]
    ckpts = iter_checkpoints(work_dir)
    if not ckpts:
        raise FileNotFoundError(f'{work_dir}: no checkpoint')
    print(f'NOTE: no best_{metric} checkpoint in {work_dir} (no validation '
          f'ran): using the last one, {osp.basename(ckpts[-1])}',
          flush=True)
    return ckpts[-1]


def write_study(work_dir: str, report: dict, table: str) -> None:
    """Write a study's ``study.json`` (the report) and ``study.md`` (its
    table) into ``work_dir`` and print the table with the report's date,
    host and command."""
    import json
    with open(osp.join(work_dir, 'study.json'), 'w') as f:
        json.dump(report, f, indent=2)
    with open(osp.join(work_dir, 'study.md'), 'w') as f:
        f.write(table + '\n')
    print(table)
    print(f'\n{report["date"]}, {report["host"]}: {report["command"]}')
