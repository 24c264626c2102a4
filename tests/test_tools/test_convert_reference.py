# Copyright (c) mmexact contributors. All rights reserved.
"""Conversion of official ``Exact_cls`` weights into mmexact checkpoints.

The reference network is re-implemented below in plain torch from
exact-method.md §3 (no mmexact module is used), consuming the reference
state dict directly, so the equivalence test checks the converter and
mmexact's ``normed_skip`` TSViT + CBCAMHead against the specification.
"""
import os.path as osp
import subprocess
import sys
from collections import OrderedDict
from typing import Dict

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint
from torch import Tensor

from mmexact.models.backbones import TSViT
from mmexact.exact import (convert_exact_reference_checkpoint,
                                       date_column_map,
                                       exact_reference_to_mmexact,
                                       mmexact_to_exact_reference,
                                       reference_date_index)
from mmexact.utils import load_local_checkpoint
from mmseg.registry import MODELS

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'exact', 'exact_tsvit_pastis.py')
K, D, HEADS, MLP, GRID, P, BANDS, T = 18, 128, 4, 512, 12, 2, 10, 60
DEPTHS = dict(temporal_transformer=8, space_transformer=4)
# days whose reference index is doy - 1 (exact-method.md §3.1)
SHIFTED = {13, 26, 52, 59, 104, 105, 118, 119, 183, 208, 209, 210, 211,
           235, 236, 237, 238, 239}
# reference date columns that no day of year reaches
UNREACHED = [13, 26, 52, 59, 105, 119, 183, 211, 239]


# ----------------------------------------------------------------------
# A random state dict with the names and shapes of Exact_cls
def _reference_shapes() -> 'OrderedDict[str, tuple]':
    shapes = OrderedDict([
        ('temporal_token', (1, K, D)),
        ('space_token', (1, 1, D)),
        ('space_pos_embedding', (1, GRID * GRID, D)),
        ('fg_proto', (K, 2, D)),
        ('bg_proto', (K, 2, D)),
        ('to_patch_embedding.1.weight', (D, P * P * BANDS)),
        ('to_patch_embedding.1.bias', (D, )),
        ('to_temporal_embedding_input.weight', (D, 365)),
        ('to_temporal_embedding_input.bias', (D, )),
    ])
    for enc, depth in DEPTHS.items():
        for i in range(depth):
            p = f'{enc}.layers.{i}.'
            shapes.update([
                (p + '0.norm.weight', (D, )),
                (p + '0.norm.bias', (D, )),
                (p + '0.fn.to_qkv.weight', (3 * HEADS * 64, D)),
                (p + '0.fn.to_out.0.weight', (D, HEADS * 64)),
                (p + '0.fn.to_out.0.bias', (D, )),
                (p + '1.norm.weight', (D, )),
                (p + '1.norm.bias', (D, )),
                (p + '1.fn.net.0.weight', (MLP, D)),
                (p + '1.fn.net.0.bias', (MLP, )),
                (p + '1.fn.net.3.weight', (D, MLP)),
                (p + '1.fn.net.3.bias', (D, )),
            ])
        shapes[f'{enc}.norm.weight'] = (D, )
        shapes[f'{enc}.norm.bias'] = (D, )
    shapes.update([
        ('mlp_head.0.weight', (D, )),
        ('mlp_head.0.bias', (D, )),
        ('mlp_head.1.weight', (1, D)),
        ('mlp_head.1.bias', (1, )),
        ('patch_head.weight', (1, D, 3, 3)),
        ('patch_head.bias', (1, )),
        ('taap_module.kernel', (8, 1, 3, 3)),
    ])
    return shapes


def _taap_kernel() -> Tensor:
    kernel = torch.zeros(8, 1, 3, 3)
    for i, (r, c) in enumerate([(0, 0), (0, 1), (0, 2), (1, 0), (1, 2),
                                (2, 0), (2, 1), (2, 2)]):
        kernel[i, 0, r, c] = 1
    return kernel


