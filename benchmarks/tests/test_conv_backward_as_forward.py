"""Conv2dBackwardAsForward: the same convolution and gradients, computed
with forward convolutions in the backward."""
import copy

import pytest
import torch
import torch.nn as nn

from benchmarks.experiments.conv_backward_as_forward import \
    Conv2dBackwardAsForward


def _pair(kernel, padding, bias, dtype=torch.float64):
    torch.manual_seed(0)
    plain = nn.Conv2d(6, 5, kernel, padding=padding, bias=bias).to(dtype)
    fast = copy.deepcopy(plain)
    assert Conv2dBackwardAsForward.convert(fast) == 1
    return plain, fast


def _grads(conv, x, grad, mixed=None):
    x = x.clone().requires_grad_()
    conv.zero_grad()
    with mixed or torch.autocast('cpu', enabled=False):
        y = conv(x)
    y.backward(grad)
    return y, x.grad, conv.weight.grad, getattr(conv.bias, 'grad', None)


@pytest.mark.parametrize('kernel,padding,bias,layout', [
    (3, 1, False, torch.contiguous_format),
    (3, 1, True, torch.channels_last),
    (3, 0, False, torch.contiguous_format),
    (3, 2, True, torch.contiguous_format),
    ((5, 3), (2, 1), True, torch.channels_last),
    (1, 0, True, torch.contiguous_format),
])
def test_same_output_and_gradients_as_nn_conv2d(kernel, padding, bias,
                                                layout):
    plain, fast = _pair(kernel, padding, bias)
    x = torch.randn(4, 6, 7, 9, dtype=torch.float64).contiguous(
        memory_format=layout)
    grad = torch.randn_like(plain(x))
    ref, got = _grads(plain, x, grad), _grads(fast, x, grad)
    assert 'ConvBackwardAsForward' in fast(x.requires_grad_()).grad_fn.name()
    torch.testing.assert_close(got[0], ref[0], rtol=0, atol=0)
    for a, b in zip(got[1:], ref[1:]):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # the weight gradient comes back in the weight's own layout
    assert got[2].stride() == fast.weight.stride()


def test_under_bf16_autocast_as_autocast_would_compute_it():
    plain, fast = _pair(3, 1, True, dtype=torch.float32)
    x = torch.randn(8, 6, 4, 4).to(torch.bfloat16)
    mixed = torch.autocast('cpu', dtype=torch.bfloat16)
    with mixed:
        grad = torch.randn_like(plain(x))
    ref, got = _grads(plain, x, grad, mixed), _grads(fast, x, grad, mixed)
    with mixed:
        assert 'ConvBackwardAsForward' in fast(
            x.requires_grad_()).grad_fn.name()
    # the forward is the very call autocast makes
    assert got[0].dtype == torch.bfloat16
    torch.testing.assert_close(got[0], ref[0], rtol=0, atol=0)
    # gradients: the input's in bf16, the parameters' in fp32, equal up to
    # bf16 rounding of differently ordered sums
    assert got[1].dtype == torch.bfloat16
    assert got[2].dtype == got[3].dtype == torch.float32
    for a, b in zip(got[1:], ref[1:]):
        torch.testing.assert_close(a.float(), b.float(), rtol=2e-2,
                                   atol=2e-2)


def test_without_gradients_the_plain_convolution_runs():
    plain, fast = _pair(3, 1, False, dtype=torch.float32)
    x = torch.randn(2, 6, 5, 5)
    with torch.no_grad():
        y = fast(x)
    assert y.grad_fn is None
    torch.testing.assert_close(y, plain(x).detach(), rtol=0, atol=0)


@pytest.mark.parametrize('conv', [
    nn.Conv2d(4, 4, 3, stride=2, padding=1),
    nn.Conv2d(4, 4, 3, padding=2, dilation=2),
    nn.Conv2d(4, 4, 3, padding=1, groups=2),
    nn.Conv2d(4, 4, 3, padding='same'),
    nn.Conv2d(4, 4, 3, padding=1, padding_mode='reflect'),
    nn.Conv2d(4, 4, 3, padding=3),
], ids=['stride', 'dilation', 'groups', 'same', 'reflect', 'wide-padding'])
def test_convolutions_it_cannot_compute_keep_their_class(conv):
    assert not Conv2dBackwardAsForward.supports(conv)
    assert Conv2dBackwardAsForward.convert(nn.Sequential(conv)) == 0
    assert type(conv) is nn.Conv2d


def test_convert_keeps_parameters_and_state_dict_and_skips_subclasses():

    class OwnConv(nn.Conv2d):
        pass

    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
                        nn.Conv2d(4, 4, 3, stride=2, padding=1),
                        OwnConv(4, 4, 3, padding=1))
    params = list(net.parameters())
    state = copy.deepcopy(net.state_dict())
    assert Conv2dBackwardAsForward.convert(net) == 1
    assert Conv2dBackwardAsForward.convert(net) == 1  # idempotent
    assert type(net[0]) is Conv2dBackwardAsForward
    assert type(net[2]) is nn.Conv2d and type(net[3]) is OwnConv
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert net.state_dict().keys() == state.keys()
    for key, value in net.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)
    # deep copies (BYOL's target) keep the class
    assert type(copy.deepcopy(net)[0]) is Conv2dBackwardAsForward
