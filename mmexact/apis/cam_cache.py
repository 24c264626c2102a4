# Copyright (c) mmexact contributors. All rights reserved.
"""On-disk cache of the CAMs of one checkpoint over one split.

A re-sweep with other thresholds, another selection rule or another number
of processes then reads the CAMs instead of running the network. Stored
per window, compactly: the normalised maps of its *present* classes only
(float32 at the CAM grid, bit-exact), their class indices and the uint8
ground truth. Records go to part files of at most ``part_windows`` windows
as they come, so memory stays bounded; every rank writes its own parts and
a ``rank<r>of<w>.done`` marker, and any process can later read all parts
and keep the windows it needs.
"""
import glob
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Iterator, List, Optional, Sequence, Set

import torch
from torch import Tensor

__all__ = ['CAMCacheWriter', 'cam_cache_key', 'cam_cache_complete',
           'iter_cached_cams']


def _file_sha256(path: str, block: int = 1 << 22) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        while True:
            chunk = f.read(block)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


def cam_cache_key(checkpoint: str, model_cfg: dict, split: str,
                  names: Sequence[str]) -> str:
    """A key that changes with the weights, the model config and the data.

    Args:
        checkpoint (str): Checkpoint file (hashed by content).
        model_cfg (dict): The model config (CAM settings such as the gating
            are part of it).
        split (str): The dataset split.
        names (Sequence[str]): The window names, in order.
    """
    digest = hashlib.sha256()
    digest.update(_file_sha256(checkpoint).encode())
    digest.update(json.dumps(model_cfg, sort_keys=True, default=str).encode())
    digest.update(split.encode())
    digest.update('\n'.join(names).encode())
    return digest.hexdigest()[:16]


class CAMCacheWriter:
    """Write the CAM records of one rank into ``cache_dir``.

    Args:
        cache_dir (str): The checkpoint's cache folder.
        rank (int): This process's rank.
        world_size (int): Number of processes.
        part_windows (int): Windows per part file. Defaults to 4096.
    """

    def __init__(self, cache_dir: str, rank: int = 0, world_size: int = 1,
                 part_windows: int = 4096) -> None:
        self.cache_dir = cache_dir
        self.rank = rank
        self.world_size = world_size
        self.part_windows = part_windows
        self._parts = 0
        self._reset()
        os.makedirs(cache_dir, exist_ok=True)
        for old in glob.glob(osp.join(cache_dir, f'part_r{rank}_*.pth')):
            os.remove(old)

    def _reset(self) -> None:
        self._index: List[int] = []
        self._names: List[str] = []
        self._classes: List[Tensor] = []
        self._maps: List[Tensor] = []
        self._gt: List[Tensor] = []
        self._shapes: Dict[str, tuple] = {}

    def add(self, index: Sequence[int], names: Sequence[str], cams: Tensor,
            labels: Tensor, gt: Optional[Tensor]) -> None:
        """Add a batch.

        Args:
            index (Sequence[int]): Global window indices (B, ).
            names (Sequence[str]): Window names (B, ).
            cams (Tensor): Normalised CAMs (B, K, h, w).
            labels (Tensor): The classes that got a CAM (B, K).
            gt (Tensor, optional): Ground truth (B, H, W), 255 = ignore.
        """
        cams, labels = cams.detach().float().cpu(), labels.cpu() > 0
        self._shapes['cam'] = tuple(cams.shape[1:])
        for i in range(cams.shape[0]):
            present = torch.nonzero(labels[i]).flatten()
            self._index.append(int(index[i]))
            self._names.append(str(names[i]))
            self._classes.append(present.to(torch.int16))
            self._maps.append(cams[i, present].clone())
        if gt is not None:
            self._gt.append(gt.detach().cpu().to(torch.uint8))
        if len(self._index) >= self.part_windows:
            self.flush()

    def flush(self) -> None:
        if not self._index:
            return
        counts = torch.tensor([len(c) for c in self._classes])
        record = dict(
            index=torch.tensor(self._index),
            names=self._names,
            counts=counts,
            classes=torch.cat(self._classes),
            maps=torch.cat(self._maps),
            cam_shape=list(self._shapes['cam']),
            gt=torch.cat(self._gt) if self._gt else None)
        path = osp.join(self.cache_dir,
                        f'part_r{self.rank}_{self._parts:05d}.pth')
        torch.save(record, path + '.tmp')
        os.replace(path + '.tmp', path)
        self._parts += 1
        self._reset()

    def close(self) -> None:
        """Flush and mark this rank's share complete."""
        self.flush()
        marker = osp.join(self.cache_dir,
                          f'rank{self.rank}of{self.world_size}.done')
        with open(marker, 'w') as f:
            f.write(f'{self._parts}\n')


def cam_cache_complete(cache_dir: str) -> bool:
    """Whether every rank of the run that wrote ``cache_dir`` finished."""
    markers = glob.glob(osp.join(cache_dir, 'rank*of*.done'))
    if not markers:
        return False
    world = int(osp.basename(markers[0]).split('of')[1].split('.')[0])
    return all(
        osp.isfile(osp.join(cache_dir, f'rank{r}of{world}.done'))
        for r in range(world))


def iter_cached_cams(cache_dir: str,
                     wanted: Optional[Set[int]] = None,
                     batch_size: int = 64) -> Iterator[dict]:
    """Read cached CAMs back, in batches.

    Args:
        cache_dir (str): A complete cache folder.
        wanted (set[int], optional): Global window indices to return
            (default: all).
        batch_size (int): Windows per yielded batch.

    Yields:
        dict: ``index`` (list[int]), ``names`` (list[str]), ``cams``
        (B, K, h, w) float32 (absent classes 0), ``labels`` (B, K) bool,
        ``gt`` (B, H, W) int64 or None.
    """
    parts = sorted(glob.glob(osp.join(cache_dir, 'part_r*_*.pth')))
    for part in parts:
        rec = torch.load(part, map_location='cpu', weights_only=True)
        k, h, w = rec['cam_shape']
        offsets = torch.cat([torch.zeros(1, dtype=torch.long),
                             rec['counts'].cumsum(0)])
        index = rec['index'].tolist()
        keep = [i for i, g in enumerate(index)
                if wanted is None or g in wanted]
        for start in range(0, len(keep), batch_size):
            rows = keep[start:start + batch_size]
            cams = torch.zeros(len(rows), k, h, w)
            labels = torch.zeros(len(rows), k, dtype=torch.bool)
            for j, i in enumerate(rows):
                lo, hi = int(offsets[i]), int(offsets[i + 1])
                cls = rec['classes'][lo:hi].long()
                cams[j, cls] = rec['maps'][lo:hi]
                labels[j, cls] = True
            gt = None if rec['gt'] is None else rec['gt'][rows].long()
            yield dict(
                index=[index[i] for i in rows],
                names=[rec['names'][i] for i in rows],
                cams=cams,
                labels=labels,
                gt=gt)
