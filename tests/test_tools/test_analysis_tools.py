# Copyright (c) mmexact contributors. All rights reserved.
"""tools/analysis_tools: browse_dataset, confusion_matrix, get_flops,
analyze_logs on small generated data, with hand-computed values."""
import importlib.util
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmexact.testing import sits_pipeline, tiny_segmentor_cfg
from mmseg.registry import DATASETS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool(name):
    folder = 'misc' if name == 'browse_dataset' else 'analysis_tools'
    path = osp.join(REPO, 'tools', folder, f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_analysis_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CFG = """
default_scope = 'mmseg'
model = {model!r}
loader = dict(batch_size=2, num_workers=0,
              sampler=dict(type='DefaultSampler', shuffle=False))
train_dataloader = dict(**loader, dataset=dict(
    type='PASTIS24Dataset', data_root={root!r}, folds=(1, ),
    pipeline={pipeline!r}))
test_dataloader = dict(**loader, dataset=dict(
    type='PASTIS24Dataset', data_root={root!r}, folds=(5, ),
    pipeline={pipeline!r}))
visualizer = dict(type='SITSLocalVisualizer',
                  vis_backends=[dict(type='LocalVisBackend')])
"""


@pytest.fixture(scope='module')
def cfg_path(tmp_path_factory, fake_pastis24):
    path = tmp_path_factory.mktemp('analysis') / 'tiny.py'
    path.write_text(
        CFG.format(model=tiny_segmentor_cfg(), root=fake_pastis24,
                   pipeline=sits_pipeline(12)))
    return str(path)


def _ids(cfg_path, split):
    dataset = DATASETS.build(Config.fromfile(cfg_path)[
        f'{split}_dataloader'].dataset)
    return dataset, [dataset.get_data_info(i)['sample_id']
                     for i in range(len(dataset))]


def test_browse_dataset(cfg_path, tmp_path):
    out = tmp_path / 'browse'
    count = _tool('browse_dataset').main([
        cfg_path, '--output-dir', str(out), '--frames', '0', '3',
        '--profile-pixel', '5', '6', '--max-samples', '3'
    ])
    _, ids = _ids(cfg_path, 'train')
    pngs = sorted((out / 'vis_data' / 'vis_image').glob('*.png'))
    assert count == 3
    assert [p.name for p in pngs] == sorted(f'{i}_0.png' for i in ids[:3])
    for p in pngs:
        # RGB of 2 dates | labels | temporal profile (2 x 192 wide)
        assert np.array(Image.open(p)).shape == (192, 3 * 192 + 384 + 12, 3)


def test_confusion_matrix(cfg_path, tmp_path):
    dataset, ids = _ids(cfg_path, 'test')
    preds = tmp_path / 'preds'
    preds.mkdir()
    expected = np.zeros((19, 19), np.int64)
    for i, sid in enumerate(ids):
        gt = dataset[i]['data_samples'].gt_sem_seg.data[0].numpy()
        # window 0 predicted all background, the others perfectly
        pred = np.zeros_like(gt) if i == 0 else np.where(gt == 255, 7, gt)
        Image.fromarray(pred.astype(np.uint8)).save(preds / f'{sid}.png')
        for g, p in zip(gt.ravel(), pred.ravel()):
            if g != 255:
                expected[g, p] += 1
    out = tmp_path / 'cm'
    matrix = _tool('confusion_matrix').main(
        [cfg_path, str(preds), str(out), '--include-values'])
    np.testing.assert_array_equal(matrix, expected)
    assert expected.sum() > 0 and (expected[:, 0] > 0).sum() > 1
    with open(out / 'confusion_matrix.json') as f:
        saved = json.load(f)
    assert saved['matrix'] == expected.tolist()
    assert saved['classes'][1] == 'Meadow'
    assert Image.open(out / 'confusion_matrix.png').size[0] > 500

    (preds / f'{ids[2]}.png').unlink()
    with pytest.raises(FileNotFoundError, match=f'{ids[2]}.png'):
        _tool('confusion_matrix').main([cfg_path, str(preds), str(out)])
    Image.fromarray(np.full((24, 24), 30, np.uint8)).save(
        preds / f'{ids[2]}.png')
    with pytest.raises(ValueError, match=r'values \[30\] outside 0..18'):
        _tool('confusion_matrix').main([cfg_path, str(preds), str(out)])


def test_get_flops_counts_linear_and_attention(cfg_path, capsys):
    """Tiny TSViT (d 16, 2 heads x 8, FFN 32, 1 + 1 layers, K 19, 12 x 12
    patches of 2 x 2 x 10 values) on T = 5 frames, multiply-adds:

    - linear: patch embedding 720 tokens x 40 x 16 = 460,800; per layer
      (q/k/v 16->48, out 16->16, FFN 16->32->16: 2,048 per token) the
      temporal layer on 144 x (19 + 5) = 3,456 tokens, the spatial one on
      19 x 144 = 2,736 tokens: 12,681,216; head 2,736 x 16 x 4 = 175,104;
      total 13,317,120;
    - attention (q.k and attn.v, 2 x 8 each): temporal 144 x 2 heads x
      24 x 24 x 16 = 2,654,208, spatial 19 x 2 x 144 x 144 x 16 =
      12,607,488; total 15,261,696;
    - layer norms (mmengine: 5 per element with an affine transform):
      temporal 3 x 55,296 elements (2 in the layer, the final one), spatial
      3 x 43,776, head 43,776: 5 x 340,992 = 1,704,960.
    """
    result = _tool('get_flops').main([cfg_path, '--shape', '5', '24', '24',
                                      '--table'])
    ops = result['by_operator']
    assert ops['linear'] == 13_317_120
    assert ops['scaled_dot_product_attention'] == 15_261_696
    assert ops['layer_norm'] == 1_704_960
    assert set(ops) == {'linear', 'scaled_dot_product_attention',
                        'layer_norm'}
    assert result['flops'] == 30_283_776
    # nothing hidden inside the fused autograd functions
    assert not any('PythonOp' in op for op in result['unsupported'])
    model_params = sum(
        p.numel() for p in
        __import__('mmseg.registry', fromlist=['MODELS']).MODELS.build(
            tiny_segmentor_cfg()).parameters())
    assert result['params'] == model_params
    assert 'Flops: 30.284M' in capsys.readouterr().out


def test_get_flops_reference_parameter_count():
    """Exact's TSViT segmentation network: 1,657,476 parameters (§8.1)."""
    result = _tool('get_flops').main([
        osp.join(REPO, 'configs', '_base_', 'models', 'tsvit_seg.py'),
        '--shape', '2', '24', '24'
    ])
    assert result['params'] == 1_657_476


def _write_log(path):
    lines = []
    times = [0.5, 0.25, 0.75, 1.0]
    for it, (t, loss) in enumerate(zip(times, [2.0, 1.5, 1.2, 1.0]), 1):
        lines.append(dict(lr=0.001, loss=loss, time=t, data_time=0.1,
                          iter=it, memory=10, step=it))
        if it % 2 == 0:
            lines.append(dict(mIoU=10.0 * it, aAcc=50.0, data_time=0.1,
                              time=0.2, step=it))
    run = path / '20260101_000000' / 'vis_data'
    run.mkdir(parents=True)
    with open(run / 'scalars.json', 'w') as f:
        f.write('\n'.join(json.dumps(line) for line in lines) + '\n')
    return run / 'scalars.json'


def test_analyze_logs(tmp_path, capsys):
    log = _write_log(tmp_path)
    tool = _tool('analyze_logs')
    # a work directory resolves to its latest run's scalars.json
    (train_val, ) = tool.main(['cal_train_time', str(tmp_path)])
    assert [e['loss'] for e in train_val['train']] == [2.0, 1.5, 1.2, 1.0]
    assert [e['mIoU'] for e in train_val['val']] == [20.0, 40.0]
    # mean of 0.5, 0.25, 0.75, 1.0
    assert 'average iter time: 0.6250 s/iter' in capsys.readouterr().out

    out = tmp_path / 'curves.png'
    tool.main(['plot_curve', str(log), '--keys', 'loss', 'mIoU', '--out',
               str(out), '--window-size', '8*5'])
    assert Image.open(out).size == (800, 500)
    with pytest.raises(ValueError, match='Invalid key "bogus"'):
        tool.main(['plot_curve', str(log), '--keys', 'bogus', '--out',
                   str(out)])
    with pytest.raises(FileNotFoundError, match='no JSON log'):
        tool.main(['cal_train_time', str(tmp_path / 'missing')])
