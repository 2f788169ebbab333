"""A training step that a NaN or infinite loss cannot poison.

A non-finite loss that reaches ``backward`` poisons every weight, the
optimizer's state and, one EMA step later, the target network. The forward
pass itself has already written into the BatchNorm running statistics of
the online *and* the target network, and NaN never decays out of a running
average. :func:`guarded_train_step` therefore

* copies every buffer of the model before the forward pass;
* checks the loss (one host synchronisation, agreed across ranks so that
  no rank enters the gradient all-reduce alone; the logged values travel
  to the host in the same copy);
* on a non-finite loss runs neither ``backward`` nor ``optimizer.step``
  (so not the BYOL momentum update either, an optimizer step-post-hook),
  and puts every buffer back as it was: the step leaves the model exactly
  as it found it, on every rank.

Under gradient accumulation a skipped micro-batch still counts: it
contributes no gradient, the optimizer wrapper's counter advances as if it
had, and at the end of the window the step uses the finite micro-batches'
gradients (or is skipped too, target included, when none was finite), so
the step/iteration alignment, the schedules and resumption are unchanged.

The message hub keeps ``nonfinite_in_a_row`` and ``nonfinite_total`` (info,
saved with checkpoints) and the scalar ``train/nonfinite_skips``.  After
more than ``max_in_a_row`` non-finite losses in a row the run stops with
:class:`NonFiniteLossError`.
"""
import logging
from typing import List

import torch
import torch.distributed as torch_dist
import torch.nn as nn
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper

from mmbyol.utils.errors import MMBYOLError


class NonFiniteLossError(MMBYOLError, RuntimeError):
    """Too many non-finite losses in a row."""


def _distributed() -> bool:
    return (torch_dist.is_available() and torch_dist.is_initialized()
            and torch_dist.get_world_size() > 1)


def rank_losses(loss: torch.Tensor) -> torch.Tensor:
    """Every rank's loss, ``(world_size,)`` float64 on the loss's device
    (one all-gather; the loss alone when not distributed)."""
    mine = loss.detach().to(torch.float64).reshape(1)
    if not _distributed():
        return mine
    gathered = [torch.empty_like(mine)
                for _ in range(torch_dist.get_world_size())]
    torch_dist.all_gather(gathered, mine)
    return torch.cat(gathered)


def losses_and_host_logs(loss: torch.Tensor, log_vars: dict) -> tuple:
    """Every rank's loss and the log values in one device-to-host copy.

    MMEngine turns each logged tensor into a float with its own ``.item()``
    (a host-device sync each, 5 for BYOL); fetched together with the
    losses the guard needs anyway, an iteration makes one.

    Returns:
        tuple: ``(losses, log_vars)``: the ranks' losses as floats, and
        ``log_vars`` with the same keys, values as floats.
    """
    keys = [k for k, v in log_vars.items() if isinstance(v, torch.Tensor)]
    losses = rank_losses(loss)
    values = torch.cat([losses] + [
        log_vars[k].detach().to(losses.device, torch.float64).reshape(1)
        for k in keys
    ]).tolist()
    floats = dict(log_vars)
    floats.update(zip(keys, values[len(losses):]))
    return values[:len(losses)], floats


def _describe(losses: List[float]) -> str:
    """``'nan'``, or ``'rank 1: nan, rank 3: inf'`` across ranks."""
    if len(losses) == 1:
        return f'{losses[0]}'
    return ', '.join(f'rank {r}: {v}' for r, v in enumerate(losses)
                     if v != v or v in (float('inf'), float('-inf')))


def guarded_update(loss: torch.Tensor, optim_wrapper: OptimWrapper,
                   max_in_a_row: int, params, losses: List[float]) -> bool:
    """``optim_wrapper.update_params(loss)`` unless a rank's loss is not
    finite.

    Args:
        loss (Tensor): the parsed (summed) loss of this rank.
        optim_wrapper (OptimWrapper): the run's optimizer wrapper.
        max_in_a_row (int): stop after more than this many non-finite
            losses in a row (0: stop at the first).
        params (Iterable[Tensor]): the trainable parameters (to tell whether
            an accumulation window holds any gradient).
        losses (list[float]): every rank's loss, from
            :func:`losses_and_host_logs`.

    Returns:
        bool: whether the losses were finite and used.
    """
    hub = MessageHub.get_current_instance()
    if all(v == v and abs(v) != float('inf') for v in losses):
        optim_wrapper.update_params(loss)
        hub.update_info('nonfinite_in_a_row', 0)
        return True

    in_a_row = hub.get_info('nonfinite_in_a_row', 0) + 1
    total = hub.get_info('nonfinite_total', 0) + 1
    hub.update_info('nonfinite_in_a_row', in_a_row)
    hub.update_info('nonfinite_total', total)
    hub.update_scalar('train/nonfinite_skips', total)
    # 1-based, as the progress log counts
    iteration = hub.get_info('iter', -1) + 1
    what = f'non-finite loss ({_describe(losses)}) at iteration {iteration}'
    if in_a_row > max_in_a_row:
        raise NonFiniteLossError(
            f'{what}, {in_a_row} in a row (model.max_nonfinite_steps='
            f'{max_in_a_row}): stopping. The weights were not updated by '
            'these steps; resume from the last checkpoint with a lower lr, '
            'gradient clipping or fp32.')
    print_log(
        f'{what}: step skipped on every rank, weights and BatchNorm '
        f'statistics unchanged ({in_a_row} in a row, {total} in total)',
        logger='current', level=logging.WARNING)
    # The skipped micro-batch still counts towards the accumulation window.
    optim_wrapper._inner_count += 1
    if optim_wrapper.should_update():
        if any(p.grad is not None for p in params):
            optim_wrapper.step()
        optim_wrapper.zero_grad()
    return False


def guarded_train_step(model: nn.Module, caller: nn.Module, data,
                       optim_wrapper: OptimWrapper,
                       max_in_a_row: int) -> dict:
    """MMEngine's ``train_step`` with :func:`guarded_update`, and every
    buffer of ``model`` put back when the step is skipped.

    Args:
        model (BaseModel): the unwrapped model.
        caller (nn.Module): ``model`` itself, or the DDP wrapper around it
            (its forward synchronises gradients).
        data: the data batch.
        optim_wrapper (OptimWrapper): the run's optimizer wrapper.
        max_in_a_row (int): see :func:`guarded_update`.

    Returns:
        dict: the log variables of ``BaseModel.train_step``, as floats
        (fetched with the guard's decision: one host-device sync per step).
    """
    buffers = [b for b in model.buffers() if b is not None]
    saved = [b.clone() for b in buffers]
    with optim_wrapper.optim_context(caller):
        data = model.data_preprocessor(data, True)
        losses = caller._run_forward(data, mode='loss')
    parsed, log_vars = model.parse_losses(losses)
    rank_values, log_vars = losses_and_host_logs(parsed, log_vars)
    used = guarded_update(parsed, optim_wrapper, max_in_a_row,
                          [p for p in model.parameters() if p.requires_grad],
                          rank_values)
    if not used and buffers:
        with torch.no_grad():
            torch._foreach_copy_(buffers, saved)
    return log_vars
