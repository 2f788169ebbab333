# The 30-minute CPU recipe with bf16 autocast and channels_last: trains the
# same BYOL (loss, weights, optimizer state and EMA in fp32), for checking
# that mixed precision leaves the kNN accuracy unchanged. bf16 by name: on
# a CPU without bf16 kernels (plain AVX2) it is emulated and a warning says
# so; dtype='auto' falls back to fp32 there.
_base_ = ['byol_resnet18-w16_1xb128-coslr-200e_cifar10-24px.py']

optim_wrapper = dict(type='AutocastOptimWrapper', dtype='bfloat16')
custom_hooks = [dict(type='ChannelsLastHook')]
