# Copyright (c) mmexact contributors. All rights reserved.
"""FLOP formulas for ``torch.utils.flop_counter`` on CPU."""
from torch.utils import flop_counter

__all__ = ['register_cpu_attention_flops']


def register_cpu_attention_flops() -> None:
    """Count the CPU flash-attention kernels like the CUDA ones.

    ``FlopCounterMode`` has formulas for the CUDA attention kernels only;
    without these the attention of every layer would count zero FLOPs on
    CPU. Idempotent.
    """
    import torch
    aten = torch.ops.aten
    fwd = aten._scaled_dot_product_flash_attention_for_cpu
    bwd = aten._scaled_dot_product_flash_attention_for_cpu_backward
    if fwd in flop_counter.flop_registry:
        return

    @flop_counter.register_flop_formula(fwd)
    def _fwd(query_shape, key_shape, value_shape, *args, **kwargs) -> int:
        return flop_counter.sdpa_flop_count(query_shape, key_shape,
                                            value_shape)

    @flop_counter.register_flop_formula(bwd)
    def _bwd(grad_out_shape, query_shape, key_shape, value_shape, *args,
             **kwargs) -> int:
        return flop_counter.sdpa_backward_flop_count(
            grad_out_shape, query_shape, key_shape, value_shape)
