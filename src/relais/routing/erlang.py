"""Queueing formulas of the contact-centre trade, computed stably for thousands of agents.

- Erlang B (M/M/N/N): blocking, by the recursion B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)),
  never A^N/N!, which overflows a double past about 170 agents.
- Erlang C (M/M/N, nobody hangs up): probability of waiting, service level, ASA, occupancy.
- Erlang A (M/M/N+M, exponential patience): probability of waiting, abandonment, service level
  and ASA by the closed forms of Palm and Mandelbaum & Zeltyn, written with the series of the
  lower incomplete gamma function and summed in log space outward from its largest term. Stable
  when A ≥ N (abandonment keeps the queue finite) and converges to Erlang C as patience grows.
- Staffing: the fewest agents that meet a service level or an ASA, by Erlang C or Erlang A.

Traffic A = arrival rate x mean handling time (Erlangs). Times are in seconds. The formulas and
their derivations are in docs/metrics.md ("Queueing formulas").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

# A term of a series below this fraction of the running sum ends it (double precision).
_NEGLIGIBLE = 1e-17


def traffic_of(calls_per_hour: float, aht_s: float) -> float:
    """Offered traffic in Erlangs: calls per hour x mean handling time in seconds / 3600."""
    if calls_per_hour < 0 or aht_s < 0:
        raise ValueError("calls per hour and handling time must not be negative")
    return calls_per_hour * aht_s / 3600.0


def erlang_b(servers: int, traffic: float) -> float:
    """Probability that an arrival finds all ``servers`` busy with no queue (M/M/N/N)."""
    _check(servers, traffic)
    b = 1.0
    for n in range(1, servers + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that an arrival waits (M/M/N); 1 when the queue has no steady state, A ≥ N."""
    _check(servers, traffic)
    if traffic >= servers:
        return 1.0
    return _c_from_b(servers, traffic, erlang_b(servers, traffic))


def service_level(servers: int, traffic: float, aht_s: float, target_s: float) -> float:
    """Erlang C: P(wait ≤ target) = 1 - C·e^{-(N-A)·t/AHT}; 0 when A ≥ N."""
    return erlang_c_figures(servers, traffic, aht_s, target_s).service_level


def asa(servers: int, traffic: float, aht_s: float) -> float:
    """Erlang C: average speed of answer C·AHT/(N - A), in seconds; infinite when A ≥ N."""
    return erlang_c_figures(servers, traffic, aht_s, 0.0).asa_s


def occupancy(servers: int, traffic: float) -> float:
    """Erlang C: the share of agents' time spent handling, A/N (at most 1)."""
    _check(servers, traffic)
    return min(1.0, traffic / servers) if servers else 1.0


@dataclass(frozen=True, slots=True)
class ErlangCResult:
    servers: int
    traffic: float
    p_wait: float
    service_level: float  # P(wait ≤ target): nobody hangs up, so ÷ answered = ÷ arrivals
    asa_s: float
    occupancy: float


def erlang_c_figures(servers: int, traffic: float, aht_s: float, target_s: float) -> ErlangCResult:
    _check(servers, traffic, aht_s=aht_s, target_s=target_s)
    return _c_figures(servers, traffic, aht_s, target_s, erlang_b(servers, traffic))


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    servers: int
    traffic: float
    p_wait: float  # P(W > 0): the arrival finds every agent busy
    p_abandon: float  # share of all arrivals who hang up before an answer
    service_level: float  # answered within target ÷ all arrivals (abandons count against)
    answered_within_target: float  # answered within target ÷ answered
    asa_s: float  # mean wait of the answered
    occupancy: float  # A·(1 - P(abandon)) / N


def erlang_a_figures(
    servers: int, traffic: float, aht_s: float, patience_s: float, target_s: float
) -> ErlangAResult:
    """M/M/N+M: Poisson arrivals, exponential handling (mean ``aht_s``) and patience (mean
    ``patience_s``), first come first served. See docs/metrics.md for the formulas."""
    _check(servers, traffic, aht_s=aht_s, target_s=target_s)
    if servers < 1:
        raise ValueError("Erlang A needs at least one agent")
    if not patience_s > 0:
        raise ValueError("patience must be positive")
    return _a_figures(servers, traffic, aht_s, patience_s, target_s, erlang_b(servers, traffic))


