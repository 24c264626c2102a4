# Copyright (c) mmexact contributors. All rights reserved.
from .mtlcc_dataset import MTLCCDataset
from .pastis24_dataset import PASTIS24Dataset
from .pastis_dataset import PASTISDataset
from .sits_region_dataset import SITSRegionDataset
from .sits_seg_dataset import SITSSegDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'SITSSegDataset', 'PASTIS24Dataset', 'PASTISDataset', 'MTLCCDataset',
    'SITSRegionDataset'
]
