"""Outage detection: which buckets of evidence are abnormal, and the windows they form.

The rule (documented in docs/ops.md):

- A bucket is abnormal for a signal (server errors, failed submissions, problem reports)
  when its count is strictly above mean + OUTAGE_SIGMA × standard deviation of the same
  signal over the baseline, AND at least the signal's floor (OUTAGE_MIN_SERVER_ERRORS,
  OUTAGE_MIN_FAILED_SUBMISSIONS, OUTAGE_MIN_PROBLEM_REPORTS). The baseline is the buckets
  of the previous OUTAGE_BASELINE_HOURS that were not abnormal on a count themselves, so a
  long outage does not become its own baseline: once its whole baseline is abnormal, the
  floor alone decides. The first quarter of a baseline's length at the start of a series is
  not judged on counts (it only forms the baseline), so a series that starts at a steady
  high level takes that level as usual.
- A bucket is abnormal for `heartbeats` when no worker beat in it while workers beat in an
  earlier bucket of the series (a worker outage). A bucket still in progress (its end after
  `now`) is not judged on heartbeats: the next beat may not have come yet.
- Consecutive abnormal buckets form a window; one normal bucket between two abnormal ones
  does not split it. A window runs from the start of its first abnormal bucket to the end
  of its last one; its reasons are the signals that were abnormal in it.
"""

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from forms_app import ops_evidence
from forms_app.db import utcnow
from forms_app.ops_evidence import Bucket

# Signal (a Bucket attribute) → the config key of its floor.
SIGNALS = {
    "server_errors": "OUTAGE_MIN_SERVER_ERRORS",
    "failed_submissions": "OUTAGE_MIN_FAILED_SUBMISSIONS",
    "problem_reports": "OUTAGE_MIN_PROBLEM_REPORTS",
}
HEARTBEATS = "heartbeats"
REASONS = (*SIGNALS, HEARTBEATS)
MAX_GAP = 1  # normal buckets tolerated between two abnormal ones of the same window
# The first 1/WARM_UP_SHARE of a baseline's length at the start of a series is not judged on
# counts: it only forms the baseline (whatever level the series starts at is taken as usual).
WARM_UP_SHARE = 4
# `assess` reads this much evidence before the period (at least OUTAGE_BASELINE_HOURS), so an
# outage that began up to a week earlier is still told apart from the usual level.
LOOKBACK = timedelta(days=7)


@dataclass(frozen=True)
class Window:
    """A probable outage: [start, end), why, and the buckets it covers."""

    start: datetime
    end: datetime
    reasons: tuple[str, ...]
    buckets: tuple[Bucket, ...]

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Assessment:
    """Buckets of a period, the abnormal signals of each, and the windows touching it."""

    buckets: list[Bucket]
    verdicts: list[frozenset[str]]
    windows: list[Window]


def judge(
    buckets: Sequence[Bucket], config: Mapping, now: datetime | None = None
) -> list[frozenset[str]]:
    """The abnormal signals of each bucket (empty when normal), by the rule above."""
    if not buckets:
        return []
    width = buckets[0].end - buckets[0].start
    horizon = max(1, int(timedelta(hours=config["OUTAGE_BASELINE_HOURS"]) / width))
    warm_up = max(1, horizon // WARM_UP_SHARE)
    sigma = float(config["OUTAGE_SIGMA"])
    floors = {signal: config[key] for signal, key in SIGNALS.items()}
    baseline: deque[int] = deque()  # indexes of the normal buckets within the horizon
    sums = dict.fromkeys(SIGNALS, 0)
    squares = dict.fromkeys(SIGNALS, 0)
    verdicts: list[frozenset[str]] = []
    workers_seen = False
    for i, bucket in enumerate(buckets):
        while baseline and baseline[0] < i - horizon:
            _move(buckets[baseline.popleft()], sums, squares, -1)
        reasons = set()
        n = len(baseline)
        for signal in SIGNALS if i >= warm_up else ():
            value = getattr(bucket, signal)
            if value < floors[signal]:
                continue
            mean = sums[signal] / n if n else 0.0
            variance = (n * squares[signal] - sums[signal] ** 2) / (n * n) if n else 0.0
            if value > mean + sigma * math.sqrt(max(0.0, variance)):
                reasons.add(signal)
        if not reasons:
            baseline.append(i)
            _move(bucket, sums, squares, +1)
        complete = now is None or bucket.end <= now
        if bucket.heartbeats == 0 and workers_seen and complete:
            reasons.add(HEARTBEATS)
        workers_seen = workers_seen or bucket.heartbeats > 0
        verdicts.append(frozenset(reasons))
    return verdicts


def _move(bucket: Bucket, sums: dict, squares: dict, sign: int) -> None:
    for signal in SIGNALS:
        value = getattr(bucket, signal)
        sums[signal] += sign * value
        squares[signal] += sign * value * value


def detect(buckets: Sequence[Bucket], config: Mapping, now: datetime | None = None) -> list[Window]:
    """The outage windows of a series of buckets (oldest first); pure."""
    return _windows(buckets, judge(buckets, config, now))


def _windows(buckets: Sequence[Bucket], verdicts: Sequence[frozenset[str]]) -> list[Window]:
    groups: list[list[int]] = []
    for i, verdict in enumerate(verdicts):
        if not verdict:
            continue
        if groups and i - groups[-1][-1] <= MAX_GAP + 1:
            groups[-1].append(i)
        else:
            groups.append([i])
    found = []
    for group in groups:
        first, last = group[0], group[-1]
        reasons = set().union(*(verdicts[i] for i in group))
        found.append(
            Window(
                start=buckets[first].start,
                end=buckets[last].end,
                reasons=tuple(r for r in REASONS if r in reasons),
                buckets=tuple(buckets[first : last + 1]),
            )
        )
    return found


def assess(session: Session, start: datetime, end: datetime, config: Mapping) -> Assessment:
    """Judge the buckets of [start, end) in the light of the LOOKBACK before it."""
    minutes = config["OPS_BUCKET_MINUTES"]
    history = max(LOOKBACK, timedelta(hours=config["OUTAGE_BASELINE_HOURS"]))
    first = ops_evidence.bucket_start(start, minutes)
    buckets = ops_evidence.series(session, first - history, end, minutes)
    verdicts = judge(buckets, config, now=utcnow())
    found = [w for w in _windows(buckets, verdicts) if w.end > start and w.start < end]
    skip = next((i for i, b in enumerate(buckets) if b.start >= first), len(buckets))
    return Assessment(buckets=buckets[skip:], verdicts=verdicts[skip:], windows=found)


def windows(session: Session, start: datetime, end: datetime, config: Mapping) -> list[Window]:
    """The outage windows overlapping [start, end), judged against the baseline before it."""
    return assess(session, start, end, config).windows


def describe(duration: timedelta) -> str:
    """A duration as people read it (the same in French and English): 2 h 05 min, 45 min."""
    minutes = int(duration.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
