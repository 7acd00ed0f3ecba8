"""Run every benchmark in this folder and print one table: what, result, target.

Each ``bench_*.py`` module exposes ``run() -> list[Measurement]``. Numbers are
medians over repeated rounds on the machine at hand; bench/README.md records
them with the machine they came from.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from measure import Measurement

HERE = Path(__file__).parent


def _load(path: Path) -> list[Measurement]:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return list(module.run())


def main(selected: list[str]) -> int:
    results: list[Measurement] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if not selected or path.stem.removeprefix("bench_") in selected:
            results.extend(_load(path))
    width = max(len(result.name) for result in results)
    for result in results:
        print(result.line(width))
    return 1 if any(result.missed_target for result in results) else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    sys.exit(main(sys.argv[1:]))
