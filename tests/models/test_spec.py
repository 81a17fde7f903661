"""Model specifications (TOML): loading, validation errors, building, shipping in a wheel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

import lagnest as ln
from lagnest.errors import LagnestDataError, ProblemCollector, SpecError
from lagnest.models import TransitionModel
from lagnest.models.spec import ModelSpec, _check_arguments, _locate, standard_specs

REPO = Path(__file__).resolve().parents[2]

TINY = """\
description = "code at t -> code at t+2"

[model]
type = "TransitionModel"
given = "code"
target = "code"
lag = 2
pooling = "dyad"

[priors]
sigma_dyad = { dist = "HalfNormal", sigma = 0.7 }

[fit]
draws = 50
chains = 2
"""


@pytest.fixture(scope="module")
def seqs():
    return ln.Sequences.from_sequences(
        {"code": [["a", "b", "a", "c", "b", "a"], ["b", "a", "c", "c", "a", "b"],
                  ["a", "c", "b", "a", "b", "c"], ["c", "a", "b", "b", "a", "c"]]},
        dyads=["d1", "d1", "d2", "d2"],
    )


def write(tmp_path, text, name="spec.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------- loading and building
def test_load_spec_fields(tmp_path):
    path = write(tmp_path, TINY)
    spec = ln.load_spec(path)
    assert isinstance(spec, ModelSpec)
    assert spec.model == "TransitionModel" and spec.model_class is TransitionModel
    assert spec.arguments == {"given": "code", "target": "code", "lag": 2, "pooling": "dyad"}
    assert spec.priors == {"sigma_dyad": {"dist": "HalfNormal", "sigma": 0.7}}
    assert spec.fit == {"draws": 50, "chains": 2}
    assert spec.data == {}
    assert spec.description == "code at t -> code at t+2"
    assert spec.path == path and spec.name == "spec"
    assert spec.to_dict()["model"] == {"type": "TransitionModel", **spec.arguments}


def test_round_trip_spec_model_config(tmp_path, seqs):
    model = ln.from_spec(write(tmp_path, TINY), seqs)
    direct = TransitionModel(seqs, given="code", target="code", lag=2, pooling="dyad",
                             priors={"sigma_dyad": {"dist": "HalfNormal", "sigma": 0.7}})
    assert type(model) is TransitionModel
    assert model.config == direct.config
    assert model.priors["sigma_dyad"] == ln.Prior("HalfNormal", {"sigma": 0.7})
    # the config rebuilds the same model (what lagnest.load relies on)
    assert ln.BayesianModel.from_config(model.config, seqs).id == model.id


def test_spec_fit_settings_are_the_defaults_of_fit(tmp_path, seqs, monkeypatch):
    calls = []
    monkeypatch.setattr(TransitionModel, "fit", lambda self, **kw: calls.append(kw) or self)
    model = ln.from_spec(write(tmp_path, TINY), seqs)
    model.fit()
    model.fit(draws=7, seed=3)
    assert calls == [{"draws": 50, "chains": 2}, {"draws": 7, "chains": 2, "seed": 3}]


def test_spec_without_fit_section_leaves_fit_alone(tmp_path, seqs):
    text = TINY.split("[fit]")[0]
    model = ln.from_spec(write(tmp_path, text), seqs)
    assert "fit" not in vars(model)


def test_with_fit_overrides_and_validates(tmp_path):
    spec = ln.load_spec(write(tmp_path, TINY))
    assert spec.with_fit(draws=9, seed=None).fit == {"draws": 9, "chains": 2}
    assert spec.with_fit() is spec
    with pytest.raises(SpecError, match=r"key 'fit.chains': out of range \(got 0"):
        spec.with_fit(chains=0)


def test_fit_sampler_options_are_checked_before_any_fit(tmp_path):
    """A spec's sampler options are read (a table of NUTS keywords) and a typo is named."""
    good = TINY.replace("[fit]\n", "[fit]\nsampler_options = { max_treedepth = 8 }\n")
    assert ln.load_spec(write(tmp_path, good)).fit["sampler_options"] == {"max_treedepth": 8}
    typo = TINY.replace("[fit]\n", "[fit]\nsampler_options = { max_tree_depth = 8 }\n")
    with pytest.raises(SpecError, match=r"spec\.toml.*key 'fit\.sampler_options'.*"
                                         r"\['max_tree_depth'\] are not options"):
        ln.load_spec(write(tmp_path, typo))


def test_model_rejecting_spec_on_corpus_names_file(tmp_path, seqs):
    path = write(tmp_path, TINY.replace('given = "code"', 'given = "NOPE"'))
    with pytest.raises(SpecError) as err:
        ln.from_spec(path, seqs)
    assert str(path) in str(err.value) and "NOPE" in str(err.value)
    assert isinstance(err.value.__cause__, LagnestDataError)


