# Copyright (c) mmexact contributors. All rights reserved.
"""tools/run_own_region.py without running the tools: the commands it
starts (the launcher reaches every training and test, theta rule and its
threshold, the configs pointed at the region), and resumption."""
import importlib.util
import json
import os
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _tool():
    spec = importlib.util.spec_from_file_location(
        'run_own_region', osp.join(REPO, 'tools', 'run_own_region.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_launcher_and_theta_reach_the_stages(tmp_path, monkeypatch):
    from mmexact.testing.fake_region import make_fake_region
    out = tmp_path / 'run'
    data = out / 'data'
    make_fake_region(str(data))
    with open(data / 'region.json', 'w') as f:  # what prepare would write
        json.dump(dict(counts=dict(
            train=dict(windows_with_truth=2),
            test=dict(pixels=dict(background=30, crop1=10))),
            warnings=[]), f)
    tool = _tool()
    calls = []

    def fake_run(cmd, nproc=1, **kw):
        calls.append((osp.basename(cmd[0]), list(cmd[1:]), nproc))
        name = osp.basename(cmd[0])
        if name == 'run_exact_pipeline.py':
            os.makedirs(out / 'exact' / 'stage2', exist_ok=True)
            with open(out / 'exact' / 'summary.json', 'w') as f:
                json.dump(dict(stage2_checkpoint='stage2/iter_9.pth',
                               stage2_test_mIoU=20., stage2_test_aAcc=50.,
                               pseudo_label=dict(rule='fixed')), f)
        elif name == 'train.py':
            work = cmd[cmd.index('--work-dir') + 1]
            os.makedirs(work, exist_ok=True)
            open(osp.join(work, 'iter_9.pth'), 'w').close()
        elif name == 'test.py':
            with open(cmd[cmd.index('--metrics-out') + 1], 'w') as f:
                json.dump(dict(mIoU=25., aAcc=55.), f)
        return 0.

    monkeypatch.setattr(tool, 'run_python', fake_run)
    report = tool.main([
        'scene_dir', 'cells.gpkg', '--out-dir', str(out), '--nomenclature',
        'nom.csv', '--column', 'crops', '--parcels', 'p.gpkg',
        '--crop-column', 'code', '--launcher', 'pytorch',
        '--nproc-per-node', '2'])
    names = [c[0] for c in calls]
    # prepare skipped (region.json exists); no parcels file -> no parcel
    # accuracy, but both maps were started
    assert names == ['run_exact_pipeline.py', 'train.py', 'test.py',
                     'infer.py', 'infer.py']
    exact = calls[0][1]
    assert exact[exact.index('--launcher') + 1] == 'pytorch'
    assert exact[exact.index('--nproc-per-node') + 1] == '2'
    assert exact[exact.index('--theta-rule') + 1] == 'fixed'
    assert exact[exact.index('--bg-threshold') + 1] == '0.35'
    # the configs are those written for the region (data_root, classes)
    stage1 = exact[0]
    assert stage1 == str(out / 'configs' /
                         'exact_tsvit_1xb16-20e_own-region-24x24.py')
    from mmengine.config import Config
    cfg = Config.fromfile(stage1)
    assert cfg.train_dataloader.dataset.data_root == str(data)
    assert cfg.model.decode_head.num_classes == 12  # background + 11
    assert cfg.model.backbone.num_tokens == 11
    sup = Config.fromfile(calls[1][1][0])
    assert sup.model.backbone.num_tokens == 12
    # the supervised training and test on 2 processes, the maps on one
    assert [c[2] for c in calls] == [1, 2, 2, 1, 1]
    assert report['exact']['mIoU'] == 20. and \
        report['supervised']['mIoU'] == 25.
    # majority: background, 30 of 40 pixels, 2 classes present
    assert report['majority'] == dict(name='background', aAcc=75.,
                                      mIoU=37.5, num_classes_present=2)
