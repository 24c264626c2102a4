# Copyright (c) mmexact contributors. All rights reserved.
from typing import Sequence

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

__all__ = ['SITSIoUMetric']


@METRICS.register_module()
class SITSIoUMetric(IoUMetric):
    """mmseg's ``IoUMetric`` with SITS-aware names for ``output_dir`` PNGs.

    ``IoUMetric`` names each written prediction after ``img_path``, which is
    not unique when many windows come from one file (raw PASTIS patches).
    This subclass names them ``<sample_id>.png`` (e.g. ``10000_3.png``, the
    name the pseudo-label loader expects). Metrics are unchanged.
    """

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        renamed = []
        for sample in data_samples:
            if sample.get('sample_id') is not None:
                sample = dict(sample, img_path=f'{sample["sample_id"]}.png')
            renamed.append(sample)
        super().process(data_batch, renamed)
