# Copyright (c) mmexact contributors. All rights reserved.
import os

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

from mmexact.utils import CheckpointError


class _Evil:

    def __reduce__(self):
        return (os.system, ('touch pwned',))


def test_mmengine_style_checkpoint_loads(tmp_path):
    buf = HistoryBuffer()
    buf.update(np.float64(0.5))
    ckpt = dict(
        meta=dict(epoch=1, iter=4, seed=np.int64(3),
                  dataset_meta=dict(classes=('a', 'b'))),
        state_dict=dict(w=torch.ones(2)),
        message_hub=dict(log_scalars={'train/loss': buf},
                         runtime_info={'x': np.array([1., 2.])}))
    path = tmp_path / 'iter_4.pth'
    torch.save(ckpt, path)
    out = _load_checkpoint(str(path), map_location='cpu')
    assert out['state_dict']['w'].tolist() == [1., 1.]
    assert out['message_hub']['log_scalars']['train/loss'].mean() == 0.5
    assert out['meta']['seed'] == 3


def test_malicious_checkpoint_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / 'evil.pth'
    torch.save(dict(state_dict={}, payload=_Evil()), path)
    with pytest.raises(CheckpointError, match='evil.pth: refused to load'):
        _load_checkpoint(str(path), map_location='cpu')
    assert not (tmp_path / 'pwned').exists()


def test_truncated_and_foreign_checkpoints(tmp_path):
    path = tmp_path / 'cut.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(100))), path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError, match='cut.pth: not a readable '
                       'PyTorch checkpoint'):
        _load_checkpoint(str(path), map_location='cpu')
    other = tmp_path / 'notes.pth'
    other.write_text('hello')
    with pytest.raises(CheckpointError, match='notes.pth: not a readable'):
        _load_checkpoint(str(other), map_location='cpu')
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        _load_checkpoint(str(tmp_path / 'missing.pth'))
