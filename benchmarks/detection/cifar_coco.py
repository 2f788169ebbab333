"""A small COCO-format instance-segmentation set made of real CIFAR-10 JPEGs.

Each canvas is a CIFAR-10 image enlarged and blurred into a background
texture, with one to three other CIFAR-10 images pasted on it, each
enlarged 1-2x, never overlapping. What is pasted of an object is the
foreground that OpenCV's GrabCut finds in the image (see
:func:`object_mask`), or the whole image when GrabCut finds none,
so every box and mask is exact by construction: the mask is the set of
canvas pixels that came from the object, the box its tight bounding box
(before JPEG compression, quality 95).
The ten CIFAR-10 classes are the categories.

Splits draw from disjoint image numbers of the archive: ``train`` from
0-4499 of each class, ``val`` only from the held-out 4500-4999.

    python benchmarks/detection/cifar_coco.py OUT [--train 200 --val 50]

writes ``OUT/{train,val}/*.jpg`` and ``OUT/annotations/{train,val}.json``.
"""
import argparse
import json
import tarfile
from pathlib import Path

import cv2
import numpy as np

CLASSES = ('airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog',
           'horse', 'ship', 'truck')
SPLITS = {'train': range(0, 4500), 'val': range(4500, 5000)}
DEFAULT_TAR = (Path(__file__).resolve().parents[3] / 'shared' / 'data' /
               'cifar10' / 'train.tar.gz')


def read_cifar(tar_path, wanted):
    """``{(class, number): RGB uint8 array}`` for the wanted pairs only."""
    out = {}
    with tarfile.open(tar_path) as tar:
        for member in tar:
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 2:
                continue
            key = (parts[-2], int(Path(parts[-1]).stem))
            if key in wanted:
                data = np.frombuffer(tar.extractfile(member).read(), np.uint8)
                out[key] = cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR),
                                        cv2.COLOR_BGR2RGB)
    missing = set(wanted) - set(out)
    if missing:
        raise FileNotFoundError(f'{len(missing)} images not in {tar_path}, '
                                f'e.g. {sorted(missing)[0]}')
    return out


