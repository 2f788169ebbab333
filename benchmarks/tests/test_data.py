"""benchmarks/data.py: three pipelines on the same images, JSON out."""
import json

from benchmarks import data


def test_three_pipelines_on_the_same_images(tmp_path, capsys):
    out = tmp_path / 'data.json'
    result = data.main(['--num', '6', '--batch', '4', '--size', '32',
                        '--out', str(out)])
    assert json.loads(out.read_text()) == result
    rows = {r['pipeline'].split(' ')[0]: r for r in result['pipelines']}
    assert set(rows) == {'mmbyol-cpu', 'mmbyol-batched', 'mmbyol-batched:',
                         'mmpretrain-stock'}
    for row in rows.values():
        assert row['images'] == 6 and row['images_per_s_per_core'] > 0
    stock = rows['mmpretrain-stock']
    assert stock['x_stock'] == 1.0 and stock['reuse_host_memory'] is False
    assert rows['mmbyol-batched']['reuse_host_memory'] is True
    # the workers' share is the batched path without its device ops
    batched, workers = rows['mmbyol-batched'], rows['mmbyol-batched:']
    assert workers['cpu_s'] < batched['cpu_s']
    assert 'img/s/core' in capsys.readouterr().out
