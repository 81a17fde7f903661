"""Hostile result files for ``lagnest.load`` and hostile targets for ``FitResult.save``."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import h5py
import numpy as np
import xarray as xr

import lagnest as ln
from lagnest.models.result import config_id
from lagnest.models.transition import TransitionResult
from tests.hostile.harness import PyCall, accept, case, error, oserror, write

CODES = ["a", "b", "c"]


def synthetic(draws: int = 200, seed: int = 0) -> TransitionResult:
    """A small result of a registered model, without fitting anything."""
    rng = np.random.default_rng(seed)
    posterior = xr.Dataset(
        {
            "alpha": (("chain", "draw", "given", "target"), rng.normal(size=(2, draws, 3, 3))),
            "flag": (("chain", "draw"), rng.random((2, draws)) < 0.5),
        },
        coords={"chain": [0, 1], "draw": np.arange(draws), "given": CODES, "target": CODES},
    )
    fit_data = xr.Dataset({"counts": (("given", "target"), rng.integers(0, 9, (3, 3)))},
                          coords={"given": CODES, "target": CODES})
    tree = xr.DataTree.from_dict({"posterior": posterior, "fit_data": fit_data})
    config = {
        "model": "TransitionModel",
        "spec": {"given": "code", "target": "code", "lag": 1},
        "priors": {},
        "data_fingerprint": "0123456789abcdef",
        "seed": seed,
    }
    config["id"] = config_id(config)
    return TransitionResult(sampled=tree, config=config)


def saved(folder: Path, name: str = "fit.nc") -> str:
    return str(synthetic().save(folder / name))


def load(path: str) -> PyCall:
    return PyCall(ln.load, (path,), {}, file=path)


def set_attr(path: str, name: str, value) -> str:
    with h5py.File(path, "r+") as f:
        f.attrs[name] = value
    return path


@case("load/good", accept(lambda r: r.config["model"] == "TransitionModel"))
def _(d):
    return load(saved(d))


@case("load/empty-file", error("ResultFileError", match="empty"))
def _(d):
    return load(write(d / "fit.nc", b""))


@case("load/text-file", error("ResultFileError"))
def _(d):
    return load(write(d / "fit.nc", "hello, this is not a result\n" * 10))


@case("load/random-bytes", error("ResultFileError"))
def _(d):
    return load(write(d / "fit.nc", np.random.default_rng(1).bytes(50_000)))


@case("load/truncated", error("ResultFileError"))
def _(d):
    path = saved(d)
    data = Path(path).read_bytes()
    return load(write(Path(path), data[: len(data) // 2]))


@case("load/truncated-last-bytes", error("ResultFileError"))
def _(d):
    path = saved(d)
    data = Path(path).read_bytes()
    return load(write(Path(path), data[:-100]))


@case("load/foreign-netcdf4", error("ResultFileError", match="not written by lagnest"))
def _(d):
    path = d / "fit.nc"
    xr.Dataset({"t": ("x", np.arange(5.0))}).to_netcdf(path, engine="h5netcdf")
    return load(str(path))


@case("load/netcdf3-classic", error("ResultFileError"))
def _(d):
    path = d / "fit.nc"
    xr.Dataset({"t": ("x", np.arange(5.0))}).to_netcdf(path, engine="scipy")
    return load(str(path))


@case("load/hdf5-not-netcdf", error("ResultFileError"))
def _(d):
    path = d / "fit.nc"
    with h5py.File(path, "w") as f:
        f.create_dataset("matrix", data=np.ones((4, 4)))
        f.create_group("g").create_dataset("v", data=np.arange(3))
        f.attrs["lagnest_config"] = "{}"
    return load(str(path))


@case("load/config-invalid-json", error("ResultFileError", match="configuration"))
def _(d):
    return load(set_attr(saved(d), "lagnest_config", "{not json"))


@case("load/config-not-an-object", error("ResultFileError", match="configuration"))
def _(d):
    return load(set_attr(saved(d), "lagnest_config", "[1, 2, 3]"))


@case("load/config-edited", error("DifferentModelError", match="edited or corrupted"))
def _(d):
    path = saved(d)
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["lagnest_config"])
    config["spec"]["lag"] = 2
    return load(set_attr(path, "lagnest_config", json.dumps(config)))


@case("load/config-deeply-nested", error("ResultFileError"))
def _(d):
    return load(set_attr(saved(d), "lagnest_config", "[" * 100_000 + "]" * 100_000))


@case("load/future-format", error("ResultFileError", match="newer"))
def _(d):
    return load(set_attr(saved(d), "lagnest_format", 99))


@case("load/bad-format-attr", error("ResultFileError", match="format"))
def _(d):
    return load(set_attr(saved(d), "lagnest_format", "one"))


@case("load/unknown-model", error("ResultFileError", match="does not know"))
def _(d):
    path = saved(d)
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["lagnest_config"])
    config["model"] = "ModelFromTheFuture"
    config["id"] = config_id(config)
    set_attr(path, "lagnest_id", config["id"])
    return load(set_attr(path, "lagnest_config", json.dumps(config)))


@case("load/diagnostics-broken", error("ResultFileError", match="diagnostics"))
def _(d):
    return load(set_attr(saved(d), "lagnest_diagnostics", "{broken"))


@case("load/group-attr-bogus", error("ResultFileError", match="group"))
def _(d):
    return load(set_attr(saved(d), "lagnest_group", "everything"))


@case("load/posterior-group-removed", error("ResultFileError", match="posterior"))
def _(d):
    path = saved(d)
    with h5py.File(path, "r+") as f:
        del f["posterior"]
    return load(path)


@case("load/flipped-data-bytes", error("ResultFileError"))
def _(d):
    path = saved(d)
    with h5py.File(path, "r") as f:
        dset = f["posterior/alpha"]
        offset = dset.id.get_offset()
        if offset is None:  # chunked: the first chunk
            offset = dset.id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as fh:
        fh.seek(offset + 100)
        chunk = bytearray(fh.read(64))
        fh.seek(offset + 100)
        fh.write(bytes(b ^ 0xFF for b in chunk))
    return load(path)


@case("load/zip-named-nc", error("ResultFileError"))
def _(d):
    path = d / "fit.nc"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("x.txt", "hello")
    return load(str(path))


@case("load/compressed-bomb", error("LimitError", match="max_bytes"))
def _(d):
    path = saved(d)
    with h5py.File(path, "r+") as f:
        f["posterior"].create_dataset(
            "zeros", shape=(2, 200, 200_000), dtype="f8", compression="gzip",
            chunks=(1, 200, 50_000),
        )  # 640 MB of zeros in a few hundred kB
    return load(path)


@case("load/missing-file", oserror("FileNotFoundError"))
def _(d):
    return load(str(d / "nope.nc"))


@case("load/directory", oserror("IsADirectoryError"))
def _(d):
    (d / "fit.nc").mkdir()
    return load(str(d / "fit.nc"))


# ---------------------------------------------------------------------------- save
def save(path: Path, **kwargs) -> PyCall:
    return PyCall(synthetic().save, (str(path),), kwargs, file=str(path))


def _no_temporary_files(folder: Path):
    def check(_):
        left = [p.name for p in folder.rglob(".*")]
        assert not left, left

    return check


@case("save/missing-parent-folder", oserror("FileNotFoundError"))
def _(d):
    return save(d / "new" / "fit.nc")


@case("save/parents-true", accept(lambda p: Path(p).is_file()))
def _(d):
    return save(d / "new" / "deeper" / "fit.nc", parents=True)


@case("save/target-is-directory", oserror("IsADirectoryError"))
def _(d):
    (d / "fit.nc").mkdir()
    return save(d / "fit.nc")


@case("save/parent-is-a-file", oserror("NotADirectoryError"))
def _(d):
    write(d / "afile", "x")
    return save(d / "afile" / "fit.nc")


@case("save/wrong-suffix", error("ResultFileError", match=r"\.nc"))
def _(d):
    return save(d / "fit.txt")


@case("save/overwrite-leaves-no-temporary-file", accept())
def _(d):
    saved(d)
    call = save(d / "fit.nc")

    def run(*args, **kwargs):
        out = call.func(*args, **kwargs)
        _no_temporary_files(d)(out)
        return out

    return PyCall(run, call.args, call.kwargs, file=call.file)
