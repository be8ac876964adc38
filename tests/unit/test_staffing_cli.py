"""`relais staffing` and `relais simulate` as an operator runs them."""

from __future__ import annotations

import pytest

from relais.cli import main


def _rows(out: str) -> dict[int, list[str]]:
    """The table's rows (below its header) by number of agents."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == ["agents"]) + 1
    rows: dict[int, list[str]] = {}
    for line in lines[start:]:
        cells = line.split()
        if cells:
            rows[int(cells[0])] = cells[1:]
    return rows


def test_staffing_prints_the_agents_needed_and_the_figures_around(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["staffing", "--calls-per-hour", "200", "--aht", "180", "--target", "20"])
    out = capsys.readouterr().out
    assert "200 contacts/h x 180 s = 10.00 Erlangs (Erlang C)" in out
    assert "14 agents answer 80% within 20 s" in out
    rows = _rows(out)
    assert sorted(rows) == [13, 14, 15, 16, 17]  # N-1 to N+3
    # The published reference point: P(wait) 0.174, SL 0.888, ASA 7.8 s, occupancy 10/14.
    assert rows[14] == ["0.174", "0.888", "7.8", "0.714", "<"]
    assert float(rows[13][1]) < 0.8 and "<" not in rows[13]


def test_staffing_with_patience_uses_erlang_a_and_shows_abandonment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["staffing", "--calls-per-hour", "200", "--aht", "180", "--patience", "120"])
    out = capsys.readouterr().out
    assert "Erlang A, mean patience 120 s" in out
    assert "abandon" in out and "/ all contacts" in out
    rows = _rows(out)
    needed = next(n for n, cells in rows.items() if cells[-1] == "<")
    assert needed <= 14  # impatient customers shorten the queue
    assert float(rows[needed][1]) >= 0.8
    abandon = [float(rows[n][4]) for n in sorted(rows)]
    assert abandon == sorted(abandon, reverse=True) and abandon[0] > 0


def test_staffing_under_a_maximum_occupancy_adds_agents(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["staffing", "--calls-per-hour", "200", "--aht", "180", "--max-occupancy", "0.6"])
    out = capsys.readouterr().out
    assert "17 agents answer 80% within 20 s, each busy at most 60% of the time" in out


def test_staffing_shows_an_understaffed_row_as_never_answered(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["staffing", "--calls-per-hour", "200", "--aht", "180", "--service-level", "0.3",
          "--target", "5"])  # fmt: skip
    rows = _rows(capsys.readouterr().out)
    assert rows[10] == ["1.000", "0.000", "never", "1.000"]  # 10 Erlangs on 10 agents
    assert rows[11][-1] == "<"


def test_staffing_refuses_an_impossible_goal(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["staffing", "--calls-per-hour", "200", "--aht", "180", "--service-level", "1.5"])
    assert exit_.value.code == 2
    assert "service level goal" in capsys.readouterr().err


def test_simulate_prints_its_figures_beside_the_formula(capsys: pytest.CaptureFixture[str]) -> None:
    main(["simulate", "--calls-per-hour", "200", "--aht", "180", "--agents", "14",
          "--arrivals", "3000"])  # fmt: skip
    out = capsys.readouterr().out
    assert "Erlang C" in out and "service level" in out and "0.888" in out
