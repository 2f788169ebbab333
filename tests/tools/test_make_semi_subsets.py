from collections import Counter
from pathlib import Path

import pytest

from mmbyol.evaluation.splits import balanced_subset
from tests.conftest import load_script

REPO = Path(__file__).resolve().parents[2]


def tool():
    return load_script('tools/make_semi_subsets.py')


def read(path):
    return [(p, int(y)) for p, y in
            (line.rsplit(' ', 1) for line in path.read_text().splitlines())]


@pytest.fixture
def folder(tmp_path):
    classes = ['cat', 'dog', 'frog']
    for c in classes:
        (tmp_path / 'train' / c).mkdir(parents=True)
        for i in range(60):
            (tmp_path / 'train' / c / f'{i:04d}.jpg').touch()
    return tmp_path


def test_cifar_splits_are_balanced_seeded_and_held_out(folder):
    run = tool().main
    run(['cifar10', '--data-root', str(folder), '--held-out', '50', '59',
         '--fractions', '0.1', '0.5', '--seed', '3'])
    meta = folder / 'meta'
    train, val = read(meta / 'train.txt'), read(meta / 'val.txt')
    assert len(train) == 150 and len(val) == 30
    assert all(int(Path(p).stem) >= 50 for p, _ in val)
    assert {y for p, y in val if p.startswith('dog/')} == {1}
    small = read(meta / 'train_10pct_seed3.txt')
    assert Counter(y for _, y in small) == {0: 5, 1: 5, 2: 5}
    half = read(meta / 'train_50pct_seed3.txt')
    assert Counter(y for _, y in half) == {0: 25, 1: 25, 2: 25}
    assert set(small) <= set(train) and set(half) <= set(train)

    # same seed: same files; another seed: another draw
    first = (meta / 'train_10pct_seed3.txt').read_text()
    run(['cifar10', '--data-root', str(folder), '--held-out', '50', '59',
         '--fractions', '0.1', '--seed', '3'])
    assert (meta / 'train_10pct_seed3.txt').read_text() == first
    run(['cifar10', '--data-root', str(folder), '--held-out', '50', '59',
         '--fractions', '0.1', '--seed', '4'])
    assert (meta / 'train_10pct_seed4.txt').read_text() != first


def test_balanced_subset_keeps_one_per_class():
    samples = [(f'{i}', i % 4) for i in range(40)]
    assert Counter(y for _, y in balanced_subset(samples, 0.01)) == \
        {0: 1, 1: 1, 2: 1, 3: 1}
    with pytest.raises(ValueError):
        balanced_subset(samples, 0)


def test_imagenet_simclr_file(tmp_path):
    for wnid in ('n02', 'n01', 'n03'):
        (tmp_path / 'train' / wnid).mkdir(parents=True)
    subset = tmp_path / '1percent.txt'
    subset.write_text('n01_10.JPEG\nn03_7.JPEG\n\nn02_1.JPEG\n')
    out = tmp_path / 'meta' / 'train_1pct.txt'
    tool().main(['imagenet', '--simclr-file', str(subset), '--data-root',
                 str(tmp_path), '--out', str(out)])
    assert read(out) == [('n01/n01_10.JPEG', 0), ('n03/n03_7.JPEG', 2),
                         ('n02/n02_1.JPEG', 1)]
    subset.write_text('n09_1.JPEG\n')
    with pytest.raises(ValueError, match='n09'):
        tool().main(['imagenet', '--simclr-file', str(subset),
                     '--data-root', str(tmp_path), '--out', str(out)])