def object_mask(img, size):
    """The foreground of a CIFAR-10 image at ``size`` x ``size``: GrabCut
    on the image enlarged 4x, from a rectangle 2 source pixels inside its
    border, keeping the largest connected part; the whole square when that
    is under 8 % of it (GrabCut found no object)."""
    big = cv2.resize(img, (128, 128), interpolation=cv2.INTER_CUBIC)
    mask = np.zeros((128, 128), np.uint8)
    cv2.setRNGSeed(0)
    cv2.grabCut(cv2.cvtColor(big, cv2.COLOR_RGB2BGR), mask, (8, 8, 112, 112),
                np.zeros((1, 65)), np.zeros((1, 65)), 5,
                cv2.GC_INIT_WITH_RECT)
    fg = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, 4)
    if n > 1:
        fg = (labels == 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    fg = cv2.resize(fg.astype(np.float32), (size, size),
                    interpolation=cv2.INTER_AREA) > 0.5
    if fg.mean() < 0.08:
        return np.ones((size, size), bool)
    return fg


def rle(mask):
    """COCO's uncompressed RLE: run lengths in column-major order, the
    first run counting zeros."""
    flat = np.asfortranarray(mask).ravel(order='F').astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts = [0] + counts
    return dict(counts=counts, size=list(mask.shape))


def place(rng, size, boxes, canvas, tries=50):
    """Top-left corner for a ``size`` square that overlaps no box (with a
    2-pixel gap), or None."""
    for _ in range(tries):
        x, y = rng.integers(0, canvas - size + 1, size=2)
        if all(x + size + 2 <= bx or bx + bs + 2 <= x or
               y + size + 2 <= by or by + bs + 2 <= y
               for bx, by, bs in boxes):
            return int(x), int(y)
    return None


def compose(rng, images, canvas):
    """One canvas from ``images`` (the first is the background); returns
    the RGB canvas and its instances (category index, mask)."""
    background, *objects = images
    img = cv2.resize(background[1], (canvas, canvas),
                     interpolation=cv2.INTER_LINEAR)
    img = cv2.GaussianBlur(img, (0, 0), canvas / 16)
    boxes, instances = [], []
    for cls, obj in objects:
        size = int(32 * rng.uniform(1.0, 2.0))
        corner = place(rng, size, boxes, canvas)
        if corner is None:
            continue
        x, y = corner
        boxes.append((x, y, size))
        patch = cv2.resize(obj, (size, size), interpolation=cv2.INTER_LINEAR)
        fg = object_mask(obj, size)
        region = img[y:y + size, x:x + size]
        region[fg] = patch[fg]
        mask = np.zeros((canvas, canvas), bool)
        mask[y:y + size, x:x + size] = fg
        instances.append((CLASSES.index(cls), mask))
    return img, instances


def build_split(out, split, num_images, canvas=160, max_objects=3, seed=0,
                tar_path=DEFAULT_TAR):
    """Write ``num_images`` canvases of ``split`` and their COCO JSON."""
    rng = np.random.default_rng([seed, list(SPLITS).index(split)])
    counts = rng.integers(1, max_objects + 1, size=num_images)
    need = int(counts.sum()) + num_images
    numbers = SPLITS[split]
    # each image is used at most once in a split
    flat = rng.choice(len(CLASSES) * len(numbers), size=need, replace=False)
    picks = [(CLASSES[i // len(numbers)], numbers[i % len(numbers)])
             for i in flat.tolist()]
    pixels = read_cifar(tar_path, set(picks))
    folder = Path(out) / split
    folder.mkdir(parents=True, exist_ok=True)
    coco = dict(images=[], annotations=[],
                categories=[dict(id=i + 1, name=c)
                            for i, c in enumerate(CLASSES)])
    pos = 0
    for image_id, count in enumerate(counts, 1):
        chosen = picks[pos:pos + 1 + count]
        pos += 1 + count
        img, instances = compose(rng, [(c, pixels[(c, n)]) for c, n in chosen],
                                 canvas)
        name = f'{image_id:05d}.jpg'
        cv2.imwrite(str(folder / name), cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
        coco['images'].append(dict(id=image_id, file_name=name,
                                   width=canvas, height=canvas))
        for label, mask in instances:
            ys, xs = np.nonzero(mask)
            x0, y0 = int(xs.min()), int(ys.min())
            coco['annotations'].append(dict(
                id=len(coco['annotations']) + 1, image_id=image_id,
                category_id=label + 1, iscrowd=0, area=int(mask.sum()),
                bbox=[x0, y0, int(xs.max()) - x0 + 1, int(ys.max()) - y0 + 1],
                segmentation=rle(mask)))
    ann_dir = Path(out) / 'annotations'
    ann_dir.mkdir(parents=True, exist_ok=True)
    (ann_dir / f'{split}.json').write_text(json.dumps(coco))
    used = [n for _, n in picks]
    return dict(split=split, images=len(coco['images']),
                instances=len(coco['annotations']),
                cifar_numbers=[min(used), max(used)])


def extract_folder(out, per_class, tar_path=DEFAULT_TAR):
    """CIFAR-10 images 0 to ``per_class - 1`` of each class as an
    ImageNet-style folder ``out/<class>/NNNN.jpg`` (for BYOL pretraining;
    never the held-out images)."""
    if per_class > SPLITS['train'].stop:
        raise ValueError('per_class must leave the held-out images out')
    wanted = {(c, n) for c in CLASSES for n in range(per_class)}
    for (cls, number), img in read_cifar(tar_path, wanted).items():
        folder = Path(out) / cls
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f'{number:04d}.jpg'),
                    cv2.cvtColor(img, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
    return len(wanted)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out')
    parser.add_argument('--train', type=int, default=200)
    parser.add_argument('--val', type=int, default=50)
    parser.add_argument('--canvas', type=int, default=160)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--tar', default=str(DEFAULT_TAR))
    args = parser.parse_args(argv)
    info = [build_split(args.out, split, n, args.canvas, seed=args.seed,
                        tar_path=args.tar)
            for split, n in (('train', args.train), ('val', args.val))]
    print(json.dumps(info))
    return info


if __name__ == '__main__':
    main()
