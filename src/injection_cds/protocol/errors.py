"""The error tree. Each class carries its HTTP status; bodies are FHIR OperationOutcomes.

A malformed request is one of these exceptions (never a stack trace); missing documentation
is a finding and becomes a card. Messages say what was wrong and where — never a value from
the request, which could be PHI or a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome issue: where (an expression) and what."""

    diagnostics: str
    expression: str | None = None
    code: str = "invalid"
    severity: str = "error"


class ServiceError(Exception):
    """A request the service cannot answer with cards."""

    status: ClassVar[int] = 500
    issue_code: ClassVar[str] = "exception"

    def __init__(
        self, message: str, *, where: str | None = None, issues: list[Issue] | None = None
    ):
        super().__init__(message)
        self.message = message
        self.issues = issues or [Issue(message, where, self.issue_code)]

    def operation_outcome(self) -> dict[str, Any]:
        """The FHIR OperationOutcome body of this error."""
        return operation_outcome(self.issues)


class BadRequest(ServiceError):
    """Malformed JSON, or a request missing what CDS Hooks requires (400)."""

    status = 400
    issue_code = "invalid"


class Unauthorized(ServiceError):
    """No acceptable credentials (401)."""

    status = 401
    issue_code = "security"


class NotFound(ServiceError):
    """No such service or page (404)."""

    status = 404
    issue_code = "not-found"


class PreconditionFailed(ServiceError):
    """Required FHIR data neither prefetched nor obtainable from the FHIR server (412)."""

    status = 412
    issue_code = "processing"


class PayloadTooLarge(ServiceError):
    """The body is over the configured limit (413)."""

    status = 413
    issue_code = "too-costly"


class UnsupportedMediaType(ServiceError):
    """The body is not JSON (415)."""

    status = 415
    issue_code = "not-supported"


class UnprocessableResource(ServiceError):
    """A FHIR resource in the request is not valid FHIR R4 (422)."""

    status = 422
    issue_code = "structure"


class MethodNotAllowed(ServiceError):
    """The route exists but not for this method (405)."""

    status = 405
    issue_code = "not-supported"


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    """A FHIR OperationOutcome with these issues (no empty elements)."""
    rendered = []
    for issue in issues:
        item: dict[str, Any] = {
            "severity": issue.severity,
            "code": issue.code,
            "diagnostics": issue.diagnostics,
        }
        if issue.expression:
            item["expression"] = [issue.expression]
        rendered.append(item)
    return {"resourceType": "OperationOutcome", "issue": rendered}


class ServiceUnavailable(ServiceError):
    """A part the request needs (the feedback store) is away for now; retry later (503)."""

    status = 503
    issue_code = "transient"
