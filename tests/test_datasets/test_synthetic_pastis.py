# Copyright (c) mmexact contributors. All rights reserved.
import datetime
import filecmp
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from mmexact.testing import (fake_pastis_config, make_fake_pastis,
                             sits_pipeline)
from mmexact.datasets import PASTIS24Dataset, PASTISDataset
from mmexact.datasets.readers import dates_to_doy
from mmexact.testing.synthetic import (SyntheticPASTISConfig,
                                        dataset_label_statistics,
                                        make_synthetic_pastis,
                                        window_label_statistics)
from mmexact.testing.synthetic.covers import cover_fractions
from mmexact.testing.synthetic.parcels import make_layout
from mmexact.testing.synthetic.regions import region_of_tile
from mmexact.testing.synthetic.spectra import green_gain, mix_spectra

PIPELINE = sits_pipeline(60)
SEQ_LEN = (33, 61)


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory) -> str:
    """15 patches of 72 x 72 (3 x 3 windows each), raw + PASTIS24."""
    root = str(tmp_path_factory.mktemp('synthetic_pastis'))
    return make_synthetic_pastis(
        root, num_patches=15, size=72, seed=3, seq_len=SEQ_LEN,
        nodata_rate=0.03, pastis24=True)


def _features(root: str) -> list:
    with open(osp.join(root, 'metadata.geojson')) as f:
        return json.load(f)['features']


def _series(root: str, pid: int) -> np.ndarray:
    return np.load(osp.join(root, 'DATA_S2', f'S2_{pid}.npy'))


def _target(root: str, pid: int) -> np.ndarray:
    return np.load(osp.join(root, 'ANNOTATIONS', f'TARGET_{pid}.npy'))


def _files(root: str) -> list:
    return sorted(
        osp.relpath(osp.join(d, f), root) for d, _, fs in os.walk(root)
        for f in fs)


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    kwargs = dict(num_patches=3, size=48, seq_len=(8, 12))
    a = make_synthetic_pastis(str(tmp_path / 'a'), seed=7, **kwargs)
    b = make_synthetic_pastis(str(tmp_path / 'b'), seed=7, num_workers=2,
                              **kwargs)
    c = make_synthetic_pastis(str(tmp_path / 'c'), seed=8, **kwargs)
    files = _files(a)
    assert files == _files(b) == _files(c)
    assert len(files) == 2 * 3 + 3
    for rel in files:  # num_workers does not change a byte
        assert filecmp.cmp(osp.join(a, rel), osp.join(b, rel),
                           shallow=False), rel
    for rel in ('DATA_S2/S2_10000.npy', 'ANNOTATIONS/TARGET_10000.npy',
                'metadata.geojson', 'NORM_S2_patch.json'):
        assert not filecmp.cmp(osp.join(a, rel), osp.join(c, rel),
                               shallow=False), rel


def test_raw_layout(synthetic):
    features = _features(synthetic)
    assert len(features) == 15
    folds = [ft['properties']['Fold'] for ft in features]
    assert sorted(set(folds)) == [1, 2, 3, 4, 5]
    assert max(np.bincount(folds)[1:]) - min(np.bincount(folds)[1:]) <= 1
    lengths = set()
    for ft in features:
        prop = ft['properties']
        pid = prop['ID_PATCH']
        assert isinstance(pid, int) and prop['TILE'].startswith('t')
        assert 0 < prop['Parcel_Cover'] <= 1 and prop['N_Parcel'] > 0
        dates = prop['dates-S2']
        assert list(dates) == [str(k) for k in range(len(dates))]
        days = [datetime.datetime.strptime(str(d), '%Y%m%d')
                for d in dates.values()]
        assert days == sorted(days)
        assert (days[0].year, days[0].month) == (2018, 9)
        assert (days[-1].year, days[-1].month) == (2019, 10)
        img, target = _series(synthetic, pid), _target(synthetic, pid)
        assert img.dtype == np.int16 and img.shape == (len(dates), 10, 72,
                                                       72)
        assert target.dtype == np.uint8 and target.shape == (3, 72, 72)
        assert target[0].max() <= 19
        # channels 1-2: 0 on background, constant inside a parcel
        background = target[0] == 0
        assert not target[1:, background].any()
        for parcel in np.unique(target[1][~background]):
            inside = target[1] == parcel
            assert len(np.unique(target[0][inside])) == 1
            assert len(np.unique(target[2][inside])) == 1
        lengths.add(len(dates))
        assert ft['geometry']['type'] == 'MultiPolygon'
    # T varies across patches, within the configured range
    assert len(lengths) > 3
    assert SEQ_LEN[0] <= min(lengths) and max(lengths) <= SEQ_LEN[1]
    with open(osp.join(synthetic, 'NORM_S2_patch.json')) as f:
        norm = json.load(f)
    assert sorted(norm) == [f'Fold_{k}' for k in range(1, 6)]
    mean, std = (np.array(norm['Fold_1'][k]) for k in ('mean', 'std'))
    assert mean.shape == std.shape == (10, )
    # PASTIS-like magnitudes (reflectance x 10000, clouds included)
    assert 500 < mean[0] < 2500 and 2000 < mean[6] < 4500
    assert (std > 500).all()


