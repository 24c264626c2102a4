# Copyright (c) mmexact contributors. All rights reserved.
from .fake_mtlcc import (encode_example, make_fake_mtlcc, write_mtlcc_tile,
                         write_tfrecord)
from .fake_pastis import (fake_pastis_config, make_fake_pastis,
                          make_fake_pastis24)
from .tiny_configs import (TINY_BACKBONE, sits_pipeline, tiny_run_config,
                           tiny_segmentor_cfg, tiny_tsvit_cfg)

__all__ = [
    'make_fake_pastis', 'make_fake_pastis24', 'fake_pastis_config',
    'tiny_tsvit_cfg', 'tiny_segmentor_cfg', 'TINY_BACKBONE', 'sits_pipeline',
    'tiny_run_config', 'make_fake_mtlcc', 'write_mtlcc_tile', 'write_tfrecord',
    'encode_example'
]
