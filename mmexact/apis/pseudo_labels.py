# Copyright (c) mmexact contributors. All rights reserved.
"""CAMs of a stage-1 model over a dataset, threshold sweep and pseudo labels.

The building blocks of ``tools/generate_pseudo_labels.py`` and
``tools/visualize_cams.py`` (exact-method.md §7): CAMs are computed batch
by batch and consumed at once, so memory does not grow with the number of
windows.
"""
import csv
import json
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.utils import ProgressBar
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Subset

from mmseg.registry import DATASETS, MODELS
from ..evaluation import ThresholdSweep, cams_to_pseudo_labels
from ..models.utils import upsample_cams

__all__ = [
    'build_cam_model', 'load_cam_checkpoint', 'build_cam_dataloader',
    'sample_name', 'iter_cams', 'sweep_cams', 'sweep_checkpoints',
    'select_best', 'dump_sweep', 'write_pseudo_labels'
]

CRITERIA = dict(oa='oa', miou='miou')


def build_cam_model(cfg: Config,
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu') -> nn.Module:
    """Build the stage-1 model of ``cfg`` in eval mode on ``device``.

    Args:
        cfg (Config): Config whose ``model`` has a decode head with
            ``predict_cams`` (:class:`CAMHead`, :class:`CBCAMHead`).
        checkpoint (str, optional): Weights to load.
        device (str): Torch device. Defaults to ``'cpu'``.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(cfg.model)
    head = getattr(model, 'decode_head', None)
    if not hasattr(head, 'predict_cams'):
        raise TypeError(f'{type(head).__name__} has no predict_cams(): use '
                        'a stage-1 config (CAMHead / CBCAMHead)')
    model.to(device)
    if checkpoint is not None:
        load_cam_checkpoint(model, checkpoint)
    return model.eval()


def load_cam_checkpoint(model: nn.Module, checkpoint: str) -> None:
    """Load ``checkpoint`` into ``model`` (strict) and set eval mode."""
    load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.eval()


def build_cam_dataloader(cfg: Config,
                         split: str = 'test',
                         batch_size: int = 16,
                         num_workers: Optional[int] = None,
                         max_samples: Optional[int] = None) -> DataLoader:
    """Plain, ordered DataLoader over ``cfg.<split>_dataloader.dataset``.

    For stage-1 configs the test split is the training folds 1-3, on which
    the reference evaluates CAMs and writes pseudo labels.

    Args:
        cfg (Config): Config.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'test'``.
        batch_size (int): Windows per batch. Defaults to 16.
        num_workers (int, optional): Loader workers; defaults to the
            config's value for the split.
        max_samples (int, optional): Use only the first windows.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    loader_cfg = cfg.get(f'{split}_dataloader')
    if loader_cfg is None:
        raise KeyError(f'config has no {split}_dataloader')
    dataset = DATASETS.build(loader_cfg.dataset)
    if getattr(dataset, 'pseudo_label_dir', None) is not None:
        raise ValueError(f'the {split} dataset reads pseudo labels '
                         '(pseudo_label_dir is set); CAMs must be evaluated '
                         'against the ground truth')
    if max_samples is not None and max_samples < len(dataset):
        dataset = Subset(dataset, range(max(max_samples, 0)))
    if num_workers is None:
        num_workers = loader_cfg.get('num_workers', 0)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=pseudo_collate)


def sample_name(sample, index: int) -> str:
    """File stem of a window: its ``sample_id``, else its file name."""
    meta = sample.metainfo
    if meta.get('sample_id') is not None:
        return str(meta['sample_id'])
    if meta.get('img_path') is not None:
        return osp.splitext(osp.basename(meta['img_path']))[0]
    return f'{index:06d}'


