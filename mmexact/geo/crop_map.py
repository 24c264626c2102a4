# Copyright (c) mmexact contributors. All rights reserved.
"""Scene in, georeferenced crop map out: the work of ``tools/infer.py``."""
import json
import os
import os.path as osp
import platform
import resource
import time
from typing import Optional

import numpy as np

from .parcels import ParcelAggregator
from .quicklook import write_quicklook
from .scene import scene_summary
from .writers import GeoTIFFBlockWriter, class_tags, write_category_names

__all__ = ['write_crop_map']

#: uint8 scores are ``round(score * 250)`` (GDAL scale 0.004), 255 no data.
UINT8_SCORE_SCALE = 250


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.


def write_crop_map(inferencer,
                   scene,
                   out_dir: str,
                   name: str = 'crop_map',
                   save_scores: bool = False,
                   scores_dtype: str = 'float32',
                   parcels: Optional[str] = None,
                   parcels_layer: Optional[str] = None,
                   parcel_rule: str = 'majority',
                   progress: bool = True,
                   quicklook_size: int = 800,
                   title: Optional[str] = None) -> dict:
    """Predict a GeoTIFF scene block by block and write the products.

    Writes into ``out_dir``:

    - ``<name>.tif``: class map, uint8, nodata 255, the scene's CRS and
      transform, colour table, class names (tags ``CLASS_NAMES`` /
      ``CLASS_<k>`` and GDAL category names in ``<name>.tif.aux.xml``),
      Cloud Optimized GeoTIFF (512 px tiles, DEFLATE, nearest overviews);
    - ``<name>_scores.tif`` (``save_scores``): one band per class (the
      class names as band descriptions), float32 (NaN = no data) or uint8
      (``round(score * 250)``, GDAL scale 0.004, 255 = no data), COG with
      averaged overviews;
    - ``<name>.png``: quick-look with legend and scale bar;
    - ``<name>_parcels.gpkg`` (``parcels``): the parcels with their label,
      confidence and status (:class:`ParcelAggregator`);
    - ``<name>.json``: the report (inputs, dates, model, class shares,
      parcels, throughput, peak memory).

    Args:
        inferencer (SITSInferencer): The model wrapper.
        scene (GeoTIFFScene): From :func:`open_scene`.
        out_dir (str): Output folder (created).
        name (str): Stem of the output files.
        save_scores (bool): Also write the scores.
        scores_dtype (str): ``'float32'`` or ``'uint8'``.
        parcels (str, optional): Polygon file to label.
        parcels_layer (str, optional): Its layer.
        parcel_rule (str): ``'majority'`` or ``'mean_score'``.
        progress (bool): Progress bar with ETA.
        quicklook_size (int): Long side of the PNG map in pixels.
        title (str, optional): Quick-look title.

    Returns:
        dict: The report (also written as ``<name>.json``).
    """
    if scores_dtype not in ('float32', 'uint8'):
        raise ValueError('scores_dtype must be float32 or uint8')
    os.makedirs(out_dir, exist_ok=True)
    k = inferencer.num_classes
    classes, palette = inferencer.classes, inferencer.palette
    profile = scene.profile
    paths = dict(classes=osp.join(out_dir, f'{name}.tif'),
                 quicklook=osp.join(out_dir, f'{name}.png'),
                 report=osp.join(out_dir, f'{name}.json'))
    agg = None
    if parcels is not None:
        agg = ParcelAggregator(parcels, profile, classes, parcel_rule,
                               parcels_layer)
        paths['parcels'] = osp.join(out_dir, f'{name}_parcels.gpkg')
    writers = [
        GeoTIFFBlockWriter(
            paths['classes'], profile, 1, 'uint8', nodata=255,
            colormap={c: palette[c] for c in range(k)},
            descriptions=['class'], tags=class_tags(classes),
            resampling='NEAREST')
    ]
    if save_scores:
        paths['scores'] = osp.join(out_dir, f'{name}_scores.tif')
        score_kind = 'CAM score' if inferencer.is_cam else 'probability'
        writers.append(GeoTIFFBlockWriter(
            paths['scores'], profile, k, scores_dtype,
            nodata=float('nan') if scores_dtype == 'float32' else 255,
            descriptions=classes,
            tags=dict(SCORES=score_kind, **(dict(
                SCALE=1 / UINT8_SCORE_SCALE) if scores_dtype == 'uint8'
                else {})),
            scales=[1 / UINT8_SCORE_SCALE] * k
            if scores_dtype == 'uint8' else None,
            resampling='AVERAGE'))
    counts = np.zeros(k, np.int64)
    start = time.time()
    try:
        for blk in inferencer.iter_blocks(scene, progress):
            writers[0].write(blk.pred, blk.y0, blk.x0)
            counts += np.bincount(blk.pred[blk.valid], minlength=k)[:k]
            if save_scores:
                s = blk.scores
                if scores_dtype == 'uint8':
                    s = np.rint(np.clip(s, 0, 1) * UINT8_SCORE_SCALE
                                ).astype(np.uint8)
                    s[:, ~blk.valid] = 255
                else:
                    s = s.copy()
                    s[:, ~blk.valid] = np.nan
                writers[1].write(s, blk.y0, blk.x0)
            if agg is not None:
                agg.add(blk.y0, blk.x0, blk.pred, blk.valid,
                        blk.scores if parcel_rule == 'mean_score' else None)
        seconds = time.time() - start
        for w in writers:
            w.close()
    except BaseException:
        for w in writers:
            w.abort()
        raise
    write_category_names(paths['classes'], classes)
    write_quicklook(paths['classes'], paths['quicklook'], classes, palette,
                    counts, quicklook_size, title)
    parcel_report = agg.write(paths['parcels']) if agg is not None else None
    pixel_m2 = abs(profile['transform'].a * profile['transform'].e)
    pixels = scene.height * scene.width
    km2 = pixels * pixel_m2 / 1e6
    valid = int(counts.sum())
    report = dict(
        outputs=paths,
        scene=scene_summary(scene),
        model=dict(
            config=getattr(inferencer.cfg, 'filename', None),
            bands=list(inferencer.bands),
            window=list(inferencer.window),
            stride=list(inferencer.stride),
            weighting=inferencer.weighting,
            max_seq_len=inferencer.max_seq_len,
            batch_size=inferencer.batch_size,
            block_size=inferencer.block_size,
            cam=inferencer.is_cam,
            classes=list(classes)),
        classes={classes[c]: dict(pixels=int(counts[c]),
                                  share=round(counts[c] / max(valid, 1), 5))
                 for c in range(k) if counts[c]},
        nodata_pixels=int(pixels - valid),
        parcels=parcel_report,
        throughput=dict(
            seconds=round(seconds, 4),
            windows=inferencer.num_windows(scene.height, scene.width),
            pixels_per_s=round(pixels / max(seconds, 1e-9), 1),
            km2=round(km2, 4),
            km2_per_hour=round(km2 / max(seconds, 1e-9) * 3600, 2),
            peak_rss_mib=round(_peak_rss_mib(), 1),
            date=time.strftime('%Y-%m-%d'),
            machine=f'{platform.machine()}, {os.cpu_count()} CPUs'))
    with open(paths['report'], 'w') as f:
        json.dump(report, f, indent=1, default=str)
    return report