def test_repeated_doy_like_pastis(synthetic):
    repeats = 0
    for ft in _features(synthetic):
        doy = dates_to_doy(ft['properties']['dates-S2'].values())
        repeats += len(doy) - len(np.unique(doy))
    assert repeats > 0


def test_pastis_dataset_pipeline(synthetic):
    ds = PASTISDataset(
        data_root=synthetic, folds=(1, 2, 3, 4, 5), pipeline=PIPELINE)
    assert len(ds) == 15 * 9
    for idx in (0, 40, len(ds) - 1):
        out = ds[idx]
        assert out['inputs'].shape == (60, 11, 24, 24)
        sample = out['data_samples']
        assert sample.gt_sem_seg.data.shape == (1, 24, 24)
        assert sample.gt_cls_label.shape == (18, )
    norm = PASTISDataset(
        data_root=synthetic, folds=(2, ), pipeline=[
            dict(type='LoadSITSSample'),
            dict(type='NormalizeSITS',
                 norm_file=osp.join(synthetic, 'NORM_S2_patch.json'),
                 folds=(2, )),
        ])
    assert np.isfinite(norm[0]['img']).all()


def test_pastis24_matches_raw(synthetic):
    p24 = PASTIS24Dataset(
        data_root=osp.join(synthetic, 'pastis24'), folds=(4, ),
        pipeline=PIPELINE)
    raw = PASTISDataset(data_root=synthetic, folds=(4, ), pipeline=PIPELINE)
    assert len(p24) == len(raw) == 3 * 9
    for idx in (0, len(raw) - 1):
        a, b = raw[idx], p24[idx]
        assert a['data_samples'].sample_id == b['data_samples'].sample_id
        assert (a['inputs'] == b['inputs']).all()


def test_void_nodata_and_clouds(synthetic):
    void = nodata = cloudy = partial = 0
    for ft in _features(synthetic):
        pid = ft['properties']['ID_PATCH']
        img = _series(synthetic, pid)
        void += (_target(synthetic, pid)[0] == 19).sum()
        missing = (img == -10000).all(1)
        nodata += missing.all((1, 2)).sum()
        bright = ((img[:, 0] > 2000) & ~missing).mean((1, 2))
        cloudy += (bright > 0.9).sum()
        partial += ((bright > 0.05) & (bright < 0.9)).sum()
        # no-data is all bands or none; other values stay plausible
        assert ((img == -10000).any(1) == missing).all()
        assert img[np.broadcast_to(~missing[:, None], img.shape)].min() \
            > -3000
    assert void > 0 and nodata > 0 and cloudy > 0 and partial > 0


def test_layout_skew_and_window_crossing():
    cfg = SyntheticPASTISConfig(size=128)
    labels, crossing = [], 0
    for i in range(40):
        layout = make_layout(
            np.random.default_rng(i), cfg, region_of_tile(i % 4))
        labels.append(layout.label[layout.pid])
        inst = layout.instance[layout.pid][:120, :120]
        # parcels spanning two horizontally adjacent windows
        for x in range(24, 120, 24):
            left, right = set(inst[:, x - 1].tolist()), set(
                inst[:, x].tolist())
            crossing += len((left & right) - {0})
    stats = window_label_statistics(labels)
    crops = stats['pixel_freq'][1:19]
    present = crops[crops > 0]
    assert crops.max() > 5 * present.min()
    assert (crops < 0.01).sum() >= 3  # some rare classes
    assert crops[[0, 1, 2]].min() > 0.05  # meadow, wheat, corn common
    assert stats['pixel_freq'][0] > 0.15  # background common
    assert 0 < stats['pixel_freq'][19] < 0.1  # some void
    assert stats['labels_per_window'][3:].sum() > 0.1 * stats['num_windows']
    assert crossing > 100


