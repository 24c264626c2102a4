# Copyright (c) mmexact contributors. All rights reserved.
"""PNG quick-look of a class-map GeoTIFF: the map, a legend, a scale bar.
"""
from typing import Optional, Sequence

import numpy as np
import rasterio
from rasterio.enums import Resampling

__all__ = ['write_quicklook']


def _nice_length(max_m: float) -> float:
    """Largest 1/2/5 x 10^k metres not above ``max_m``."""
    exp = 10**np.floor(np.log10(max(max_m, 1e-9)))
    for m in (5, 2, 1):
        if m * exp <= max_m:
            return float(m * exp)
    return float(exp)


def write_quicklook(class_map: str,
                    out: str,
                    classes: Sequence[str],
                    palette: Sequence[Sequence[int]],
                    counts: Optional[Sequence[int]] = None,
                    max_size: int = 800,
                    title: Optional[str] = None) -> str:
    """Render a class-map GeoTIFF as a PNG with a legend.

    The map is read at most ``max_size`` pixels on its long side (from the
    COG overviews, nearest neighbour); no-data is white. The legend lists
    the classes present (with their share of the mapped pixels when
    ``counts`` is given), most frequent first.

    Args:
        class_map (str): uint8 GeoTIFF (nodata 255).
        out (str): PNG path.
        classes (Sequence[str]): Class names by value.
        palette (Sequence[Sequence[int]]): RGB per class.
        counts (Sequence[int], optional): Pixels per class (full
            resolution); default: counted on the preview.
        max_size (int): Long side of the preview in pixels.
        title (str, optional): Figure title.

    Returns:
        str: ``out``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    with rasterio.open(class_map) as ds:
        f = max(1., max(ds.height, ds.width) / max_size)
        shape = (max(1, int(round(ds.height / f))),
                 max(1, int(round(ds.width / f))))
        img = ds.read(1, out_shape=shape, resampling=Resampling.nearest)
        pixel = abs(ds.transform.a) * ds.width / shape[1]
        metric = ds.crs is not None and ds.crs.is_projected
        crs = ds.crs.to_string() if ds.crs is not None else 'no CRS'
        full = (ds.height, ds.width)
    k = len(classes)
    lut = np.full((256, 3), 255, np.uint8)
    lut[:k] = np.asarray(palette, np.uint8)[:k]
    rgb = lut[img]
    if counts is None:
        counts = np.bincount(img.ravel(), minlength=256)[:k]
    counts = np.asarray(counts, np.float64)
    total = max(counts.sum(), 1.)
    present = [c for c in np.argsort(-counts, kind='stable') if counts[c]]
    def share(c):
        pct = 100 * counts[c] / total
        return f'{pct:.1f} %' if pct >= 0.05 else '< 0.1 %'

    handles = [
        Patch(facecolor=np.asarray(palette[c]) / 255., edgecolor='0.3',
              label=f'{classes[c]} ({share(c)})') for c in present
    ]
    h, w = rgb.shape[:2]
    fig_w = 8.
    fig_h = max(3., fig_w * 0.62 * h / w + 0.8)
    fig, (ax, lax) = plt.subplots(
        1, 2, figsize=(fig_w, fig_h),
        gridspec_kw=dict(width_ratios=[0.62, 0.38]))
    ax.imshow(rgb, interpolation='nearest')
    ax.set_xticks([])
    ax.set_yticks([])
    if metric:  # scale bar, bottom left
        length = _nice_length(0.3 * w * pixel)
        bar = length / pixel
        y = h * 0.95
        ax.plot([w * 0.04, w * 0.04 + bar], [y, y], color='k', lw=3,
                solid_capstyle='butt')
        ax.plot([w * 0.04, w * 0.04 + bar], [y, y], color='w', lw=1.2,
                solid_capstyle='butt')
        label = f'{length / 1000:g} km' if length >= 1000 else \
            f'{length:g} m'
        ax.text(w * 0.04 + bar / 2, y - h * 0.025, label, ha='center',
                va='bottom', fontsize=8,
                bbox=dict(facecolor='white', alpha=0.7, lw=0, pad=1))
    ax.set_title(title or 'crop map', fontsize=10)
    ax.set_xlabel(f'{full[1]} x {full[0]} px, {crs}', fontsize=8)
    lax.axis('off')
    if handles:
        lax.legend(handles=handles, loc='center left', fontsize=8,
                   frameon=False, title='class (share)', title_fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
