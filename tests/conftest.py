# Copyright (c) mmexact contributors. All rights reserved.
import os
import os.path as osp

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
REAL = osp.join(osp.dirname(REPO), 'shared', 'data', 'real')

# two threads on one process; one per worker when pytest-xdist runs
# several side by side (make test runs the e2e tests so)
THREADS = 1 if os.environ.get('PYTEST_XDIST_WORKER') else 2
torch.set_num_threads(THREADS)


def _real_data(*parts: str) -> str:
    path = osp.join(REAL, *parts)
    if not osp.exists(path):
        pytest.skip(f'real sample data not available ({path} is absent)')
    return path


@pytest.fixture(scope='session')
def real_data():
    """Function giving a path inside ``../shared/data/real`` (or skipping)."""
    return _real_data


@pytest.fixture(scope='session', autouse=True)
def _mmseg_scope():
    from mmengine.registry import init_default_scope

    import mmexact  # noqa: F401
    init_default_scope('mmseg')


@pytest.fixture(scope='session')
def fake_pastis24(tmp_path_factory) -> str:
    from mmexact.testing import make_fake_pastis24
    root = str(tmp_path_factory.mktemp('pastis24'))
    return make_fake_pastis24(root, num_patches=5, size=48, seed=0)


@pytest.fixture(scope='session')
def fake_pastis(tmp_path_factory) -> str:
    from mmexact.testing import make_fake_pastis
    root = str(tmp_path_factory.mktemp('pastis'))
    return make_fake_pastis(root, num_patches=5, size=48, seed=1)


@pytest.fixture
def repo_root() -> str:
    return REPO


os.environ.setdefault('OMP_NUM_THREADS', str(THREADS))


def pytest_collection_modifyitems(config, items):
    """The longest test (the demo miniature, 3 minutes) first, so that
    parallel workers end together."""
    items.sort(key=lambda item: 'test_demo_mini.py' not in item.nodeid)