def _ndvi_profiles(kinds, t, doy, n=150, shift=0.):
    rng = np.random.default_rng(0)
    out = {}
    for kind in kinds:
        frac = cover_fractions(kind, rng, n, t, doy, shift)
        gain = np.tile(green_gain(), (n, 1))
        spec = mix_spectra(frac, gain, np.ones(n, np.float32),
                           np.ones(t.size, np.float32))
        ndvi = (spec[..., 6] - spec[..., 2]) / (spec[..., 6] + spec[..., 2])
        out[kind] = ndvi.mean(0)
    return out


def test_phenology_is_class_specific():
    t = np.arange(0, 420, 5.)
    doy = (t + 243) % 365 + 1
    prof = _ndvi_profiles((2, 3, 4, 10, 11, 17, 5, 1), t, doy)

    def dist(a, b):
        return np.sqrt(np.mean((prof[a] - prof[b])**2))

    # distinct crops differ clearly: wheat / corn, wheat / rapeseed
    assert dist(2, 3) > 0.2 and dist(2, 5) > 0.08
    # the winter-cereal group is close, but not identical
    for other in (4, 10, 11, 17):
        assert 0.005 < dist(2, other) < 0.5 * dist(2, 3)
        assert dist(other, 3) > 2 * dist(2, other)
    # winter crops are green in spring, corn in summer
    spring, summer = (t > 200) & (t < 260), (t > 320) & (t < 360)
    assert prof[2][spring].mean() > prof[3][spring].mean() + 0.3
    assert prof[3][summer].mean() > prof[2][summer].mean() + 0.3


def test_generated_profiles_follow_classes(synthetic):
    """Clear-sky NDVI of wheat and corn pixels differ in spring."""
    sums = {2: [0., 0], 3: [0., 0]}
    for ft in _features(synthetic):
        prop = ft['properties']
        img = _series(synthetic, prop['ID_PATCH']).astype(np.float32)
        sem = _target(synthetic, prop['ID_PATCH'])[0]
        doy = dates_to_doy(prop['dates-S2'].values())
        spring = np.flatnonzero((doy > 100) & (doy < 150))
        for c in sums:
            x = img[spring][:, :, sem == c]
            clear = (x[:, 0] < 1500) & (x[:, 0] > -10000)
            ndvi = (x[:, 6] - x[:, 2]) / (x[:, 6] + x[:, 2] + 1e-6)
            sums[c][0] += ndvi[clear].sum()
            sums[c][1] += clear.sum()
    wheat, corn = (s / max(n, 1) for s, n in sums.values())
    assert sums[2][1] > 100 and sums[3][1] > 100
    assert wheat > corn + 0.25


def test_statistics_functions(synthetic):
    sem = np.zeros((48, 48), np.uint8)
    sem[:24, :24] = 2
    sem[:3, 24:26] = 5  # 6 px: above 1 % of 576
    sem[:5, 30] = 7  # 5 px: below
    sem[24:, :] = 19
    stats = window_label_statistics([sem, np.stack([sem] * 3)])
    assert stats['num_windows'] == 8
    assert stats['pixel_counts'][2] == 2 * 576
    assert stats['image_label_counts'][[1, 4, 6]].tolist() == [2, 2, 0]
    assert stats['labels_per_window'][:2].tolist() == [4, 4]
    full = dataset_label_statistics(synthetic)
    assert full['num_windows'] == 15 * 9
    assert np.isclose(full['pixel_freq'].sum(), 1)
    part = dataset_label_statistics(synthetic, folds=(1, ))
    assert part['num_windows'] == 3 * 9


def test_config_validation(tmp_path):
    with pytest.raises(TypeError, match='unknown synthetic PASTIS'):
        make_synthetic_pastis(str(tmp_path), colour='red')
    with pytest.raises(ValueError, match='size'):
        SyntheticPASTISConfig(size=16)
    with pytest.raises(ValueError, match='seq_len'):
        SyntheticPASTISConfig(seq_len=(40, 30))
    with pytest.raises(ValueError, match='folds must give a fold in 1..5 '
                       'for each of the 2 patches'):
        SyntheticPASTISConfig(num_patches=2, folds=(1, ))
    with pytest.raises(ValueError, match='folds'):
        SyntheticPASTISConfig(num_patches=2, folds=(1, 6))


