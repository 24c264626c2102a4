# Copyright (c) mmexact contributors. All rights reserved.
import os.path as osp

from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS
from ...structures import SITSDataError
from ..readers import read_pseudo_label

__all__ = ['LoadPseudoLabel']


@TRANSFORMS.register_module()
class LoadPseudoLabel(BaseTransform):
    """Replace the pixel labels of a sample by its pseudo-label map.

    Reads ``<pseudo_label_dir>/<sample_id><suffix>`` (an 8-bit PNG as
    written by ``tools/exact/generate_pseudo_labels.py``), checks its size
    against the image and its values against ``num_classes``, and makes it
    the sample's ``gt_seg_map``. The image-level labels
    (``gt_cls_label``) stay those of the ground truth: put it after
    ``LoadSITSSample`` and ``GenerateImageLabels`` and before any spatial
    augmentation, e.g. in the training pipeline of Exact's stage 2;
    datasets are not involved (and never modified on disk).

    Required Keys:

    - sample_id, img (T, C, H, W), gt_seg_map

    Modified Keys:

    - gt_seg_map (np.uint8, (H, W)), seg_map_path, seg_fields

    Args:
        pseudo_label_dir (str): Directory of the pseudo-label maps.
        num_classes (int): Valid values are ``0..num_classes-1`` (and 255).
            Defaults to 19.
        suffix (str): File suffix. Defaults to ``'.png'``.
    """

    def __init__(self,
                 pseudo_label_dir: str,
                 num_classes: int = 19,
                 suffix: str = '.png') -> None:
        if not pseudo_label_dir:
            raise ValueError('LoadPseudoLabel needs a pseudo_label_dir')
        self.pseudo_label_dir = pseudo_label_dir
        self.num_classes = num_classes
        self.suffix = suffix

    def transform(self, results: dict) -> dict:
        if not osp.isdir(self.pseudo_label_dir):
            raise SITSDataError(f'{self.pseudo_label_dir}: pseudo-label '
                                'directory does not exist; generate it with '
                                'tools/exact/generate_pseudo_labels.py')
        sample_id = results.get('sample_id')
        if sample_id is None:
            raise KeyError(f'{results.get("img_path", "sample")}: no '
                           'sample_id to name its pseudo label')
        path = osp.join(self.pseudo_label_dir, f'{sample_id}{self.suffix}')
        if not osp.isfile(path):
            raise SITSDataError(f'{path}: pseudo-label file not found; '
                                'generate the pseudo labels of this split '
                                'with tools/exact/generate_pseudo_labels.py')
        results['gt_seg_map'] = read_pseudo_label(
            path, results['img'].shape[-2:], self.num_classes)
        results['seg_map_path'] = path
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(pseudo_label_dir='
                f'{self.pseudo_label_dir!r}, num_classes={self.num_classes}, '
                f'suffix={self.suffix!r})')
