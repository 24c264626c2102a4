# Copyright (c) mmexact contributors. All rights reserved.
from contextlib import contextmanager
from typing import Union

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmseg.registry import OPTIM_WRAPPERS

__all__ = ['AutocastOptimWrapper']


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under ``torch.autocast`` on the
    model's device, without loss scaling.

    Meant for bfloat16, whose exponent range is that of float32 (no
    gradient underflow, so no scaler), and which mmengine's
    ``AmpOptimWrapper`` refuses on CPU. E.g. ``tools/train.py --amp`` on
    a CPU with AVX-512 BF16 / AMX. For float16 on GPUs use
    ``AmpOptimWrapper`` (dynamic loss scaling).

    Args:
        dtype (str | torch.dtype): ``'bfloat16'`` (default) or
            ``'float16'``.
        **kwargs: Passed to ``OptimWrapper``.
    """

    def __init__(self,
                 dtype: Union[str, torch.dtype] = 'bfloat16',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if dtype not in ('bfloat16', 'float16'):
                raise ValueError('dtype must be bfloat16 or float16, got '
                                 f'{dtype!r}')
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype

    @contextmanager
    def optim_context(self, model: nn.Module):
        param = next(model.parameters(), None)
        device = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(
                device, dtype=self.cast_dtype):
            yield
