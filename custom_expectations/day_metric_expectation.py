"""Base of our expectations: parameters, the metric they name, and readable Data Docs.

Abstract (``check`` and ``describe``), so GX does not register it as an expectation.
"""

from __future__ import annotations

import abc
from typing import ClassVar, Optional

from great_expectations.expectations.expectation import BatchExpectation
from great_expectations.render import LegacyDiagnosticRendererType, LegacyRendererType, RenderedStringTemplateContent
from great_expectations.render.renderer.renderer import renderer


class DayMetricExpectation(BatchExpectation):
    """Reads ``day_metric.series`` for ``metric`` (and ``dimension``; None = all of them)."""

    metric: str
    dimension: Optional[str] = None
    window_days: int = 7
    history_days: int = 0  # how far back the provider reads (0: window_days)
    check_name: str = ""  # the contract's check name: the provider reads this check's earlier verdicts
    segment_metrics: str = ""  # the per-segment metrics that explain a change (day_metric_series)
    label: str = ""
    hint: str = ""

    metric_dependencies: ClassVar[tuple[str, ...]] = ("day_metric.series",)
    domain_keys: ClassVar[tuple[str, ...]] = ("batch_id", "row_condition", "condition_parser")

    @abc.abstractmethod
    def check(self, series: dict) -> dict:
        """The GX result dict for this day's series."""

    @classmethod
    @abc.abstractmethod
    def describe(cls, kwargs: dict) -> str:
        """The rule as a sentence, for Data Docs."""

    @property
    def declared_critical(self) -> bool:
        """The suite declared this check critical (an alert of it never becomes the new normal by itself)."""
        declared = getattr(self, "__fields_set__", set())  # GX's models are pydantic v1 style
        return "severity" in declared and str(self.severity).lower().endswith("critical")

    @property
    def display_name(self) -> str:
        return self.label or self.metric

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None) -> dict:
        return self.check(metrics["day_metric.series"])

    @classmethod
    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    def _prescriptive_renderer(cls, configuration=None, result=None, runtime_configuration=None, **kwargs):
        config = configuration or (result.expectation_config if result else None)
        meta = (config.meta or {}) if config else {}
        text = cls.describe(dict(config.kwargs)) if config else cls.__name__
        if meta.get("check"):
            text = f"{meta['check']} ({meta.get('category', '')}): {text}"
        return [RenderedStringTemplateContent(content_block_type="string_template",
                                              string_template={"template": "$text", "params": {"text": text},
                                                               "styling": {}})]

    @classmethod
    @renderer(renderer_type=LegacyDiagnosticRendererType.OBSERVED_VALUE)
    def _diagnostic_observed_value_renderer(cls, configuration=None, result=None, runtime_configuration=None,
                                            **kwargs) -> str:
        if result is None or not result.result:
            return "--"
        details = result.result.get("details") or {}
        return details.get("message") or str(result.result.get("observed_value"))
