# Copyright (c) mmexact contributors. All rights reserved.
"""Prototypes under 2-process CPU DDP (gloo).

The workers run in a subprocess (this file executed as a script, which
spawns two ranks); they save what they saw and the tests compare it with a
single-process computation.
"""
import os
import os.path as osp
import subprocess
import sys

import torch
from torch import nn

K, NP, D, N, B = 3, 2, 4, 6, 2
STEPS = 3


def _data(rank, step):
    """Different features, CAMs and labels per rank and step."""
    g = torch.Generator().manual_seed(100 * rank + step)
    x = torch.randn(B, K, N, 5, generator=g)
    cam = torch.rand(B, K, N, generator=g)
    cam = cam / cam.max(dim=-1, keepdim=True)[0]
    labels = (torch.rand(B, K, generator=g) > 0.4).float()
    labels[0, 0] = 1  # at least one foreground class
    return x, cam, labels


class _Tiny(nn.Module):
    """A feature layer, prototypes and L_cbl.

    In 'grad' mode the background pass sees the (detached) momentum-updated
    foreground prototypes, computed from the Gumbel statistics; the argmax
    assignment keeps that deterministic for the single-process reference.
    """

    def __init__(self, mode):
        super().__init__()
        from mmexact.models import ClassPrototypes, ClueContrastiveLoss
        torch.manual_seed(0)
        self.embed = nn.Linear(5, D)
        self.protos = ClassPrototypes(num_classes=K, num_prototypes=NP,
                                      embed_dims=D, mode=mode)
        self.cbl = ClueContrastiveLoss(
            loss_weight=1.0,
            ema_assignment='gumbel' if mode == 'ema' else 'argmax')

    def forward(self, x, cam, labels, with_protos=True, update_fn=None):
        feats = self.embed(x)
        loss = 0.1 * feats.pow(2).mean()
        if with_protos:
            loss = loss + self.cbl(feats, cam, labels, self.protos.fg,
                                   self.protos.bg, update_fn
                                   or self.protos.momentum_update)
        return loss


def _init(rank, init_file):
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=2)


def _ema_worker(rank, init_file, out_dir):
    import torch.distributed as dist
    _init(rank, init_file)
    model = _Tiny('ema')
    protos = model.protos
    record = dict(init=(protos.fg.clone(), protos.bg.clone()), steps=[])
    torch.manual_seed(rank)  # different Gumbel draws per rank
    for step in range(STEPS):
        stats = {}

        def update_fn(polarity, nums, counts):
            # the update all-reduces nums / counts in place: copy first
            stats[polarity] = (nums.clone(), counts.clone())
            return protos.momentum_update(polarity, nums, counts)

        loss = model(*_data(rank, step), update_fn=update_fn)
        loss.backward()
        record['steps'].append(
            dict(stats=stats, fg=protos.fg.clone(), bg=protos.bg.clone()))
    torch.save(record, osp.join(out_dir, f'ema_rank{rank}.pth'))
    dist.barrier()  # both ranks done before the gloo teardown
    dist.destroy_process_group()


def _grad_worker(rank, init_file, out_dir):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel
    _init(rank, init_file)
    model = _Tiny('grad')
    ddp = DistributedDataParallel(model, find_unused_parameters=True)
    optim = torch.optim.SGD(ddp.parameters(), lr=0.02)
    record = dict(steps=[])
    for step in range(STEPS):
        optim.zero_grad()
        # step 0 is "before the warm-up": the prototypes are unused
        loss = ddp(*_data(rank, step), with_protos=step > 0)
        loss.backward()
        optim.step()
        record['steps'].append(
            dict(fg=model.protos.fg.detach().clone(),
                 bg=model.protos.bg.detach().clone(),
                 embed=model.embed.weight.detach().clone()))
    torch.save(record, osp.join(out_dir, f'grad_rank{rank}.pth'))
    dist.barrier()  # both ranks done before the gloo teardown
    dist.destroy_process_group()


