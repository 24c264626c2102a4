# Copyright (c) mmexact contributors. All rights reserved.
import math
from typing import Optional, Sequence

from mmengine.hooks import Hook

from mmseg.registry import HOOKS

__all__ = ['NonFiniteLossHook']


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training at the first non-finite loss, naming the batch.

    Runs right after each training iteration, before the checkpoint hook,
    so no checkpoint with NaN weights is written. The error names the
    (1-based) iteration, the non-finite loss terms and the ``sample_id`` (or
    file) of every sample in the batch, so the offending data can be found.
    """

    priority = 'HIGHEST'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if not outputs:
            return
        values = {
            k: float(v.detach() if hasattr(v, 'detach') else v)
            for k, v in outputs.items() if 'loss' in k
        }
        bad = {k: v for k, v in values.items() if not math.isfinite(v)}
        if not bad:
            return
        raise RuntimeError(
            f'non-finite loss at iteration {runner.iter + 1}: {bad}; batch '
            f'samples: {self._sample_ids(data_batch)}. Training stopped '
            'before writing a checkpoint; check these samples (NaN/Inf '
            'reflectances?) or lower the learning rate.')

    @staticmethod
    def _sample_ids(data_batch: Optional[dict]) -> Sequence[str]:
        ids = []
        for sample in (data_batch or {}).get('data_samples', []) or []:
            meta = getattr(sample, 'metainfo', {})
            ids.append(
                str(meta.get('sample_id') or meta.get('img_path', '?')))
        return ids
