# Copyright (c) mmexact contributors. All rights reserved.
"""Safe loading of local checkpoints under torch >= 2.6 and mmengine 0.10.7.

torch >= 2.6 defaults ``torch.load`` to ``weights_only=True``, and mmengine
0.10.7 (the newest release) calls it without the flag, so ``--resume``,
``load_from`` and ``tools/test.py CKPT`` fail on the ``HistoryBuffer`` and
NumPy objects that mmengine itself stores in every checkpoint.

Rather than switching back to full (code-executing) unpickling, mmexact
replaces mmengine's loader for local files by one that keeps
``weights_only=True`` and additionally allows exactly the classes an
mmengine checkpoint contains (``HistoryBuffer``, NumPy arrays, dtypes and
scalars). A checkpoint referencing anything else is refused with a
:class:`CheckpointError` naming the file and the offending global, as is a
truncated or foreign file. Trusted: tensors, containers of primitives,
NumPy arrays/scalars and mmengine's ``HistoryBuffer``; nothing else.
"""
import os.path as osp
import pickle
from typing import Any, List, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = [
    'CheckpointError', 'checkpoint_safe_globals', 'load_local_checkpoint',
    'register_safe_checkpoint_loader'
]


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be loaded safely; the message names it."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` while unpickling checkpoints.

    ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')`` etc.; nothing else may be looked up.
    """
    if obj is HistoryBuffer and not name.startswith('_') and callable(
            getattr(HistoryBuffer, name, None)):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({getattr(obj, "__name__", type(obj).__name__)}, '
        f'{name!r}) is not allowed in a checkpoint')


def checkpoint_safe_globals() -> List[Any]:
    """Globals allowed in a checkpoint besides torch's own allow-list."""
    core = getattr(np, '_core', None) or np.core
    allowed = [
        HistoryBuffer, np.ndarray, np.dtype, core.multiarray._reconstruct,
        core.multiarray.scalar, (_history_buffer_getattr, 'builtins.getattr')
    ]
    # NumPy >= 1.25 pickles dtypes through their classes (numpy.dtypes.*).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        allowed += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType')
        ]
    return allowed


def load_local_checkpoint(filename: str,
                          map_location: Optional[Any] = None) -> Any:
    """Load a local checkpoint with the restricted unpickler.

    Args:
        filename (str): Checkpoint path.
        map_location: As for :func:`torch.load`.

    Returns:
        Any: The loaded object (usually a dict).

    Raises:
        FileNotFoundError: The file does not exist.
        CheckpointError: Truncated, foreign or unsafe file.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    try:
        with torch.serialization.safe_globals(checkpoint_safe_globals()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f'{filename}: refused to load checkpoint, it references objects '
            f'outside the allow-list of mmexact ({exc}). Only load '
            'checkpoints from sources you trust; re-save foreign ones as a '
            'plain state_dict of tensors.') from exc
    except Exception as exc:  # torch raises many types on corrupt files
        raise CheckpointError(
            f'{filename}: not a readable PyTorch checkpoint (truncated, '
            f'corrupt or another format): {type(exc).__name__}: {exc}'
        ) from exc


def register_safe_checkpoint_loader() -> None:
    """Make mmengine load local files through :func:`load_local_checkpoint`.

    Replaces only the scheme of local paths (prefix ``''``); http, s3, ...
    loaders are untouched. Idempotent.
    """
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_local_checkpoint, force=True)
