"""The app's metrics as charts: the charts of the stage's CloudWatch dashboard that draw the
app's own metrics (infra/dashboard.py: APP_CHARTS, the same definitions), drawn from what the
local stack keeps of them (the emulator's series store, read from the functions' EMF lines),
over the last minutes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from chalicelib.adapters import metrics
from chalicelib.http.problems import bad_request
from infra import definition
from infra.dashboard import APP_CHARTS
from local.state.series import SeriesStore, series_key

PERIODS = (10, 30, 60)  # seconds
MAX_MINUTES = 15  # what the store keeps (SeriesStore's keep_seconds)


class MetricCharts:
    def __init__(self, store: SeriesStore, stage: str, now: Callable[[], float]) -> None:
        """`now`: the emulator's clock (seconds since the epoch), which stamps the metrics."""
        self.store = store
        self.environment = definition.metrics_environment(stage)
        self.now = now

    def snapshot(self, minutes: int, period: int) -> dict[str, Any]:
        if period not in PERIODS:
            raise bad_request(f"period must be one of {', '.join(map(str, PERIODS))} seconds")
        if not 1 <= minutes <= MAX_MINUTES:
            raise bad_request(f"minutes must be a whole number from 1 to {MAX_MINUTES}")
        # The periods that end with the current one, as many as the minutes hold.
        end = (math.floor(self.now() / period) + 1) * period
        start = end - minutes * 60
        namespace = self.environment[metrics.NAMESPACE_VARIABLE]
        stage = {metrics.STAGE: self.environment[metrics.STAGE_VARIABLE]}
        return {
            "namespace": namespace,
            "dimensions": stage,
            "start": datetime.fromtimestamp(start, UTC).isoformat(),
            "period": period,
            "charts": [
                {
                    "title": chart.title,
                    "unit": chart.unit,
                    "lines": [
                        {
                            "label": line.label,
                            "metric": line.metric.name,
                            "dimensions": dict(line.dimensions),
                            "stat": line.stat,
                            "values": self.store.query(
                                series_key(
                                    namespace, line.metric.name, {**stage, **dict(line.dimensions)}
                                ),
                                start,
                                end,
                                period,
                                line.stat,
                            ),
                        }
                        for line in chart.lines
                    ],
                }
                for chart in APP_CHARTS
            ],
        }
