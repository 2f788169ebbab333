"""Stride-1 convolution gradients computed as forward convolutions.

For ``y = conv2d(x, w, padding=p)`` with stride 1 and a ``k x k`` kernel,
both gradients are themselves stride-1 convolutions:

.. math::

    \\frac{\\partial L}{\\partial x} = \\mathrm{conv2d}\\big(g,\\;
        \\mathrm{flip}(w)^{\\top},\\; \\mathrm{padding}=k-1-p\\big), \\qquad
    \\frac{\\partial L}{\\partial w} = \\mathrm{conv2d}\\big(x^{\\top},\\;
        g^{\\top},\\; \\mathrm{padding}=p\\big)^{\\top}

with :math:`g = \\partial L/\\partial y`, ``flip`` reversing the kernel's
rows and columns, :math:`w^{\\top}` swapping its output and input channels
and :math:`x^{\\top}, g^{\\top}` swapping batch and channels (the weight
gradient sums over the batch, so the batch becomes the channels that the
convolution reduces). Same sums, other kernels: it pays only where the
backend's forward convolution of a stage is much faster than its own
backward (small maps in NCHW on some CPUs), so it is applied per stage;
``benchmarks/layouts.py`` measures which stages gain on a machine.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvBackwardAsForward(torch.autograd.Function):
    """``conv2d(x, weight, bias, padding=padding)`` (stride 1, dilation 1,
    one group) whose backward runs the two forward convolutions above."""

    @staticmethod
    def forward(ctx, x, weight, bias, padding):
        ctx.save_for_backward(x, weight)
        ctx.padding = padding
        ctx.has_bias = bias is not None
        return F.conv2d(x, weight, bias, padding=padding)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        (ph, pw), (kh, kw) = ctx.padding, weight.shape[2:]
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = F.conv2d(grad, weight.flip(2, 3).transpose(0, 1),
                              padding=(kh - 1 - ph, kw - 1 - pw))
        if ctx.needs_input_grad[1]:
            # NCHW copies: batch and channels swapped
            per_channel = F.conv2d(x.transpose(0, 1).contiguous(),
                                   grad.transpose(0, 1).contiguous(),
                                   padding=(ph, pw))
            grad_w = torch.empty_like(weight).copy_(
                per_channel.transpose(0, 1))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None


class Conv2dBackwardAsForward(nn.Conv2d):
    """An ``nn.Conv2d`` whose gradients come from
    :class:`ConvBackwardAsForward`; same parameters, state dict and forward.

    Only for convolutions that :meth:`supports`. Under autocast the input
    and weight are cast as autocast would (so the forward is the same
    call); without gradients the plain convolution runs.
    """

    @staticmethod
    def supports(conv: nn.Module) -> bool:
        """Stride 1, dilation 1, one group, zero padding of at most
        ``kernel - 1`` given as numbers."""
        return (isinstance(conv, nn.Conv2d) and conv.stride == (1, 1)
                and conv.dilation == (1, 1) and conv.groups == 1
                and conv.padding_mode == 'zeros'
                and not isinstance(conv.padding, str)
                and all(0 <= p < k for p, k in zip(conv.padding,
                                                    conv.kernel_size)))

    @classmethod
    def convert(cls, module: nn.Module) -> int:
        """Turn every supported plain ``nn.Conv2d`` in ``module`` into this
        class in place (parameters, hooks and state dict untouched;
        idempotent). Returns how many convolutions now are."""
        count = 0
        for conv in module.modules():
            if type(conv) is nn.Conv2d and cls.supports(conv):
                conv.__class__ = cls
            count += type(conv) is cls
        return count

    def _conv_forward(self, x, weight, bias):
        if not (torch.is_grad_enabled() and
                (x.requires_grad or weight.requires_grad)):
            return super()._conv_forward(x, weight, bias)
        device = x.device.type
        if torch.is_autocast_enabled(device):
            dtype = torch.get_autocast_dtype(device)
            x, weight = x.to(dtype), weight.to(dtype)
            bias = None if bias is None else bias.to(dtype)
            with torch.autocast(device, enabled=False):
                return ConvBackwardAsForward.apply(x, weight, bias,
                                                   self.padding)
        return ConvBackwardAsForward.apply(x, weight, bias, self.padding)
