"""The card-count targets hold on data nobody on the team wrote (bench/card_counts.py).

One charting call per administration of ``../shared/data/external``: the median number of
cards per call charting an injection is at most 3, and no card repeats another's root cause.
Skipped where the shared data folder is absent.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL = ROOT.parent / "shared" / "data" / "external"


def _card_counts() -> ModuleType:
    spec = importlib.util.spec_from_file_location("card_counts", ROOT / "bench" / "card_counts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not EXTERNAL.is_dir(), reason=f"{EXTERNAL} is not here")
def test_charting_calls_get_at_most_three_cards_and_no_repeated_root_cause() -> None:
    card_counts = _card_counts()
    tallies = card_counts.run()
    external = [t for t in tallies if t.name in card_counts.DATASETS]
    assert {t.name for t in external} == set(card_counts.DATASETS)
    injectable = [n for t in external for n in t.injectable_counts]
    assert len(injectable) > 900  # the injections of the three datasets were charted
    assert statistics.median(injectable) <= card_counts.TARGET_MEDIAN
    assert {what: n for t in tallies for what, n in t.repeats.items()} == {}