def iter_cams(model: nn.Module,
              dataloader: DataLoader,
              progress: bool = True) -> Iterator[dict]:
    """Compute the CAMs of every batch (inference only, in order).

    Args:
        model (nn.Module): Stage-1 segmentor in eval mode.
        dataloader (DataLoader): From :func:`build_cam_dataloader`.
        progress (bool): Show a progress bar over windows.

    Yields:
        dict: ``cams`` (B, K, h, w) in [0, 1] (absent classes 0),
        ``scores`` (B, K, H, W): the CAMs upsampled to the input size
        (bilinear, ``align_corners=True``), ``probs`` (B, K) class
        probabilities, ``gt`` (B, H, W) int64 pixel labels (255 = ignore)
        or None, ``data_samples`` (preprocessed, on the model's device)
        and ``inputs`` (the packed (T, C + 1, H, W) CPU tensors).
    """
    bar = ProgressBar(len(dataloader.dataset)) if progress else None
    for batch in dataloader:
        with torch.no_grad():
            data = model.data_preprocessor(batch, False)
            feats = model.extract_feat(data['inputs'])
            cams, probs = model.decode_head.predict_cams(
                feats, data['data_samples'])
            scores = upsample_cams(cams, data['inputs'].shape[-2:])
        samples = data['data_samples']
        gt = None
        if all('gt_sem_seg' in s for s in samples):
            gt = torch.stack([s.gt_sem_seg.data[0] for s in samples]).to(
                device=scores.device, dtype=torch.int64)
        yield dict(
            cams=cams,
            scores=scores,
            probs=probs,
            gt=gt,
            data_samples=samples,
            inputs=batch['inputs'])
        if bar is not None:
            bar.update(len(samples))
    if bar is not None:
        bar.file.write('\n')


def sweep_cams(model: nn.Module,
               dataloader: DataLoader,
               thresholds: Optional[Sequence[float]] = None,
               progress: bool = True) -> dict:
    """One pass over the data: metrics of every threshold.

    Returns:
        dict: :meth:`ThresholdSweep.compute` of the pass.
    """
    sweep = ThresholdSweep(
        thresholds, num_classes=model.decode_head.num_classes)
    for out in iter_cams(model, dataloader, progress):
        if out['gt'] is None:
            raise KeyError('samples carry no gt_sem_seg: the sweep needs '
                           'pixel ground truth')
        sweep.update(out['scores'], out['gt'])
    res = sweep.compute()
    if res['num_pixels'] == 0:
        raise ValueError('no valid ground-truth pixel in the data')
    return res


def sweep_checkpoints(model: nn.Module,
                      checkpoints: Sequence[str],
                      dataloader: DataLoader,
                      thresholds: Optional[Sequence[float]] = None,
                      progress: bool = True) -> List[dict]:
    """:func:`sweep_cams` for each checkpoint loaded into ``model``.

    Returns:
        list[dict]: One result per checkpoint, with ``checkpoint`` added.
    """
    results = []
    for ckpt in checkpoints:
        load_cam_checkpoint(model, ckpt)
        res = sweep_cams(model, dataloader, thresholds, progress)
        res['checkpoint'] = ckpt
        results.append(res)
    return results


def select_best(results: Sequence[dict], criterion: str = 'oa') -> dict:
    """The (checkpoint, threshold) pair with the best ``criterion``.

    Ties go to the earlier checkpoint, then to the lower threshold.

    Args:
        results (Sequence[dict]): From :func:`sweep_checkpoints`.
        criterion (str): ``'oa'`` (reference, exact-method.md §7.3) or
            ``'miou'`` (plain-mean mIoU).

    Returns:
        dict: ``criterion``, ``checkpoint``, ``checkpoint_index``,
        ``threshold``, ``threshold_index``, ``mIoU``, ``OA``, ``mIoU_nan``.
    """
    if criterion not in CRITERIA:
        raise ValueError(f'criterion must be one of {sorted(CRITERIA)}')
    best = None
    for i, res in enumerate(results):
        values = res[CRITERIA[criterion]]
        j = int(torch.argmax(values))
        if best is None or values[j] > best[0]:
            best = (values[j], i, j)
    if best is None:
        raise ValueError('no sweep results')
    _, i, j = best
    res = results[i]
    return dict(
        criterion=criterion,
        checkpoint=res.get('checkpoint'),
        checkpoint_index=i,
        threshold=float(res['thresholds'][j]),
        threshold_index=j,
        mIoU=float(res['miou'][j]),
        OA=float(res['oa'][j]),
        mIoU_nan=float(res['miou_nan'][j]))


