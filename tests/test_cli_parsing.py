"""`causalkit estimate --option KEY=VALUE`: values parsed by the option's declared type."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import causalkit
from causalkit.cli import estimate as cli_estimate
from causalkit.cli import main
from causalkit.errors import OptionError
from causalkit.option_text import parse_text


@pytest.fixture(scope="module")
def hetero(tmp_path_factory):
    """A heterogeneous effect (1 + 2x) with x imbalanced between arms: Lin's interacted
    regression and the additive one estimate different numbers."""
    rng = np.random.default_rng(11)
    n = 400
    x = rng.normal(size=n)
    t = rng.binomial(1, 1 / (1 + np.exp(-1.5 * x)))
    y = t * (1 + 2 * x) + x + rng.normal(size=n)
    df = pd.DataFrame({"t": t, "x": x, "y": y})
    path = tmp_path_factory.mktemp("cli") / "hetero.csv"
    df.to_csv(path, index=False)
    return path, pd.read_csv(path)


@pytest.fixture
def fitted(monkeypatch):
    """The Effect the CLI computed (the real `estimate`, recorded)."""
    seen = []

    def recording(*args, **kwargs):
        seen.append(causalkit.estimate(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(cli_estimate, "estimate", recording)
    return seen


def _estimate(path, *options, method="regression_adjustment"):
    argv = ["estimate", "--data", str(path), "--treatment", "t", "--outcome", "y",
            "--covariates", "x", "--method", method]
    for option in options:
        argv += ["--option", option]
    return main(argv)


@pytest.mark.parametrize("text", ["no", "false", "False", "0", "NO"])
def test_interacted_no_runs_the_additive_model(hetero, fitted, capsys, text):
    """`--option interacted=no` used to run the *interacted* model ('no' is a non-empty string)."""
    path, df = hetero
    assert _estimate(path, f"interacted={text}") == 0
    additive = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                                  covariates=["x"], interacted=False)
    interacted = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                                    covariates=["x"], interacted=True)
    assert fitted[-1].estimate == additive.estimate
    assert fitted[-1].std_error == additive.std_error
    assert abs(additive.estimate - interacted.estimate) > 0.1
    assert f"{additive.estimate:.4f}" in capsys.readouterr().out
    # the additive model is OLS of y on (1, t, x): statsmodels' coefficient of t
    ols = sm.OLS(df["y"], sm.add_constant(df[["t", "x"]])).fit()
    assert fitted[-1].estimate == pytest.approx(ols.params["t"], rel=1e-10)


@pytest.mark.parametrize("text", ["yes", "true", "1", "TRUE"])
def test_interacted_yes_runs_lins_model(hetero, fitted, text):
    path, df = hetero
    assert _estimate(path, f"interacted={text}") == 0
    interacted = causalkit.estimate(df, "t", "y", method="regression_adjustment",
                                    covariates=["x"], interacted=True)
    assert fitted[-1].estimate == interacted.estimate


@pytest.mark.parametrize("option, message", [
    ("interacted=maybe", "expected a boolean (true/false, 1/0 or yes/no), got 'maybe'"),
    ("interacted=", "expected a boolean"),
])
def test_a_bad_boolean_exits_2_with_a_message(hetero, capsys, option, message):
    path, _ = hetero
    assert _estimate(path, option) == 2
    err = capsys.readouterr().err
    assert message in err and "interacted" in err and "Traceback" not in err


@pytest.mark.parametrize("method, option, message", [
    ("propensity_matching", "n_neighbors=abc", "option 'n_neighbors' (int): expected an integer, "
                                               "got 'abc'"),
    ("propensity_matching", "n_neighbors=1.5", "expected an integer, got '1.5'"),
    ("propensity_matching", "caliper=wide", "expected a number or none, got 'wide'"),
    ("aipw", "n_folds=five", "expected an integer, got 'five'"),
    ("ipw", "trim=nan", "expected a number or none, got 'nan'"),
])
def test_ints_and_floats_are_checked(hetero, capsys, method, option, message):
    path, _ = hetero
    assert _estimate(path, option, method=method) == 2
    err = capsys.readouterr().err
    assert message in err and f"method {method!r}" in err and "Traceback" not in err


def test_numbers_and_none_reach_the_estimator_typed(hetero, fitted):
    path, df = hetero
    assert _estimate(path, "n_neighbors=2", "caliper=none", method="propensity_matching") == 0
    direct = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["x"],
                                n_neighbors=2, caliper=None)
    assert fitted[-1].estimate == direct.estimate and fitted[-1].std_error == direct.std_error
    # caliper=None is really no caliper: the default 0.2 gives another answer here
    default = causalkit.estimate(df, "t", "y", method="propensity_matching", covariates=["x"],
                                 n_neighbors=2)
    assert default.estimate != direct.estimate


def test_a_pair_of_bandwidths_for_rdd(tmp_path, fitted):
    """`h: float | tuple[float, float] | None`: 'h=0.4,0.6' is the (left, right) pair."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 600)
    df = pd.DataFrame({"x": x, "y": 0.5 * (x >= 0) + x + rng.normal(scale=0.3, size=600)})
    path = tmp_path / "rd.csv"
    df.to_csv(path, index=False)
    argv = ["estimate", "--data", str(path), "--outcome", "y", "--method", "rdd",
            "--role", "running=x", "--role", "cutoff=0"]
    assert main(argv + ["--option", "h=0.4,0.6"]) == 0
    direct = causalkit.estimate(pd.read_csv(path), outcome="y", method="rdd", running="x",
                                cutoff=0, h=(0.4, 0.6))
    assert fitted[-1].estimate == direct.estimate
    assert fitted[-1].diagnostics["h_left"] == 0.4 and fitted[-1].diagnostics["h_right"] == 0.6
    assert main(argv + ["--option", "h=0.5"]) == 0
    assert fitted[-1].diagnostics["h_left"] == fitted[-1].diagnostics["h_right"] == 0.5
    assert main(argv + ["--option", "h=0.1,0.2,0.3"]) == 2


