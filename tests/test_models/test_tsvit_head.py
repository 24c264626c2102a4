# Copyright (c) mmexact contributors. All rights reserved.
import pytest
import torch

from mmexact.models import TSViTHead


class _Const(torch.nn.Module):

    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return self.value


def _head(legacy):
    head = TSViTHead(in_channels=4, num_classes=1, patch_size=2,
                     legacy_unpatchify=legacy)
    # make the head the identity on "token id": LN is bypassed below
    return head


def _patch_logits(h=2, w=2):
    # token n = (i, j) emits logits [10n, 10n+1, 10n+2, 10n+3]
    n = torch.arange(h * w).float()
    return (n[:, None] * 10 + torch.arange(4)).view(1, 1, h, w, 4)


def test_unpatchify_layouts():
    for legacy, expected in [
        (False, [[0, 1, 10, 11], [2, 3, 12, 13], [20, 21, 30, 31],
                 [22, 23, 32, 33]]),
        (True, [[0, 1, 2, 3], [10, 11, 12, 13], [20, 21, 22, 23],
                [30, 31, 32, 33]]),
    ]:
        head = _head(legacy)
        logits = _patch_logits()
        head.fc = _Const(logits)
        head.norm = torch.nn.Identity()
        out = head([torch.zeros(1, 1, 4, 2, 2)])
        assert out.shape == (1, 1, 4, 4)
        assert out[0, 0].tolist() == expected


def test_head_shape_and_checks():
    head = TSViTHead(in_channels=8, num_classes=3)
    out = head([torch.randn(2, 3, 8, 12, 12)])
    assert out.shape == (2, 3, 24, 24)
    with pytest.raises(ValueError, match='expects \\(B, num_classes'):
        head([torch.randn(2, 4, 8, 12, 12)])
    head.init_weights()  # no conv_seg: must not fail
