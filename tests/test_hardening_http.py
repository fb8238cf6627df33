"""Hostile input and closed defaults, through the real app (issue 13's probe table).

The timeouts and degraded modes that need the real server and a misbehaving peer are in
``test_hardening_live.py``.
"""

from __future__ import annotations

import copy
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from injection_cds.cli.main import main
from injection_cds.core.codes import OVERRIDE_REASON_SYSTEM
from injection_cds.protocol.cards import OVERRIDE_REASONS
from injection_cds.store.ledger import Store

pytest_plugins = ["storage_fixtures"]

HASH_KEY = b"hardening-hash-key-0123456789abcdef"

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "examples" / "charting-ceftriaxone.json"
CHARTING = "injection-charting"
WHEN = "2026-03-01T12:05:00Z"
FORMULA = '=HYPERLINK("https://evil.example/x","click")'


def _request() -> dict[str, Any]:
    body: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return body


def _post(client: FlaskClient, body: Any, service: str = CHARTING, **kwargs: Any) -> Any:
    return client.post(
        f"/cds-services/{service}",
        data=json.dumps(body),
        content_type="application/json",
        **kwargs,
    )


def _feedback(client: FlaskClient, items: list[dict[str, Any]], **kwargs: Any) -> Any:
    return client.post(
        f"/cds-services/{CHARTING}/feedback",
        data=json.dumps({"feedback": items}),
        content_type="application/json",
        **kwargs,
    )


@pytest.fixture
def app(tmp_path: Path, db_url: str, app_on: Any) -> Iterator[Flask]:
    with app_on(tmp_path / "instance", database_url=db_url) as made:
        yield made


# --- numbers outside any sane range: a finding, never a 500 ---------------------------------