def test_relative_codebook_resolves_against_spec_folder(tmp_path):
    folder = tmp_path / "study"
    folder.mkdir()
    shutil.copy(REPO / "src" / "lagnest" / "data" / "codebooks" / "mia.toml",
                folder / "my_codes.toml")
    text = TINY + '\n[data]\ncodebook = "my_codes.toml"\nsession_columns = ["x"]\n'
    spec = ln.load_spec(write(folder, text))
    assert spec.data == {"codebook": str(folder / "my_codes.toml"), "session_columns": ["x"]}


# ---------------------------------------------------------------- malformed specs
MALFORMED = [
    ("unknown model type", TINY.replace('"TransitionModel"', '"Nope"'),
     ["key 'model.type'", "'Nope'", "TransitionModel"]),
    ("unknown key, close match", TINY.replace("lag = 2", "lags = [2]"),
     ["key 'model.lags'", "unknown key", "did you mean 'lag'"]),
    ("wrong type", TINY.replace("lag = 2", 'lag = "2"'),
     ["key 'model.lag'", "got '2'", "expected an integer"]),
    ("bool is not an int", TINY.replace("lag = 2", "lag = true"),
     ["key 'model.lag'", "expected an integer"]),
    ("missing required argument", TINY.replace('target = "code"\n', ""),
     ["key 'model.target'", "missing", "a string"]),
    ("missing type", TINY.replace('type = "TransitionModel"\n', ""),
     ["key 'model.type'", "missing", "TransitionModel"]),
    ("missing model section", 'description = "x"\n',
     ["missing the [model] section"]),
    ("model is not a table", 'model = "TransitionModel"\n',
     ["key 'model'", "must be a table"]),
    ("unknown section", TINY.replace("[fit]", "[fitt]"),
     ["key 'fitt'", "did you mean 'fit'"]),
    ("description not a string", TINY.replace('description = "code at t -> code at t+2"',
                                              "description = 3"),
     ["key 'description'", "expected a string"]),
    ("unknown fit option", TINY.replace("chains = 2", "chain = 2"),
     ["key 'fit.chain'", "did you mean 'chains'"]),
    ("fit option of wrong type", TINY.replace("draws = 50", "draws = 50.5"),
     ["key 'fit.draws'", "expected an integer"]),
    ("fit option out of range", TINY.replace("draws = 50", "draws = 0"),
     ["key 'fit.draws'", "out of range", ">= 1"]),
    ("observed is not a fit option", TINY + "observed = 1\n",
     ["key 'fit.observed'", "unknown key"]),
    ("unknown prior", TINY.replace("sigma_dyad =", "sigma_dyda ="),
     ["key 'priors.sigma_dyda'", "did you mean 'sigma_dyad'"]),
    ("prior distribution not allowed", TINY.replace('dist = "HalfNormal"', 'dist = "Normal"'),
     ["key 'priors.sigma_dyad'", "'Normal' is not allowed"]),
    ("prior not a table", TINY.replace('{ dist = "HalfNormal", sigma = 0.7 }', "0.7"),
     ["key 'priors.sigma_dyad'", "a table such as"]),
    ("unknown codebook", TINY + '[data]\ncodebook = "3rs_2015+nope"\n',
     ["key 'data.codebook'", "unknown codebook 'nope'"]),
    ("file paths are not data settings", TINY + '[data]\nsessions = "s.csv"\n',
     ["key 'data.sessions'", "files come from the caller", "did you mean 'session'"]),
    ("data setting of wrong type", TINY + "[data]\nignore = [1]\n",
     ["key 'data.ignore'", "expected a list of strings"]),
]