def _random_reference(seed: int = 0) -> 'OrderedDict[str, Tensor]':
    """Random values on the scale of the reference initialisation."""
    g = torch.Generator().manual_seed(seed)
    out = OrderedDict()
    for name, shape in _reference_shapes().items():
        if name == 'taap_module.kernel':
            out[name] = _taap_kernel()
        elif name.endswith('token') or name == 'space_pos_embedding':
            out[name] = torch.randn(shape, generator=g)
        elif name.endswith('proto'):
            out[name] = 0.02 * torch.randn(shape, generator=g)
        elif 'norm.' in name or name.startswith('mlp_head.0'):
            base = 1. if name.endswith('weight') else 0.
            out[name] = base + 0.1 * torch.randn(shape, generator=g)
        else:  # Linear / Conv: PyTorch's default uniform range
            fan_in = shape[1] * (9 if len(shape) == 4 else 1) \
                if len(shape) > 1 else shape[0]
            bound = fan_in**-0.5
            out[name] = (torch.rand(shape, generator=g) * 2 - 1) * bound
    return out


@pytest.fixture(scope='module')
def reference() -> 'OrderedDict[str, Tensor]':
    return _random_reference(0)


def _build(emulate: bool = False) -> torch.nn.Module:
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.mask_padded_frames = False
    cfg.model.backbone.emulate_date_truncation = emulate
    return MODELS.build(cfg.model).eval()


# ----------------------------------------------------------------------
# Minimal re-implementation of the reference forward (exact-method.md §3)
def _ln(x: Tensor, sd: Dict[str, Tensor], name: str) -> Tensor:
    return F.layer_norm(x, (D, ), sd[name + '.weight'], sd[name + '.bias'])


def _mhsa(u: Tensor, sd: Dict[str, Tensor], name: str) -> Tensor:
    n, length, _ = u.shape
    q, k, v = F.linear(u, sd[name + '.to_qkv.weight']).chunk(3, dim=-1)
    q, k, v = (t.reshape(n, length, HEADS, -1).transpose(1, 2)
               for t in (q, k, v))
    probs = (q @ k.transpose(-2, -1) * q.shape[-1]**-0.5).softmax(dim=-1)
    out = (probs @ v).transpose(1, 2).reshape(n, length, -1)
    return F.linear(out, sd[name + '.to_out.0.weight'],
                    sd[name + '.to_out.0.bias'])


def _encoder(x: Tensor, sd: Dict[str, Tensor], enc: str) -> Tensor:
    for i in range(DEPTHS[enc]):
        p = f'{enc}.layers.{i}.'
        u = _ln(x, sd, p + '0.norm')
        h = u + _mhsa(u, sd, p + '0.fn')  # skip from the normalised input
        f = _ln(h, sd, p + '1.norm')
        f = F.linear(f, sd[p + '1.fn.net.0.weight'], sd[p + '1.fn.net.0.bias'])
        f = F.linear(F.gelu(f), sd[p + '1.fn.net.3.weight'],
                     sd[p + '1.fn.net.3.bias'])
        x = h + f
    return _ln(x, sd, enc + '.norm')


