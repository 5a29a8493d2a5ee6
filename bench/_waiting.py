"""Waiting, judged on Vozo's documented durations: the real ``Poller`` on a virtual clock, against fixed intervals.

Vozo documents queues of 1-120 minutes, then ~10 (standard) or ~20 (precision) minutes of processing. Each
simulated job is created at t=0, answers ``pending`` until its queue time ends, ``processing`` until its processing
time ends, then ``done``. The wrapper's schedule is the ``Poller`` that ``create_and_wait`` uses, fed those statuses
with answers taking no time; a fixed schedule looks every N seconds from N seconds after the create. Lateness is the
time from ``done`` to the look that sees it. Deterministic: a seeded generator and no wall time, so a test can check
that the README's figures are what this produces.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass

from vozo._jobs import DEFAULT_POLL_INTERVAL, Poller
from vozo._kinds import kind_named
from vozo_api_client.models import JobStatus

SEED = 20261125
JOBS = 10_000
FIXED_INTERVALS = (10.0, 30.0, 60.0)
QUEUE_RANGE = (60.0, 120 * 60.0)  # uniform: "1-120 minutes, depending on system load"
PROCESSING = {"standard": 10 * 60.0, "precision": 20 * 60.0}  # "~10 minutes", "~20 minutes": the medians here
SPREAD = 0.3  # lognormal sigma: 90% of jobs within 0.6x-1.6x of the documented time
# Far beyond any job here: the Poller's deadline runs on the wall clock, which a virtual simulation never advances.
_NO_DEADLINE = 10 * 24 * 3600.0


@dataclass(frozen=True)
class Job:
    queue: float  # seconds from the create to the start of processing
    processing: float

    @property
    def done_at(self) -> float:
        return self.queue + self.processing


@dataclass(frozen=True)
class Outcome:
    schedule: str
    requests_per_job: float
    lateness_median: float
    lateness_p95: float
    lateness_max: float


def draw_jobs(count: int = JOBS, seed: int = SEED) -> list[Job]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not crypto
    jobs = []
    for _ in range(count):
        model = rng.choice(("standard", "precision"))
        jobs.append(Job(rng.uniform(*QUEUE_RANGE), rng.lognormvariate(math.log(PROCESSING[model]), SPREAD)))
    return jobs


_STATUSES = {value: JobStatus.from_dict({"status": value}) for value in ("pending", "processing", "done")}


def wrapper_looks(job: Job, poll_interval: float = DEFAULT_POLL_INTERVAL) -> tuple[int, float]:
    """(status requests, time of the look that saw done) for create_and_wait on this job."""
    poller = Poller(
        kind_named("lipsync"),
        "sim",
        timeout=_NO_DEADLINE,
        poll_interval=poll_interval,
        on_update=None,
        just_created=True,
    )
    now, requests = poller.first_delay, 0
    while True:
        requests += 1
        if now < job.queue:
            value = "pending"
        elif now < job.done_at:
            value = "processing"
        else:
            value = "done"
        delay = poller.observe(_STATUSES[value])
        if delay is None:
            return requests, now
        now += delay


def batch_looks(step: float, poll_interval: float) -> float:
    """When ``vozo batch run`` sees done a FakeVozo job of ``step`` s pending then ``step`` s processing: its first
    look is one poll interval after the create, then the Poller's schedule."""
    poller = Poller(kind_named("lipsync"), "sim", timeout=_NO_DEADLINE, poll_interval=poll_interval, on_update=None)
    now = poll_interval
    while True:
        value = "pending" if now < step else "processing" if now < 2 * step else "done"
        delay = poller.observe(_STATUSES[value])
        if delay is None:
            return now
        now += delay


def fixed_looks(job: Job, interval: float) -> tuple[int, float]:
    looks = max(1, math.ceil(job.done_at / interval))
    return looks, looks * interval


def outcome(name: str, looks: list[tuple[int, float]], jobs: list[Job]) -> Outcome:
    lateness = sorted(seen - job.done_at for (_, seen), job in zip(looks, jobs, strict=True))
    return Outcome(
        name,
        sum(requests for requests, _ in looks) / len(jobs),
        statistics.median(lateness),
        lateness[math.ceil(0.95 * len(lateness)) - 1],
        lateness[-1],
    )


def simulate(count: int = JOBS, seed: int = SEED) -> list[Outcome]:
    """The wrapper first, then every fixed interval."""
    jobs = draw_jobs(count, seed)
    results = [outcome("vozo", [wrapper_looks(job) for job in jobs], jobs)]
    for interval in FIXED_INTERVALS:
        results.append(outcome(f"every {interval:g} s", [fixed_looks(job, interval) for job in jobs], jobs))
    return results


def readme_rows(results: list[Outcome]) -> list[str]:
    """The rows of the README's waiting table, exactly as this simulation produces them."""
    return [
        f"| {r.schedule} | {r.requests_per_job:.1f} | {r.lateness_median:.1f} | {r.lateness_p95:.1f} "
        f"| {r.lateness_max:.1f} |"
        for r in results
    ]


if __name__ == "__main__":
    print("\n".join(readme_rows(simulate())))
