# Copyright (c) mmexact contributors. All rights reserved.
"""An in-memory scene with the reading interface of
:class:`mmexact.geo.GeoTIFFScene`, for tests of own-region training sets."""
import datetime
from typing import Sequence

import numpy as np

__all__ = ['InMemoryScene', 'make_fake_region']


class InMemoryScene:
    """A (T, C, H, W) array as a scene.

    Args:
        img (np.ndarray): Model-unit values (T, C, H, W), -10000 no-data.
        dates (Sequence[datetime.date]): One per frame.
        transform (affine.Affine): Pixel -> map coordinates.
        crs (str): The CRS.
        name (str): For messages.
    """

    def __init__(self, img: np.ndarray,
                 dates: Sequence[datetime.date], transform, crs: str,
                 name: str = 'in-memory scene') -> None:
        self.img = np.asarray(img, np.float32)
        self.dates = list(dates)
        self.doy = np.array([d.timetuple().tm_yday for d in self.dates])
        self.name = name
        self.num_bands = self.img.shape[1]
        self.height, self.width = self.img.shape[-2:]
        self.profile = dict(crs=crs, transform=transform,
                            height=self.height, width=self.width)

    def read(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        """Values of rows ``y0:y1``, columns ``x0:x1`` (T, C, h, w)."""
        return self.img[..., y0:y1, x0:x1]


def make_fake_region(root: str, num_crops: int = 11, size: int = 48,
                     num_dates: int = 6, seed: int = 0) -> str:
    """A prepared own-region layout (``SITSRegionDataset``) of random
    data: ``size`` x ``size`` px, 10 PASTIS bands, crops 1..``num_crops``
    as random 8 x 8 px fields (pixel truth and image labels everywhere),
    4 blocks of ``size / 2`` px: 2 train, 1 val, 1 test.

    Returns:
        str: ``root``.
    """
    import os
    import os.path as osp

    from rasterio.transform import from_origin

    from ..geo.region_labels import Nomenclature, default_palette
    from ..geo.training_set import write_training_set
    from ..structures import S2_BANDS
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 4000, (num_dates, len(S2_BANDS), size, size))
    fields = rng.integers(0, num_crops + 1, (size // 8, size // 8))
    labels = np.kron(fields, np.ones((8, 8), np.int64)).astype(np.uint8)
    dates = [datetime.date(2021, 3, 1) + datetime.timedelta(days=20 * t)
             for t in range(num_dates)]
    scene = InMemoryScene(img, dates, from_origin(0, 10. * size, 10, 10),
                          'EPSG:32631', name='fake region')
    classes = ['background'] + [f'crop{c}' for c in range(1, num_crops + 1)]
    nom = Nomenclature(classes, {str(c): c for c in range(1, num_crops + 1)},
                       default_palette(len(classes)), 'fake')
    os.makedirs(root, exist_ok=True)
    blocks = osp.join(root, 'blocks_in.csv')
    with open(blocks, 'w') as f:
        f.write('block_row,block_col,split\n0,0,train\n0,1,train\n'
                '1,0,val\n1,1,test\n')
    write_training_set(scene, root, nom, S2_BANDS, pixel_labels=labels,
                       window=size // 2, block_size=size // 2,
                       block_file=blocks, log=lambda m: None)
    return root
