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
