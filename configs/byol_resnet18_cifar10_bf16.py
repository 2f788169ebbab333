# byol_resnet18_cifar10.py with bf16 autocast (CPU and CUDA; loss, weights,
# optimizer state and EMA stay fp32) and channels_last convolutions.
# bf16 by name: on a CPU without bf16 kernels (plain AVX2) it is emulated
# and warns; tools/train.py --amp on the fp32 config picks what is native.
# On the AVX-512 2-core CPU, stage 4 (4 x 4 maps) ran 1.14-1.16x faster in
# NCHW, and 1.05-1.25x faster again with its gradients as forward
# convolutions: dict(type='ChannelsLastHook', keep_nchw=['layer4']) and
# dict(type='ConvBackwardAsForwardHook', stages=['layer4']) there. Measure the
# machine that trains with tools/benchmark_layouts.py (docs/speed.md).
_base_ = ['./byol_resnet18_cifar10.py']

optim_wrapper = dict(type='AutocastOptimWrapper', dtype='bfloat16')
custom_hooks = [
    dict(type='BYOLMomentumHook', base_tau=0.996, end_tau=1.0),
    dict(type='BYOLHealthHook', std_floor=0.01),
    dict(type='ChannelsLastHook'),
]
