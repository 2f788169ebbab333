import json
from pathlib import Path

from benchmarks.report import print_report


def test_prints_table_then_json_and_writes_it(tmp_path, capsys):
    out = tmp_path / 'r.json'
    result = dict(speed=1.5, where=Path('x'))
    text = print_report(result, 'TABLE', str(out))
    printed = capsys.readouterr().out
    assert printed.startswith('TABLE\n{')
    # what JSON cannot hold is written as its str
    assert json.loads(out.read_text()) == {'speed': 1.5, 'where': 'x'}
    assert json.loads(text) == json.loads(printed[len('TABLE\n'):])
