"""Run the battery outside pytest and print a summary: ``python -m tests.hostile [ids...]``.

Writes every result to ``hostile-results.json`` in the temporary folder.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.hostile import runner
from tests.hostile.cases import all_cases
from tests.hostile.harness import judge


def main(argv: list[str]) -> int:
    cases = {c.id: c for c in all_cases()}
    wanted = [i for i in cases if not argv or any(i.startswith(a) for a in argv)]
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        results = runner.run(wanted, Path(tmp))
    elapsed = time.monotonic() - start
    failed = Counter()
    rows = []
    for case_id in wanted:
        res = results[case_id]
        failures = judge(cases[case_id], res) + (
            [f"harness: {res['harness_error']}"] if "harness_error" in res else []
        )
        status = "skip" if res.get("skipped") else ("FAIL" if failures else "ok")
        failed[cases[case_id].entry, status] += 1
        rows.append((case_id, status, res.get("wall", 0), res.get("maxrss_mb", 0), failures))
    for case_id, status, wall, rss, failures in rows:
        if status == "FAIL":
            print(f"FAIL {case_id} ({wall:.1f} s, {rss:.0f} MB)")
            for f in failures:
                print("     " + f.replace("\n", "\n     ")[:1500])
    entries = sorted({c.entry for c in cases.values() if c.id in wanted})
    for e in entries:
        ok, bad, skip = (failed[e, s] for s in ("ok", "FAIL", "skip"))
        print(f"{e:14s} ok {ok:3d}  FAIL {bad:3d}  skip {skip}")
    n_fail = sum(v for (_, s), v in failed.items() if s == "FAIL")
    slowest = max(rows, key=lambda r: r[2])
    biggest = max(rows, key=lambda r: r[3])
    print(f"{len(wanted)} cases, {n_fail} failing, battery {elapsed:.0f} s; slowest "
          f"{slowest[0]} {slowest[2]:.1f} s; largest {biggest[0]} {biggest[3]:.0f} MB")
    out = Path(tempfile.gettempdir()) / "hostile-results.json"
    out.write_text(json.dumps(results, indent=1, default=str))
    print(f"results: {out}")
    return 1 if n_fail else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
