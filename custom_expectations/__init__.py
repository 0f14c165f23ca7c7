"""Custom expectations and their metric. Importing this package registers them with GX,
which must happen before any suite is loaded (GX silently drops unknown ones)."""

from custom_expectations.day_metric_series import DayMetricSeries
from custom_expectations.expect_bot_share_to_stay_normal import ExpectBotShareToStayNormal
from custom_expectations.day_metric_expectation import DayMetricExpectation
from custom_expectations.expect_day_metric_to_be_between import ExpectDayMetricToBeBetween
from custom_expectations.expect_day_metric_to_match_baseline import ExpectDayMetricToMatchBaseline
from custom_expectations.expect_day_mix_to_match_baseline import ExpectDayMixToMatchBaseline
from custom_expectations.expect_day_to_have_rows import ExpectDayToHaveRows
from custom_expectations.expect_day_columns_to_be_kept import ExpectDayColumnsToBeKept
from custom_expectations.expect_day_rate_to_match_baseline import ExpectDayRateToMatchBaseline
from custom_expectations.expect_day_to_have_no_silence import ExpectDayToHaveNoSilence
from custom_expectations.expect_purchases_after_checkouts import ExpectPurchasesAfterCheckouts

__all__ = ["DayMetricExpectation", "DayMetricSeries", "ExpectBotShareToStayNormal", "ExpectDayColumnsToBeKept",
           "ExpectDayMetricToBeBetween", "ExpectDayMetricToMatchBaseline", "ExpectDayMixToMatchBaseline",
           "ExpectDayRateToMatchBaseline", "ExpectDayToHaveNoSilence", "ExpectDayToHaveRows",
           "ExpectPurchasesAfterCheckouts"]
