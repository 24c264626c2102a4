# Copyright (c) mmexact contributors. All rights reserved.
from typing import Sequence, Union

import torch
from mmengine.runner import TestLoop

from mmseg.registry import LOOPS

__all__ = ['AutocastTestLoop']

DTYPES = dict(bf16=torch.bfloat16, bfloat16=torch.bfloat16,
              fp16=torch.float16, float16=torch.float16)


@LOOPS.register_module()
class AutocastTestLoop(TestLoop):
    """mmengine's ``TestLoop`` with the network under autocast of a chosen
    dtype.

    ``TestLoop(fp16=True)`` always autocasts to float16 on GPUs and
    bfloat16 on CPUs; this loop takes the dtype (bfloat16 on recent GPUs,
    float16 on CPUs that support it). Heads that keep parts of their maths
    in float32 (the CAM heads' clues and normalisation) do so themselves.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader or dict): The test dataloader.
        evaluator (Evaluator or dict or list): The evaluator.
        dtype (str): ``'bf16'`` / ``'bfloat16'`` or ``'fp16'`` /
            ``'float16'``. Defaults to ``'bf16'``.
    """

    def __init__(self, runner, dataloader, evaluator,
                 dtype: str = 'bf16') -> None:
        if dtype not in DTYPES:
            raise ValueError(f'dtype must be one of {sorted(DTYPES)}, got '
                             f'{dtype!r}')
        super().__init__(runner, dataloader, evaluator, fp16=False)
        self.dtype = DTYPES[dtype]

    def run_iter(self, idx: int, data_batch: Union[dict, Sequence]) -> None:
        """Predict one batch under autocast and feed the evaluator."""
        self.runner.call_hook(
            'before_test_iter', batch_idx=idx, data_batch=data_batch)
        device = next(self.runner.model.parameters()).device
        with torch.no_grad(), torch.autocast(device.type, dtype=self.dtype):
            outputs = self.runner.model.test_step(data_batch)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook(
            'after_test_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
