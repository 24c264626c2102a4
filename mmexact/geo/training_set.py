# Copyright (c) mmexact contributors. All rights reserved.
"""A training set of your own region: a scene (read by
:func:`mmexact.geo.open_scene`) cut into windows on a grid, with pixel
labels from parcels and / or image-level labels from cells, split by
spatial blocks, with normalisation statistics and a class table computed
from the training split.

Layout written under ``out_dir`` (read by
:class:`mmexact.datasets.SITSRegionDataset`)::

    windows/<sample_id>.npz   img int16 (T, C, h, w), doy int64 (T,),
                              labels uint8 (h, w) (255: no truth),
                              image_labels uint8 (K,) where known
    splits/<split>.csv        sample_id,path,image_labels,truth (0/1)
    blocks.csv                block_row,block_col,y0,x0,y1,x1,split
    norm.json                 per-band mean / std of the training split
    classes.json              class names, palette, bands, values, counts
    region.json               scene, grid, rules, counts, warnings
"""
import csv
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..structures import NODATA, SITSDataError
from .region_labels import IGNORE, Nomenclature, value_key

__all__ = [
    'SPLITS', 'window_grid', 'window_image_labels', 'assign_blocks',
    'read_block_file', 'BandStatistics', 'write_training_set',
    'split_parcel_accuracy'
]

SPLITS = ('train', 'val', 'test')


def window_grid(height: int, width: int, window: int, stride: int,
                block: int) -> List[Tuple[int, int, int, int]]:
    """Windows of a scene, each inside one spatial block.

    Windows start every ``stride`` pixels; a window that would cross a
    block border (possible when ``stride`` or ``block`` is not a multiple
    of ``window``) is left out, so no two windows of different blocks
    overlap.

    Returns:
        list[tuple]: ``(y0, x0, block_row, block_col)`` per window.
    """
    if window < 1 or stride < 1:
        raise ValueError('window and stride must be positive')
    if block < window:
        raise ValueError(f'block size {block} is smaller than the window '
                         f'{window}')
    out = []
    for y0 in range(0, height - window + 1, stride):
        for x0 in range(0, width - window + 1, stride):
            br, bc = y0 // block, x0 // block
            if (y0 + window - 1) // block != br or \
                    (x0 + window - 1) // block != bc:
                continue
            out.append((y0, x0, br, bc))
    return out


def window_image_labels(cells: np.ndarray, cell_labels: List[np.ndarray],
                        num_crops: int) -> Optional[np.ndarray]:
    """Image label of one window from its cell raster.

    The union of the crops of every cell the window overlaps; None when
    part of the window lies in no cell (its label would be unknown there).

    Args:
        cells (np.ndarray): int32 (h, w) cell index + 1, 0 = no cell.
        cell_labels (list[np.ndarray]): (K,) multi-hot label per cell.
        num_crops (int): K.

    Returns:
        np.ndarray | None: uint8 (K,).
    """
    ids = np.unique(cells)
    if ids.size == 0 or ids[0] == 0:
        return None
    out = np.zeros(num_crops, np.uint8)
    for i in ids:
        out |= cell_labels[int(i) - 1]
    return out


def assign_blocks(blocks: Sequence[Tuple[int, int]],
                  ratios: Sequence[float], seed: int) -> Dict[tuple, str]:
    """Random split of whole blocks into train / val / test.

    ``round(ratio * n)`` blocks go to val and to test (at least one each
    when there are 3 or more blocks and the ratio is positive), the rest
    to train; the blocks are shuffled with ``seed``. Too few blocks for a
    split with a positive ratio is an error.
    """
    ratios = [float(r) for r in ratios]
    if len(ratios) != 3 or min(ratios) < 0 or sum(ratios) <= 0:
        raise ValueError(f'split ratios must be 3 non-negative numbers, got '
                         f'{ratios}')
    total = sum(ratios)
    blocks = sorted(blocks)
    n = len(blocks)
    counts = []
    for r in ratios[1:]:
        k = int(round(r / total * n))
        if r > 0 and n >= 3:
            k = max(k, 1)
        counts.append(k)
    if n - sum(counts) < 1 or any(
            r > 0 and k == 0 for r, k in zip(ratios[1:], counts)):
        raise SITSDataError(
            f'{n} spatial block(s) cannot make a train split and '
            f'{counts[0]} val + {counts[1]} test block(s): use a smaller '
            '--block-size or a larger scene')
    order = np.random.default_rng(seed).permutation(n)
    split = {}
    for rank, i in enumerate(order):
        name = 'val' if rank < counts[0] else \
            'test' if rank < counts[0] + counts[1] else 'train'
        split[blocks[i]] = name
    return split


