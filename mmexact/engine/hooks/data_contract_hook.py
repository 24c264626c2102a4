# Copyright (c) mmexact contributors. All rights reserved.
import copy
from logging import WARNING
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop

from mmseg.registry import HOOKS
from ...utils.data_contract import extract_data_contract

__all__ = ['DataContractHook']

# entries whose change between a loaded and a new run is worth a warning
_COMPARED = ('bands', 'normalization', 'max_seq_len', 'window')


@HOOKS.register_module()
class DataContractHook(Hook):
    """Store the data contract of the training data in every checkpoint.

    Writes ``checkpoint['meta']['data_contract']`` (see
    :mod:`mmexact.utils.data_contract`): the band names in channel order,
    the normalisation statistics as numbers (a ``norm_file`` is read), the
    ``max_seq_len`` and padding rule of ``PadOrCutSequence``, the training
    window size and the training day-of-year range where the data infos
    give it. Class names and palette are the ``meta['dataset_meta']`` the
    Runner saves anyway. :func:`mmexact.apis.init_model` applies the
    contract, so a checkpoint maps with the config it was trained from
    even when the statistics file has moved or the training overrode it
    with ``--cfg-options``.

    Registration: ``configs/_base_/default_runtime.py`` lists the hook in
    ``custom_hooks``, where the project's other always-on hooks are
    (visible and removable in one place). mmengine replaces lists when
    merging configs, so a config assigning its own ``custom_hooks`` loses
    it; rather than repeating it in every such config, ``tools/train.py``
    appends it when the list lacks it
    (:func:`mmexact.utils.data_contract.ensure_data_contract_hook`). A
    Runner built by other code gets it only from its config.

    The contract is computed once, before the first iteration, from the
    built training dataset and model (the random generators are left as
    they were, so training is unchanged). On loading a checkpoint whose
    contract differs from the current one (fine-tuning or resuming with
    other data settings) a warning names the entries; the new checkpoints
    carry the current contract.
    """

    priority = 'NORMAL'

    def __init__(self) -> None:
        self._contract: Optional[dict] = None

    def _current(self, runner) -> Optional[dict]:
        if self._contract is None:
            if not isinstance(getattr(runner, '_train_loop', None),
                              BaseLoop):
                return None  # not training: no training dataset built
            model = runner.model
            if is_model_wrapper(model):
                model = model.module
            self._contract = extract_data_contract(
                runner.cfg, runner.train_dataloader.dataset, model)
        return self._contract

    def before_train(self, runner) -> None:
        contract = self._current(runner)
        if contract is not None:
            runner.logger.info(
                'DataContractHook: checkpoints carry bands '
                f"{contract['bands']}, max_seq_len "
                f"{contract['max_seq_len']}, window {contract['window']}, "
                f"training day of year {contract['doy_range']}")

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        contract = self._current(runner)
        if contract is not None:
            checkpoint.setdefault('meta', {})['data_contract'] = \
                copy.deepcopy(contract)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = (checkpoint.get('meta', None) or {}).get('data_contract')
        current = self._current(runner)
        if not saved or current is None:
            return
        changed = [k for k in _COMPARED
                   if _values(saved, k) != _values(current, k)]
        if changed:
            runner.logger.log(
                WARNING,
                'DataContractHook: the loaded checkpoint was trained with '
                f'other {", ".join(changed)} ('
                + '; '.join(f'{k}: {_values(saved, k)} -> '
                            f'{_values(current, k)}' for k in changed)
                + '); new checkpoints carry the current ones')


def _values(contract: dict, key: str):
    """An entry of a contract; normalisation by its numbers only (the
    file it was read from may move)."""
    value = contract.get(key, None)
    if key == 'normalization' and value is not None:
        return dict(mean=value.get('mean'), std=value.get('std'))
    return value