def _reference_forward(sd: Dict[str, Tensor],
                       x: Tensor) -> Dict[str, Tensor]:
    """x (B, T, 11, 24, 24), channel 10 = doy / 365.0001 (0 if padded)."""
    b, t = x.shape[:2]
    n = GRID * GRID
    tau = (x[:, :, -1, 0, 0] * 365.0001).to(torch.int64)
    date = F.linear(
        F.one_hot(tau, 365).float(), sd['to_temporal_embedding_input.weight'],
        sd['to_temporal_embedding_input.bias'])  # (B, T, d)
    patches = x[:, :, :-1].reshape(b, t, BANDS, GRID, P, GRID, P)
    patches = patches.permute(0, 3, 5, 1, 4, 6, 2).reshape(b, n, t, -1)
    z = F.linear(patches, sd['to_patch_embedding.1.weight'],
                 sd['to_patch_embedding.1.bias']) + date[:, None]
    seq = torch.cat(
        [sd['temporal_token'].expand(b * n, -1, -1),
         z.reshape(b * n, t, D)], dim=1)
    out_t = _encoder(seq, sd, 'temporal_transformer')
    cls_t = out_t[:, :K].reshape(b, n, K, D)

    def patch_logits(maps: Tensor) -> Tensor:  # (B * K, d, 12, 12)
        a = F.conv2d(maps, sd['patch_head.weight'], sd['patch_head.bias'],
                     padding=1)
        return a.reshape(b, K, GRID, GRID).mean(dim=(2, 3))

    temporal = patch_logits(
        cls_t.permute(0, 2, 3, 1).reshape(b * K, D, GRID, GRID))
    s = cls_t.permute(0, 2, 1, 3).reshape(b * K, n, D)
    s = s + sd['space_pos_embedding']
    s = torch.cat([sd['space_token'].expand(b * K, -1, -1), s], dim=1)
    out_s = _encoder(s, sd, 'space_transformer')
    cls = F.linear(
        _ln(out_s[:, 0], sd, 'mlp_head.0'), sd['mlp_head.1.weight'],
        sd['mlp_head.1.bias']).reshape(b, K)
    spatial = patch_logits(out_s[:, 1:].reshape(b * K, GRID, GRID,
                                                D).permute(0, 3, 1, 2))
    return dict(cls_logits=cls, spatial_logits=spatial,
                temporal_logits=temporal)


def _sample_doys() -> Tensor:
    """(2, 60) int days of year: 40 and 52 real frames, zero padded."""
    g = torch.Generator().manual_seed(1)
    doys = torch.zeros(2, T, dtype=torch.long)
    special = [1, 13, 26, 59, 104, 105, 183, 211, 239, 364]
    for i, valid in enumerate((40, 52)):
        rest = torch.randint(1, 365, (valid - len(special), ), generator=g)
        days = torch.cat([torch.tensor(special), rest]).sort()[0]
        doys[i, :valid] = days
    return doys


@pytest.fixture(scope='module')
def inputs():
    doys = _sample_doys()
    g = torch.Generator().manual_seed(2)
    bands = torch.randn(2, T, BANDS, 24, 24, generator=g)
    bands = bands * (doys > 0)[..., None, None, None]
    plane = torch.ones(1, 1, 1, 24, 24)
    ref_date = doys.to(torch.float32) / 365.0001  # the reference pipeline
    ref_x = torch.cat([bands, ref_date[..., None, None, None] * plane], 2)
    mm_x = torch.cat([bands, doys.float()[..., None, None, None] * plane], 2)
    return ref_x, mm_x, doys


@pytest.fixture(scope='module')
def reference_logits(reference, inputs):
    with torch.no_grad():
        return _reference_forward(reference, inputs[0])


# ----------------------------------------------------------------------
def test_reference_date_index():
    days = torch.arange(1, 366)
    tau = reference_date_index(days)
    expected = torch.tensor([d - 1 if d in SHIFTED else d for d in range(
        1, 366)])
    assert torch.equal(tau, expected)
    # the spec's per-day scalar computation gives the same indices
    scalar = [int((torch.tensor(d, dtype=torch.float32) / 365.0001 *
                   365.0001).long()) for d in range(367)]
    assert reference_date_index(torch.arange(367)).tolist() == scalar
    cmap = date_column_map(False)
    assert cmap.shape == (366, )
    assert cmap[[0, 1, 12, 13, 14, 59, 60, 105, 364, 365]].tolist() == [
        0, 1, 12, 12, 14, 58, 60, 104, 364, 364]
    emulated = date_column_map(True)
    assert emulated[:365].tolist() == list(range(365))
    assert emulated[365] == 364
    unreached = sorted(set(range(365)) - set(cmap.tolist()))
    assert unreached == UNREACHED
    assert sorted(set(emulated.tolist())) == list(range(365))
    # TSViT's emulation (on the CPU) yields the same indices, clamped to 365
    tsvit = TSViT(embed_dims=8, num_heads=1, head_dims=8, ffn_dims=8,
                  temporal_depth=1, spatial_depth=1,
                  emulate_date_truncation=True)
    idx = tsvit.date_index(torch.arange(367).float()[None])[0]
    assert torch.equal(idx, reference_date_index(torch.arange(367)).clamp(
        max=365))


