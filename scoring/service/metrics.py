"""Prometheus metrics of the service: requests, latency histogram, records scored, errors.

Kept in process (one set per worker) and written in the Prometheus text format 0.0.4. Labels
are the route's template (``/api/v1/batches/{batch_id}``), never the raw path, so the number of
series stays bounded whatever clients send.
"""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["BUCKETS", "Metrics"]

#: Latency histogram bucket upper bounds, seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Counters and a latency histogram, safe to update from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.buckets: Counter[tuple[str, float]] = Counter()
        self.latency_sum: Counter[str] = Counter()
        self.latency_count: Counter[str] = Counter()
        self.records: Counter[str] = Counter()  # scored / rejected
        self.errors: Counter[str] = Counter()  # by status class
        self.swaps: Counter[str] = Counter()  # served / refused
        self.calls = 0  # coalesced scoring calls
        self.call_records = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        with self._lock:
            self.requests[(method, route, str(status))] += 1
            for bound in BUCKETS:
                if seconds <= bound:
                    self.buckets[(route, bound)] += 1
            self.latency_sum[route] += seconds
            self.latency_count[route] += 1
            if status >= 400:
                self.errors["5xx" if status >= 500 else "4xx"] += 1

    def count_records(self, scored: int, rejected: int) -> None:
        with self._lock:
            self.records["scored"] += scored
            self.records["rejected"] += rejected

    def count_call(self, records: int) -> None:
        """One coalesced call of the batch path, scoring ``records`` records."""
        with self._lock:
            self.calls += 1
            self.call_records += records

    def count_swap(self, outcome: str) -> None:
        with self._lock:
            self.swaps[outcome] += 1

    def render(self, *, model: str, store_up: bool) -> str:
        """The metrics as Prometheus text."""
        with self._lock:
            lines = [
                "# HELP readiness_requests_total HTTP requests by method, route and status.",
                "# TYPE readiness_requests_total counter",
            ]
            for (method, route, status), n in sorted(self.requests.items()):
                labels = f'method="{method}",route="{_escape(route)}",status="{status}"'
                lines.append(f"readiness_requests_total{{{labels}}} {n}")
            lines += [
                "# HELP readiness_request_seconds Request latency by route.",
                "# TYPE readiness_request_seconds histogram",
            ]
            for route in sorted(self.latency_count):
                label = f'route="{_escape(route)}"'
                for bound in BUCKETS:
                    n = self.buckets[(route, bound)]
                    lines.append(f'readiness_request_seconds_bucket{{{label},le="{bound}"}} {n}')
                count = self.latency_count[route]
                lines.append(f'readiness_request_seconds_bucket{{{label},le="+Inf"}} {count}')
                lines.append(f"readiness_request_seconds_sum{{{label}}} {self.latency_sum[route]}")
                lines.append(f"readiness_request_seconds_count{{{label}}} {count}")
            lines += _counter(
                "readiness_records_total", "Records scored or rejected.", "outcome", self.records
            )
            lines += _counter(
                "readiness_errors_total", "Error responses by class.", "class", self.errors
            )
            lines += _counter(
                "readiness_model_swaps_total", "Champion reloads.", "outcome", self.swaps
            )
            lines += [
                "# HELP readiness_scoring_calls_total Coalesced calls of the batch path.",
                "# TYPE readiness_scoring_calls_total counter",
                f"readiness_scoring_calls_total {self.calls}",
                "# HELP readiness_scoring_call_records_total Records scored by those calls.",
                "# TYPE readiness_scoring_call_records_total counter",
                f"readiness_scoring_call_records_total {self.call_records}",
            ]
        lines += [
            "# HELP readiness_model_info The model version being served.",
            "# TYPE readiness_model_info gauge",
            f'readiness_model_info{{model="{_escape(model)}"}} 1',
            "# HELP readiness_store_up Whether the store answered the last check.",
            "# TYPE readiness_store_up gauge",
            f"readiness_store_up {1 if store_up else 0}",
        ]
        return "\n".join(lines) + "\n"


def _counter(name: str, help_text: str, label: str, counts: Counter[str]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
    lines += [f'{name}{{{label}="{key}"}} {n}' for key, n in sorted(counts.items())]
    return lines


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