def agents_for_service_level(
    traffic: float,
    aht_s: float,
    target_s: float,
    goal: float,
    *,
    max_occupancy: float = 1.0,
    patience_s: float | None = None,
) -> int:
    """The fewest agents answering ``goal`` (e.g. 0.8) of contacts within ``target_s`` and, if
    given, busy at most ``max_occupancy`` of their time. Erlang C, or Erlang A with a mean
    ``patience_s`` (its service level counts abandoned contacts against the goal)."""
    _check(0, traffic, aht_s=aht_s, target_s=target_s)
    if not 0 < goal <= 1:
        raise ValueError("the service level goal must be in (0, 1]")

    def meets(n: int, b: float) -> bool:
        if patience_s is None:
            c = _c_figures(n, traffic, aht_s, target_s, b)
            return c.occupancy <= max_occupancy and c.service_level >= goal
        a = _a_figures(n, traffic, aht_s, patience_s, target_s, b)
        return a.occupancy <= max_occupancy and a.service_level >= goal

    # Erlang C needs N > A; with abandonment the answered share, hence the SL, is at most N/A.
    start = math.floor(traffic) + 1 if patience_s is None else math.floor(goal * traffic)
    return _fewest(traffic, start, max_occupancy, patience_s, meets)


def agents_for_asa(
    traffic: float,
    aht_s: float,
    max_asa_s: float,
    *,
    max_occupancy: float = 1.0,
    patience_s: float | None = None,
) -> int:
    """The fewest agents whose average speed of answer is at most ``max_asa_s`` seconds (and
    occupancy at most ``max_occupancy``). Erlang C, or Erlang A with a mean ``patience_s``: there
    the ASA is that of the answered, which impatience shortens, so pair it with a service level."""
    _check(0, traffic, aht_s=aht_s)
    if not max_asa_s > 0:
        raise ValueError("the ASA goal must be positive")

    def meets(n: int, b: float) -> bool:
        if patience_s is None:
            c = _c_figures(n, traffic, aht_s, 0.0, b)
            return c.occupancy <= max_occupancy and c.asa_s <= max_asa_s
        a = _a_figures(n, traffic, aht_s, patience_s, 0.0, b)
        return a.occupancy <= max_occupancy and a.asa_s <= max_asa_s

    start = math.floor(traffic) + 1 if patience_s is None else 1
    return _fewest(traffic, start, max_occupancy, patience_s, meets)


def _fewest(
    traffic: float,
    start: int,
    max_occupancy: float,
    patience_s: float | None,
    meets: Callable[[int, float], bool],
) -> int:
    """The first n ≥ start for which ``meets(n, B(n, A))``, Erlang B carried along the scan so
    the whole search costs one recursion, not one per candidate."""
    if not 0 < max_occupancy <= 1:
        raise ValueError("the maximum occupancy must be in (0, 1]")
    if patience_s is not None and not patience_s > 0:
        raise ValueError("patience must be positive")
    n = max(1, start)
    b = erlang_b(n, traffic)
    while not meets(n, b):
        n += 1
        b = traffic * b / (n + traffic * b)
    return n


def _check(servers: int, traffic: float, *, aht_s: float = 1.0, target_s: float = 0.0) -> None:
    if servers < 0:
        raise ValueError("the number of agents must not be negative")
    if not (traffic >= 0 and math.isfinite(traffic)):
        raise ValueError("traffic must be a finite number of Erlangs, at least 0")
    if not aht_s > 0:
        raise ValueError("the mean handling time must be positive")
    if not target_s >= 0:
        raise ValueError("the service level target must not be negative")


def _c_from_b(servers: int, traffic: float, b: float) -> float:
    return servers * b / (servers - traffic * (1.0 - b))


