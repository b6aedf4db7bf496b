"""Intervals, the two-proportion test and the verdict, against values by hand."""

from __future__ import annotations

import math
import statistics

import pytest

from marketing.experiments import (
    CLICK_THROUGH,
    CONVERSION,
    MIN_PER_ARM,
    Arm,
    Interval,
    compare,
    mean_interval,
    sample_size_per_arm,
    two_proportion_test,
    wilson_interval,
)

Z = 1.959963984540054  # the 97.5th percentile of the standard normal
Z_POWER = 0.8416212335729143  # its 80th percentile


def _wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    centre = p + Z * Z / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - half) / (1 + Z * Z / n), (centre + half) / (1 + Z * Z / n)


def _p_two_sided(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


@pytest.mark.parametrize(("k", "n"), [(30, 1000), (0, 20), (20, 20), (1, 3), (7, 50)])
def test_wilson_intervals_match_the_formula(k: int, n: int) -> None:
    low, high = _wilson(k, n)
    interval = wilson_interval(k, n)
    assert interval.low == pytest.approx(low, abs=1e-9)
    assert interval.high == pytest.approx(high, abs=1e-9)
    assert 0.0 <= interval.low <= k / n <= interval.high <= 1.0


def test_wilson_for_30_of_1000_by_hand() -> None:
    # p = .03: centre .0319207, half-width 1.96 * sqrt(.00003006) = .0107460,
    # both over 1 + 3.8415 / 1000.
    interval = wilson_interval(30, 1000)
    assert interval.low == pytest.approx(0.021094, abs=1e-5)
    assert interval.high == pytest.approx(0.042503, abs=1e-5)


def test_wilson_without_trials_or_with_inconsistent_counts() -> None:
    assert wilson_interval(0, 0) == Interval(0.0, 1.0)
    assert wilson_interval(12, 10) == wilson_interval(10, 10)


def test_the_pooled_z_test_by_hand() -> None:
    # 30/1000 against 50/1000: pooled .04, se sqrt(.04 * .96 * 2/1000).
    test = two_proportion_test(Arm("A", 1000, 30), Arm("B", 1000, 50))
    z = 0.02 / math.sqrt(0.04 * 0.96 * 2 / 1000)
    assert z == pytest.approx(2.2822, abs=1e-4)
    assert test.z == pytest.approx(z)
    assert test.p_value == pytest.approx(_p_two_sided(z))
    assert test.p_value == pytest.approx(0.02248, abs=1e-4)
    reverse = two_proportion_test(Arm("B", 1000, 50), Arm("A", 1000, 30))
    assert reverse.z == pytest.approx(-z)
    assert reverse.p_value == pytest.approx(test.p_value)


def test_the_z_test_without_variance_or_trials() -> None:
    for control, variant in (
        (Arm("A", 100, 0), Arm("B", 100, 0)),
        (Arm("A", 100, 100), Arm("B", 50, 50)),
        (Arm("A", 0, 0), Arm("B", 100, 5)),
    ):
        test = two_proportion_test(control, variant)
        assert (test.z, test.p_value) == (0.0, 1.0)


def test_sample_size_by_hand() -> None:
    # 3% against 5%: mean 4%.
    by_hand = (
        Z * math.sqrt(2 * 0.04 * 0.96) + Z_POWER * math.sqrt(0.03 * 0.97 + 0.05 * 0.95)
    ) ** 2 / 0.02**2
    assert sample_size_per_arm(0.03, 0.05) == math.ceil(by_hand) == 1506
    assert sample_size_per_arm(0.05, 0.03) == 1506
    assert sample_size_per_arm(0.05, 0.08) == 1059
    assert sample_size_per_arm(0.1, 0.1) is None
    # A stricter level needs more.
    assert sample_size_per_arm(0.03, 0.05, alpha=0.025) > 1506  # type: ignore[operator]


def test_revenue_per_recipient_t_interval_by_hand() -> None:
    # Two of four recipients spent 100 and 50: mean 37.5.
    interval = mean_interval([100.0, 50.0], 4)
    values = [100.0, 50.0, 0.0, 0.0]
    half = 3.182446305284263 * statistics.stdev(values) / 2  # t(.975, 3), sqrt(4)
    assert interval is not None
    assert interval.high == pytest.approx(37.5 + half)
    assert interval.low == 0.0  # 37.5 - 76.2 clamped: revenue is never negative
    many = mean_interval([10.0] * 50, 100)
    assert many is not None
    t99 = 1.9842169515086827  # t(.975, 99)
    assert many.low == pytest.approx(
        5 - t99 * statistics.stdev([10.0] * 50 + [0.0] * 50) / 10
    )
    assert mean_interval([], 1) is None
    assert mean_interval([], 10) == Interval(0.0, 0.0)


def test_no_call_below_the_minimum_per_arm() -> None:
    result = compare("c", [Arm("A", 99, 1), Arm("B", 500, 100)], CONVERSION)
    assert result.winner is None
    assert result.verdict.startswith("no winner yet")
    assert f"A has 99 of the {MIN_PER_ARM}" in result.verdict
    assert result.p_values["B"] < 0.001  # significant, still no call


def test_significant_but_underpowered_is_no_winner_yet() -> None:
    result = compare("c", [Arm("A", 1000, 30), Arm("B", 1000, 50)], CONVERSION)
    assert result.p_values["B"] == pytest.approx(0.02248, abs=1e-4)
    assert result.winner is None
    assert result.needed_per_arm == 1506
    assert result.verdict == (
        "no winner yet: B leads, but detecting the observed difference with 80% "
        "power needs about 1506 recipients per arm (506 more)"
    )


def test_a_powered_significant_difference_names_the_winner() -> None:
    result = compare("c", [Arm("A", 2000, 100), Arm("B", 2000, 160)], CONVERSION)
    z = 0.03 / math.sqrt(0.065 * 0.935 * 2 / 2000)
    assert result.z_scores["B"] == pytest.approx(z)
    assert result.p_values["B"] == pytest.approx(_p_two_sided(z))
    assert result.winner == "B"
    assert result.needed_per_arm == 1059
    assert result.verdict.startswith("B wins on conversion: 8.00% against 5.00% for A")
    assert (result.control, result.metric) == ("A", CONVERSION)


def test_the_control_wins_when_every_variant_does_worse() -> None:
    arms = [Arm("A", 2000, 160), Arm("B", 2000, 100), Arm("C", 2000, 90)]
    result = compare("c", arms, CLICK_THROUGH)
    assert result.winner == "A"
    assert result.verdict.startswith(
        "A wins on click-through: 8.00% against 5.00% for B"
    )


def test_several_variants_split_the_level() -> None:
    # 30/1000 against 48/1000: pooled .039, z 2.079, p .0376: below .05, not
    # below .05 / 2.
    z = 0.018 / math.sqrt(0.039 * 0.961 * 2 / 1000)
    two = compare("c", [Arm("A", 1000, 30), Arm("B", 1000, 48)], CONVERSION)
    assert two.p_values["B"] == pytest.approx(_p_two_sided(z))
    assert two.p_values["B"] == pytest.approx(0.0376, abs=1e-4)
    assert two.verdict.startswith("no winner yet: B leads")
    arms = [Arm("A", 1000, 30), Arm("B", 1000, 48), Arm("C", 1000, 30)]
    three = compare("c", arms, CONVERSION)
    assert three.p_values == {"B": two.p_values["B"], "C": 1.0}
    assert three.winner is None
    # The sample that could show the larger difference, B's, at level .025.
    assert three.needed_per_arm == sample_size_per_arm(0.03, 0.048, alpha=0.025)
    assert three.verdict.startswith("no winner yet: no significant difference; ")
    assert "more)" in three.verdict


def test_no_difference_at_all() -> None:
    result = compare("c", [Arm("A", 500, 25), Arm("B", 500, 25)], CONVERSION)
    assert result.winner is None
    assert result.needed_per_arm is None
    assert result.verdict == "no winner yet: no difference in conversion observed"
    with pytest.raises(ValueError):
        compare("c", [Arm("A", 500, 25)], CONVERSION)


def test_inconsistent_counts_are_capped_not_a_crash() -> None:
    # More buyers than sends (a --since window cut the sends, not the orders).
    control, variant = Arm("a", 10, 20), Arm("b", 10, 3)
    assert control.successes == 10 and control.rate == 1.0
    test = two_proportion_test(control, variant)
    assert 0.0 <= test.p_value <= 1.0