def read_block_file(path: str, blocks: Sequence[Tuple[int, int]]
                    ) -> Dict[tuple, str]:
    """Read an (edited) ``blocks.csv``: every block of the grid must be
    listed once, with a split in train / val / test / none."""
    if not osp.isfile(path):
        raise SITSDataError(f'{path}: block file not found')
    split = {}
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        for col in ('block_row', 'block_col', 'split'):
            if col not in (reader.fieldnames or []):
                raise SITSDataError(f'{path}: no column {col!r}')
        for lineno, row in enumerate(reader, 2):
            key = (int(row['block_row']), int(row['block_col']))
            name = row['split'].strip()
            if name not in SPLITS + ('none', ):
                raise SITSDataError(f'{path}:{lineno}: split {name!r} is not'
                                    ' one of train, val, test, none')
            if key in split:
                raise SITSDataError(f'{path}:{lineno}: block {key} listed '
                                    'twice')
            split[key] = name
    missing = sorted(set(blocks) - set(split))
    if missing:
        raise SITSDataError(f'{path}: block(s) {missing[:5]} of the grid are'
                            ' not listed (the block size or scene differs?)')
    return split


class BandStatistics:
    """Streaming per-band mean and standard deviation of valid values.

    Values equal to the no-data value -10000 are left out. Sums are kept
    in float64 (exact for int16 data up to ~10^11 values).
    """

    def __init__(self, num_bands: int) -> None:
        self.n = np.zeros(num_bands, np.float64)
        self.s = np.zeros(num_bands, np.float64)
        self.s2 = np.zeros(num_bands, np.float64)

    def add(self, img: np.ndarray) -> None:
        """Add a (T, C, h, w) array."""
        x = np.moveaxis(img, 1, 0).reshape(img.shape[1], -1)
        x = x.astype(np.float64)
        valid = x != NODATA
        self.n += valid.sum(1)
        x = np.where(valid, x, 0.)
        self.s += x.sum(1)
        self.s2 += (x * x).sum(1)

    def result(self) -> Tuple[np.ndarray, np.ndarray]:
        """(mean, std) per band; std is the population std."""
        if (self.n == 0).any():
            raise SITSDataError('the training split has no valid pixel in '
                                f'band(s) {np.flatnonzero(self.n == 0)}')
        mean = self.s / self.n
        var = np.maximum(self.s2 / self.n - mean * mean, 0.)
        return mean, np.sqrt(var)


