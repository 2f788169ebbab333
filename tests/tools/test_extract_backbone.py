from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torchvision
from mmengine.runner import load_checkpoint
from mmpretrain.models import ResNet, ResNet_CIFAR

from mmbyol.functional import pool_features
from mmbyol.registry import MODELS
from mmbyol import register_all_modules
from mmbyol.utils.export import convert_backbone, load_checkpoint_file
from tests.conftest import load_script, tiny_byol_cfg

REPO = Path(__file__).resolve().parents[2]


def tool():
    return load_script('tools/extract_backbone.py')


def byol_resnet(depth, sync_bn=False):
    channels = 512 if depth == 18 else 2048
    model = MODELS.build(tiny_byol_cfg(
        backbone=dict(type='ResNet', depth=depth),
        neck=dict(type='BYOLNeck', in_channels=channels, hid_channels=32,
                  out_channels=16)))
    torch.manual_seed(depth)
    with torch.no_grad():
        model.train()
        model.backbone(torch.randn(4, 3, 64, 64) * 2 + 0.5)  # BN stats move
        for p in model.target_backbone.parameters():  # target != online
            p.normal_()
    model.eval()
    if sync_bn:  # as a DDP + SyncBN run would save it
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    return model


def save(model, path, ddp=False):
    state = {('module.' if ddp else '') + k: v
             for k, v in model.state_dict().items()}
    torch.save(dict(meta=dict(epoch=1), state_dict=state), path)


def reference_features(model, x):
    with torch.no_grad():
        return pool_features(model.backbone(x))


@pytest.mark.parametrize('depth', [18, 50])
def test_round_trip_all_formats(tmp_path, depth):
    register_all_modules()
    model = byol_resnet(depth, sync_bn=(depth == 50))
    ckpt = tmp_path / 'byol.pth'
    save(model, ckpt, ddp=(depth == 50))
    x = torch.randn(2, 3, 64, 64)
    expected = reference_features(model, x)
    target = pool_features(model.target_backbone(x)).detach()
    assert not torch.allclose(expected, target)
    extract = tool()

    # the two MMLab formats differ only in the stems they accept
    for fmt in ('mmpretrain', ) if depth == 18 else ('mmdet', ):
        out = tmp_path / f'{fmt}.pth'
        info = extract.main([str(ckpt), str(out), '--format', fmt])
        assert info['stem'] == 'imagenet'
        net = ResNet(depth)  # mmpretrain's train()/eval() return None
        net.eval()
        load_checkpoint(net, str(out), strict=True)
        with torch.no_grad():
            torch.testing.assert_close(pool_features(net(x)), expected)

    tv_models = {18: torchvision.models.resnet18,
                 50: torchvision.models.resnet50}
    out = tmp_path / 'tv.pth'
    extract.main([str(ckpt), str(out), '--format', 'torchvision'])
    state = torch.load(out, weights_only=True)
    assert not any(
        k.startswith(('target', 'backbone.', 'neck')) for k in state)
    net = tv_models[depth]()
    net.fc = nn.Identity()
    net.load_state_dict(state, strict=True)
    with torch.no_grad():
        torch.testing.assert_close(net.eval()(x), expected)

    if depth == 50:
        timm = pytest.importorskip('timm')
        out = tmp_path / 'timm.pth'
        extract.main([str(ckpt), str(out), '--format', 'timm'])
        net = timm.create_model('resnet50', num_classes=0, pretrained=False)
        net.load_state_dict(torch.load(out, weights_only=True), strict=True)
        with torch.no_grad():
            torch.testing.assert_close(net.eval()(x), expected)


def test_cifar_stem_from_a_real_run(tmp_path):
    from tests.engine.hooks.test_knn_hook import tiny_runner
    register_all_modules()
    runner = tiny_runner(tmp_path, [], iters=1)
    runner.train()
    runner.save_checkpoint(str(tmp_path), 'byol.pth')
    ckpt = str(tmp_path / 'byol.pth')
    assert 'message_hub' in load_checkpoint_file(ckpt)  # a real MMEngine one
    model = runner.model
    model.eval()
    x = torch.randn(2, 3, 16, 16)
    expected = reference_features(model, x)
    extract = tool()

    out = tmp_path / 'mmpretrain.pth'
    assert extract.main([ckpt, str(out)])['stem'] == 'cifar'
    net = ResNet_CIFAR(18, stem_channels=8, base_channels=8)
    net.eval()
    load_checkpoint(net, str(out), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(pool_features(net(x)), expected)

    out = tmp_path / 'tv.pth'
    extract.main([ckpt, str(out), '--format', 'torchvision'])
    net = torchvision.models.resnet.ResNet(
        torchvision.models.resnet.BasicBlock, [2, 2, 2, 2])
    _narrow_torchvision(net, 8)
    net.load_state_dict(torch.load(out, weights_only=True), strict=True)
    with torch.no_grad():
        torch.testing.assert_close(net.eval()(x), expected)

    with pytest.raises(SystemExit, match='7x7'):
        extract.main([ckpt, str(tmp_path / 'x.pth'), '--format', 'mmdet'])


def _narrow_torchvision(net, width):
    """torchvision's ResNet-18 at base width ``width`` with the CIFAR stem."""
    tv = torchvision.models.resnet
    net.inplanes = width
    net.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
    net.bn1 = nn.BatchNorm2d(width)
    net.maxpool = nn.Identity()
    for i, stride in enumerate((1, 2, 2, 2)):
        setattr(net, f'layer{i + 1}',
                net._make_layer(tv.BasicBlock, width * 2**i, 2, stride))
    net.fc = nn.Identity()


def test_convert_refuses_what_cannot_load():
    deep = {'stem.0.weight': torch.zeros(32, 3, 3, 3)}
    with pytest.raises(ValueError, match='deep stem'):
        convert_backbone(deep, 'torchvision')
    with pytest.raises(ValueError, match='format'):
        convert_backbone(deep, 'onnx')
    assert list(convert_backbone(deep, 'mmpretrain')) == ['stem.0.weight']


def test_a_missing_or_unreadable_checkpoint_is_one_line(tmp_path):
    tool = load_script('tools/extract_backbone.py')
    for path, expected in ((tmp_path / 'none.pth', 'does not exist'),
                           (tmp_path, 'is a directory')):
        with pytest.raises(SystemExit) as info:
            tool.main([str(path), str(tmp_path / 'out.pth')])
        assert str(info.value).startswith('error: ')
        assert expected in str(info.value)
