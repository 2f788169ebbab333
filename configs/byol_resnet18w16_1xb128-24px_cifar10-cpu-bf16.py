# The 30-minute CPU recipe with bf16 autocast and channels_last: trains the
# same BYOL (loss, weights, optimizer state and EMA in fp32), for checking
# that mixed precision leaves the kNN accuracy unchanged. bf16 by name: on
# a CPU without bf16 kernels (plain AVX2) it is emulated, about 15x slower,
# and a warning says so; dtype='auto' would fall back to fp32 there.
_base_ = ['./byol_resnet18w16_1xb128-24px_cifar10-cpu.py']

optim_wrapper = dict(type='AutocastOptimWrapper', dtype='bfloat16')
custom_hooks = [
    dict(type='BYOLMomentumHook', base_tau=0.99, end_tau=1.0),
    dict(type='BYOLHealthHook', std_floor=0.01),
    dict(type='ChannelsLastHook'),
]
