"""The family layout: where estimators live, the aliases, plugins through entry points."""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit import registry

PACKAGE = Path(causalkit.__file__).parent
FAMILIES = ("backdoor", "panel", "rd", "iv", "cate", "general")


def _imports(path: Path) -> list[tuple[int, str]]:
    """Absolute dotted names of everything a module imports (relative ones resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return names


def test_every_builtin_estimator_lives_in_its_family_package():
    homes = {name: registry.get(name).func.__module__ for name in registry.names()
             if registry.get(name).func.__module__.startswith("causalkit.")}
    assert homes["difference_in_means"] == "causalkit.backdoor.difference_in_means"
    assert homes["aipw"] == "causalkit.backdoor.aipw"
    assert homes["callaway_santanna"] == "causalkit.panel.callaway_santanna"
    assert homes["rdd"] == "causalkit.rd.rdd"
    assert homes["iv_2sls"] == "causalkit.iv.iv_2sls"
    assert homes["causal_forest"] == "causalkit.cate.causal_forest"
    for name, module in homes.items():
        if module.startswith("causalkit.benchmark.adapters."):  # the peer libraries' adapters
            assert name.split(".")[0] == module.rsplit(".", 1)[1], (name, module)
            family = "benchmark.adapters"
        else:
            family = module.split(".")[1]
            assert family in FAMILIES, (name, module)
        assert module.rsplit(".", 1)[1] in sys.modules[f"causalkit.{family}"].ESTIMATORS
    assert not list((PACKAGE / "estimators").glob("*.py"))


def test_no_family_imports_another_familys_private_module():
    offences = []
    for family in FAMILIES:
        for path in (PACKAGE / family).glob("*.py"):
            for line, name in _imports(path):
                parts = name.split(".")
                if (len(parts) > 2 and parts[0] == "causalkit" and parts[1] in FAMILIES
                        and parts[1] != family
                        and any(p.startswith("_") for p in parts[2:])):
                    offences.append(f"{path.relative_to(PACKAGE)}:{line} imports {name}")
    assert offences == []


def test_the_registry_does_not_import_the_families_at_import_time():
    code = ("import sys, causalkit.registry; "
            "print(any(m.startswith(('causalkit.backdoor', 'causalkit.panel', 'causalkit.cate'))"
            " for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_old_module_names_are_the_family_modules():
    import causalkit.backdoor.balance
    import causalkit.balance
    import causalkit.cate.cate_summary
    import causalkit.cate.uplift
    import causalkit.cate_summary
    import causalkit.uplift
    from causalkit.balance import balance_table
    assert causalkit.balance is causalkit.backdoor.balance
    assert causalkit.uplift is causalkit.cate.uplift
    assert causalkit.cate_summary is causalkit.cate.cate_summary
    assert balance_table is causalkit.backdoor.balance.balance_table


PLUGIN = '''
from causalkit import Effect, register


@register("plugin_gap", estimand="ATE", roles=("treatment", "outcome"), replace=True)
def plugin_gap(data, treatment, outcome, alpha=0.05):
    """Difference in means, as a third-party package would register it."""
    y, t = data[outcome].to_numpy(float), data[treatment].to_numpy()
    return Effect.from_estimate(method="plugin_gap", estimand="ATE",
                                estimate=y[t == 1].mean() - y[t == 0].mean(),
                                std_error=0.5, alpha=alpha)
'''


def _install_distribution(folder, name, entry_point, monkeypatch):
    """What pip writes for a distribution declaring one causalkit.estimators entry point."""
    info = folder / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[causalkit.estimators]\n{entry_point}\n")
    monkeypatch.syspath_prepend(str(folder))


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
    """A tiny installed distribution whose module registers ``plugin_gap``."""
    (tmp_path / "ck_plugin_demo.py").write_text(PLUGIN)
    _install_distribution(tmp_path, "ck_plugin_demo", "demo = ck_plugin_demo", monkeypatch)
    yield tmp_path
    registry.unregister("plugin_gap")
    sys.modules.pop("ck_plugin_demo", None)


def _data():
    rng = np.random.default_rng(3)
    t = rng.integers(0, 2, 200)
    return pd.DataFrame({"t": t, "y": 1.5 * t + rng.normal(size=200)})


def test_an_entry_point_plugin_is_seen_by_estimate_and_the_benchmark(plugin_path):
    assert "demo" in registry.load_plugins()
    df = _data()
    eff = causalkit.estimate(df, "t", "y", method="plugin_gap")
    by_hand = df.y[df.t == 1].mean() - df.y[df.t == 0].mean()
    assert eff.estimate == pytest.approx(by_hand, abs=1e-12)
    from causalkit.benchmark import run
    result = run(methods=["plugin_gap"], datasets={"randomized": {"n": 200}}, reps=2,
                 progress=False)
    assert set(result.summary["method"]) == {"plugin_gap"}


def test_an_entry_point_plugin_is_seen_by_the_cli(plugin_path, tmp_path):
    df = _data()
    csv = tmp_path / "d.csv"
    df.to_csv(csv, index=False)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(plugin_path)] + sys.path))
    run = subprocess.run([sys.executable, "-m", "causalkit", "estimate", "--data", str(csv),
                          "--treatment", "t", "--outcome", "y", "--method", "plugin_gap"],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    by_hand = df.y[df.t == 1].mean() - df.y[df.t == 0].mean()
    assert f"{by_hand:.4f}" in run.stdout and "plugin_gap" in run.stdout


def test_a_broken_plugin_warns_and_the_registry_still_works(tmp_path, monkeypatch):
    _install_distribution(tmp_path, "ck_broken", "broken = ck_no_such_module_anywhere",
                          monkeypatch)
    with pytest.warns(UserWarning, match="'broken'.*failed to load"):
        loaded = registry.load_plugins()
    assert "broken" not in loaded
    assert "difference_in_means" in registry.names()
