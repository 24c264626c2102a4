# Copyright (c) mmexact contributors. All rights reserved.
from .append_day_of_year import AppendDayOfYear
from .drop_nodata_frames import DropNoDataFrames
from .generate_image_labels import GenerateImageLabels
from .load_pseudo_label import LoadPseudoLabel
from .loading import LoadSITSSample
from .normalize import NormalizeSITS
from .pack_sits_inputs import PackSITSInputs
from .pad_or_cut_sequence import PadOrCutSequence
from .sits_flip import SITSFlip
from .sits_random_flip import SITSRandomFlip
from .sits_random_rot90 import SITSRandomRot90

__all__ = [
    'LoadSITSSample', 'NormalizeSITS', 'PadOrCutSequence', 'AppendDayOfYear',
    'SITSRandomFlip', 'SITSRandomRot90', 'PackSITSInputs', 'DropNoDataFrames',
    'SITSFlip', 'LoadPseudoLabel', 'GenerateImageLabels'
]
