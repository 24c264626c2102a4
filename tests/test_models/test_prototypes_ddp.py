# Copyright (c) mmexact contributors. All rights reserved.
"""Exact's stage-1 model under 2-process CPU DDP (gloo).

The workers run in a subprocess (this file executed as a script, which
spawns two ranks); they save what they saw and the tests compare it with
one process holding the whole batch. The model is a small TSViT + CBCAMHead
built from the shipped base config, wrapped in DDP with
``find_unused_parameters=False`` (the prototypes take part with weight 0
before the warm-up).

The momentum statistics use ``assignment='argmax'`` here: the reference's
Gumbel sample is random and two layouts cannot draw the same noise.
"""
import copy
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

pytestmark = pytest.mark.e2e

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = osp.join(REPO, 'configs', '_base_', 'models', 'exact_tsvit.py')
STEPS = (1, 2, 3)  # training steps; prototypes start at step 2
LOSSES = ('decode.loss_cls', 'decode.loss_aux', 'decode.loss_tap',
          'decode.loss_cbl')


def build_model(mode: str, chunk_size: int = 6):
    """``mode``: the prototype mode, ``'-class'`` appended for
    ``chunk_average='class'``."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmexact.exact  # noqa: F401  (Exact's components)
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = copy.deepcopy(Config.fromfile(CFG).model)
    cfg.backbone.update(embed_dims=16, temporal_depth=1, spatial_depth=1,
                        num_heads=2, head_dims=8, ffn_dims=32)
    mode, _, average = mode.partition('-')
    cfg.decode_head.update(in_channels=16, proto_start_iter=2,
                           chunk_size=chunk_size,
                           chunk_average=average or 'chunk')
    cfg.decode_head.prototypes.update(mode=mode, assignment='argmax')
    torch.manual_seed(0)
    return MODELS.build(cfg)


def make_batch(num: int, step: int, offset: int = 0) -> dict:
    """Samples ``offset .. offset + num - 1`` of a step's global batch."""
    from mmengine.structures import PixelData

    from mmseg.structures import SegDataSample
    inputs, samples = [], []
    for i in range(offset, offset + num):
        g = torch.Generator().manual_seed(1000 * step + i)
        x = torch.randn(4, 11, 24, 24, generator=g)
        x[:, -1] = torch.tensor([30., 90., 150., 210.])[:, None, None]
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=torch.zeros(1, 24, 24).long())
        cls = (torch.rand(18, generator=g) > 0.7).float()
        cls[i % 18] = 1
        s.set_field(cls, 'gt_cls_label')
        s.set_metainfo(dict(ori_shape=(24, 24), img_shape=(24, 24)))
        inputs.append(x)
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def train_steps(model, batches, optim, ddp=None):
    """Run the steps; record losses (averaged over ranks) and state."""
    import torch.distributed as dist
    head = model.decode_head
    record = []
    for step, batch in zip(STEPS, batches):
        head.set_train_step(step)
        net = ddp or model
        data = model.data_preprocessor(batch, True)
        losses = net(**data, mode='loss')
        total = sum(v for k, v in losses.items() if 'loss' in k)
        optim.zero_grad()
        total.backward()
        for p in head.inactive_parameters():  # as SITSTrainStepHook does
            p.grad = None
        optim.step()
        values = torch.stack([losses[k].detach() for k in LOSSES])
        if ddp is not None:
            dist.all_reduce(values)
            values /= dist.get_world_size()
        record.append(
            dict(
                losses=values,
                fg=head.prototypes.fg.detach().clone(),
                bg=head.prototypes.bg.detach().clone(),
                fc=head.cls_fc.weight.detach().clone(),
                embed=model.backbone.state_dict()[
                    'patch_embed.weight'].clone()))
    return record


def _worker(rank, init_file, out_dir, mode, sizes, chunk_size):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)
    model = build_model(mode, chunk_size)
    ddp = DistributedDataParallel(model, find_unused_parameters=False)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-2)
    offset = sum(sizes[:rank])
    batches = [make_batch(sizes[rank], s, offset) for s in STEPS]
    record = train_steps(model, batches, optim, ddp)
    torch.save(record, osp.join(out_dir, f'rank{rank}.pth'))
    dist.barrier()
    dist.destroy_process_group()


def run_two_ranks(tmp_path, mode, sizes, chunk_size=6, timeout=240):
    out_dir = str(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO, env.get('PYTHONPATH')) if p)
    proc = subprocess.run(
        [sys.executable, osp.abspath(__file__), mode, out_dir,
         ','.join(map(str, sizes)), str(chunk_size)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [torch.load(osp.join(out_dir, f'rank{r}.pth')) for r in range(2)]


def single_process(mode, total, chunk_size=6):
    model = build_model(mode, chunk_size)
    optim = torch.optim.AdamW(model.parameters(), lr=1e-2)
    batches = [make_batch(total, s) for s in STEPS]
    return train_steps(model, batches, optim)


@pytest.mark.parametrize('mode', ['ema', 'grad', 'grad-class'])
def test_two_processes_of_six_equal_one_of_twelve(tmp_path, mode):
    """Losses and prototypes depend on the chunks, not on the processes
    (also with ``chunk_average='class'``, whose per-class chunk counts are
    summed over the ranks)."""
    ranks = run_two_ranks(tmp_path, mode, (6, 6))
    ref = single_process(mode, 12)
    for i, step in enumerate(STEPS):
        r0, r1 = ranks[0][i], ranks[1][i]
        for key in ('fg', 'bg', 'fc', 'embed'):
            assert torch.equal(r0[key], r1[key]), (step, key)
        torch.testing.assert_close(r0['losses'], ref[i]['losses'],
                                   atol=2e-6, rtol=2e-5)
        for key in ('fg', 'bg', 'fc', 'embed'):
            torch.testing.assert_close(r0[key], ref[i][key], atol=2e-5,
                                       rtol=1e-4)
        cbl = float(ref[i]['losses'][3])
        assert (cbl > 0) == (step >= 2), (step, cbl)
    # the prototypes did learn after the warm-up, and not before (in
    # 'grad' mode AdamW, weight decay 0.01, skipped them: their zero
    # gradient was dropped)
    start = build_model(mode).decode_head.prototypes
    assert torch.equal(ranks[0][0]['fg'], start.fg.detach())
    assert not torch.allclose(ranks[0][-1]['fg'], ranks[0][0]['fg'],
                              atol=1e-6)


def test_uneven_batches_do_not_deadlock(tmp_path):
    """ema mode, ranks with 3 and 2 samples (2 and 1 chunks of 2): the same
    collectives on both ranks, identical prototypes."""
    ranks = run_two_ranks(tmp_path, 'ema', (3, 2), chunk_size=2,
                          timeout=120)
    for r0, r1 in zip(*ranks):
        assert torch.equal(r0['fg'], r1['fg'])
        assert torch.equal(r0['bg'], r1['bg'])
        assert torch.isfinite(r0['losses']).all()
    assert float(ranks[0][-1]['losses'][3]) > 0


def _main(mode, out_dir, sizes, chunk_size):
    import torch.multiprocessing as mp
    init_file = osp.join(out_dir, 'init')
    sizes = tuple(int(s) for s in sizes.split(','))
    mp.spawn(_worker, args=(init_file, out_dir, mode, sizes,
                            int(chunk_size)), nprocs=2, join=True)


if __name__ == '__main__':
    _main(*sys.argv[1:])
