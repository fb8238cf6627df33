"""No PHI leaves a request: not in any log line (ours or a library's), not in the ledger."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from injection_cds.store.cards import card_rules
from injection_cds.web.logging_setup import JsonFormatter

pytest_plugins = ["storage_fixtures"]

REQUEST = (
    Path(__file__).parent.parent
    / "fixtures/golden/org.injectioncds.medicationadministration-sign"
    / "two_injections_one_incomplete.request.json"
)
SERVICE_URL = "http://localhost/cds-services/injection-charting"
NAME, FAMILY = "Zebulon", "Quixote-Marchetti"
MRN = "MRN-77441920"
BIRTH_DATE = "1961-07-13"
ACCESS_TOKEN = "fhir-access-SECRET-5f1c2a9e7d"


def _phi_request() -> dict:
    body = json.loads(REQUEST.read_text())
    body["fhirAuthorization"] = {
        "access_token": ACCESS_TOKEN,
        "token_type": "Bearer",
        "expires_in": 30,
        "scope": "patient/*.read",
        "subject": "injection-cds",
    }
    note = f"Given to {NAME} {FAMILY}, {MRN}, born {BIRTH_DATE}; tolerated well."
    for entry in body["context"]["medicationAdministrations"]["entry"]:
        entry["resource"]["note"] = [{"text": note}]
    return body


def test_no_phi_in_logs_or_ledger(tmp_path: Path, make_app, jwt_kit, caplog) -> None:
    body = _phi_request()
    patient_id = body["context"]["patientId"]
    encounter_id = body["context"]["encounterId"]
    token = jwt_kit.token(SERVICE_URL)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        with caplog.at_level(logging.DEBUG), make_app(tmp_path, auth=jwt_kit.auth_config()) as app:
            client = app.test_client()
            response = client.post(
                "/cds-services/injection-charting",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.json
            cards = response.json["cards"]
            assert cards, "the request should produce cards"
            replay = client.post(
                "/cds-services/injection-charting",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert replay.status_code == 401
            store = app.extensions["injection_cds.store.ledger"]
            ledger = json.dumps(
                store.queries.card_rows() + store.queries.feedback_rows(), default=str
            )
    finally:
        logging.getLogger().removeHandler(handler)

    logs = stream.getvalue() + "\n" + caplog.text
    logs += "\n".join(str(r.__dict__) for r in caplog.records)
    assert '"hookInstance"' in stream.getvalue() and '"status": 200' in stream.getvalue()
    assert len(json.loads(ledger)) == sum(len(card_rules(card)) for card in cards)
    secrets_ = [NAME, FAMILY, MRN, BIRTH_DATE, ACCESS_TOKEN, patient_id, encounter_id]
    secrets_ += [part for part in token.split(".")]
    for secret in secrets_:
        assert secret not in logs, f"{secret!r} reached the logs"
        assert secret not in ledger, f"{secret!r} reached the ledger"


@pytest.mark.parametrize("value", [f"{NAME} {FAMILY}", f"x?mrn={MRN}", "a" * 500])
def test_free_text_is_refused_in_log_fields(value: str) -> None:
    from injection_cds.web.logging_setup import safe_path, safe_token

    assert safe_token(value) == "<invalid>"
    assert MRN not in (safe_path(f"/cds-services/x?mrn={MRN}") or "")
