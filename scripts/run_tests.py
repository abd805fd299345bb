"""Run the whole test suite the way CI does.

Why a wrapper and not bare pytest: the Temporal Python SDK can abort at interpreter exit
(``PyGILState_Release``, sdk-python issue 300) after every test has passed. We run pytest in a
child process with a JUnit report and judge the run by the report when, and only when, the child
died of a signal after writing it. A run that collected nothing (pytest's exit 5) fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path


def _counts(report: Path) -> tuple[int, int, int, int] | None:
    """tests, failures, errors, skipped from a JUnit XML report, or None if unreadable."""
    try:
        root = ET.parse(report).getroot()
    except (ET.ParseError, OSError):
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    totals = [0, 0, 0, 0]
    for suite in suites:
        for i, key in enumerate(("tests", "failures", "errors", "skipped")):
            totals[i] += int(suite.get(key, "0"))
    return totals[0], totals[1], totals[2], totals[3]


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", f"--junitxml={report}", *argv]
        rc = subprocess.call(cmd, cwd=root, env=os.environ.copy())
        if rc == 5:
            print("run_tests: pytest collected no tests: failing the run", file=sys.stderr)
            return 1
        if rc == 0:
            return 0
        died_of_signal = rc < 0 or rc >= 128
        counts = _counts(report)
        if died_of_signal and counts is not None:
            tests, failures, errors, _skipped = counts
            if tests > 0 and failures == 0 and errors == 0:
                sig = -rc if rc < 0 else rc - 128
                name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
                print(
                    f"run_tests: pytest died with {name} at interpreter exit after the report was written; "
                    f"the report shows {tests} tests and no failure or error: counting the run as passed "
                    "(known SDK exit abort, sdk-python issue 300)",
                    file=sys.stderr,
                )
                return 0
        return rc if rc > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