def _write_csv(path: str, header: Sequence[str], rows) -> None:
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def write_training_set(scene,
                       out_dir: str,
                       nomenclature: Nomenclature,
                       bands: Sequence[str],
                       pixel_labels: Optional[np.ndarray] = None,
                       cells: Optional[Tuple[np.ndarray, list]] = None,
                       window: int = 24,
                       stride: Optional[int] = None,
                       block_size: int = 240,
                       ratios: Sequence[float] = (0.6, 0.2, 0.2),
                       seed: int = 0,
                       block_file: Optional[str] = None,
                       min_fraction: float = 0.01,
                       parcel_rows: Optional[np.ndarray] = None,
                       report: Optional[dict] = None,
                       log=print) -> dict:
    """Cut ``scene`` into labelled windows and write the training set.

    Image labels come from ``cells`` where given (the union rule of
    :func:`window_image_labels`), else from the pixel labels by Exact's
    presence rule (a crop covering strictly more than ``min_fraction`` of
    the window, as ``GenerateImageLabels``). A window is written if it has
    an image label or any pixel truth and at least one valid pixel; the
    others are counted.

    Args:
        scene (GeoTIFFScene): The scene (``read``, ``height``, ``width``,
            ``doy``, ``profile``).
        out_dir (str): Output root.
        nomenclature (Nomenclature): Classes.
        bands (Sequence[str]): Band names of the scene's channels.
        pixel_labels (np.ndarray, optional): uint8 (H, W) labels (255 = no
            truth), e.g. from :func:`rasterize_parcels`.
        cells (tuple, optional): ``(cell raster, cell labels)`` from
            :func:`rasterize_cells`.
        window (int): Window side. Defaults to 24.
        stride (int, optional): Window step. Defaults to ``window``.
        block_size (int): Spatial block side in pixels. Defaults to 240.
        ratios (Sequence[float]): train / val / test share of the blocks.
        seed (int): Seed of the block split.
        block_file (str, optional): An edited ``blocks.csv`` to use
            instead of the random split.
        min_fraction (float): Presence threshold of image labels from
            pixel labels. Defaults to 0.01.
        parcel_rows (np.ndarray, optional): (H, W) parcel row + 1 per pixel,
            to count parcels in no split / in several splits.
        report (dict, optional): Label reports to merge into
            ``region.json``.
        log (callable): Printer of progress and counted warnings.

    Returns:
        dict: The content of ``region.json``.
    """
    if pixel_labels is None and cells is None:
        raise SITSDataError('give parcels (pixel labels) or image-label '
                            'cells, or both')
    stride = stride or window
    k = nomenclature.num_crops
    h, w = scene.height, scene.width
    grid = window_grid(h, w, window, stride, block_size)
    if not grid:
        raise SITSDataError(f'{scene.name}: the scene ({h} x {w} px) holds '
                            f'no {window} x {window} window')
    blocks = sorted({(br, bc) for _, _, br, bc in grid})
    if block_file is not None:
        split_of = read_block_file(block_file, blocks)
    else:
        split_of = assign_blocks(blocks, ratios, seed)
    warnings: List[str] = list((report or {}).get('warnings', []))

    def warn(msg: str) -> None:
        warnings.append(msg)
        log(f'warning: {msg}')

    os.makedirs(osp.join(out_dir, 'windows'), exist_ok=True)
    os.makedirs(osp.join(out_dir, 'splits'), exist_ok=True)
    stats = BandStatistics(scene.num_bands)
    rows: Dict[str, list] = {s: [] for s in SPLITS}
    pix = {s: np.zeros(k + 1, np.int64) for s in SPLITS}
    img_counts = {s: np.zeros(k, np.int64) for s in SPLITS}
    skipped = dict(no_label=0, no_data=0, none_split=0)
    cells_used: set = set()
    parcel_split: Dict[int, set] = {}
    doy = np.asarray(scene.doy, np.int64)
    by_row: Dict[int, list] = {}
    for y0, x0, br, bc in grid:
        by_row.setdefault(y0, []).append((x0, br, bc))
    for y0, items in by_row.items():
        strip = scene.read(y0, y0 + window, 0, w)  # (T, C, window, W)
        for x0, br, bc in items:
            split = split_of[(br, bc)]
            sl = (slice(y0, y0 + window), slice(x0, x0 + window))
            if split == 'none':
                skipped['none_split'] += 1
                continue
            img = strip[..., x0:x0 + window]
            if (img == NODATA).all():
                skipped['no_data'] += 1
                continue
            labels = pixel_labels[sl] if pixel_labels is not None else \
                np.full((window, window), IGNORE, np.uint8)
            truth = bool((labels != IGNORE).any())
            if cells is not None:
                image = window_image_labels(cells[0][sl], cells[1], k)
            elif truth:
                from ..datasets.transforms.generate_image_labels import \
                    image_labels_from_mask
                image = image_labels_from_mask(labels, k, min_fraction)
            else:
                image = None
            if image is None and not truth:
                skipped['no_label'] += 1
                continue
            sid = f'r{y0:05d}_c{x0:05d}'
            rel = f'windows/{sid}.npz'
            arrays = dict(
                img=np.clip(np.rint(img), -32768, 32767).astype(np.int16),
                doy=doy, labels=labels.astype(np.uint8))
            if image is not None:
                arrays['image_labels'] = image.astype(np.uint8)
                img_counts[split] += image
            np.savez(osp.join(out_dir, rel), **arrays)
            rows[split].append(
                (sid, rel, int(image is not None), int(truth)))
            t = labels[labels != IGNORE]
            pix[split] += np.bincount(t, minlength=k + 1)[:k + 1]
            if cells is not None:
                cells_used.update(int(i) for i in np.unique(cells[0][sl]))
            if split == 'train':
                stats.add(arrays['img'])
            if parcel_rows is not None:
                for p in np.unique(parcel_rows[sl]):
                    if p:
                        parcel_split.setdefault(int(p) - 1, set()).add(split)
    for split in SPLITS:
        _write_csv(osp.join(out_dir, 'splits', f'{split}.csv'),
                   ('sample_id', 'path', 'image_labels', 'truth'),
                   rows[split])
    block_rows = []
    for br, bc in blocks:
        y0, x0 = br * block_size, bc * block_size
        block_rows.append((br, bc, y0, x0, min(h, y0 + block_size),
                           min(w, x0 + block_size), split_of[(br, bc)]))
    _write_csv(osp.join(out_dir, 'blocks.csv'),
               ('block_row', 'block_col', 'y0', 'x0', 'y1', 'x1', 'split'),
               block_rows)
    if not rows['train']:
        raise SITSDataError(f'{out_dir}: no training window (every window of'
                            ' the train blocks lacks labels or data)')
    mean, std = stats.result()
    bands = list(bands)
    with open(osp.join(out_dir, 'norm.json'), 'w') as f:
        json.dump(dict(mean=mean.tolist(), std=std.tolist(), bands=bands,
                       split='train', num_values=stats.n.tolist()), f,
                  indent=1)
    for c in range(k):
        if img_counts['train'][c] == 0 and pix['train'][c + 1] == 0:
            warn(f'class {nomenclature.classes[c + 1]!r} has no training '
                 'window')
    for key, n in skipped.items():
        if n:
            what = dict(no_label='without any label', no_data='without '
                        'valid data', none_split="in blocks of split 'none'")
            log(f'{n} window(s) {what[key]} not written')
    par = {}
    if parcel_rows is not None:
        all_rows = set(int(p) - 1 for p in np.unique(parcel_rows) if p)
        in_none = sorted(all_rows - set(parcel_split))
        several = sorted(p for p, s in parcel_split.items() if len(s) > 1)
        par = dict(in_no_split=in_none, in_several_splits=several)
        if in_none:
            warn(f'{len(in_none)} parcel(s) lie in no written window (scene'
                 ' border beyond the grid, no-data or split none), e.g. rows'
                 f' {in_none[:10]}')
        if several:
            log(f'{len(several)} parcel(s) straddle blocks of different '
                'splits (their pixels are split by the block border)')
    if cells is not None:
        in_scene = set(int(i) for i in np.unique(cells[0]) if i)
        unused = sorted(i - 1 for i in in_scene - cells_used)
        par['cells_without_data'] = unused
        if unused:
            warn(f'{len(unused)} image-label cell(s) overlap no written '
                 'window (no valid data, off the window grid or split none)'
                 f', e.g. rows {unused[:10]}')
    counts = {
        s: dict(windows=len(rows[s]),
                windows_with_image_labels=sum(r[2] for r in rows[s]),
                windows_with_truth=sum(r[3] for r in rows[s]),
                pixels=dict(zip(nomenclature.classes, pix[s].tolist())),
                image_labels=dict(zip(nomenclature.classes[1:],
                                      img_counts[s].tolist())))
        for s in SPLITS
    }
    classes = dict(
        classes=nomenclature.classes, palette=nomenclature.palette,
        bands=bands, void_label=None, ignore_index=IGNORE,
        values={v: nomenclature.classes[c] if c != IGNORE else 'ignore'
                for v, c in nomenclature.value_to_class.items()},
        nomenclature=osp.basename(nomenclature.source))
    with open(osp.join(out_dir, 'classes.json'), 'w') as f:
        json.dump(classes, f, indent=1)
    region = dict(
        scene=dict(input=scene.name, size=[h, w],
                   crs=str(scene.profile['crs']),
                   transform=list(scene.profile['transform'])[:6],
                   dates=[d.isoformat() for d in scene.dates]),
        window=window, stride=stride, block_size=block_size,
        split_rule='block file' if block_file else
        f'random blocks, ratios {list(ratios)}, seed {seed}',
        image_label_rule='cells: union of the crops of the overlapped '
        'cells' if cells is not None else
        f'pixel labels: crop > {min_fraction} of the window',
        min_fraction=min_fraction, counts=counts, skipped=skipped,
        parcels=par, labels={k_: v for k_, v in (report or {}).items()
                             if k_ != 'warnings'},
        warnings=warnings)
    with open(osp.join(out_dir, 'region.json'), 'w') as f:
        json.dump(region, f, indent=1)
    return region


