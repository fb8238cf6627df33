"""Batch audit: the service's rules over a whole export, as a worklist and a report."""

from injection_cds.audit.run import AuditResult, run_audit, summary_text

__all__ = ["AuditResult", "run_audit", "summary_text"]
