"""Custom expectations and their metric. Importing this package registers them with GX,
which must happen before any suite is loaded (GX silently drops unknown ones)."""

from .day_metric_series import DayMetricSeries
from .expect_bot_share_to_stay_normal import ExpectBotShareToStayNormal
from .day_metric_expectation import DayMetricExpectation
from .expect_day_metric_to_be_between import ExpectDayMetricToBeBetween
from .expect_day_metric_to_match_baseline import ExpectDayMetricToMatchBaseline
from .expect_day_mix_to_match_baseline import ExpectDayMixToMatchBaseline
from .expect_day_to_have_rows import ExpectDayToHaveRows
from .expect_day_columns_to_be_kept import ExpectDayColumnsToBeKept
from .expect_day_rate_to_match_baseline import ExpectDayRateToMatchBaseline
from .expect_day_to_have_no_silence import ExpectDayToHaveNoSilence
from .expect_purchases_after_checkouts import ExpectPurchasesAfterCheckouts

__all__ = ["DayMetricExpectation", "DayMetricSeries", "ExpectBotShareToStayNormal", "ExpectDayColumnsToBeKept",
           "ExpectDayMetricToBeBetween", "ExpectDayMetricToMatchBaseline", "ExpectDayMixToMatchBaseline",
           "ExpectDayRateToMatchBaseline", "ExpectDayToHaveNoSilence", "ExpectDayToHaveRows",
           "ExpectPurchasesAfterCheckouts"]
