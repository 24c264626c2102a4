# Copyright (c) mmexact contributors. All rights reserved.
"""Import the tool scripts that OpenMMLab packages ship in ``.mim/tools``."""
import importlib
import importlib.util
import os.path as osp
import sys
from types import ModuleType

__all__ = ['load_openmmlab_tool']


def load_openmmlab_tool(package: str, path: str) -> ModuleType:
    """Import ``<package>/.mim/tools/<path>`` as a module (once).

    OpenMMLab wheels (mmsegmentation, mmpretrain, ...) ship their
    ``tools/`` scripts inside the package for ``mim``; this makes their
    functions reusable instead of copied.

    Args:
        package (str): Installed package, e.g. ``'mmpretrain'``.
        path (str): Script path below ``tools/``, e.g.
            ``'analysis_tools/analyze_logs.py'``.

    Raises:
        ImportError: The package has no such script (installed from source
            without its tools, or another version).
    """
    name = f'_{package}_tools_' + osp.splitext(path)[0].replace('/', '_')
    if name in sys.modules:
        return sys.modules[name]
    root = osp.dirname(importlib.import_module(package).__file__)
    file = osp.join(root, '.mim', 'tools', path)
    if not osp.isfile(file):
        raise ImportError(f'{file} not found: {package} was installed '
                          'without its tools; install its wheel from PyPI '
                          '(see requirements.txt)')
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
