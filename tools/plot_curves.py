"""Plot a run's curves: ``python tools/plot_curves.py WORK_DIR --out
curves.png`` (losses, kNN accuracy, projection std, prediction/target
cosine, linear-probe accuracy, tau, lr; whichever the run logged)."""
import argparse
import json
import sys

from mmbyol.visualization import find_scalars_file, load_scalars, plot_curves


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='work dir (or a scalars.json)')
    parser.add_argument('--out', default='curves.png')
    parser.add_argument('--title')
    args = parser.parse_args(argv)
    try:
        path = find_scalars_file(args.work_dir)
        series = load_scalars(path)
        panels = plot_curves(series, args.out, args.title)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f'error: {err}')
    info = dict(out=args.out, scalars=path, panels=panels,
                series={k: len(v[0]) for k, v in sorted(series.items())})
    print(json.dumps(info))
    for name, (steps, values) in sorted(series.items()):
        print(f'{name:>20s}  {len(steps):5d} points  last {values[-1]:.4g}')
    return info


if __name__ == '__main__':
    main()
