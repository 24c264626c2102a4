# Copyright (c) mmexact contributors. All rights reserved.
import pytest
import torch

from mmexact.engine import NonFiniteLossHook
from mmseg.structures import SegDataSample


class _Runner:
    iter = 41


def _batch():
    samples = []
    for sid in ('10000_3', '10001_7'):
        s = SegDataSample()
        s.set_metainfo(dict(sample_id=sid))
        samples.append(s)
    return dict(inputs=[], data_samples=samples)


def test_names_iteration_terms_and_samples():
    hook = NonFiniteLossHook()
    hook.after_train_iter(_Runner(), 0, _batch(),
                          dict(loss=torch.tensor(1.), acc=torch.tensor(5.)))
    with pytest.raises(RuntimeError, match=r"iteration 42: \{'loss': nan, "
                       r"'decode.loss_ce': nan\}; batch samples: "
                       r"\['10000_3', '10001_7'\]"):
        hook.after_train_iter(
            _Runner(), 0, _batch(),
            dict(loss=torch.tensor(float('nan')),
                 **{'decode.loss_ce': torch.tensor(float('nan')),
                    'decode.acc_seg': torch.tensor(3.)}))
    assert hook.priority == 'HIGHEST'