@pytest.mark.parametrize('emulate', [False, True])
def test_convert_load_and_round_trip(reference, emulate):
    # 152 entries: 151 parameters (3,245,314 values, exact-method.md §3.4)
    # and the fixed TAAP buffer (72 values)
    assert len(reference) == 152
    assert sum(v.numel() for k, v in reference.items()
               if k != 'taap_module.kernel') == 3_245_314
    assert sum(v.numel() for v in reference.values()) == 3_245_314 + 72
    ckpt = convert_exact_reference_checkpoint(reference, emulate)
    sd = ckpt['state_dict']
    assert len(sd) == 151
    assert sum(v.numel() for v in sd.values()) == 3_245_314 + 128

    model = _build(emulate)
    target = model.state_dict()
    assert sorted(sd) == sorted(target)
    for key, value in target.items():
        assert sd[key].shape == value.shape, key
    res = model.load_state_dict(sd, strict=True)
    assert not res.missing_keys and not res.unexpected_keys
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], sd[k]) for k in sd)

    # spot checks of the renaming
    assert torch.equal(loaded['backbone.temporal_encoder.layers.7.attn.'
                            'qkv.weight'],
                       reference['temporal_transformer.layers.7.0.fn.'
                                 'to_qkv.weight'])
    assert torch.equal(loaded['backbone.spatial_encoder.layers.3.ffn.'
                              'fc2.bias'],
                       reference['space_transformer.layers.3.1.fn.net.3.'
                                 'bias'])
    assert torch.equal(loaded['decode_head.cls_fc.weight'],
                       reference['mlp_head.1.weight'])
    assert torch.equal(loaded['decode_head.prototypes.bg'],
                       reference['bg_proto'])
    ref_w = reference['to_temporal_embedding_input.weight']
    mm_w = loaded['backbone.date_embed.weight']
    pairs = [(0, 0), (1, 1), (13, 13), (14, 14), (59, 59), (364, 364),
             (365, 364)] if emulate else [(0, 0), (1, 1), (13, 12),
                                          (14, 14), (59, 58), (60, 60),
                                          (105, 104), (364, 364),
                                          (365, 364)]
    for mm_col, ref_col in pairs:
        assert torch.equal(mm_w[:, mm_col], ref_w[:, ref_col])

    # round trips: from the checkpoint and from the loaded model
    for back in (mmexact_to_exact_reference(ckpt),
                 mmexact_to_exact_reference(loaded, meta=ckpt['meta'])):
        assert list(back) == list(reference)
        for key, value in reference.items():
            assert back[key].dtype == value.dtype, key
            assert torch.equal(back[key], value), key

    # without the meta only the columns no day reaches are lost
    bare = mmexact_to_exact_reference(
        loaded, emulate_date_truncation=emulate)
    bare_w = bare['to_temporal_embedding_input.weight']
    lost = [] if emulate else UNREACHED
    kept = [c for c in range(365) if c not in lost]
    assert torch.equal(bare_w[:, kept], ref_w[:, kept])
    assert torch.equal(bare_w[:, lost], mm_w[:, lost])
    if lost:
        assert not torch.equal(bare_w[:, lost], ref_w[:, lost])


