"""Kill tests for ``FitResult.save``: SIGKILL in the middle of writes.

A helper process (lagnest imported once) forks a child that saves a large result in a
loop, alternating two versions, and kills it at random times, many times over. After
every kill the file must load and hold one of the two versions; after the next successful
save no temporary file may be left in the folder.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.hostile.runner import ENV, ROOT

HELPER = r"""
import json, os, random, signal, sys, time, warnings
from pathlib import Path
warnings.filterwarnings("ignore", category=DeprecationWarning)
import numpy as np
import lagnest as ln
from tests.hostile.cases.result import synthetic

folder = Path(sys.argv[1]); rounds = int(sys.argv[2]); draws = int(sys.argv[3])
path = folder / "fit.nc"
versions = {seed: synthetic(draws=draws, seed=seed) for seed in (1, 2)}
t0 = time.perf_counter(); versions[1].save(path); save_seconds = time.perf_counter() - t0
rng = random.Random(0)
report = {"save_seconds": save_seconds, "rounds": [], "size": path.stat().st_size}
for r in range(rounds):
    pid = os.fork()
    if pid == 0:
        k = 0
        while True:
            versions[2 - k % 2].save(path)
            k += 1
    time.sleep(rng.uniform(0.3, 2.5) * save_seconds)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    left = sorted(p.name for p in folder.iterdir() if p.name != "fit.nc")
    back = ln.load(path)
    seed = back.config["seed"]
    same = bool(np.array_equal(back.posterior["alpha"].values,
                               versions[seed].posterior["alpha"].values))
    report["rounds"].append({"left": left, "seed": seed, "same": same})
versions[1].save(path)
report["after"] = sorted(p.name for p in folder.iterdir())
print(json.dumps(report))
"""


@pytest.mark.slow
def test_sigkill_during_saves_never_corrupts_and_the_next_save_cleans_up(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", HELPER, str(tmp_path), "12", "150000"],
        cwd=ROOT, env={**__import__("os").environ, **ENV}, capture_output=True, text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    rounds = report["rounds"]
    assert len(rounds) == 12
    assert report["size"] > 20e6  # a large result: saving takes long enough to be killed in
    # every kill left a loadable file holding one complete version
    assert all(r["same"] and r["seed"] in (1, 2) for r in rounds), rounds
    # the kills did land in the middle of writes (a temporary file was left behind) ...
    assert sum(bool(r["left"]) for r in rounds) >= 3, rounds
    # ... and the next successful save removed every one of them
    assert report["after"] == ["fit.nc"], report["after"]


def test_a_failing_save_names_the_users_path_and_leaves_nothing_behind(tmp_path, monkeypatch):
    import xarray as xr

    from tests.hostile.cases.result import synthetic

    result = synthetic(draws=20)
    path = tmp_path / "fit.nc"
    result.save(path)
    before = path.read_bytes()

    def disk_full(self, tmp, **kwargs):
        raise OSError(28, f"No space left on device: unable to write {tmp}", str(tmp))

    monkeypatch.setattr(xr.DataTree, "to_netcdf", disk_full)
    with pytest.raises(OSError) as err:
        result.save(path)
    assert err.value.filename == str(path) and ".~lagnest-" not in str(err.value)
    assert path.read_bytes() == before  # the old result is intact
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]  # no temporary file left
