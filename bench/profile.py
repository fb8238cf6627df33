"""Profile one hook call in process with pyinstrument (issue 5, "then make it fast").

    .venv/bin/python bench/profile.py                                  # charting, 1 adm.
    .venv/bin/python bench/profile.py --service injection-discharge -n 128 --html out.html

Calls ``pipeline.call_service`` (what the HTTP layer runs) on a synthetic request, after a
warm-up, with a new hookInstance and new administrations each call (bench/bodies.py), and
prints the call tree.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import uuid
from pathlib import Path

import orjson
from pyinstrument import Profiler

from injection_cds.devtools.synthetic import SERVICE_DISCHARGE, hook_request
from injection_cds.protocol import pipeline
from injection_cds.web.factory import create_app

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bodies import instantiate, template  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", default="injection-charting")
    parser.add_argument("-n", "--administrations", type=int, default=1)
    parser.add_argument("--calls", type=int, default=None, help="default: ~0.5 s of work")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--html", type=Path, default=None, help="write an HTML profile here")
    args = parser.parse_args(argv)
    logging.getLogger("injection_cds").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="injection-cds-profile-") as tmp:
        app = create_app({"instance_dir": tmp, "log_level": "ERROR"})
        ctx = app.extensions["injection_cds.rule_context"]
        body = hook_request(
            args.service,
            n_administrations=args.administrations,
            seed=args.seed,
            contained=args.service != SERVICE_DISCHARGE,
        )
        text = template(body)
        calls = args.calls or max(20, 400 // max(1, args.administrations))

        def call(i: int) -> None:
            parsed = orjson.loads(instantiate(text, f"profile-{i}", i))
            parsed["hookInstance"] = str(uuid.UUID(int=i, version=4))
            pipeline.call_service(
                args.service, parsed, ctx=ctx, base_url="http://127.0.0.1", client=None
            )

        for i in range(max(5, calls // 10)):
            call(-i - 1)
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for i in range(calls):
            call(i)
        profiler.stop()
    print(f"{calls} calls of {args.service} with {args.administrations} administration(s)")
    print(profiler.output_text(unicode=False, color=False))
    if args.html:
        args.html.write_text(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main())
