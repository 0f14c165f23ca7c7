"""Data Docs rendering shared by our expectations: a sentence for the rule, the
check's message for the observed value (GX's default shows raw kwargs)."""

from __future__ import annotations

from great_expectations.render import LegacyDiagnosticRendererType, LegacyRendererType, RenderedStringTemplateContent
from great_expectations.render.renderer.renderer import renderer


class ReadableDocs:
    """Mixin: subclasses implement ``describe(kwargs) -> str``."""

    @classmethod
    def describe(cls, kwargs: dict) -> str:
        raise NotImplementedError

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