def _c_figures(
    servers: int, traffic: float, aht_s: float, target_s: float, b: float
) -> ErlangCResult:
    if traffic >= servers:
        return ErlangCResult(servers, traffic, 1.0, 0.0, math.inf, 1.0)
    c = _c_from_b(servers, traffic, b)
    gap = servers - traffic
    sl = 1.0 - c * math.exp(-gap * target_s / aht_s)
    return ErlangCResult(servers, traffic, c, sl, c * aht_s / gap, traffic / servers)


def _a_figures(
    servers: int, traffic: float, aht_s: float, patience_s: float, target_s: float, b: float
) -> ErlangAResult:
    """Time in units of the mean patience (θ = 1): x = N·μ/θ, y = λ/θ.

    With S(a, z) = Σ_{k≥0} z^k / (a(a+1)…(a+k)), the series of the lower incomplete gamma
    function (gamma(a, z) = z^a·e^{-z}·S(a, z)):
    P(W>0) = x·S(x,y)·B / (1 + (x·S(x,y) - 1)·B); P(served | W>0) = S(x+1,y) / S(x,y);
    P(served within t | W>0) = P(served | W>0) - e^{y(1-e^{-θt}) - (x+1)θt}·S(x+1,y')/S(x,y)
    with y' = y·e^{-θt}; E[wait·1{served} | W>0] = P(served | W>0)·E[ln(y/U) | U ≤ y]/θ, U of
    law Gamma(x+1)."""
    if traffic == 0 or b == 0.0:  # nobody arrives, or nobody ever finds every agent busy
        return ErlangAResult(servers, traffic, 0.0, 0.0, 1.0, 1.0, 0.0, traffic / servers)
    x = servers * patience_s / aht_s
    y = traffic * patience_s / aht_s
    theta_t = target_s / patience_s
    log_s_x, _ = _series(x, y)
    log_s_x1, log_moment = _series(x + 1.0, y)
    # P(W>0) = 1 / (1 + (1/B - 1) / (x·S(x,y))), in logs so that neither factor overflows.
    log_odds = math.log1p(-b) - math.log(b) - math.log(x) - log_s_x
    p_wait = 1.0 / (1.0 + math.exp(log_odds)) if log_odds < 700.0 else 0.0
    served = math.exp(log_s_x1 - log_s_x)  # P(served | W > 0)
    y_late = y * math.exp(-theta_t)  # y' = y·e^{-θt}
    # P(served within t | W>0) = ∫_{y'}^{y} u^x e^{-u} du / (y·gamma(x, y)).
    shift = -(x + 1.0) * theta_t - y * math.expm1(-theta_t)  # ln of (y'/y)^{x+1}·e^{y-y'}
    if target_s == 0:
        within = 0.0
    elif y_late > x + 1.0:
        # The integrand falls over the whole window: take the difference of the two upper tails
        # Gamma(x+1, y') - Gamma(x+1, y) as one factor times expm1, free of cancellation.
        log_tail_now, log_tail_late = (
            _log_upper_fraction(x + 1.0, y),
            _log_upper_fraction(x + 1.0, y_late),
        )
        within = math.exp(log_tail_now - log_s_x) * math.expm1(shift + log_tail_late - log_tail_now)
    else:
        log_late, _ = _series(x + 1.0, y_late)
        within = max(0.0, served - math.exp(log_late - log_s_x + shift))
    p_abandon = p_wait * (1.0 - served)
    answered = 1.0 - p_abandon
    sl = (1.0 - p_wait) + p_wait * within
    wait_of_served = p_wait * served * log_moment * patience_s
    return ErlangAResult(
        servers=servers,
        traffic=traffic,
        p_wait=p_wait,
        p_abandon=p_abandon,
        service_level=sl,
        answered_within_target=min(1.0, sl / answered),
        asa_s=wait_of_served / answered,
        occupancy=min(1.0, traffic * answered / servers),
    )