def _rows(results: Sequence[dict]) -> List[dict]:
    rows = []
    for res in results:
        for j, thr in enumerate(res['thresholds'].tolist()):
            rows.append(
                dict(
                    checkpoint=res.get('checkpoint'),
                    threshold=round(thr, 10),
                    mIoU=float(res['miou'][j]),
                    OA=float(res['oa'][j]),
                    mIoU_nan=float(res['miou_nan'][j]),
                    IoU=res['iou'][j].tolist()))
    return rows


def dump_sweep(results: Sequence[dict],
               out_dir: str,
               selection: Optional[dict] = None,
               class_names: Optional[Sequence[str]] = None,
               meta: Optional[dict] = None) -> Dict[str, str]:
    """Write ``sweep.csv`` and ``sweep.json`` (metrics as fractions).

    CSV columns: ``checkpoint, threshold, mIoU, OA, mIoU_nan, IoU_0 ...
    IoU_{C-1}``, one row per (checkpoint, threshold). The JSON holds the
    same rows plus ``selection`` (see :func:`select_best`), the best pair
    by each criterion, the class names and ``meta``.

    Returns:
        dict: Paths, keys ``csv`` and ``json``.
    """
    os.makedirs(out_dir, exist_ok=True)
    rows = _rows(results)
    num_classes = len(rows[0]['IoU']) if rows else 0
    paths = dict(
        csv=osp.join(out_dir, 'sweep.csv'),
        json=osp.join(out_dir, 'sweep.json'))
    with open(paths['csv'], 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['checkpoint', 'threshold', 'mIoU', 'OA', 'mIoU_nan'] +
                        [f'IoU_{c}' for c in range(num_classes)])
        for r in rows:
            writer.writerow([
                r['checkpoint'], f'{r["threshold"]:.10g}', repr(r['mIoU']),
                repr(r['OA']), repr(r['mIoU_nan'])
            ] + [repr(v) for v in r['IoU']])
    summary = dict(
        selection=selection,
        best={k: select_best(results, k)
              for k in CRITERIA} if results else {},
        class_names=list(class_names) if class_names is not None else None,
        num_pixels=[int(r['num_pixels']) for r in results],
        meta=meta or {},
        rows=rows)
    with open(paths['json'], 'w') as f:
        json.dump(summary, f, indent=1, allow_nan=True)
    return paths


def write_pseudo_labels(model: nn.Module,
                        dataloader: DataLoader,
                        threshold: float,
                        out_dir: str,
                        progress: bool = True) -> int:
    """Write ``<out_dir>/<sample_id>.png`` for every window.

    8-bit grayscale PNGs at the window's size with values ``0..K``
    (exact-method.md §7.2), as read by ``pseudo_label_dir`` datasets.

    Returns:
        int: Number of PNGs written.
    """
    os.makedirs(out_dir, exist_ok=True)
    count = 0
    for out in iter_cams(model, dataloader, progress):
        labels = cams_to_pseudo_labels(out['scores'], threshold).cpu()
        for label, sample in zip(labels, out['data_samples']):
            h, w = sample.metainfo.get('img_shape', label.shape)[:2]
            arr = label[:h, :w].numpy().astype(np.uint8)
            Image.fromarray(arr).save(
                osp.join(out_dir, sample_name(sample, count) + '.png'))
            count += 1
    return count
