"""The driver script for ``spark-submit``: the ``audit`` command, on the session it gets.

Pass this file to spark-submit, then the audit's arguments (README, "Batch audit on Apache
Spark"); ``--engine spark`` is implied.
"""

from __future__ import annotations

import sys

from injection_cds.cli.audit import audit_command


def main(argv: list[str] | None = None) -> None:
    """``audit INPUT... --out DIR`` with ``--engine spark`` implied."""
    args = list(sys.argv[1:] if argv is None else argv)
    audit_command.main([*args, "--engine", "spark"], prog_name="injection-cds audit")


if __name__ == "__main__":
    main()
