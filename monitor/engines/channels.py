"""GA4-style traffic channels, written once and rendered as SQL for each engine.

The rules below are the only copy: `init` installs them into PostgreSQL as the
``monitor.channel_from`` / ``url_host`` / ``url_param`` functions, and the Spark
engine inlines the same expressions into its pass, so the engines cannot drift.
The regular expressions keep to the syntax PostgreSQL and Java share.
"""

from __future__ import annotations

from typing import Literal

Dialect = Literal["postgres", "spark"]

EMAIL_WORDS = r"(^|[^a-z])(e[-_ ]?mail|newsletter|mailchimp|klaviyo|sendgrid)([^a-z]|$)"
WEBMAIL_HOSTS = r"^(mail\.google\.com|outlook\.live\.com|outlook\.office\.com|mail\.yahoo\.com)$"
SEARCH_ENGINES = r"(^|\.)(google|bing|yahoo|duckduckgo|baidu|yandex|ecosia|naver|seznam|startpage|qwant)(\.|$)"
SEARCH_HOSTS = ("search.brave.com",)
SOCIAL_SITES = (r"(^|\.)(facebook|fb|instagram|ig|twitter|linkedin|lnkd|pinterest|reddit|tiktok|youtube|snapchat"
                r"|threads|quora|tumblr)(\.|$)")
SOCIAL_HOSTS = ("t.co", "x.com", "lnkd.in", "meta")
PAID_MEDIUM = r"^(.*cp.*|ppc|retargeting|paid.*)$"
EMAIL_MEDIUM = r"(^|[^a-z])e[-_ ]?mail([^a-z]|$)"
SOCIAL_MEDIUMS = ("social", "social-network", "social-media", "sm", "social network", "social media")
REFERRAL_MEDIUMS = ("referral", "app", "link")
URL_HOST = r"^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?([^/?#:]+)"
WWW = r"^www\."


def lit(value: str, dialect: Dialect) -> str:
    """A string literal; Spark SQL reads backslashes in literals as escapes."""
    if dialect == "spark":
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + value.replace("'", "''") + "'"


def _in(x: str, values: tuple[str, ...], d: Dialect) -> str:
    return f"{x} IN ({', '.join(lit(v, d) for v in values)})"


def _match(x: str, pattern: str, d: Dialect) -> str:
    return f"{x} {'RLIKE' if d == 'spark' else '~'} {lit(pattern, d)}"


def _extract(x: str, pattern: str, d: Dialect) -> str:
    """First capture group of the first match of the pattern (an SQL expression), NULL when none."""
    if d == "spark":
        return f"nullif(regexp_extract({x}, {pattern}, 1), '')"
    return f"substring({x} from {pattern})"


def url_host(u: str, d: Dialect) -> str:
    """Host of a URL, lower-case, without "www."."""
    return f"nullif(regexp_replace(lower({_extract(u, lit(URL_HOST, d), d)}), {lit(WWW, d)}, ''), '')"


def url_param(u: str, name: str, d: Dialect) -> str:
    """A query-string parameter (``name``: an SQL expression) of a URL, '+' decoded to
    space (percent-escapes kept)."""
    pattern = f"concat('[?&]', {name}, '=([^&#]*)')"
    return (f"CASE WHEN position(concat({name}, '=') IN {u}) > 0"
            f" THEN nullif(replace({_extract(u, pattern, d)}, '+', ' '), '') END")


def source_kind(x: str, d: Dialect) -> str:
    """What kind of traffic source a utm_source value or a referrer host names."""
    return (f"CASE WHEN {x} IS NULL OR {x} = '' THEN NULL"
            f" WHEN {_match(x, EMAIL_WORDS, d)} OR {_match(x, WEBMAIL_HOSTS, d)} THEN 'email'"
            f" WHEN {_match(x, SEARCH_ENGINES, d)} OR {_in(x, SEARCH_HOSTS, d)} THEN 'search'"
            f" WHEN {_match(x, SOCIAL_SITES, d)} OR {_in(x, SOCIAL_HOSTS, d)} THEN 'social' END")


