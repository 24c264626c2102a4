# Copyright (c) mmexact contributors. All rights reserved.
import time

from mmengine.config import Config

from mmseg.registry import VISUALIZERS

__all__ = ['build_sits_visualizer']


def build_sits_visualizer(cfg: Config, save_dir: str, name: str = 'sits'):
    """Build the config's visualizer, a SITS one, writing under ``save_dir``.

    mmseg's ``SegLocalVisualizer`` (the default of mmseg configs) becomes
    ``SITSLocalVisualizer`` with the same arguments, so the configured
    ``vis_backends`` receive the images. A config without a visualizer
    gets a Local backend.

    Args:
        cfg (Config): The config.
        save_dir (str): Folder of the visualizer's backends.
        name (str): Prefix of the instance name (made unique, since
            mmengine keeps every visualizer instance by name).

    Returns:
        The visualizer.

    Raises:
        TypeError: The configured visualizer cannot draw SITS samples.
    """
    vis_cfg = dict(cfg.get('visualizer') or dict(
        vis_backends=[dict(type='LocalVisBackend')]))
    if vis_cfg.get('type', 'SegLocalVisualizer') == 'SegLocalVisualizer':
        vis_cfg['type'] = 'SITSLocalVisualizer'  # same arguments
    vis_cfg.update(save_dir=save_dir, name=f'{name}_{time.time_ns()}')
    visualizer = VISUALIZERS.build(vis_cfg)
    if not hasattr(visualizer, 'draw_sits_sample'):
        raise TypeError(f'{vis_cfg["type"]} cannot draw SITS samples: use '
                        "visualizer=dict(type='SITSLocalVisualizer', ...)")
    return visualizer