def split_parcel_accuracy(parcels, column: str, nomenclature: Nomenclature,
                          data_root: str, transform, split: str = 'test'
                          ) -> dict:
    """Parcel accuracy of a labelled parcel file on one split's blocks.

    Parcels whose centroid lies in a block of ``split`` (``blocks.csv`` of
    the prepared region) and whose ``column`` value maps to a class are
    compared with their predicted class (``pred_name``, written by
    ``tools/infer.py --parcels``).

    Args:
        parcels (geopandas.GeoDataFrame): Labelled parcels in the scene's
            CRS.
        column (str): Their true crop attribute.
        nomenclature (Nomenclature): Value -> class.
        data_root (str): The prepared region (its ``blocks.csv``).
        transform (affine.Affine): The scene's transform.
        split (str): Which blocks. Defaults to ``'test'``.

    Returns:
        dict: ``parcels`` (compared), ``correct``, ``accuracy`` (None if
        no parcel), ``unlabelled`` (compared parcels the map gave no label),
        ``per_class`` (compared parcels per true class) and
        ``majority_accuracy`` (the accuracy of labelling every parcel with
        the most frequent true class).
    """
    inv = ~transform
    boxes = []
    with open(osp.join(data_root, 'blocks.csv'), newline='') as f:
        for row in csv.DictReader(f):
            if row['split'] == split:
                boxes.append(tuple(int(row[k])
                                   for k in ('y0', 'x0', 'y1', 'x1')))
    n = correct = unlabelled = 0
    per_class: Dict[str, int] = {}
    names = parcels['pred_name'].tolist()
    for geom, value, pred in zip(parcels.geometry, parcels[column], names):
        c = nomenclature.value_to_class.get(value_key(value))
        if c is None or c == IGNORE or geom is None or geom.is_empty:
            continue
        col, row = inv * (geom.centroid.x, geom.centroid.y)
        if not any(y0 <= row < y1 and x0 <= col < x1
                   for y0, x0, y1, x1 in boxes):
            continue
        n += 1
        name = nomenclature.classes[c]
        per_class[name] = per_class.get(name, 0) + 1
        if pred is None:
            unlabelled += 1
        correct += int(pred == nomenclature.classes[c])
    top = max(per_class.values()) if per_class else 0
    return dict(parcels=n, correct=correct, unlabelled=unlabelled,
                accuracy=correct / n if n else None, per_class=per_class,
                majority_accuracy=top / n if n else None)