@pytest.mark.parametrize("value", [1e308, -1e308, 123456789012345678901234567890, 1e-300])
def test_absurd_dose_is_a_finding_not_a_500(client: FlaskClient, value: float | int) -> None:
    body = _request()
    for entry in body["context"]["medicationAdministrations"]["entry"]:
        entry["resource"]["dosage"]["dose"]["value"] = value
    response = _post(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    codes = [card["source"]["topic"]["code"] for card in response.get_json()["cards"]]
    assert codes  # answered with cards (a tiny dose is a dose; a huge one is "no usable dose")


def test_absurd_strength_is_not_a_500(client: FlaskClient) -> None:
    body = _request()
    for entry in body["context"]["medicationAdministrations"]["entry"]:
        entry["resource"]["dosage"]["dose"]["value"] = 10**25
        entry["resource"]["dosage"]["dose"]["unit"] = "mg"
    response = _post(client, body)
    assert response.status_code == 200


# --- NUL and control characters: the same on every backend ----------------------------------


def test_nul_in_user_comment_and_hook_instance_is_stored_cleaned(app: Flask) -> None:
    client = app.test_client()
    body = _request()
    body["hookInstance"] = "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea"
    answer = _post(client, body)
    assert answer.status_code == 200
    card = answer.get_json()["cards"][0]["uuid"]
    item = {
        "card": card,
        "outcome": "overridden",
        "overrideReason": {
            "reason": {"system": OVERRIDE_REASON_SYSTEM, "code": "not-applicable"},
            "userComment": "given\x00 elsewhere\x07, see note\nline two",
        },
        "outcomeTimestamp": WHEN,
    }
    response = _feedback(client, [item])
    assert response.status_code == 200, response.get_data(as_text=True)
    store: Store = app.extensions["injection_cds.store.ledger"]
    (row,) = store.queries.feedback_rows(card)
    assert row["user_comment"] == "given elsewhere, see note\nline two"
    assert row["known_card"] is True


def test_control_characters_in_a_card_uuid_do_not_drop_the_feedback(app: Flask) -> None:
    client = app.test_client()
    item = {"card": "card\x00-1", "outcome": "accepted", "outcomeTimestamp": WHEN}
    item["acceptedSuggestions"] = [{"id": "s\x00"}]  # required with "accepted"
    assert _feedback(client, [item]).status_code == 200
    store: Store = app.extensions["injection_cds.store.ledger"]
    assert [r["card_uuid"] for r in store.queries.feedback_rows()] == ["card-1"]


# --- nothing lost twice: feedback is idempotent -------------------------------------------


def test_feedback_sent_again_is_stored_once(app: Flask) -> None:
    client = app.test_client()
    items = [
        {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": WHEN},
        {"card": "c-2", "outcome": "overridden", "outcomeTimestamp": WHEN},
    ]
    first = _feedback(client, items)
    retry = _feedback(client, items)  # after a dropped connection, the EHR sends it again
    assert first.status_code == retry.status_code == 200
    assert first.get_json() == retry.get_json()
    later = {"card": "c-1", "outcome": "overridden", "outcomeTimestamp": "2026-03-01T12:06:00Z"}
    assert _feedback(client, [later]).status_code == 200
    store: Store = app.extensions["injection_cds.store.ledger"]
    rows = [(r["card_uuid"], r["outcome"]) for r in store.queries.feedback_rows()]
    stamps = [(r["card_uuid"], r["outcome_at"].minute) for r in store.queries.feedback_rows()]
    assert rows == [("c-1", "overridden"), ("c-2", "overridden"), ("c-1", "overridden")]
    assert stamps == [("c-1", 5), ("c-2", 5), ("c-1", 6)]


def test_a_deleted_sqlite_file_is_reopened_and_nothing_is_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, app_on: Any
) -> None:
    database = tmp_path / "ledger.sqlite3"
    with app_on(tmp_path / "instance", database_url=f"sqlite:///{database}") as made:
        client = made.test_client()
        first = {"card": "before", "outcome": "overridden", "outcomeTimestamp": WHEN}
        assert _feedback(client, [first]).status_code == 200
        for path in tmp_path.glob("ledger.sqlite3*"):
            path.unlink()
        second = {"card": "after", "outcome": "overridden", "outcomeTimestamp": WHEN}
        response = _feedback(client, [second])
        assert response.status_code == 200
        assert _post(client, _request()).status_code == 200  # and the ledger writes work
        store: Store = made.extensions["injection_cds.store.ledger"]
        assert [r["card_uuid"] for r in store.queries.feedback_rows()] == ["after"]
        assert store.queries.card_rows()
    assert database.exists()
    reopened = [r for r in caplog.records if "was deleted" in r.getMessage()]
    assert reopened and reopened[0].levelname == "ERROR"


# --- nothing echoed ----------------------------------------------------------------------


def test_rule_page_404_does_not_echo_the_path(client: FlaskClient) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    response = client.get(f"/rules/{hostile}")
    assert response.status_code == 404
    assert response.mimetype == "application/fhir+json"
    text = response.get_data(as_text=True)
    assert "onerror" not in text and "<img" not in text


def test_a_forged_host_is_refused_without_public_base_url(tmp_path: Path, app_on: Any) -> None:
    with app_on(tmp_path / "instance") as made:
        client = made.test_client()
        response = _post(client, _request(), headers={"Host": "evil.example.org"})
        assert response.status_code == 400
        assert response.mimetype == "application/fhir+json"
        assert "evil" not in response.get_data(as_text=True)
        good = _post(client, _request(), headers={"Host": "127.0.0.1:8080"})
        assert good.status_code == 200
        links = [card["source"]["url"] for card in good.get_json()["cards"]]
        assert links and all(link.startswith("http://127.0.0.1:8080/rules/") for link in links)


def test_card_links_come_from_public_base_url_whatever_the_host(
    tmp_path: Path, app_on: Any
) -> None:
    base = "https://cds.example.org"
    with app_on(tmp_path / "instance", public_base_url=base) as made:
        response = _post(made.test_client(), _request(), headers={"Host": "evil.example.org"})
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "evil.example.org" not in text
        assert all(
            card["source"]["url"].startswith(base + "/rules/")
            for card in response.get_json()["cards"]
        )


def test_report_csv_neutralises_formulas(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
    store = Store.from_url(url, HASH_KEY)
    try:
        card = {"uuid": "u1", "indicator": "warning", "source": {"topic": {"code": "DOC001"}}}
        store.ledger.record("svc", "hook", "h", [card], None, None)
        reason = {"reason": {"system": "urn:x", "code": "x", "display": FORMULA}}
        item = {"card": "u1", "outcome": "overridden", "overrideReason": reason}
        store.feedback.record("svc", [{**item, "outcomeTimestamp": WHEN}])
    finally:
        store.close()
    result = CliRunner().invoke(main, ["report", "--database-url", url, "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)


def test_audit_worklist_neutralises_formulas(tmp_path: Path) -> None:
    body = _request()
    lines: list[dict[str, Any]] = []
    for entry in body["context"]["medicationAdministrations"]["entry"]:
        resource = copy.deepcopy(entry["resource"])
        for medication in resource.get("contained", []):
            medication["code"]["text"] = FORMULA  # the charted drug name
        lines.append(resource)
    for value in filter(None, body["prefetch"].values()):
        if value.get("resourceType") == "Bundle":
            lines.extend(e["resource"] for e in value.get("entry", []))
        else:
            lines.append(value)
    source = tmp_path / "visit.ndjson"
    source.write_text("\n".join(json.dumps(r) for r in lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["audit", str(source), "--out", str(out), "--workers", "1", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    with (out / "worklist.csv").open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert any("HYPERLINK" in cell for cell in cells)  # the charted name is there...
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)  # ...as text


# --- closed by default -------------------------------------------------------------------


ADMIN = "admin-token-0123456789abcdef0123456789"


@pytest.fixture
def kit(jwt_kit: Any) -> Any:
    return jwt_kit


@pytest.fixture
def app_on(make_app: Any) -> Any:
    return make_app


def test_analytics_needs_the_services_trust_or_the_admin_token(
    tmp_path: Path, app_on: Any, kit: Any
) -> None:
    config = {"auth": kit.auth_config(), "analytics": {"admin_token": ADMIN}}
    with app_on(tmp_path / "instance", **config) as made:
        client = made.test_client()
        refused = client.get("/analytics")
        assert refused.status_code == 401
        assert refused.mimetype == "application/fhir+json"
        wrong = client.get("/analytics", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        admin = client.get("/analytics", headers={"Authorization": f"Bearer {ADMIN}"})
        assert admin.status_code == 200 and "rules" in admin.get_json()
        token = kit.token("http://localhost/analytics")
        ehr = client.get("/analytics", headers={"Authorization": f"Bearer {token}"})
        assert ehr.status_code == 200


def test_the_floor_is_served_only_in_benchmark_mode(tmp_path: Path, app_on: Any) -> None:
    with app_on(tmp_path / "plain") as made:
        response = made.test_client().post("/_floor", json={"cards": []})
        assert response.status_code == 404
        assert response.mimetype == "application/fhir+json"
    with app_on(tmp_path / "bench", benchmark_mode=True) as made:
        assert made.test_client().post("/_floor", json={}).get_json() == {"cards": []}


@pytest.mark.parametrize(
    "header", [("X-Forwarded-For", "203.0.113.7"), ("Forwarded", "for=203.0.113.7")]
)
def test_loopback_rule_refuses_a_proxied_request(
    tmp_path: Path, app_on: Any, header: tuple[str, str]
) -> None:
    # A reverse proxy on the same host connects from 127.0.0.1 for every client.
    with app_on(tmp_path / "instance") as made:
        client = made.test_client()
        direct = _post(client, _request(), environ_base={"REMOTE_ADDR": "127.0.0.1"})
        assert direct.status_code == 200
        proxied = _post(
            client,
            _request(),
            headers={header[0]: header[1]},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        assert proxied.status_code == 401
        assert "proxy" in proxied.get_json()["issue"][0]["diagnostics"]


def test_proxy_hops_take_the_client_address_from_the_proxy(
    tmp_path: Path, app_on: Any, kit: Any
) -> None:
    config = {"auth": kit.auth_config(), "proxy_hops": 1, "trusted_hosts": ["cds.example.org"]}
    with app_on(tmp_path / "instance", **config) as made:
        client = made.test_client()
        url = "https://cds.example.org/cds-services/injection-charting"
        headers = {
            "Authorization": f"Bearer {kit.token(url)}",
            "X-Forwarded-For": "198.51.100.4",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "cds.example.org",
        }
        response = _post(client, _request(), headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        links = [card["source"]["url"] for card in response.get_json()["cards"]]
        assert all(link.startswith("https://cds.example.org/rules/") for link in links)


def test_fhir_server_limited_to_the_issuers_configured_bases(
    tmp_path: Path, app_on: Any, kit: Any
) -> None:
    auth = kit.auth_config()
    auth["issuers"][0]["fhir_servers"] = ["https://fhir.ehr.example.org/r4"]
    with app_on(tmp_path / "instance", auth=auth) as made:
        client = made.test_client()
        url = "http://localhost/cds-services/injection-charting"
        body = _request()
        body["prefetch"].pop("encounter")  # something to fetch
        body["fhirServer"] = "https://attacker.example.net/fhir"
        body["fhirAuthorization"] = {
            "access_token": "t",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "x",
            "subject": "s",
        }
        headers = {"Authorization": f"Bearer {kit.token(url)}"}
        response = _post(client, body, headers=headers)
        assert response.status_code == 400
        assert "attacker" not in response.get_data(as_text=True)
        assert response.get_json()["issue"][0]["expression"] == ["fhirServer"]
        # Only optional keys left to fetch: answered without them, and the response says so.
        body["prefetch"]["encounter"] = _request()["prefetch"]["encounter"]
        headers = {"Authorization": f"Bearer {kit.token(url)}"}
        answered = _post(client, body, headers=headers)
        assert answered.status_code == 200, answered.get_data(as_text=True)
        (note,) = answered.get_json()["extension"]["org.injectioncds.notes"]
        assert "not fetched" in note and "attacker" not in note


def test_analytics_shows_the_services_display_for_a_code_sent_alone(
    tmp_path: Path, app_on: Any
) -> None:
    with app_on(tmp_path / "instance") as made:
        client = made.test_client()
        answer = _post(client, _request())
        card = next(c for c in answer.get_json()["cards"] if "overrideReasons" in c)
        ours = OVERRIDE_REASONS[0]
        item = {
            "card": card["uuid"],
            "outcome": "overridden",
            "overrideReason": {"reason": {"system": ours["system"], "code": ours["code"]}},
            "outcomeTimestamp": WHEN,
        }
        assert _feedback(client, [item]).status_code == 200
        report = client.get("/analytics").get_json()
        reasons = [r for rule in report["rules"] for r in rule["topOverrideReasons"]]
        assert reasons == [
            {"system": ours["system"], "code": ours["code"], "display": ours["display"], "count": 1}
        ]