def test_an_unknown_option_exits_2_with_the_registrys_suggestion(hetero, capsys):
    path, _ = hetero
    assert _estimate(path, "n_neighbour=2", method="propensity_matching") == 2
    err = capsys.readouterr().err
    assert "no option 'n_neighbour'; did you mean 'n_neighbors'?" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("extra, message", [
    (["--option", "alpha=0.1"], "give alpha with --alpha"),
    (["--option", "interacted=no", "--option", "interacted=yes"], "interacted is given twice"),
    (["--option", "interacted"], "must look like KEY=VALUE"),
    (["--role", "treatment=t"], "the treatment is given twice"),
    (["--role", "clustr=x"], "'clustr' is not a role; did you mean 'cluster'?"),
])
def test_conflicting_or_malformed_flags_exit_2(hetero, capsys, extra, message):
    path, _ = hetero
    argv = ["estimate", "--data", str(path), "--treatment", "t", "--outcome", "y",
            "--covariates", "x", "--method", "regression_adjustment"]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_covariates_without_a_value_is_a_usage_error(hetero, capsys):
    """It used to mean 'no covariates' and exit 0."""
    path, _ = hetero
    with pytest.raises(SystemExit) as exit_:
        main(["estimate", "--data", str(path), "--treatment", "t", "--outcome", "y",
              "--covariates", "--method", "regression_adjustment"])
    assert exit_.value.code == 2
    assert "--covariates: expected at least one argument" in capsys.readouterr().err


def test_roles_given_with_role_are_used(hetero, fitted):
    path, df = hetero
    assert main(["estimate", "--data", str(path), "--outcome", "y", "--role", "treatment=t",
                 "--method", "difference_in_means", "--option", "use_t=no"]) == 0
    direct = causalkit.estimate(df, "t", "y", method="difference_in_means", use_t=False)
    assert fitted[-1].estimate == direct.estimate and fitted[-1].p_value == direct.p_value


@pytest.mark.parametrize("annotation, text, value", [
    ("bool", "Yes", True), ("bool", "0", False), ("int", "-3", -3), ("float", "1e-2", 0.01),
    ("float | None", "none", None), ("float | None", "None", None), ("str | None", "HC1", "HC1"),
    ("int | None", "4", 4), ("float | tuple[float, float] | None", "(1, 2.5)", (1.0, 2.5)),
    ("Sequence[float]", "0.5, 1, 2", (0.5, 1.0, 2.0)), ("Optional[int]", "NONE", None),
    ("int | np.random.Generator | None", "7", 7), ("str", "none", "none"),
    ("Any", "0.5", 0.5), ("Any", "HC1", "HC1"), ("Any", "true", True), ("", "3", 3),
])
def test_parse_text_by_annotation(annotation, text, value):
    out = parse_text(annotation, text)
    assert out == value and type(out) is type(value)


@pytest.mark.parametrize("annotation, text", [
    ("bool", "y"), ("bool", "2"), ("bool", "on"), ("int", "2.0"), ("int", ""), ("float", "x"),
    ("float | None", "null"), ("tuple[float, float]", "1"), ("int | np.random.Generator | None",
                                                              "seed"),
])
def test_parse_text_refuses_what_the_type_does_not_allow(annotation, text):
    with pytest.raises(OptionError, match="expected"):
        parse_text(annotation, text)


def test_an_unannotated_option_takes_the_type_of_its_default():
    assert parse_text("", "no", default=True) is False
    with pytest.raises(OptionError, match="an integer"):
        parse_text("", "1.5", default=3)
