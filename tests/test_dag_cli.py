"""``causalkit dag adjust`` on the command line."""

from __future__ import annotations

from causalkit.cli import main


def test_cli_adjust_prints_sets_paths_and_identification(capsys, tmp_path):
    text = ("dag { X [exposure]; Y [outcome]; U [latent]; U -> X; U -> Y; "
            "X -> M -> Y }")
    assert main(["dag", "adjust", text]) == 0
    out = capsys.readouterr().out
    assert "minimal adjustment sets: none (no valid adjustment set exists)" in out
    assert "X <- U -> Y: open" in out
    assert "frontdoor" in out and "{M}" in out
    path = tmp_path / "g.txt"
    path.write_text("dag {\n Z -> X\n Z -> Y\n X -> Y\n}")
    assert main(["dag", "adjust", "--file", str(path), "-x", "X", "-y", "Y"]) == 0
    out = capsys.readouterr().out
    assert "optimal adjustment set: {Z}" in out and "blocked by Z" in out


def test_cli_adjust_empty_set_and_errors(capsys):
    assert main(["dag", "adjust", "-x", "X", "-y", "Y", "dag { X -> Y }"]) == 0
    assert "the empty set: no adjustment needed" in capsys.readouterr().out
    assert main(["dag", "adjust", "dag { X -> Y -> X }", "-x", "X", "-y", "Y"]) == 2
    assert "cycle" in capsys.readouterr().err
    assert main(["dag", "adjust", "--file", "/nonexistent/dag.txt"]) == 2
    assert main(["dag", "adjust", "dag { X -> Y }"]) == 2
    assert "no treatment" in capsys.readouterr().err
