# Copyright (c) mmexact contributors. All rights reserved.
from .act_ffn import ActFFN
from .attention import SDPAttention
from .gelu_ffn import GeluFFN
from .transformer import RESIDUAL_MODES, TransformerEncoder, TransformerLayer

__all__ = [
    'SDPAttention', 'GeluFFN', 'TransformerLayer', 'TransformerEncoder',
    'RESIDUAL_MODES', 'ActFFN'
]
