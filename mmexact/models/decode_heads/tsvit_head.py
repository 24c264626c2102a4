# Copyright (c) mmexact contributors. All rights reserved.
from typing import List, Optional, Tuple

from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS

__all__ = ['TSViTHead']


@MODELS.register_module()
class TSViTHead(BaseDecodeHead):
    """TSViT segmentation head: per-class token -> P*P pixel logits.

    Every (class k, patch n) token of the spatial encoder is mapped by a
    shared ``LayerNorm -> Linear(d -> P*P)`` to the logits of class k on the
    P x P pixels of patch n, and the patches are put back on the pixel grid.

    ``legacy_unpatchify`` (reference switch, exact-method.md §8.1 and
    DeepSatModels issue #22): True reproduces the published TSViT / Exact
    code, which flattens the (N, P*P) logits and reshapes them straight to
    (H, W) so that token n writes a 1 x P*P strip at row ``n // (W/(P*P))``
    instead of its own patch; the network learns to route information
    around this. False (corrected variant) writes each patch to its own
    location. Default True, for reproduction of the reference.

    Args:
        in_channels (int): Token width d.
        num_classes (int): Classes K (= the backbone's ``num_tokens``).
        patch_size (int): Patch size P. Defaults to 2.
        legacy_unpatchify (bool): See above. Defaults to True.
        norm_cfg (dict): Norm before the linear layer.
        **kwargs: Passed to :class:`BaseDecodeHead` (``loss_decode``,
            ``ignore_index``, ...).

    Inputs: a tuple whose ``in_index`` entry is (B, K, d, h, w).
    Output: logits (B, K, h*P, w*P).
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: int,
                 patch_size: int = 2,
                 legacy_unpatchify: bool = True,
                 norm_cfg: dict = dict(type='LN'),
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        kwargs.setdefault('channels', in_channels)
        kwargs.setdefault('dropout_ratio', 0.)
        super().__init__(
            in_channels=in_channels,
            num_classes=num_classes,
            init_cfg=init_cfg,
            **kwargs)
        self.conv_seg = None  # replaced by the token-wise linear layer
        self.patch_size = patch_size
        self.legacy_unpatchify = legacy_unpatchify
        self.norm = build_norm_layer(norm_cfg, in_channels)[1]
        self.fc = nn.Linear(in_channels, patch_size * patch_size)

    def forward(self, inputs: Tuple[Tensor]) -> Tensor:
        x = self._transform_inputs(inputs)  # (B, K, d, h, w)
        if x.dim() != 5 or x.shape[1] != self.num_classes:
            raise ValueError(
                'TSViTHead expects (B, num_classes, d, h, w) features '
                f'(backbone out_type="tokens"), got {tuple(x.shape)}')
        b, k, d, h, w = x.shape
        p = self.patch_size
        logits = self.fc(self.norm(x.permute(0, 1, 3, 4, 2)))  # (B,K,h,w,P²)
        if self.legacy_unpatchify:
            return logits.reshape(b, k, h * p, w * p)
        logits = logits.view(b, k, h, w, p, p).permute(0, 1, 2, 4, 3, 5)
        return logits.reshape(b, k, h * p, w * p)

    def _transform_inputs(self, inputs: List[Tensor]) -> Tensor:
        return inputs[self.in_index]
