"""Export BYOL's online encoder: ``tools/extract_backbone.py CKPT OUT
--format {mmpretrain,mmdet,torchvision,timm}``.

Only ``backbone.*`` (the online encoder) is written, never the target copy.
Loading the result:

* mmpretrain / mmdet: ``init_cfg=dict(type='Pretrained', checkpoint=OUT)``
  on the backbone, or ``mmengine.runner.load_checkpoint(resnet, OUT)``;
* torchvision: ``m = resnet50(); m.fc = nn.Identity();
  m.load_state_dict(torch.load(OUT), strict=True)``;
* timm: ``m = timm.create_model('resnet50', num_classes=0);
  m.load_state_dict(torch.load(OUT), strict=True)``.
"""
import argparse
import json
import sys

from mmbyol.utils.errors import MMBYOLError
from mmbyol.utils.export import FORMATS, export_backbone


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('checkpoint', help='BYOL checkpoint (.pth)')
    parser.add_argument('out', help='output file')
    parser.add_argument('--format', choices=FORMATS, default='mmpretrain',
                        help='key layout and wrapper of the output')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        info = export_backbone(args.checkpoint, args.out, args.format)
    except (KeyError, ValueError, MMBYOLError) as err:
        sys.exit(f'error: {err}')
    print(json.dumps(info))
    print(f"wrote {info['out']}: online encoder, {info['num_tensors']} "
          f"tensors, {info['num_params'] / 1e6:.2f}M parameters, "
          f"{info['stem']} stem, {info['format']} layout")
    return info


if __name__ == '__main__':
    main()
