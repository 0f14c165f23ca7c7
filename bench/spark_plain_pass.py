"""The Spark engine's yardstick (issue 26): spark_plain_pass.sql over one day's Parquet
folder, as a Spark user would run it by hand. Imported by spark_bench.py (the pass in the
bench's JVM) and run as its own process (python bench/spark_plain_pass.py FOLDER DAY),
starting its own JVM, against `runner.py run --engine spark`.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from string import Template

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from monitor import settings  # noqa: E402


def plain_pass(spark, folder: Path, day: dt.date, s: settings.Settings) -> dict[tuple[str, str], float]:
    """The plain pass's (metric, dimension) -> value; its cached table dropped after."""
    lit = "'{}'".format
    ev = s.events
    statements = Template((HERE / "spark_plain_pass.sql").read_text()).substitute(
        path=str(folder), day=lit(day.isoformat()), known="array(" + ", ".join(lit(n) for n in ev.known) + ")",
        ev_page_view=lit(ev.page_view), ev_add_to_cart=lit(ev.add_to_cart), ev_checkout=lit(ev.checkout),
        ev_purchase=lit(ev.purchase)).split(";\n")
    try:
        for statement in statements[:-1]:
            spark.sql(statement)
        return {(r.metric, r.dimension): r.value for r in spark.sql(statements[-1]).collect()}
    finally:
        spark.sql("UNCACHE TABLE IF EXISTS e")
        spark.catalog.dropTempView("e")


def main() -> None:
    from pyspark.sql import SparkSession

    folder, day = Path(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
    memory = sys.argv[3] if len(sys.argv) > 3 else "4g"
    # the engine's own local-mode settings (a few shuffle partitions on a small machine): a strict yardstick
    spark = (SparkSession.builder.master("local[*]").appName("plain-pass").config("spark.driver.memory", memory)
             .config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
             .config("spark.sql.ansi.enabled", "false")
             .config("spark.sql.shuffle.partitions", str(2 * (os.cpu_count() or 2))).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        print(len(plain_pass(spark, folder, day, settings.load())), "metrics")
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
