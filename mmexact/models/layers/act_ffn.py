# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

__all__ = ['ActFFN']


class ActFFN(BaseModule):
    """Feed-forward block ``Linear(d, h) -> activation -> Linear(h, d)``.

    The plain composition for any activation of mmcv's registry
    (``build_activation_layer``); :class:`GeluFFN` is the memory-lean
    version for the exact (erf) GELU. Same parameter names (``fc1``,
    ``fc2``) as :class:`GeluFFN`, so checkpoints load into either.

    Args:
        embed_dims (int): d.
        hidden_dims (int): h.
        act_cfg (dict): Activation config, e.g. ``dict(type='ReLU')``.
        drop_rate (float): Dropout after the activation and the output.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 hidden_dims: int,
                 act_cfg: dict,
                 drop_rate: float = 0.,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.act = build_activation_layer(dict(act_cfg))
        self.fc2 = nn.Linear(hidden_dims, embed_dims)
        self.drop = nn.Dropout(drop_rate)

    def forward(self, x: Tensor, norm: Optional[nn.Module] = None) -> Tensor:
        """(..., d) -> (..., d); ``norm`` is applied to x first."""
        h = x if norm is None else norm(x)
        return self.drop(self.fc2(self.drop(self.act(self.fc1(h)))))
