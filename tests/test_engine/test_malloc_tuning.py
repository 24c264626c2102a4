# Copyright (c) mmexact contributors. All rights reserved.
"""keep_freed_memory: large blocks come from (and return to) the heap."""
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

SCRIPT = r'''
import ctypes, sys
import torch
from mmexact.utils import keep_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks',
        'fsmblks', 'uordblks', 'fordblks', 'keepcost')]

libc = ctypes.CDLL('libc.so.6')
libc.mallinfo2.restype = MallInfo2
tune = sys.argv[1] == '1'
if tune:
    assert keep_freed_memory() and keep_freed_memory()  # idempotent
mmapped = libc.mallinfo2().hblkhd
t = torch.ones(64 * 2**18)  # 64 MiB
during = libc.mallinfo2().hblkhd - mmapped
del t
kept = libc.mallinfo2().fordblks
print(during, kept)
'''


def _glibc_version() -> tuple:
    name, version = platform.libc_ver()
    if not sys.platform.startswith('linux') or name != 'glibc':
        return ()
    return tuple(int(v) for v in version.split('.')[:2])


@pytest.mark.skipif(
    _glibc_version() < (2, 33), reason='needs glibc >= 2.33 (mallinfo2)')
def test_large_tensor_is_reused_from_heap_only_when_tuned():
    mib = 2**20

    def run(tune):
        out = subprocess.run([sys.executable, '-c', SCRIPT, tune],
                             capture_output=True, text=True, check=True)
        return [int(v) for v in out.stdout.split()]

    during, kept = run('0')  # glibc default: mmap, returned on free
    assert during >= 64 * mib and kept < 64 * mib
    during, kept = run('1')  # tuned: heap block, kept for reuse
    assert during == 0 and kept >= 64 * mib