def channel(src: str, med: str, ref_host: str, page_host: str, d: Dialect,
            src_kind: str | None = None, ref_kind: str | None = None) -> str:
    """The default channel of a session from its landing hit: UTM source and medium
    (lower-cased) win over the referrer; without UTM, a same-site referrer is Internal.
    ``src_kind`` / ``ref_kind`` name columns already holding source_kind of src / ref_host
    (Spark: one expression this size per row would outgrow its generated code)."""
    kinds = {src: src_kind, ref_host: ref_kind}

    def kind(x):
        return kinds.get(x) or f"({source_kind(x, d)})"

    return f"""CASE
    WHEN coalesce({src}, '') = '' AND coalesce({med}, '') = '' THEN
      CASE WHEN {ref_host} IS NULL THEN 'Direct'
           WHEN {ref_host} = {page_host} THEN 'Internal'
           WHEN {kind(ref_host)} = 'email' THEN 'Email'
           WHEN {kind(ref_host)} = 'search' THEN 'Organic Search'
           WHEN {kind(ref_host)} = 'social' THEN 'Organic Social'
           ELSE 'Referral' END
    WHEN {src} = '(direct)' AND coalesce({med}, '') IN ('', '(none)', '(not set)') THEN 'Direct'
    WHEN {_match(med, PAID_MEDIUM, d)} THEN
      CASE WHEN {kind(src)} = 'social' OR {_match(med, 'social', d)} THEN 'Paid Social'
           WHEN {kind(src)} = 'search' OR {kind(ref_host)} = 'search' THEN 'Paid Search'
           ELSE 'Paid Other' END
    WHEN {_match(med, EMAIL_MEDIUM, d)} OR {kind(src)} = 'email' THEN 'Email'
    WHEN {med} = 'organic' OR {kind(src)} = 'search' THEN 'Organic Search'
    WHEN {_in(med, SOCIAL_MEDIUMS, d)} OR {kind(src)} = 'social' THEN 'Organic Social'
    WHEN {_in(med, REFERRAL_MEDIUMS, d)} THEN 'Referral'
    ELSE 'Unassigned'
  END"""


def landing_inputs(page_url: str, utm_source: str, utm_medium: str, utm_campaign: str, referrer: str,
                   d: Dialect) -> dict[str, str]:
    """A landing's source, medium and campaign (UTM fields of the event, else those in its
    URL; lower-case) and its referrer and page hosts: what ``channel`` classifies."""
    def utm(field, name):
        return f"lower(coalesce(nullif({field}, ''), {url_param(page_url, lit(name, d), d)}))"

    return {"src": utm(utm_source, "utm_source"), "med": utm(utm_medium, "utm_medium"),
            "campaign": utm(utm_campaign, "utm_campaign"),
            "ref_host": url_host(referrer, d), "page_host": url_host(page_url, d)}


def postgres_functions() -> str:
    """The PostgreSQL functions `init` installs (one expression each, so they inline)."""
    def fn(name, args, body):
        return (f"CREATE OR REPLACE FUNCTION monitor.{name}({args}) RETURNS text\n"
                f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$\n  SELECT {body}\n$fn$;\n")

    pg: Dialect = "postgres"
    return "\n".join([
        fn("url_host", "u text", url_host("u", pg)),
        fn("url_param", "u text, name text", url_param("u", "name", pg)),
        fn("source_kind", "x text", source_kind("x", pg)),
        fn("channel_from", "src text, med text, ref_host text, page_host text",
           channel("src", "med", "ref_host", "page_host", pg)),
        fn("channel_of", "utm_source text, utm_medium text, referrer text, page_url text",
           channel("lower(btrim(utm_source))", "lower(btrim(utm_medium))", url_host("referrer", pg),
                   url_host("page_url", pg), pg)),
    ])