def _run_ddp(mode, tmp_path):
    out_dir = str(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS='1')
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (root, env.get('PYTHONPATH')) if p)
    proc = subprocess.run(
        [sys.executable, osp.abspath(__file__), mode, out_dir],
        cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [
        torch.load(osp.join(out_dir, f'{mode}_rank{r}.pth'))
        for r in range(2)
    ]


def test_ema_prototypes_identical_across_ranks(tmp_path):
    from mmexact.models import ClassPrototypes
    ranks = _run_ddp('ema', tmp_path)
    assert torch.equal(ranks[0]['init'][0], ranks[1]['init'][0])
    ref = ClassPrototypes(num_classes=K, num_prototypes=NP, embed_dims=D,
                          mode='ema')
    ref.fg.copy_(ranks[0]['init'][0])
    ref.bg.copy_(ranks[0]['init'][1])
    for step in range(STEPS):
        s0, s1 = ranks[0]['steps'][step], ranks[1]['steps'][step]
        # identical on both ranks, bitwise
        assert torch.equal(s0['fg'], s1['fg'])
        assert torch.equal(s0['bg'], s1['bg'])
        for name in ('fg', 'bg'):
            nums0, counts0 = s0['stats'][name]
            nums1, counts1 = s1['stats'][name]
            assert not torch.allclose(counts0, counts1)  # different data
            # a rank-local update would differ from the shared one
            local = ClassPrototypes(num_classes=K, num_prototypes=NP,
                                    embed_dims=D, mode='ema')
            local.load_state_dict(ref.state_dict())
            local.momentum_update(name, nums0, counts0)
            # single process from the summed statistics
            ref.momentum_update(name, nums0 + nums1, counts0 + counts1)
            assert torch.allclose(s0[name], getattr(ref, name), atol=1e-7)
            assert not torch.allclose(s0[name], getattr(local, name),
                                      atol=1e-7)
            assert torch.allclose(s0[name].norm(dim=-1), torch.ones(K, NP),
                                  atol=1e-6)


def test_grad_prototypes_identical_across_ranks(tmp_path):
    ranks = _run_ddp('grad', tmp_path)
    ref = _Tiny('grad')
    fg0 = ref.protos.fg.detach().clone()
    optim = torch.optim.SGD(ref.parameters(), lr=0.02)
    for step in range(STEPS):
        s0, s1 = ranks[0]['steps'][step], ranks[1]['steps'][step]
        for key in ('fg', 'bg', 'embed'):
            assert torch.equal(s0[key], s1[key]), (step, key)
        # single process: average of the two ranks' gradients
        grads = []
        for rank in range(2):
            ref.zero_grad()
            ref(*_data(rank, step), with_protos=step > 0).backward()
            grads.append([
                None if p.grad is None else p.grad.clone()
                for p in ref.parameters()
            ])
        for p, g0, g1 in zip(ref.parameters(), *grads):
            p.grad = None if g0 is None else (g0 + g1) / 2
        optim.step()
        assert torch.allclose(s0['fg'], ref.protos.fg, atol=1e-6)
        assert torch.allclose(s0['bg'], ref.protos.bg, atol=1e-6)
        assert torch.allclose(s0['embed'], ref.embed.weight, atol=1e-6)
        if step == 0:  # unused before the warm-up: unchanged
            assert torch.equal(s0['fg'], fg0)
    assert not torch.allclose(ranks[0]['steps'][-1]['fg'], fg0, atol=1e-4)


def _main(mode, out_dir):
    import torch.multiprocessing as mp
    worker = dict(ema=_ema_worker, grad=_grad_worker)[mode]
    init_file = osp.join(out_dir, f'{mode}_init')
    mp.spawn(worker, args=(init_file, out_dir), nprocs=2, join=True)


if __name__ == '__main__':
    _main(*sys.argv[1:])
