"""The service's own pages in a real browser: headless Chromium loads /rules/<code> and
/analytics from a running ``injection-cds serve`` and renders what the JSON says."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from test_audit_browser import run_chromium
from test_e2e import http, server  # noqa: F401  (fixtures: a real server and a session)

from injection_cds.devtools.synthetic import hook_request

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _dom(tmp_path: Path, url: str) -> str:
    return run_chromium(tmp_path, "--dump-dom", url).stdout


def test_rule_page_renders_in_a_browser(server: str, tmp_path: Path) -> None:  # noqa: F811
    dom = _dom(tmp_path, f"{server}/rules/DOC001")
    assert re.search(r"<h1>DOC001: Route of administration missing or not coded</h1>", dom)
    for section in ("Why it matters", "How to fix", "Bad", "Good", "Sources"):
        assert f"<h2>{section}</h2>" in dom
    index = _dom(tmp_path, f"{server}/rules")
    assert f'href="{server}/rules/BIL001"' in index


def test_analytics_page_shows_the_ledger_in_a_browser(
    server: str,  # noqa: F811
    http: requests.Session,  # noqa: F811
    tmp_path: Path,
) -> None:
    body = hook_request("injection-charting", n_administrations=2, seed=41, gap_rate=0.9)
    answer = http.post(f"{server}/cds-services/injection-charting", json=body, timeout=30)
    assert answer.status_code == 200
    card = next(c for c in answer.json()["cards"] if "overrideReasons" in c)
    rule = card["source"]["topic"]["code"]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "overrideReason": {"reason": card["overrideReasons"][0]},
                "outcomeTimestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ]
    }
    stored = http.post(
        f"{server}/cds-services/injection-charting/feedback", json=feedback, timeout=30
    )
    assert stored.status_code == 200, stored.text

    figures = http.get(f"{server}/analytics", timeout=30).json()
    row = next(r for r in figures["rules"] if r["rule"] == rule)
    assert row["overridden"] >= 1

    dom = _dom(tmp_path, f"{server}/analytics")  # a browser asks for text/html
    assert '<svg role="img" aria-label="Cards shown per rule, split by outcome"' in dom
    cells = re.search(
        rf'<a href="[^"]*/rules/{rule}">{rule}</a>.*?</td>\s*'
        r'<td class="n">(\d+)</td>\s*<td class="n">(\d+)</td>\s*<td class="n">(\d+)</td>',
        dom,
        re.S,
    )
    assert cells is not None, dom[:2000]
    shown, accepted, overridden = (int(v) for v in cells.groups())
    assert (shown, accepted, overridden) == (row["shown"], row["accepted"], row["overridden"])
    assert card["overrideReasons"][0]["display"] in dom
