# Copyright (c) mmexact contributors. All rights reserved.
from typing import List, Optional

from mmengine.dist import get_world_size
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import nn

from mmseg.registry import HOOKS

__all__ = ['SITSTrainStepHook']


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class SITSTrainStepHook(Hook):
    """Tell modules the training step, check schedules, drop zero gradients.

    Modules of the model may implement any of three optional methods; the
    hook calls them (nothing happens for models without them):

    - ``set_train_step(step)``: before every training iteration, with the
      1-based step counted in iterations of the schedule's base batch
      (:meth:`IterBasedEpochTrainLoop.schedule_step`; ``runner.iter + 1``
      with other loops). E.g. :class:`CBCAMHead` starts prototype learning
      at a given step: after the same number of samples on 1 or 8 GPUs,
      also after ``--resume``.
    - ``check_train_schedule(schedule)``: once before training, with a
      dict ``last_step`` (step of the last iteration), ``checkpoint_steps``
      (the steps after which the checkpoints that are kept are written) and
      ``describe`` (how steps are counted, for messages). The module raises
      if the run cannot do its job (e.g. never reaches a warm-up).
    - ``inactive_parameters()``: right before every optimiser step, the
      parameters whose gradient in this step only comes from a zero-weight
      term added to keep DDP's unused-parameter search off; their ``grad``
      is set to None so the optimiser skips them (AdamW's moments and step
      count then start when the parameters are really used).

    Checkpoints get the step of their last trained iteration as
    ``meta['train_step']``.

    Args:
        check_schedule (bool): Call ``check_train_schedule``. Defaults to
            True.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, check_schedule: bool = True) -> None:
        self.check_schedule = check_schedule
        self._steppers: List[nn.Module] = []
        self._handles = []

    # ------------------------------------------------------------------
    @staticmethod
    def schedule_step(runner, it: int) -> int:
        loop = runner.train_loop
        if hasattr(loop, 'schedule_step'):
            return loop.schedule_step(it)
        return it + 1

    def schedule(self, runner) -> dict:
        """The run's plan, in schedule steps (see class doc)."""
        loop = runner.train_loop
        max_iters = loop.max_iters
        per_epoch = getattr(loop, 'iters_per_epoch', None) or \
            len(loop.dataloader)
        saved: List[int] = []  # iterations done when a checkpoint is saved
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook):
                continue
            every = hook.interval * (per_epoch if hook.by_epoch else 1)
            its = list(range(every, max_iters + 1, every)) if every > 0 \
                else []
            if hook.save_last and (not its or its[-1] != max_iters):
                its.append(max_iters)
            if hook.max_keep_ckpts > 0:
                its = its[-hook.max_keep_ckpts:]
            saved.extend(its)
        base = getattr(loop, 'base_batch_size', None)
        batch = getattr(loop.dataloader, 'batch_size', None) or 1
        world = get_world_size()
        describe = (f' (steps count iterations of {base}-sample batches; '
                    f'this run: {world} process(es) x {batch} samples, '
                    f'{max_iters} iterations)') if base else \
            (f' ({world} process(es) x {batch} samples, {max_iters} '
             'iterations)')
        return dict(
            last_step=self.schedule_step(runner, max_iters - 1),
            checkpoint_steps=sorted(
                {self.schedule_step(runner, i - 1)
                 for i in saved}),
            describe=describe)

    # ------------------------------------------------------------------
    def before_train(self, runner) -> None:
        model = _unwrap(runner.model)
        modules = list(model.modules())
        self._steppers = [m for m in modules if hasattr(m, 'set_train_step')]
        self._droppers = [
            m for m in modules if hasattr(m, 'inactive_parameters')
        ]
        if self.check_schedule:
            checkers = [
                m for m in modules if hasattr(m, 'check_train_schedule')
            ]
            if checkers:
                plan = self.schedule(runner)
                for m in checkers:
                    m.check_train_schedule(plan)
                print_log(
                    f'schedule: last step {plan["last_step"]}, checkpoints '
                    f'after steps {plan["checkpoint_steps"]}'
                    f'{plan["describe"]}',
                    logger='current')
        if self._droppers:
            for optimizer in self._optimizers(runner):
                self._handles.append(
                    optimizer.register_step_pre_hook(self._drop_grads))

    @staticmethod
    def _optimizers(runner) -> list:
        wrapper = runner.optim_wrapper
        wrappers = getattr(wrapper, 'optim_wrappers', None)
        if isinstance(wrappers, dict):
            return [w.optimizer for w in wrappers.values()]
        optimizer = getattr(wrapper, 'optimizer', None)
        return [optimizer] if optimizer is not None else []

    def _drop_grads(self, optimizer, args, kwargs) -> None:
        for module in self._droppers:
            for p in module.inactive_parameters():
                p.grad = None

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Optional[dict] = None) -> None:
        step = self.schedule_step(runner, runner.iter)
        for module in self._steppers:
            module.set_train_step(step)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Record the step of the last trained iteration in the meta
        (``meta['train_step']``), e.g. to pick the checkpoints written after
        a warm-up whatever the number of processes."""
        if getattr(runner, '_train_loop', None) is None or \
                isinstance(runner._train_loop, dict):
            return
        checkpoint.setdefault('meta', {})['train_step'] = \
            self.schedule_step(runner, runner.iter)

    def after_train(self, runner) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
