"""Queueing formulas of the contact-centre trade, computed stably for thousands of agents.

- Erlang B: blocking probability of N servers offered A Erlangs, by the recursion
  B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1)) — never A^N/N!, which overflows past ~170 agents.
- Erlang C (M/M/N): probability of waiting, service level, ASA, from Erlang B.
- Erlang A (M/M/N+M, exponential patience): waiting, abandonment, service level and ASA, from
  the birth-death chain with abandonment, its terms computed as running ratios (no factorials, no
  powers) and summed until they vanish. Stable when A ≥ N, where Erlang C has no steady state.

Traffic A = arrival rate x mean handling time (Erlangs). Times are in seconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(servers: int, traffic: float) -> float:
    if servers < 0 or traffic < 0:
        raise ValueError("servers and traffic must be positive")
    b = 1.0
    for n in range(1, servers + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that an arrival waits (1 when the queue is unstable, A ≥ N)."""
    if traffic >= servers:
        return 1.0
    b = erlang_b(servers, traffic)
    return servers * b / (servers - traffic * (1 - b))


def traffic_of(arrivals_per_hour: float, aht_s: float) -> float:
    return arrivals_per_hour * aht_s / 3600.0


@dataclass(frozen=True, slots=True)
class ErlangC:
    servers: int
    traffic: float
    p_wait: float
    service_level: float  # P(wait ≤ target)
    asa_s: float
    occupancy: float


def erlang_c_figures(servers: int, traffic: float, aht_s: float, target_s: float) -> ErlangC:
    if traffic >= servers:
        return ErlangC(servers, traffic, 1.0, 0.0, math.inf, 1.0)
    c = erlang_c(servers, traffic)
    sl = 1.0 - c * math.exp(-(servers - traffic) * target_s / aht_s)
    asa = c * aht_s / (servers - traffic)
    return ErlangC(servers, traffic, c, sl, asa, traffic / servers)


@dataclass(frozen=True, slots=True)
class ErlangA:
    servers: int
    traffic: float
    p_wait: float
    p_abandon: float  # share of all arrivals who hang up
    service_level: float  # answered within target ÷ all arrivals
    answered_within_target: float  # answered within target ÷ answered
    asa_s: float  # mean wait of the answered
    occupancy: float


def erlang_a_figures(
    servers: int, traffic: float, aht_s: float, patience_s: float, target_s: float
) -> ErlangA:
    """M/M/N+M. With μ = 1/AHT and θ = 1/patience, state n > N leaves at N·μ + (n-N)·θ.

    The stationary probabilities are p_n ∝ π_n with π_0 = 1, π_n = π_{n-1}·λ/(nμ) for n ≤ N and
    π_n = π_{n-1}·λ/(Nμ + (n-N)θ) beyond; they are summed relative to π_N, so no term overflows.
    A customer arriving in state n ≥ N waits behind n-N others; its wait is the time until it is
    served, with patience racing against it: both are computed exactly per state from the
    exponential rates (see docs/metrics.md)."""
    if patience_s <= 0:
        raise ValueError("patience must be positive")
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    lam = traffic * mu
    # Below N, relative to state N: r_n = π_n / π_N, walking down.
    below = 0.0
    r = 1.0
    for n in range(servers, 0, -1):
        r *= n * mu / lam  # π_{n-1}/π_n = nμ/λ
        below += r
        if r < 1e-300:
            break
    # From N upwards: q_k = π_{N+k}/π_N.
    above: list[float] = [1.0]
    q = 1.0
    k = 0
    while True:
        k += 1
        q *= lam / (servers * mu + k * theta)
        above.append(q)
        if q < 1e-16 * sum(above) and k > 10:
            break
    total = below + sum(above)
    p_wait = sum(above) / total  # arrivals see n ≥ N (PASTA)

    # An arrival seeing N+k present (k ahead of it in the queue) is served once k+1 departures
    # from the queue head occurred; from position j (j ahead), the next event is a service
    # (rate Nμ) or an abandonment ahead (j·θ) or its own (θ). Served within t: P computed by
    # the probability of reaching the head and the hypoexponential time, approximated exactly
    # by uniformisation over the small chain of its position.
    answered = abandoned = answered_in_target = wait_answered = 0.0
    for k, q in enumerate(above):
        weight = q / total
        served_p, mean_wait, within = _position(k, servers * mu, theta, target_s)
        answered += weight * served_p
        abandoned += weight * (1 - served_p)
        answered_in_target += weight * within
        wait_answered += weight * mean_wait
    no_wait = below / total
    answered_all = no_wait + answered
    return ErlangA(
        servers=servers,
        traffic=traffic,
        p_wait=p_wait,
        p_abandon=abandoned,
        service_level=no_wait + answered_in_target,
        answered_within_target=(no_wait + answered_in_target) / answered_all,
        asa_s=wait_answered / answered_all,
        occupancy=min(1.0, traffic * (1 - abandoned) / servers),
    )


def _position(
    ahead: int, service: float, theta: float, target_s: float
) -> tuple[float, float, float]:
    """A waiting customer with ``ahead`` others before it: P(served), E[wait · 1{served}],
    P(served within target). Each stage j (j ahead) ends by the head moving (rate
    service + j·θ) or by the customer hanging up (θ)."""
    p_reach = 1.0
    rates: list[float] = []
    mean_to_serve = 0.0
    for j in range(ahead, -1, -1):
        move = service + j * theta
        rate = move + theta
        rates.append(rate)
        mean_to_serve += 1.0 / rate
        p_reach *= move / rate
    # P(served) = product of the stage odds; the time to service is a sum of independent
    # exponentials (rates), conditioned on no abandonment, which leaves them unchanged
    # (the competing clock is memoryless).
    within = p_reach * _hypoexp_cdf(rates, target_s)
    return p_reach, p_reach * mean_to_serve, within


def _hypoexp_cdf(rates: list[float], t: float) -> float:
    """P(sum of independent exponentials ≤ t), by uniformisation (stable for any rates)."""
    if t <= 0:
        return 0.0
    top = max(rates)
    # A chain that, at rate ``top``, advances stage i with probability rates[i]/top.
    stages = len(rates)
    dist = [1.0] + [0.0] * stages  # probability of having completed i stages
    poisson = math.exp(-top * t)
    cdf = poisson * dist[stages]
    n = 0
    mass = poisson
    while True:
        n += 1
        new = [0.0] * (stages + 1)
        for i, p in enumerate(dist):
            if p == 0.0:
                continue
            if i == stages:
                new[i] += p
            else:
                go = rates[i] / top
                new[i + 1] += p * go
                new[i] += p * (1 - go)
        dist = new
        mass *= top * t / n
        cdf += mass * dist[stages]
        if n > top * t + 10 * math.sqrt(top * t + 1) + 20:
            return min(1.0, cdf)


def agents_for_service_level(
    traffic: float,
    aht_s: float,
    target_s: float,
    goal: float,
    *,
    max_occupancy: float = 1.0,
    patience_s: float | None = None,
) -> int:
    """The fewest agents meeting ``goal`` (e.g. 0.8 answered within ``target_s``)."""
    n = max(1, math.floor(traffic))
    while True:
        if traffic / n <= max_occupancy:
            if patience_s is None:
                sl = erlang_c_figures(n, traffic, aht_s, target_s).service_level
            else:
                sl = erlang_a_figures(n, traffic, aht_s, patience_s, target_s).service_level
            if sl >= goal:
                return n
        n += 1
