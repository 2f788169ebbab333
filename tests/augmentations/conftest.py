import numpy as np
import pytest
import torch
from PIL import Image


@pytest.fixture(scope='module')
def real_images(cifar_folder):
    """Eight real CIFAR-10 JPEGs as a float (8, 3, 32, 32) batch in [0, 1]."""
    paths = sorted(cifar_folder.rglob('*.jpg'))[::25][:8]
    arrays = [np.asarray(Image.open(p).convert('RGB')) for p in paths]
    x = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2)
    return x.float() / 255


@pytest.fixture(autouse=True)
def one_thread():
    """Per-image ops are tiny: OpenMP threads only spin on a busy machine
    (data-loader workers run one thread each, too)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
