# Copyright (c) mmexact contributors. All rights reserved.
"""The generic SITS core imports nothing Exact-specific, and no import
runs from a lower layer of the package up to a higher one.

Exact-specific: the package :mod:`mmexact.exact` (class prototypes, the
clue contrastive and refinement consistency losses, the CB-CAM head, the
reference-checkpoint converter). Generic: every other module of the
package but the test helpers (:mod:`mmexact.testing`) and the package file
(which imports everything, Exact included).
"""
import ast
import os
import os.path as osp
import subprocess
import sys
from typing import Dict, List, Set

import pytest

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PKG = osp.join(REPO, 'mmexact')

EXACT = ('mmexact.exact', )
NOT_GENERIC = EXACT + ('mmexact.testing', )
# Layers, bottom to top: a module imports modules of its own layer or of
# lower ones only. Every module of the package has a layer; the package
# file ``mmexact/__init__.py`` (it imports everything) is the top.
LAYERS = (
    ('mmexact.structures', 'mmexact.utils', 'mmexact.version'),
    ('mmexact.datasets', 'mmexact.models', 'mmexact.evaluation',
     'mmexact.visualization', 'mmexact.geo'),
    ('mmexact.engine', ),
    ('mmexact.apis', ),
    ('mmexact.exact', ),
    ('mmexact.testing', 'mmexact'),
)


def _module_files() -> Dict[str, str]:
    """Module name -> file, for every module of the package."""
    out = {}
    for root, _, files in os.walk(PKG):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(root, name)
            rel = osp.relpath(path, REPO)[:-3].split(os.sep)
            if rel[-1] == '__init__':
                rel = rel[:-1]
            out['.'.join(rel)] = path
    return out


def _imports(name: str, path: str, modules: Dict[str, str]) -> Set[str]:
    """mmexact modules imported by one file (relative imports resolved)."""
    is_pkg = path.endswith('__init__.py')
    package = name if is_pkg else name.rsplit('.', 1)[0]
    deps = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - (node.level - 1)]
                mod = '.'.join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            targets = [mod] + [f'{mod}.{a.name}' for a in node.names]
        else:
            continue
        deps.update(t for t in targets if t in modules)
    return deps


