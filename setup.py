import os
import os.path as osp
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.develop import develop

# What `mim train/run/search mmbyol` looks up in the installed package, under
# mmbyol/.mim/: the top-level configs/, tools/ and model index.
MIM_FILES = ('configs', 'tools', 'model-index.yml')
MIM_DIR = osp.join('mmbyol', '.mim')


class BuildPyWithMim(build_py):
    """Copies the MIM files into the built package (``pip install .``,
    wheels); MANIFEST.in puts their sources into sdists."""

    def run(self):
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        target = osp.join(self.build_lib, MIM_DIR)
        shutil.rmtree(target, ignore_errors=True)  # no stale copies
        os.makedirs(target)
        for name in MIM_FILES:
            dst = osp.join(target, name)
            if osp.isdir(name):
                shutil.copytree(
                    name, dst,
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                shutil.copyfile(name, dst)


class DevelopWithMim(develop):
    """Links the MIM files into the source tree (``pip install -e .``), so
    that edits to configs and tools show through at once."""

    def run(self):
        os.makedirs(MIM_DIR, exist_ok=True)
        with open(osp.join(MIM_DIR, '.gitignore'), 'w') as f:
            f.write('*\n')  # generated: links only
        for name in MIM_FILES:
            link = osp.join(MIM_DIR, name)
            if osp.islink(link) or osp.isfile(link):
                os.remove(link)
            elif osp.isdir(link):
                shutil.rmtree(link)
            os.symlink(osp.join('..', '..', name), link)
        super().run()


version = {}
with open('mmbyol/version.py') as f:
    exec(f.read(), version)

setup(
    name='mmbyol',
    version=version['__version__'],
    description='BYOL (Bootstrap Your Own Latent) as an OpenMMLab plugin',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmbyol', 'mmbyol.*']),
    cmdclass={'build_py': BuildPyWithMim, 'develop': DevelopWithMim},
    python_requires='>=3.11',
    install_requires=[
        'torch==2.14.1',
        'torchvision==0.29.1',
        'mmengine==0.10.7',
        'mmcv-lite==2.2.0',
        'mmpretrain==1.2.0',
        # mmengine imports pkg_resources, which setuptools 80 removed.
        'setuptools<80',
        'numpy>=2',
        # the fused CPU kernels of the colour ops (mmbyol/augmentations)
        'numba>=0.61',
        # scikit-learn ships the handwritten-digits images of `make demo`.
        'scikit-learn',
        'matplotlib',
        'tqdm',
        # the TensorBoard backend of the default runtime's visualizer
        'tensorboard',
    ],
    # timm: the export and learner tests load into timm's ResNet when present;
    # openmim: tests/test_mim.py runs `mim train/run/search mmbyol`
    extras_require={'tests': ['pytest', 'timm', 'openmim']},
)