@pytest.mark.parametrize(("case", "text", "fragments"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_spec_names_file_key_and_expectation(tmp_path, case, text, fragments):
    path = write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        ln.load_spec(path)
    message = str(err.value)
    assert message.startswith(f"file {path}")
    assert len(err.value.problems) == 1, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert isinstance(err.value, LagnestDataError) and isinstance(err.value, ValueError)


def test_misspelt_required_key_is_one_problem(tmp_path):
    with pytest.raises(SpecError) as err:
        ln.load_spec(write(tmp_path, TINY.replace("target =", "targte =")))
    assert len(err.value.problems) == 1
    assert "key 'model.targte'" in str(err.value) and "did you mean 'target'" in str(err.value)


def test_every_problem_is_reported_at_once(tmp_path):
    text = TINY.replace("lag = 2", 'lag = "2"').replace("chains = 2", "chain = 2")
    with pytest.raises(SpecError) as err:
        ln.load_spec(write(tmp_path, text))
    assert len(err.value.problems) == 2
    assert "key 'model.lag'" in str(err.value) and "key 'fit.chain'" in str(err.value)


def test_toml_syntax_error_gives_line_and_column(tmp_path):
    # line 4, and the second '=' is the 9th character of that line
    path = write(tmp_path, 'description = "x"\n[model]\ntype = "TransitionModel"\ngiven = = 3\n')
    with pytest.raises(SpecError) as err:
        ln.load_spec(path)
    assert str(err.value).startswith(f"file {path}, line 4: invalid TOML at column 9")
    assert err.value.problems[0].line == 4


def test_not_utf8_is_a_spec_error(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('description = "sesión"\n'.encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8"):
        ln.load_spec(path)


def test_validation_happens_before_any_data_work(tmp_path):
    # no corpus at all: the spec is rejected before the data are looked at
    with pytest.raises(SpecError, match=r"key 'model\.lag'"):
        ln.from_spec(write(tmp_path, TINY.replace("lag = 2", 'lag = "2"')), None)


def test_missing_file_or_unknown_name(tmp_path):
    # a path problem is the OSError naming the path; an unknown bare name a SpecError
    with pytest.raises(FileNotFoundError) as err:
        ln.load_spec(tmp_path / "absent.toml")
    assert err.value.filename == str(tmp_path / "absent.toml")
    with pytest.raises(SpecError, match="mia_to_rupture"):
        ln.load_spec("no_such_analysis")
    with pytest.raises(IsADirectoryError) as err:
        ln.load_spec(tmp_path)  # a folder
    assert err.value.filename == str(tmp_path)


# ---------------------------------------------------------------- type checks (generic)
class _Fake:
    """A constructor shaped like LaggedRegression's (not registered)."""

    def __init__(self, seqs, target: str, lags: Sequence[int] = (1,), center: str | None = None,
                 history: bool = True, pair: tuple[str, int] = ("a", 1), weights=(0.5, 1.5),
                 priors=None):
        pass


def _fake_problems(values):
    problems = ProblemCollector(file="fake.toml")
    names = ("target", "lags", "center", "history", "pair", "weights")
    _check_arguments(_Fake.__init__, names, values, problems, "model", "Fake")
    return [str(p) for p in problems.problems]


@pytest.mark.parametrize(("values", "expected"), [
    ({"lags": [1, "a"]}, "key 'model.lags': wrong type (got [1, 'a']; expected a list of "
                         "integers)"),
    ({"lags": 1}, "expected a list of integers"),
    ({"lags": [1.0]}, "expected a list of integers"),
    ({"center": 1}, "expected a string)"),
    ({"history": "yes"}, "expected true or false"),
    ({"pair": ["a", "b"]}, "expected a list of 2 items (a string, an integer)"),
    ({"weights": ["x"]}, "key 'model.weights': wrong type"),  # inferred from the default
])
def test_annotation_type_checks(values, expected):
    found = _fake_problems({"target": "t", **values})
    assert len(found) == 1 and expected in found[0], found


def test_annotation_type_checks_accept_good_values():
    assert _fake_problems({"target": "t", "lags": [1, 2], "center": "dyad", "history": False,
                           "pair": ["a", 2], "weights": [1, 2.5]}) == []
    assert _fake_problems({"lags": [1]}) == [
        "file fake.toml: key 'model.target': missing (a required argument) (expected a string)"
    ]


# ---------------------------------------------------------------- standard specs shipped
def test_standard_specs_are_the_repository_models_folder():
    shipped = standard_specs()
    in_repo = {p.stem: p for p in (REPO / "models").glob("*.toml")}
    assert set(shipped) == set(in_repo) == {
        "mia_to_rupture", "rupture_episodes", "rupture_to_resolution",
        "state_mindfulness_to_impact"}
    for name, path in shipped.items():
        assert path.read_bytes() == in_repo[name].read_bytes()
        assert _locate(name) == path and _locate(f"{name}.toml") == path


def test_an_existing_file_wins_over_a_standard_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, TINY, name="mia_to_rupture.toml")
    assert _locate("mia_to_rupture.toml") == Path("mia_to_rupture.toml")


def _copy_project(dest: Path) -> Path:
    """The files a wheel is built from (symlinks kept, as in a git checkout)."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.nbi", "*.nbc")
    for name in ("src", "models"):
        shutil.copytree(REPO / name, dest / name, symlinks=True, ignore=ignore)
    return dest


@pytest.mark.slow
def test_wheel_ships_the_specs_and_an_installed_wheel_finds_them(tmp_path):
    project = _copy_project(tmp_path / "project")
    assert (project / "src" / "lagnest" / "specs").is_symlink()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(project), "--no-deps",
         "--no-build-isolation", "-w", str(tmp_path / "wheel"), "-q"],
        check=True, env=env, capture_output=True,
    )
    (wheel,) = (tmp_path / "wheel").glob("lagnest-*.whl")
    in_repo = {p.name: p.read_bytes() for p in (REPO / "models").glob("*.toml")}
    with zipfile.ZipFile(wheel) as zf:
        shipped = {Path(n).name: zf.read(n) for n in zf.namelist()
                   if n.startswith("lagnest/specs/")}
    assert shipped == in_repo

    # a fresh venv: the wheel installed (by this environment's pip, so the venv needs none
    # of its own), dependencies from this venv's site-packages
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   env=env)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "-q", str(wheel)], check=True, env=env,
                   capture_output=True)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, env=env, capture_output=True, text=True,
    ).stdout.strip()
    Path(site, "deps_from_test_venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    code = ("import json, lagnest; from lagnest.models.spec import standard_specs; "
            "print(json.dumps({'file': lagnest.__file__, "
            "'specs': {k: str(v) for k, v in standard_specs().items()}}))")
    out = subprocess.run([str(python), "-c", code], check=True, env=env, cwd=tmp_path,
                         capture_output=True, text=True)
    found = json.loads(out.stdout)
    assert Path(found["file"]).is_relative_to(site)
    assert {f"{k}.toml" for k in found["specs"]} == set(in_repo)
    for name, path in found["specs"].items():
        assert Path(path).is_relative_to(site)
        assert Path(path).read_bytes() == in_repo[f"{name}.toml"]

    # the installed command, outside the checkout: the demo, and fit on every shipped spec
    # (one short chain, sampled in the process: these check that a wheel install runs, not
    # the estimates; parallel chains are tested in the checkout)
    lagnest = venv / "bin" / "lagnest"
    work = tmp_path / "elsewhere"
    work.mkdir()
    run_env = {**env, "LAGNEST_QUICK": "1"}
    demo = subprocess.run([str(lagnest), "demo", "--out", "report.html", "--draws", "20",
                           "--tune", "20", "--chains", "1", "--ppc-draws", "5",
                           "--permutations", "20"], env=run_env, cwd=work,
                          capture_output=True, text=True, timeout=900)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert (work / "report.html").stat().st_size > 10_000
    assert "lagnest.load_spec" in demo.stdout
    # every shipped spec through the installed command's own function, in one process (the
    # console script itself ran the demo above): each must print where it wrote its fit
    fits = ("import sys; from lagnest.cli import main\n"
            "for name in sys.argv[1:]:\n"
            "    code = main(['fit', name, '--out', f'{name}.nc', '--draws', '20', '--tune',"
            " '20', '--chains', '1', '--seed', '1'])\n"
            "    print(f'{name} exit {code}', flush=True)\n")
    done = subprocess.run([str(python), "-c", fits, *found["specs"]], env=run_env, cwd=work,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    for name in found["specs"]:
        at = lines.index(f"{name} exit 0")
        assert lines[at - 1].rstrip().endswith(f"wrote {name}.nc"), (name, done.stdout)
        assert (work / f"{name}.nc").stat().st_size > 0, name
    # the README's Python blocks, each alone, against the installed wheel
    from tests.test_docs_snippets import blocks

    readme = [b for b in blocks(REPO / "README.md")
              if b.language == "python" and "no-test" not in b.markers]
    assert readme
    for block in readme:
        script = work / f"readme_{block.line}.py"
        script.write_text(block.source, encoding="utf-8")
        done = subprocess.run([str(python), str(script)], env=run_env, cwd=work,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (block.where, done.stderr[-2000:])


# ---------------------------------------------------------------- docs/specs.md
def _toml_blocks(text):
    return [block.split("```", 1)[0] for block in text.split("```toml\n")[1:]]


def test_docs_format_example_is_a_valid_spec():
    import tomllib

    doc = (REPO / "docs" / "specs.md").read_text()
    example = ModelSpec.from_dict(tomllib.loads(_toml_blocks(doc)[0]))
    assert example.model == "TransitionModel"
    assert example.fit["target_accept"] == 0.95 and example.data["codebook"]
    corpus = ln.datasets.load_example()
    assert ln.from_spec(example, corpus).spec["given"] == "MIA4"


def test_docs_show_the_standard_specs_verbatim():
    doc = (REPO / "docs" / "specs.md").read_text()
    blocks = _toml_blocks(doc)[1:]
    files = sorted((REPO / "models").glob("*.toml"))
    assert len(blocks) == len(files)
    for path in files:
        assert f"`models/{path.name}`:\n\n```toml\n{path.read_text()}```" in doc
