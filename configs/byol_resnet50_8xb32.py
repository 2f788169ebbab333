# The paper's recipe under its short name:
# byol_resnet50_8xb32-coslr-300e_in1k.py, unchanged.
_base_ = ['byol_resnet50_8xb32-coslr-300e_in1k.py']
