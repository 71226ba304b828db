"""E-values against VanderWeele & Ding (2017) and the EValue R package's documented examples."""

import math

import numpy as np
import pandas as pd
import pytest

import causalkit
from causalkit.errors import CausalKitError, OptionError
from causalkit.sensitivity import evalue


def test_published_examples_of_vanderweele_ding_2017():
    # Breastfeeding and respiratory death (Victora et al.): RR 3.9 (1.8, 8.7) -> 7.26, 3.00.
    ev = evalue(3.9, 1.8, 8.7)
    assert round(ev.point, 2) == 7.26 and round(ev.ci, 2) == 3.00
    # Leukemia example (protective): RR 0.80 (0.71, 0.91) -> 1.81, 1.43.
    ev = evalue(0.80, 0.71, 0.91)
    assert round(ev.point, 2) == 1.81 and round(ev.ci, 2) == 1.43
    # The interval containing the null has CI E-value 1.
    assert evalue(1.3, 0.9, 1.8).ci == 1.0


def test_the_evalue_package_examples_and_conversions():
    # EValue vignette: evalues.OR(3.9, 1.8, 8.7, rare=TRUE) is the RR computation.
    assert evalue(3.9, 1.8, 8.7, scale="OR", rare=True).point == pytest.approx(
        evalue(3.9, 1.8, 8.7).point)
    # evalues.OR(0.86, 0.75, 0.99, rare=FALSE): RR ~ sqrt(OR) (VanderWeele-Ding Table 2).
    ev = evalue(0.86, 0.75, 0.99, scale="OR", rare=False)
    rr = math.sqrt(0.86)
    assert ev.rr == pytest.approx(rr)
    assert ev.point == pytest.approx(1 / rr + math.sqrt(1 / rr * (1 / rr - 1)))
    assert ev.rr_upper == pytest.approx(math.sqrt(0.99))
    assert round(ev.point, 3) == 1.369 and round(ev.ci, 3) == 1.076
    # evalues.HR(0.56, 0.46, 0.69, rare=FALSE): RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)).
    ev = evalue(0.56, 0.46, 0.69, scale="HR_common")
    conv = (1 - 0.5 ** math.sqrt(0.56)) / (1 - 0.5 ** math.sqrt(1 / 0.56))
    assert ev.rr == pytest.approx(conv)
    r = 1 / conv
    assert ev.point == pytest.approx(r + math.sqrt(r * (r - 1)))
    # SMD: RR ~ exp(0.91 d), and with se the interval exp(0.91 d -+ 1.78 se) (evalues.MD).
    ev = evalue(0.5, scale="SMD", se=0.1)
    assert ev.rr == pytest.approx(math.exp(0.455))
    assert ev.rr_lower == pytest.approx(math.exp(0.455 - 0.178))
    r = math.exp(0.455 - 0.178)
    assert ev.ci == pytest.approx(r + math.sqrt(r * (r - 1)))


def test_evalue_table_and_true_value():
    ev = evalue(2.5, null=1.5)          # EValue vignette: evalues.RR(est = 2.5, true = 1.5)
    r = 2.5 / 1.5
    assert ev.point == pytest.approx(r + math.sqrt(r * (r - 1)))
    assert math.isnan(ev.ci)
    table = evalue(3.9, 1.8, 8.7).table
    assert list(table.index) == ["RR", "E-value"]
    assert table.loc["E-value", "lower"] == pytest.approx(3.0, abs=0.005)
    assert math.isnan(table.loc["E-value", "upper"])


def test_bad_input_is_named():
    with pytest.raises(OptionError, match="rare"):
        evalue(2.0, scale="OR")
    with pytest.raises(OptionError, match="scale"):
        evalue(2.0, scale="RD")
    with pytest.raises(OptionError, match="positive"):
        evalue(-1.0)
    with pytest.raises(OptionError, match="contain"):
        evalue(2.0, 2.5, 3.0)


def test_effect_evalue_uses_the_standardized_difference_and_shows_in_summary():
    rng = np.random.default_rng(3)
    n = 400
    t = rng.integers(0, 2, n)
    df = pd.DataFrame({"t": t, "y": 0.5 * t + rng.normal(scale=2.0, size=n)})
    eff = causalkit.estimate(df, "t", "y", method="difference_in_means")
    ev = eff.sensitivity("evalue", data=df)
    sd = math.sqrt(((df.y[t == 1] - df.y[t == 1].mean()) ** 2).sum()
                   + ((df.y[t == 0] - df.y[t == 0].mean()) ** 2).sum()) / math.sqrt(n - 2)
    assert ev.point == pytest.approx(evalue(eff.estimate / sd, eff.ci_low / sd,
                                            eff.ci_high / sd, scale="SMD").point)
    assert "Sensitivity: E-value" in eff.summary()
    with pytest.raises(CausalKitError, match="outcome_sd"):
        eff.sensitivity("evalue")
