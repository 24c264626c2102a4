# Copyright (c) mmexact contributors. All rights reserved.
"""Tiny, deterministic PASTIS-format trees for tests and smoke runs.

A preset of the synthetic PASTIS generator (:mod:`.synthetic`): one tile
(patch IDs ``10000 + i``), folds ``i % 5 + 1``, a few dates, a few crop
classes, void only on fields mostly (80 %) outside the patch or at random,
clear sky (``atmosphere=False``: no clouds, no no-data frames).
Everything else - parcel layout, background, void, phenology, spectra,
noise and the per-fold ``NORM_S2_patch.json`` - is the generator's. Five
48 x 48 patches write in well under a second.
"""
import os.path as osp
from typing import Optional, Sequence

from mmexact.datasets.pastis24_converter import convert_pastis_to_pastis24
from .synthetic import SyntheticPASTISConfig, make_synthetic_pastis

__all__ = ['fake_pastis_config', 'make_fake_pastis', 'make_fake_pastis24']


def fake_pastis_config(num_patches: int = 5,
                       size: int = 48,
                       num_frames: Sequence[int] = (6, 9),
                       classes: Sequence[int] = (1, 2, 3, 4, 5),
                       folds: Optional[Sequence[int]] = None,
                       seed: int = 0,
                       **options) -> SyntheticPASTISConfig:
    """Generator options of the test preset.

    Args:
        num_patches (int): Patches, with IDs ``10000 + i``.
        size (int): Patch side (PASTIS: 128; at least 24).
        num_frames (Sequence[int]): Inclusive range of T per patch.
        classes (Sequence[int]): Crop classes (1..18) that may appear.
        folds (Sequence[int], optional): Fold of each patch; defaults to
            ``i % 5 + 1``.
        seed (int): Random seed.
        **options: Other :class:`SyntheticPASTISConfig` fields, to
            override the preset (e.g. ``atmosphere=True``).

    Returns:
        SyntheticPASTISConfig: The options.
    """
    if folds is None:
        folds = [i % 5 + 1 for i in range(num_patches)]
    preset = dict(
        num_patches=num_patches,
        size=size,
        seed=seed,
        num_tiles=1,
        seq_len=tuple(num_frames),
        crop_classes=tuple(classes),
        folds=tuple(folds),
        # small patches put more fields across the border: void on
        # fields mostly outside keeps to a few percent, as on 128 px
        void_outside=0.2,
        atmosphere=False)
    preset.update(options)
    return SyntheticPASTISConfig.from_kwargs(**preset)


def make_fake_pastis(root: str,
                     num_patches: int = 5,
                     size: int = 48,
                     num_frames: Sequence[int] = (6, 9),
                     classes: Sequence[int] = (1, 2, 3, 4, 5),
                     folds: Optional[Sequence[int]] = None,
                     seed: int = 0,
                     **options) -> str:
    """Write a raw-PASTIS-layout tree (the generator's test preset).

    Args:
        root (str): Output directory (created).
        num_patches (int): Patches, with IDs ``10000 + i``.
        size (int): Patch side (PASTIS: 128; at least 24).
        num_frames (Sequence[int]): Inclusive range of T per patch.
        classes (Sequence[int]): Crop classes (1..18) that may appear.
        folds (Sequence[int], optional): Fold of each patch; defaults to
            ``i % 5 + 1``.
        seed (int): Random seed.
        **options: Other :class:`SyntheticPASTISConfig` fields.

    Returns:
        str: ``root``.
    """
    return make_synthetic_pastis(
        root,
        fake_pastis_config(num_patches, size, num_frames, classes, folds,
                           seed, **options))


def make_fake_pastis24(root: str,
                       label_channels: int = 1,
                       **kwargs) -> str:
    """Write a PASTIS24 tree (via a raw tree in ``<root>/raw``).

    Args:
        root (str): Output directory; the PASTIS24 layout goes here.
        label_channels (int): 1 (Exact layout) or 3 (TSViT release).
        **kwargs: Passed to :func:`make_fake_pastis`.

    Returns:
        str: ``root``.
    """
    raw = make_fake_pastis(osp.join(root, 'raw'), **kwargs)
    convert_pastis_to_pastis24(raw, root, label_channels=label_channels)
    return root


def main(argv=None) -> None:
    """``python -m mmexact.testing.fake_pastis OUT [--pastis24]``."""
    import argparse
    parser = argparse.ArgumentParser(description='Write a tiny fake PASTIS '
                                     'tree (raw layout, or PASTIS24).')
    parser.add_argument('out')
    parser.add_argument('--pastis24', action='store_true')
    parser.add_argument('--num-patches', type=int, default=5)
    parser.add_argument('--size', type=int, default=48)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    make = make_fake_pastis24 if args.pastis24 else make_fake_pastis
    print(make(args.out, num_patches=args.num_patches, size=args.size,
               seed=args.seed))


if __name__ == '__main__':
    main()