def test_mmengine_loading(reference, tmp_path):
    ckpt = convert_exact_reference_checkpoint(reference, source='ref.pth')
    path = str(tmp_path / 'exact_converted.pth')
    torch.save(ckpt, path)
    # mmexact's loader is weights_only: only tensors, str and int stored
    raw = load_local_checkpoint(path)
    assert set(raw) == {'state_dict', 'meta'}
    assert all(isinstance(v, (Tensor, str, int)) for v in raw['meta'].values())
    assert raw['meta']['emulate_date_truncation'] == 0
    assert raw['meta']['source'] == 'ref.pth'
    assert raw['meta']['reference_unreached_date_columns'].tolist() == \
        UNREACHED

    model = _build()
    load_checkpoint(model, path, map_location='cpu', strict=True)
    expected = ckpt['state_dict']
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in expected.items())

    # `load_from`, as used by tools/train.py and tools/test.py
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.mask_padded_frames = False
    runner = Runner(
        model=cfg.model,
        work_dir=str(tmp_path / 'work'),
        load_from=path,
        default_scope='mmseg',
        env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo')),
        log_level='WARNING')
    runner.load_or_resume()
    loaded = runner.model.state_dict()
    assert set(loaded) == set(expected)
    assert all(torch.equal(loaded[k], v) for k, v in expected.items())


def test_input_variants_and_errors(reference):
    expected = exact_reference_to_mmexact(reference)
    wrapped = {'state_dict': OrderedDict(
        ('module.' + k, v) for k, v in reference.items())}
    got = exact_reference_to_mmexact(wrapped)
    assert list(got) == list(expected)
    assert all(torch.equal(got[k], expected[k]) for k in expected)
    # the TAAP buffer is optional
    no_taap = OrderedDict(reference)
    no_taap.pop('taap_module.kernel')
    assert torch.equal(
        exact_reference_to_mmexact(no_taap)['backbone.date_embed.weight'],
        expected['backbone.date_embed.weight'])
    broken = OrderedDict(reference)
    broken.pop('space_transformer.layers.2.0.fn.to_qkv.weight')
    broken['head.weight'] = torch.zeros(1)
    with pytest.raises(KeyError, match='space_transformer.layers.2.0.fn'):
        exact_reference_to_mmexact(broken)
    wide = OrderedDict(reference)
    wide['to_temporal_embedding_input.weight'] = torch.zeros(D, 366)
    with pytest.raises(ValueError, match='365'):
        exact_reference_to_mmexact(wide)


@pytest.mark.parametrize('emulate', [False, True])
def test_outputs_match_reference(reference, inputs, reference_logits,
                                 emulate):
    ref_out = reference_logits
    for value in ref_out.values():
        assert value.shape == (2, K)
        assert value.std() > 0.05  # non-degenerate logits
    model = _build(emulate)
    model.load_state_dict(
        convert_exact_reference_checkpoint(reference, emulate)['state_dict'])
    with torch.no_grad():
        out = model.decode_head.forward(model.extract_feat(inputs[1]))
    for key, value in ref_out.items():
        torch.testing.assert_close(out[key], value, atol=1e-4, rtol=0)

    if not emulate:
        # the test is sensitive to the date mapping: copying columns one
        # to one (ignoring the reference truncation) changes the logits
        naive = exact_reference_to_mmexact(reference, True)
        model.load_state_dict(naive)
        with torch.no_grad():
            wrong = model.decode_head.forward(model.extract_feat(inputs[1]))
        for key, value in ref_out.items():
            assert (wrong[key] - value).abs().max() > 1e-4, key


def test_cli(reference, tmp_path):
    src = str(tmp_path / 'ref.pth')
    dst = str(tmp_path / 'out' / 'exact_mmexact.pth')
    torch.save(reference, src)
    proc = subprocess.run(
        [sys.executable, 'tools/model_converters/exact2mmexact.py', src, dst],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert 'converted 152 reference tensors into 151' in proc.stdout
    model = _build()
    ckpt = load_checkpoint(model, dst, map_location='cpu', strict=True)
    assert ckpt['meta']['source'] == 'ref.pth'
    expected = exact_reference_to_mmexact(reference)
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in expected.items())
