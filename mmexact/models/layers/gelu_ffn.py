# Copyright (c) mmexact contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

__all__ = ['GeluFFN']


class _LinearGeluLinear(torch.autograd.Function):
    """``fc2(gelu(fc1(x)))`` that saves the pre-activation only.

    A plain autograd graph keeps both ``fc1(x)`` and ``gelu(fc1(x))``
    (2 x tokens x hidden floats per layer); here the GELU output is
    recomputed in backward from the saved pre-activation — the same
    arithmetic, one extra element-wise pass, half the activation memory.
    """

    @staticmethod
    def forward(ctx, x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor,
                b2: Tensor) -> Tensor:
        h = torch.addmm(b1, x, w1.t())
        y = torch.addmm(b2, F.gelu(h), w2.t())
        ctx.save_for_backward(x, h, w1, w2)
        return y

    @staticmethod
    def backward(ctx, grad_y: Tensor):
        x, h, w1, w2 = ctx.saved_tensors
        g = F.gelu(h)
        grad_w2 = grad_y.t() @ g
        del g
        grad_b2 = grad_y.sum(0)
        grad_h = torch.ops.aten.gelu_backward(grad_y @ w2, h)
        grad_w1 = grad_h.t() @ x
        grad_b1 = grad_h.sum(0)
        grad_x = grad_h @ w1
        return grad_x, grad_w1, grad_b1, grad_w2, grad_b2


class GeluFFN(BaseModule):
    """Feed-forward block ``Linear(d, h) -> GELU(erf) -> Linear(h, d)``.

    Without dropout and outside autocast it runs through a fused autograd
    function that stores only the GELU input (see
    :class:`_LinearGeluLinear`); otherwise it is the plain composition.

    Args:
        embed_dims (int): d.
        hidden_dims (int): h.
        drop_rate (float): Dropout after the activation and the output.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 embed_dims: int,
                 hidden_dims: int,
                 drop_rate: float = 0.,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.fc1 = nn.Linear(embed_dims, hidden_dims)
        self.fc2 = nn.Linear(hidden_dims, embed_dims)
        self.drop_rate = drop_rate

    def forward(self, x: Tensor) -> Tensor:
        """(..., d) -> (..., d)."""
        fused = self.drop_rate == 0 and not torch.is_autocast_enabled(
            x.device.type) and torch.is_grad_enabled()
        if not fused:
            h = F.dropout(F.gelu(self.fc1(x)), self.drop_rate, self.training)
            return F.dropout(self.fc2(h), self.drop_rate, self.training)
        y = _LinearGeluLinear.apply(
            x.reshape(-1, x.shape[-1]), self.fc1.weight, self.fc1.bias,
            self.fc2.weight, self.fc2.bias)
        return y.view(*x.shape[:-1], -1)
