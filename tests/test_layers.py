"""mmbyol's imports run one way: no module imports a higher floor.

Floors, bottom to top: registry, pure functions and small utilities; then
augmentations, datasets, models, evaluation, engine, learner; the package's
entry points on top. Every import counts, also one inside a function.
"""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'mmbyol'

# module prefix -> floor; the longest matching prefix decides
FLOORS = {
    'mmbyol.version': 0,
    'mmbyol.registry': 0,
    'mmbyol.functional': 0,
    'mmbyol.ema_schedule': 0,
    'mmbyol.utils': 0,
    'mmbyol.augmentations': 1,
    'mmbyol.datasets': 2,
    'mmbyol.models': 3,
    'mmbyol.evaluation': 4,
    'mmbyol.visualization': 4,
    'mmbyol.engine': 5,
    'mmbyol.learner': 6,
    'mmbyol.setup_env': 7,
    'mmbyol': 7,  # the package itself: `import mmbyol` registers everything
}


def floor(module: str) -> int:
    best = max((p for p in FLOORS if module == p or module.startswith(p + '.')),
               key=len)
    return FLOORS[best]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def imported_modules(path: Path):
    """(line, module) of every mmbyol import in ``path``, relative ones
    resolved."""
    name = module_name(path)
    package = name if path.name == '__init__.py' else name.rsplit('.', 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')
                base = base[:len(base) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ''
            for alias in node.names:
                yield node.lineno, f'{target}.{alias.name}' if \
                    _is_submodule(f'{target}.{alias.name}') else target


def _is_submodule(module: str) -> bool:
    rel = Path(*module.split('.'))
    root = PACKAGE.parent
    return (root / rel).with_suffix('.py').exists() or (root / rel).is_dir()


SOURCES = sorted(PACKAGE.rglob('*.py'))


def test_floors_cover_the_package():
    assert SOURCES and all(floor(module_name(p)) >= 0 for p in SOURCES)


@pytest.mark.parametrize('path', SOURCES,
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_import_runs_up_a_floor(path):
    own = floor(module_name(path))
    upward = [f'line {line}: {module} (floor {floor(module)})'
              for line, module in imported_modules(path)
              if module.startswith('mmbyol') and floor(module) > own]
    assert not upward, (f'{module_name(path)} (floor {own}) imports higher '
                        'floors: ' + '; '.join(upward))


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The test above can fail: an import inside a function is found."""
    fake = PACKAGE / 'augmentations' / 'views.py'
    source = 'def f():\n    from mmbyol.engine.runner import build_runner\n'
    monkeypatch.setattr(Path, 'read_text', lambda self: source)
    with pytest.raises(AssertionError, match='mmbyol.engine.runner'):
        test_no_import_runs_up_a_floor(fake)
