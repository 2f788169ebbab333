"""BYOLDataPreprocessor: the batched device path and its guards."""
import pytest
import torch
from mmpretrain.structures import DataSample

from mmbyol.augmentations import use_cpu_kernels
from mmbyol.models.data_preprocessors import BYOLDataPreprocessor

MEAN, STD = [120.0, 110.0, 100.0], [50.0, 60.0, 70.0]


@pytest.fixture(autouse=True, params=[True, False],
                ids=['cpu-kernels', 'tensor-ops'])
def colour_path(request):
    """Every test on both CPU paths: the fused kernels, and the tensor
    ops that accelerators run."""
    with use_cpu_kernels(request.param):
        yield request.param


def batch(n=6, flag=False, seed=0, size=16):
    g = torch.Generator().manual_seed(seed)
    views = [torch.randint(0, 256, (n, 3, size, size), dtype=torch.uint8,
                           generator=g) for _ in range(2)]
    samples = [DataSample(metainfo=dict(byol_photometric=flag))
               for _ in range(n)]
    return dict(inputs=views, data_samples=samples)


def normalise(x):
    return (x.float() - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(
        STD).view(1, 3, 1, 1)


def test_outside_training_it_only_normalises():
    pre = BYOLDataPreprocessor(mean=MEAN, std=STD, augment_on_device=True)
    data = batch()
    out = pre(data, training=False)
    for got, view in zip(out['inputs'], data['inputs']):
        torch.testing.assert_close(got, normalise(view))


def test_device_path_augments_each_sample_with_its_own_parameters():
    # 32 px: a 3-tap blur, so even two samples without colour jitter differ
    # (at 16 px the kernel has one tap); seeded, the draws are fixed
    torch.manual_seed(0)
    pre = BYOLDataPreprocessor(mean=MEAN, std=STD, augment_on_device=True)
    data = batch(size=32)
    same = data['inputs'][0][:1].expand(6, -1, -1, -1).contiguous()
    data['inputs'] = [same, same.clone()]
    out = pre(data, training=True)['inputs']
    assert isinstance(out, list) and len(out) == 2
    for v in out:
        assert v.shape == (6, 3, 32, 32) and v.dtype == torch.float32
    flat = out[0].flatten(1)
    assert torch.cdist(flat, flat).fill_diagonal_(1).min() > 1e-3
    # values stay in the normalised range of [0, 255] pixels
    lo, hi = normalise(torch.zeros(1, 3, 1, 1)), normalise(
        torch.full((1, 3, 1, 1), 255.))
    assert ((out[1] >= lo - 1e-4) & (out[1] <= hi + 1e-4)).all()


def test_deterministic_specs_give_the_exact_op():
    # only grayscale, always: the output is the luma of the input
    off = dict(jitter_prob=0.0, gray_prob=1.0, blur_prob=0.0,
               solarize_prob=0.0)
    pre = BYOLDataPreprocessor(augment_on_device=True,
                               view_specs=[off, off])
    data = batch()
    out = pre(data, training=True)['inputs'][0]
    x = data['inputs'][0].float()
    luma = 0.2989 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]
    torch.testing.assert_close(out, luma[:, None].expand_as(x), atol=1e-3,
                               rtol=0)


def test_guards_against_double_or_missing_colour_augmentation():
    with pytest.raises(ValueError, match='photometric=False'):
        BYOLDataPreprocessor(augment_on_device=True)(batch(flag=True),
                                                     training=True)
    with pytest.raises(ValueError, match='augment_on_device=True'):
        BYOLDataPreprocessor(augment_on_device=False)(batch(flag=False),
                                                      training=True)
    with pytest.raises(ValueError, match='convention'):
        BYOLDataPreprocessor(convention='opencv')


def test_device_path_is_unchanged_by_bf16_autocast():
    # MMEngine calls the preprocessor inside the optimizer's autocast
    # context; the colour ops must still run in fp32.
    def views(autocast):
        pre = BYOLDataPreprocessor(mean=MEAN, std=STD, augment_on_device=True)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=autocast):
            return pre(batch(n=64), training=True)['inputs']

    for plain, mixed in zip(views(False), views(True)):
        assert mixed.dtype == torch.float32
        torch.testing.assert_close(mixed, plain, rtol=0, atol=0)


def test_device_path_makes_no_host_device_sync():
    # the parameters are drawn on the host and each op selects its samples
    # with host indices: no nonzero()/boolean mask for the device to answer
    from benchmarks.instruments.syncs import SyncCounter
    pre = BYOLDataPreprocessor(mean=MEAN, std=STD, augment_on_device=True)
    data = batch(n=64)
    with SyncCounter(locate=True) as syncs:
        pre(data, training=True)
    assert syncs.count == 0, dict(syncs.sites)


def test_device_path_leaves_its_input_untouched():
    pre = BYOLDataPreprocessor(augment_on_device=True)
    data = batch(n=16)
    floats = [v.float() for v in data['inputs']]
    before = [v.clone() for v in floats]
    pre(dict(data, inputs=floats), training=True)
    for v, b in zip(floats, before):
        assert torch.equal(v, b)


@pytest.mark.parametrize('chunk_bytes', [1, 3 * 32 * 32 * 4 * 5])
def test_cpu_chunks_give_the_whole_batch_result(monkeypatch, chunk_bytes,
                                                colour_path):
    # on a CPU the tensor ops go through cache-sized chunks (one image
    # each, or five): the same numbers as the whole batch at once
    if colour_path:
        pytest.skip('the fused kernels take the whole view in one call')
    from mmbyol.models.data_preprocessors import byol_data_preprocessor
    data = batch(n=12, size=32)

    def views(chunk):
        monkeypatch.setattr(byol_data_preprocessor, 'CPU_CHUNK_BYTES', chunk)
        pre = BYOLDataPreprocessor(mean=MEAN, std=STD, augment_on_device=True)
        assert pre._chunk_size(data['inputs'][0]) == max(
            1, chunk // (3 * 32 * 32 * 4))
        return pre(data, training=True)['inputs']

    for whole, chunked in zip(views(1 << 30), views(chunk_bytes)):
        torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-5)
