from setuptools import find_packages, setup

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
    # timm: the export and learner tests load into timm's ResNet when present
    extras_require={'tests': ['pytest', 'timm']},
)
