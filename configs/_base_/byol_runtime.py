# The runtime of BYOL pretraining: default_runtime.py plus BYOL's two hooks,
# as keyed entries of `default_hooks`, so that a child config that adds
# hooks (custom_hooks) or changes one (default_hooks.byol_momentum.base_tau)
# keeps the rest. Downstream configs inherit default_runtime.py instead.
_base_ = ['default_runtime.py']

default_hooks = dict(
    # the target network: xi <- tau * xi + (1 - tau) * theta after every
    # optimizer step, tau from 0.996 to 1 on a cosine schedule (Sec. 3.2)
    byol_momentum=dict(type='BYOLMomentumHook', base_tau=0.996, end_tau=1.0),
    # collapse monitor: warns when the std of the normalised projections
    # (about 1/sqrt(d) when healthy) falls under the floor
    byol_health=dict(type='BYOLHealthHook', std_floor=0.01),
)
