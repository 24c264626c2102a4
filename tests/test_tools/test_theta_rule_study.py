# Copyright (c) mmexact contributors. All rights reserved.
"""tools/analysis_tools/theta_rule_study.py: the comparison of the theta
rules, on hand-made sweep tables (its trainings are not run here)."""
import importlib.util
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        '_tool_theta_rule_study',
        osp.join(REPO, 'tools', 'analysis_tools', 'theta_rule_study.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_compare_looks_up_each_rules_pair():
    tool = _tool()
    grid = [(c, t) for c in ('a/iter_1.pth', 'a/iter_2.pth')
            for t in (0.3, 0.35, 0.4)]
    # pixel truth: mIoU / OA made up per pair
    rows = [dict(checkpoint=c, threshold=t, mIoU=0.1 * k, mIoU_nan=0.2 * k,
                 OA=0.05 * k) for k, (c, t) in enumerate(grid)]
    pixel = dict(rows=rows, meta=dict(checkpoints=['a/iter_1.pth',
                                                   'a/iter_2.pth']),
                 best=dict(oa=dict(checkpoint='a/iter_2.pth', threshold=0.4),
                           miou=dict(checkpoint='a/iter_2.pth',
                                     threshold=0.35)))
    f1 = [0.5, 0.7, 0.6, 0.4, 0.6, 0.6]  # last ckpt: tie 0.35 / 0.4
    labels = dict(
        rows=[dict(checkpoint=c, threshold=t, F1=f)
              for (c, t), f in zip(grid, f1)],
        selection=dict(checkpoint='a/iter_1.pth', threshold=0.35, F1=0.7))
    res = tool.compare(pixel, labels)
    assert res['pixel_oa'] == dict(checkpoint='iter_2.pth', theta=0.4,
                                   mIoU=50.0, mIoU_nan=100.0, OA=25.0)
    assert res['pixel_miou']['theta'] == 0.35
    assert res['image_labels'] == dict(checkpoint='iter_1.pth', theta=0.35,
                                       mIoU=10.0, mIoU_nan=20.0, OA=5.0,
                                       F1=70.0)
    # theta only, on the last checkpoint: the lower of the tied thetas
    assert res['image_labels_last']['theta'] == 0.35
    assert res['image_labels_last']['mIoU'] == 40.0
    assert res['default']['theta'] == 0.35
    table = tool.format_table({0: res})
    assert table.count('\n') == 6  # header, rule, 5 choices