def _closure(starts, modules):
    seen, todo, parent = set(), list(starts), {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for dep in _imports(name, modules[name], modules):
            if dep not in seen:
                parent.setdefault(dep, name)
                todo.append(dep)
    return seen, parent


def _within(name: str, packages) -> bool:
    return any(name == e or name.startswith(e + '.') for e in packages)


def _is_exact(name: str) -> bool:
    return _within(name, EXACT)


def _generic(modules) -> List[str]:
    return sorted(m for m in modules
                  if m != 'mmexact' and not _within(m, NOT_GENERIC))


def _layer(name: str) -> int:
    """Index in :data:`LAYERS` of a module (-1: none)."""
    for i, layer in enumerate(LAYERS):
        for top in layer:
            if name == top or (top != 'mmexact'
                               and name.startswith(top + '.')):
                return i
    return -1


def _graph(modules: Dict[str, str]) -> Dict[str, Set[str]]:
    """Module name -> the mmexact modules it imports."""
    return {name: _imports(name, path, modules)
            for name, path in modules.items()}


def _upward_edges(graph: Dict[str, Set[str]]) -> List[str]:
    """Every import of a higher layer, as ``'a (layer i) -> b (layer j)'``."""
    bad = []
    for name, deps in sorted(graph.items()):
        for dep in sorted(deps):
            if _layer(dep) > _layer(name):
                bad.append(f'{name} (layer {_layer(name)}) -> {dep} '
                           f'(layer {_layer(dep)})')
    return bad


def test_generic_import_graph_has_no_exact_module():
    modules = _module_files()
    starts = _generic(modules)
    for name in ('mmexact.models.backbones.utae',
                 'mmexact.datasets.transforms.loading',
                 'mmexact.models.decode_heads.sits_cam_head',
                 'mmexact.apis.sits_inferencer', 'mmexact.engine'):
        assert name in starts
    reached, parent = _closure(starts, modules)
    bad = sorted(m for m in reached if _is_exact(m) or m == 'mmexact')

    def chain(m):
        out = [m]
        while out[-1] in parent:
            out.append(parent[out[-1]])
        return ' <- '.join(out)

    assert not bad, '\n'.join(chain(m) for m in bad)
    # the check sees the Exact-specific edges that do exist
    exact_reached, _ = _closure(['mmexact.exact.cb_cam_head'], modules)
    assert 'mmexact.models.decode_heads.sits_cam_head' in exact_reached
    # the package file registers the generic core only (Exact's configs
    # import mmexact.exact themselves)
    assert not any(_is_exact(m) for m in _closure(['mmexact'], modules)[0])


def test_no_import_runs_up_a_layer():
    """structures / utils -> datasets, models, evaluation, visualization,
    geo -> engine -> apis -> exact: no module imports one of a higher layer (so geo,
    datasets and models never import apis), none imports tools / tests,
    and structures holds plain definitions only (standard library and
    numpy)."""
    modules = _module_files()
    unassigned = sorted(m for m in modules if _layer(m) < 0)
    assert not unassigned, f'modules without a layer: {unassigned}'
    assert _layer('mmexact.geo.scene') < _layer('mmexact.apis.inference')
    graph = _graph(modules)
    bad = _upward_edges(graph)
    assert not bad, 'imports of a higher layer:\n' + '\n'.join(bad)
    for name in (m for m in graph if m.startswith('mmexact.structures')):
        other = sorted(d for d in graph[name]
                       if not d.startswith('mmexact.structures'))
        assert not other, f'{name} imports {other}: structures is the bottom'
    for name, path in sorted(modules.items()):
        for node in ast.walk(ast.parse(open(path).read())):
            if isinstance(node, ast.Import):
                roots = [a.name.split('.')[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [node.module.split('.')[0]]
            else:
                continue
            assert not {'tools', 'tests'} & set(roots), (
                f'{name} imports {roots} (line {node.lineno})')
            if name.startswith('mmexact.structures'):
                plain = set(sys.stdlib_module_names) | {'numpy'}
                assert set(roots) <= plain, (
                    f'{name} imports {roots}: structures holds plain data '
                    'definitions only')


def test_layer_check_names_an_upward_edge(tmp_path):
    """The layer check fails on geo importing apis, naming the edge."""
    modules = _module_files()
    graph = _graph(modules)
    scene = tmp_path / 'scene.py'
    scene.write_text(open(modules['mmexact.geo.scene']).read() +
                     'from ..apis.sits_inferencer import SITSInferencer\n')
    graph['mmexact.geo.scene'] = _imports('mmexact.geo.scene', str(scene),
                                          modules)
    assert _upward_edges(graph) == [
        'mmexact.geo.scene (layer 1) -> mmexact.apis.sits_inferencer '
        '(layer 3)'
    ]


RUNTIME = r'''
import importlib, importlib.abc, sys, types
repo, exact = sys.argv[1], sys.argv[2].split(',')

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == e or name.startswith(e + '.') for e in exact):
            raise ImportError(f'generic code imported {name}')
        return None

sys.meta_path.insert(0, Block())
# a bare package: skip mmexact/__init__.py, which imports everything
mod = types.ModuleType('mmexact')
mod.__path__ = [repo + '/mmexact']
sys.modules['mmexact'] = mod
for name in sys.argv[3].split(','):
    importlib.import_module(name)
from mmseg.registry import MODELS, TRANSFORMS
for key in ('UTAE', 'UNet3D', 'UNetConvLSTM', 'FPNConvLSTM', 'BiConvGRU',
            'TSViT', 'SITSEncoderDecoder', 'SITSCAMSegmentor', 'SITSCAMHead',
            'PAMR', 'TemporalAffinityRefiner', 'SITSDataPreProcessor'):
    assert MODELS.get(key) is not None, key
for key in ('LoadSITSSample', 'LoadPseudoLabel'):
    assert TRANSFORMS.get(key) is not None, key
loaded = sorted(m for m in sys.modules if any(
    m == e or m.startswith(e + '.') for e in exact))
assert not loaded, loaded
print('ok')
'''


def test_generic_modules_import_and_register_without_exact():
    """Import the generic packages with the Exact-specific modules blocked
    (and without the package files that import everything)."""
    names = sorted({'.'.join(m.split('.')[:2])
                    for m in _generic(_module_files())})
    assert 'mmexact.apis' in names and 'mmexact.geo' in names
    env = dict(os.environ, PYTHONPATH=REPO)
    out = subprocess.run(
        [sys.executable, '-c', RUNTIME, REPO, ','.join(EXACT),
         ','.join(names)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith('ok')


def test_runtime_check_catches_an_exact_import():
    """The blocker works: importing an Exact module from the list fails."""
    module = 'mmexact.exact'
    env = dict(os.environ, PYTHONPATH=REPO)
    out = subprocess.run(
        [sys.executable, '-c', RUNTIME, REPO, ','.join(EXACT),
         'mmexact.models.backbones,' + module],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0
    assert f'generic code imported {module}' in out.stderr


BASELINE = r'''
import sys
import torch
import mmexact  # the generic core only
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
init_default_scope('mmseg')
for path in sys.argv[1:]:
    cfg = Config.fromfile(path)
    model = MODELS.build(cfg.model).eval()
    x = torch.randn(1, 6, 11, 24, 24)  # (B, T, C + day of year, H, W)
    x[:, :, -1] = torch.arange(6).view(1, 6, 1, 1) * 30.
    with torch.no_grad():
        out = model(x, mode='tensor')
    print(path, tuple(out.shape) if torch.is_tensor(out) else type(out))
print('exact loaded:', 'mmexact.exact' in sys.modules)
'''


def test_non_exact_methods_build_without_exact():
    """U-TAE and CAM + PAMR configs load, build and run with ``import
    mmexact`` alone; an Exact config brings in ``mmexact.exact`` through
    its ``custom_imports``."""
    env = dict(os.environ, PYTHONPATH=REPO)
    generic = [osp.join(REPO, 'configs', 'utae', 'utae_1xb16-8e_demo-24x24.py'),
               osp.join(REPO, 'configs', 'cam',
                        'cam-pamr_tsvit_1xb16-8e_demo-24x24.py')]
    out = subprocess.run([sys.executable, '-c', BASELINE, *generic],
                         cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith('exact loaded: False'), out.stdout
    exact = osp.join(REPO, 'configs', 'exact',
                     'exact_tsvit_1xb16-8e_demo-24x24.py')
    out = subprocess.run([sys.executable, '-c', BASELINE, exact], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith('exact loaded: True'), out.stdout