def _series(a: float, z: float) -> tuple[float, float]:
    """ln S(a, z) and the weighted mean Σ t_k·h_k / Σ t_k, where t_k = z^k / (a(a+1)…(a+k)) and
    h_k = 1/a + … + 1/(a+k); that mean is E[ln(z/U) | U ≤ z] for U of law Gamma(a).

    The terms rise while z > a+k+1 and then fall, so the sum starts at the largest term (found
    by log-gamma, not by walking up to it) and goes both ways until the terms are negligible:
    about √z terms whatever the size of z, and no term can overflow."""
    if z <= 0.0:
        return -math.log(a), 1.0 / a
    top = max(0, math.ceil(z - a - 1.0))
    if top < 64:  # a few exact terms beat any expansion
        log_top = top * math.log(z) - math.fsum(math.log(a + i) for i in range(top + 1))
        h_top = math.fsum(1.0 / (a + i) for i in range(top + 1))
    else:
        log_top = _log_term(a, z, top)
        h_top = _digamma_diff(a, top + 1.0)
    total, weighted = 1.0, h_top
    t, h, k = 1.0, h_top, top
    while True:  # upward: the ratio z/(a+k) falls below one and keeps falling
        k += 1
        t *= z / (a + k)
        h += 1.0 / (a + k)
        total += t
        weighted += t * h
        if t < _NEGLIGIBLE * total:
            break
    t, h, k = 1.0, h_top, top
    while k > 0:  # downward to the first term
        t *= (a + k) / z
        h -= 1.0 / (a + k)
        k -= 1
        total += t
        weighted += t * h
        if t < _NEGLIGIBLE * total:
            break
    return log_top + math.log(total), weighted / total


def _log_upper_fraction(a: float, z: float) -> float:
    """ln F where Gamma(a, z) = z^a·e^{-z}·F (the upper incomplete gamma function), z > a:
    F = 1/(z+1-a - 1·(1-a)/(z+3-a - 2·(2-a)/(z+5-a - …))), by the modified Lentz method."""
    tiny = 1e-300
    b = z + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    f = d
    i = 0
    while True:
        i += 1
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = d if abs(d) > tiny else tiny
        c = b + an / c
        c = c if abs(c) > tiny else tiny
        d = 1.0 / d
        step = d * c
        f *= step
        if abs(step - 1.0) < 1e-16:
            return math.log(f)


def _log_term(a: float, z: float, k: int) -> float:
    """ln(z^k / (a(a+1)…(a+k))) for large k, by Stirling's series for Γ(a+k+1)/Γ(a) once a ≥ 20
    (shifting a up by Γ(a+1) = a·Γ(a) before), arranged so that no two large logarithms cancel:
    k·ln z and the (k+1)·ln(a+k+1) of Stirling meet as k·ln(z/(a+k+1))."""
    d = k + 1.0
    shift = 0.0
    while a < 20.0:
        shift += math.log(a) - math.log(a + d)
        a += 1.0
    b = a + d
    rest = d - (a - 0.5) * math.log1p(d / a) - shift - _stirling_tail(b) + _stirling_tail(a)
    return k * math.log(z / b) - math.log(b) + rest


def _stirling_tail(x: float) -> float:
    x2 = x * x
    return (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - 1.0 / (1680.0 * x2)) / x2) / x2) / x


def _digamma_diff(a: float, d: float) -> float:
    """ψ(a+d) - ψ(a) = Σ_{i≥0} 1/(a+i) - 1/(a+d+i), by the asymptotic series once a ≥ 20."""
    shift = 0.0
    while a < 20.0:
        shift += 1.0 / a - 1.0 / (a + d)
        a += 1.0
    return shift + math.log1p(d / a) + _digamma_tail(a + d) - _digamma_tail(a)


def _digamma_tail(x: float) -> float:
    """ψ(x) - ln x for x ≥ 20, to about 1e-15."""
    r = 1.0 / (x * x)
    return -0.5 / x - r * (1.0 / 12.0 - r * (1.0 / 120.0 - r * (1.0 / 252.0 - r / 240.0)))
