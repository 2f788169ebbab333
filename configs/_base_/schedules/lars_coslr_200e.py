# lars_coslr_300e.py over 200 epochs: 10 warm-up epochs, then cosine.
_base_ = ['lars_coslr_300e.py']

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=190, eta_min=0.0, by_epoch=True,
         begin=10, end=200, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=200)
