"""Skip optimizer steps whose loss is NaN or infinite.

A NaN loss that reaches ``backward`` poisons every weight, the optimizer's
momentum and, one EMA step later, the target network.  :func:`guarded_update`
replaces ``optim_wrapper.update_params(loss)`` in ``train_step``: it checks
the loss first (one host synchronisation, agreed across ranks so that no
rank enters the gradient all-reduce alone, which also brings the logged
values to the host) and on a non-finite value runs
neither ``backward`` nor ``optimizer.step`` -- and therefore not the BYOL
momentum update, which is an optimizer step-post-hook either.

Under gradient accumulation a skipped micro-batch still counts: it
contributes no gradient, the optimizer wrapper's counter advances as if it
had, and at the end of the window the step uses the finite micro-batches'
gradients (or is skipped too, target included, when none was finite), so
the step/iteration alignment, the schedules and resumption are unchanged.

The message hub keeps ``nonfinite_in_a_row`` and ``nonfinite_total`` (info,
saved with checkpoints) and the scalar ``train/nonfinite_skips``.  After
more than ``max_in_a_row`` non-finite losses in a row the run stops with
:class:`NonFiniteLossError`; no checkpoint is written for the bad steps,
so the last checkpoint is the last good state.
"""
import logging

import torch
import torch.distributed as torch_dist
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper


class NonFiniteLossError(RuntimeError):
    """Too many non-finite losses in a row."""


def _finite_on_all_ranks(loss: torch.Tensor) -> torch.Tensor:
    """1 (int32, on the loss's device) when every rank's loss is finite."""
    finite = torch.isfinite(loss.detach()).all().to(torch.int32)
    if torch_dist.is_available() and torch_dist.is_initialized() and \
            torch_dist.get_world_size() > 1:
        torch_dist.all_reduce(finite, op=torch_dist.ReduceOp.MIN)
    return finite


def finite_and_host_logs(loss: torch.Tensor, log_vars: dict) -> tuple:
    """The guard's decision and the log values in one device-to-host copy.

    MMEngine turns each logged tensor into a float with its own ``.item()``
    (a host-device sync each, 5 for BYOL); fetched together with the
    finiteness flag the guard needs anyway, an iteration makes one.

    Returns:
        tuple: ``(finite, log_vars)`` with the same keys, values as floats.
    """
    keys = [k for k, v in log_vars.items() if isinstance(v, torch.Tensor)]
    flag = _finite_on_all_ranks(loss)
    values = torch.stack([flag.to(torch.float64)] + [
        log_vars[k].detach().to(flag.device, torch.float64).reshape(())
        for k in keys
    ]).tolist()
    floats = dict(log_vars)
    floats.update(zip(keys, values[1:]))
    return bool(values[0]), floats


def guarded_update(loss: torch.Tensor, optim_wrapper: OptimWrapper,
                   max_in_a_row: int, params, finite: bool) -> bool:
    """``optim_wrapper.update_params(loss)`` unless ``loss`` is not finite.

    Args:
        loss (Tensor): the parsed (summed) loss.
        optim_wrapper (OptimWrapper): the run's optimizer wrapper.
        max_in_a_row (int): stop after more than this many non-finite
            losses in a row (0: stop at the first).
        params (Iterable[Tensor]): the trainable parameters (to tell whether
            an accumulation window holds any gradient).
        finite (bool): the rank-agreed finiteness of ``loss``, from
            :func:`finite_and_host_logs`.

    Returns:
        bool: whether the loss was finite and used.
    """
    hub = MessageHub.get_current_instance()
    if finite:
        optim_wrapper.update_params(loss)
        hub.update_info('nonfinite_in_a_row', 0)
        return True

    in_a_row = hub.get_info('nonfinite_in_a_row', 0) + 1
    total = hub.get_info('nonfinite_total', 0) + 1
    hub.update_info('nonfinite_in_a_row', in_a_row)
    hub.update_info('nonfinite_total', total)
    hub.update_scalar('train/nonfinite_skips', total)
    iteration = hub.get_info('iter', '?')
    if in_a_row > max_in_a_row:
        raise NonFiniteLossError(
            f'non-finite loss ({loss.item()}) at iteration {iteration}, '
            f'{in_a_row} in a row (model.max_nonfinite_steps='
            f'{max_in_a_row}): stopping. The weights were not updated by '
            'these steps; resume from the last checkpoint with a lower lr, '
            'gradient clipping or fp32.')
    print_log(
        f'non-finite loss ({loss.item()}) at iteration {iteration}: step '
        f'skipped ({in_a_row} in a row, {total} in total)',
        logger='current', level=logging.WARNING)
    # The skipped micro-batch still counts towards the accumulation window.
    optim_wrapper._inner_count += 1
    if optim_wrapper.should_update():
        if any(p.grad is not None for p in params):
            optim_wrapper.step()
        optim_wrapper.zero_grad()
    return False


def guarded_train_step(model, caller, data, optim_wrapper,
                       max_in_a_row: int) -> dict:
    """MMEngine's ``train_step`` with :func:`guarded_update`.

    Args:
        model (BaseModel): the unwrapped model.
        caller (nn.Module): ``model`` itself, or the DDP wrapper around it
            (its forward synchronises gradients).
        data: the data batch.
        optim_wrapper (OptimWrapper): the run's optimizer wrapper.
        max_in_a_row (int): see :func:`guarded_update`.

    Returns:
        dict: the log variables of ``BaseModel.train_step``, as floats
        (fetched with the guard's flag: one host-device sync per step).
    """
    with optim_wrapper.optim_context(caller):
        data = model.data_preprocessor(data, True)
        losses = caller._run_forward(data, mode='loss')
    parsed, log_vars = model.parse_losses(losses)
    finite, log_vars = finite_and_host_logs(parsed, log_vars)
    guarded_update(parsed, optim_wrapper, max_in_a_row,
                   [p for p in model.parameters() if p.requires_grad],
                   finite)
    return log_vars
