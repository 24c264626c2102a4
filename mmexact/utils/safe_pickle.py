# Copyright (c) mmexact contributors. All rights reserved.
"""Restricted unpickling of data files.

A pickle can execute arbitrary code when it is loaded, so dataset pickles
(PASTIS24 windows) are read with an :class:`pickle.Unpickler` that resolves
only the handful of NumPy globals needed to rebuild arrays. Anything else
raises :class:`UnsafePickleError` *before* it is imported or called.
"""
import io
import pickle
from typing import Any, FrozenSet, Tuple

__all__ = ['UnsafePickleError', 'safe_pickle_load', 'NUMPY_PICKLE_GLOBALS']

# (module, name) pairs needed to rebuild NumPy arrays and scalars, under
# both NumPy 1 (``numpy.core``) and NumPy 2 (``numpy._core``) module names.
NUMPY_PICKLE_GLOBALS: FrozenSet[Tuple[str, str]] = frozenset(
    (mod, name)
    for core in ('numpy.core', 'numpy._core')
    for mod, name in ((f'{core}.multiarray', '_reconstruct'),
                      (f'{core}.multiarray', 'scalar'),
                      (f'{core}.numeric', '_frombuffer'))) | frozenset(
                          {('numpy', 'ndarray'), ('numpy', 'dtype')})


class UnsafePickleError(pickle.UnpicklingError):
    """Raised when a pickle references a global outside the allow-list."""


class _RestrictedUnpickler(pickle.Unpickler):

    def __init__(self, file, source: str, allowed: FrozenSet[Tuple[str,
                                                                    str]]):
        super().__init__(file, encoding='latin1')
        self._source = source
        self._allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._allowed:
            raise UnsafePickleError(
                f'{self._source}: refusing to unpickle global '
                f'"{module}.{name}"; only NumPy arrays are allowed in SITS '
                'data files. The file is corrupt or malicious.')
        return super().find_class(module, name)


def safe_pickle_load(path: str,
                     allowed: FrozenSet[Tuple[str, str]] = NUMPY_PICKLE_GLOBALS
                     ) -> Any:
    """Load a pickle file that may only contain NumPy arrays and builtins.

    Args:
        path (str): File to read.
        allowed (frozenset[tuple[str, str]]): ``(module, name)`` globals the
            pickle may reference. Defaults to the NumPy array globals.

    Returns:
        Any: The unpickled object.

    Raises:
        UnsafePickleError: The pickle references a forbidden global.
        ValueError: The file is truncated or not a pickle; the message names
            the file.
    """
    with open(path, 'rb') as f:
        payload = f.read()
    try:
        return _RestrictedUnpickler(io.BytesIO(payload), path, allowed).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError,
            AttributeError, IndexError, KeyError, MemoryError) as exc:
        raise ValueError(
            f'{path}: cannot read pickle ({type(exc).__name__}: {exc}); '
            'the file is truncated or not a valid pickle.') from exc
