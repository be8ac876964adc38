"""`relais staffing` and `relais simulate` as an operator runs them."""

from __future__ import annotations

import pytest

from relais.cli import main


def test_staffing_prints_the_agents_needed_and_the_figures_around(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["staffing", "--calls-per-hour", "200", "--aht", "180", "--target", "20"])
    out = capsys.readouterr().out
    assert "14 agents answer 80% within 20 s" in out
    assert "    14    0.174   0.888" in out


def test_simulate_prints_its_figures_beside_the_formula(capsys: pytest.CaptureFixture[str]) -> None:
    main(["simulate", "--calls-per-hour", "200", "--aht", "180", "--agents", "14",
          "--arrivals", "3000"])  # fmt: skip
    out = capsys.readouterr().out
    assert "Erlang C" in out and "service level" in out and "0.888" in out