def test_cli(tmp_path, repo_root, capsys):
    import importlib.util
    path = osp.join(repo_root, 'tools', 'dataset_converters',
                    'make_synthetic_pastis.py')
    spec = importlib.util.spec_from_file_location('make_synth', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = str(tmp_path / 'cli')
    module.main([out, '--num-patches', '2', '--size', '48', '--seed', '1',
                 '--min-dates', '8', '--max-dates', '10', '--pastis24',
                 '--stats'])
    assert osp.isfile(osp.join(out, 'DATA_S2', 'S2_20000.npy'))
    assert osp.isfile(osp.join(out, 'pastis24', 'pickle24x24',
                               '10000_3.pickle'))
    text = capsys.readouterr().out
    assert 'wrote 2 patches' in text and 'Soft winter wheat' in text


def test_atmosphere_option_changes_the_sky_only(tmp_path):
    """Same seed with and without the atmosphere: same labels and dates;
    the clear-sky series has no clouds and no no-data, and the frames the
    sky left untouched are identical."""
    kwargs = dict(num_patches=2, size=32, num_tiles=1, seq_len=(8, 10),
                  seed=4, cloud_rate=0.6, nodata_rate=0.2)
    sky = make_synthetic_pastis(str(tmp_path / 'sky'), **kwargs)
    clear = make_synthetic_pastis(str(tmp_path / 'clear'), atmosphere=False,
                                  **kwargs)
    dates = [[ft['properties']['dates-S2'] for ft in _features(root)]
             for root in (sky, clear)]
    assert dates[0] == dates[1]
    same = bright = missing = 0
    for pid in (10000, 10001):
        assert (_target(sky, pid) == _target(clear, pid)).all()
        a, b = _series(sky, pid), _series(clear, pid)
        assert a.shape == b.shape
        assert (b > -10000).all() and (b[:, 0] < 3000).all()
        bright += int((a[:, 0] > 3000).sum())
        missing += int((a == -10000).all(1).all((1, 2)).sum())
        equal = [np.array_equal(a[t], b[t]) for t in range(len(a))]
        same += sum(equal)
        assert not all(equal)
    assert bright > 0 and missing > 0 and same > 0


def test_fake_pastis_is_a_preset_of_the_generator(tmp_path):
    kwargs = dict(num_patches=6, size=48, num_frames=(4, 7), classes=(2, 3),
                  seed=5)
    fake = make_fake_pastis(str(tmp_path / 'fake'), **kwargs)
    gen = make_synthetic_pastis(str(tmp_path / 'gen'),
                                fake_pastis_config(**kwargs))
    files = _files(fake)
    assert files == _files(gen) and len(files) == 2 * 6 + 3
    for rel in files:
        assert filecmp.cmp(osp.join(fake, rel), osp.join(gen, rel),
                           shallow=False), rel
    with open(osp.join(fake, 'SYNTHETIC.json')) as f:
        options = json.load(f)
    assert options['generator'] == 'mmexact.testing.synthetic'
    assert options['config']['atmosphere'] is False
    features = _features(fake)
    # one tile, IDs 10000 + i, folds i % 5 + 1
    assert [ft['properties']['ID_PATCH'] for ft in features] == list(
        range(10000, 10006))
    assert [ft['properties']['Fold'] for ft in features] == [1, 2, 3, 4, 5, 1]
    assert {ft['properties']['TILE'] for ft in features} == {'t30uxv'}
    labels = set()
    for ft in features:
        pid = ft['properties']['ID_PATCH']
        img = _series(fake, pid)
        assert 4 <= img.shape[0] <= 7 and img.shape[1:] == (10, 48, 48)
        assert img.shape[0] == len(ft['properties']['dates-S2'])
        assert (img > -10000).all() and (img[:, 0] < 3000).all()  # clear
        labels |= set(np.unique(_target(fake, pid)[0]).tolist())
    assert {0, 2, 3} <= labels <= {0, 2, 3, 19}
    # explicit folds
    folds = _features(make_fake_pastis(
        str(tmp_path / 'folds'), num_patches=3, folds=(4, 4, 2)))
    assert [ft['properties']['Fold'] for ft in folds] == [4, 4, 2]


@pytest.mark.slow
def test_runtime_package_does_not_import_the_simulator():
    """``import mmexact`` (the registration of every component) and its
    datasets load nothing of mmexact.testing; the generator is no longer a
    datasets module. The probe does see the simulator once the testing
    package is imported."""
    code = (
        'import importlib.util, sys\n'
        'import mmexact, mmexact.datasets\n'
        'print(sorted(m for m in sys.modules\n'
        '             if m.startswith("mmexact.testing")))\n'
        'print(importlib.util.find_spec("mmexact.datasets.synthetic"))\n'
        'import mmexact.testing\n'
        'print("mmexact.testing.synthetic.render" in sys.modules)\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split() == ['[]', 'None', 'True']
