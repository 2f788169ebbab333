"""How mmbyol's measuring tools hand back a result."""
import json
from typing import Optional


def print_report(result: dict, table: str,
                 out: Optional[str] = None) -> str:
    """Print ``table`` and ``result`` as JSON; also write the JSON to
    ``out``. Values JSON cannot hold are written as their ``str``."""
    text = json.dumps(result, indent=2, default=str)
    print(table)
    print(text)
    if out:
        with open(out, 'w') as f:
            f.write(text + '\n')
    return text
