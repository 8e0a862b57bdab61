"""Replays the committed corpus of the unpackb target once, without a fuzzer or atheris:
what `make fuzz-replay-python` runs. Each failing input is named; the last line counts."""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from unpackb import check

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "unpackb"


def main() -> int:
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())
    if not files:
        print(f"{CORPUS} holds no input", file=sys.stderr)
        return 1
    failed = 0
    for path in files:
        try:
            check(path.read_bytes())
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            failed += 1
            print(f"unpackb: {path} fails:", file=sys.stderr)
            traceback.print_exc()
    print(f"unpackb: {len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
