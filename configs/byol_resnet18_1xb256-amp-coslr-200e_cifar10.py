# byol_resnet18_1xb256-coslr-200e_cifar10.py with bf16 autocast (CPU and
# CUDA; loss, weights, optimizer state and EMA stay fp32) and channels_last
# convolutions. bf16 by name: on a CPU without bf16 kernels (plain AVX2) it
# is emulated and warns; `tools/train.py --amp` on the fp32 config picks
# what the device computes natively.
_base_ = ['byol_resnet18_1xb256-coslr-200e_cifar10.py']

optim_wrapper = dict(type='AutocastOptimWrapper', dtype='bfloat16')
custom_hooks = [dict(type='ChannelsLastHook')]
