# Copyright (c) mmexact contributors. All rights reserved.
from .attention import SDPAttention
from .transformer import RESIDUAL_MODES, TransformerEncoder, TransformerLayer

__all__ = [
    'SDPAttention', 'TransformerLayer', 'TransformerEncoder', 'RESIDUAL_MODES'
]
