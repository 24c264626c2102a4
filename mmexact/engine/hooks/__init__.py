# Copyright (c) mmexact contributors. All rights reserved.
from .data_contract_hook import DataContractHook
from .malloc_tuning_hook import MallocTuningHook
from .non_finite_loss_hook import NonFiniteLossHook
from .rank_consistency_hook import RankConsistencyHook
from .rng_state_hook import RNGStateHook
from .sits_train_step_hook import SITSTrainStepHook
from .sits_visualization_hook import SITSVisualizationHook

__all__ = [
    'SITSVisualizationHook', 'NonFiniteLossHook', 'RankConsistencyHook',
    'RNGStateHook', 'MallocTuningHook', 'SITSTrainStepHook',
    'DataContractHook'
]
