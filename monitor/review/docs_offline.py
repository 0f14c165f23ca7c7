"""Data Docs that work offline and say what they mean, by post-processing GX's pages.

Offline: every asset a page loads comes from the site folder.
GX's templates load jQuery, Bootstrap, bootstrap-table, Font Awesome and Vega
from public CDNs, and its logo from a public bucket; with no network the
index's table (built by JavaScript) stays empty. GX stays the builder: after
each build this rewrites those URLs in the pages to copies shipped with the
package (monitor/docs_assets, see its NOTICE.md), copied once into the site.

Skipped: GX knows only success or failure, so a check skipped for want of
history would wear a green tick; its row gets a grey "skipped" mark instead.
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
from pathlib import Path

ASSETS = Path(__file__).parent / "docs_assets"
VENDOR = "static/vendor"

# the URL as GX's templates write it -> the copy under static/vendor/
LOCAL = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/extensions/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/extensions/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/extensions/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper/popper.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark/bootstrap-prefers-dark.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega/vega-embed.min.js",
}
_ASSET_ATTR = re.compile(r'(?P<attr>src|href)="(?P<url>https://[^"]+)"(?P<rest>[^>]*)>')
# GX's logos live in a public bucket (in <img> and CSS backgrounds), some with the data context id
_LOGO = re.compile(r"https://great-expectations-web-assets[^\"')\s]*")
_SRI = re.compile(r'\s+(integrity|crossorigin)="[^"]*"')  # a file:// page cannot check these
_ROW = re.compile(r"<tr>.*?</tr>", re.S)
_TICK = '<i class="fas fa-check-circle text-success" ></i>'
SKIPPED_MARK = '<i class="fas fa-minus-circle text-secondary" title="skipped"></i> skipped'
_SKIPPED_TEXT = ": skipped, insufficient history"  # what custom_expectations.baseline.skipped says


def install_assets(site: Path) -> None:
    """Copy the vendored files into the site (only what is missing or differs)."""
    target = site / VENDOR
    for src in (ASSETS / "vendor").rglob("*"):
        dst = target / src.relative_to(ASSETS / "vendor")
        if src.is_file() and not (dst.exists() and filecmp.cmp(src, dst, shallow=False)):
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
    if not (site / VENDOR / "logo.svg").exists():
        shutil.copyfile(ASSETS / "logo.svg", site / VENDOR / "logo.svg")


def localise(site: Path, pages) -> int:
    """Point ``pages`` at the site's own copies; returns how many pages changed."""
    install_assets(site)
    changed = 0
    for page in pages:
        if not page.exists():
            continue
        text = page.read_text()
        prefix = os.path.relpath(site / VENDOR, page.parent)

        def local(match: re.Match) -> str:
            url = match.group("url")
            if url not in LOCAL:
                return match.group(0)
            return f'{match.group("attr")}="{prefix}/{LOCAL[url]}"{_SRI.sub("", match.group("rest"))}>'

        new = _mark_skipped(_LOGO.sub(f"{prefix}/logo.svg", _ASSET_ATTR.sub(local, text)))
        if new != text:
            page.write_text(new)
            changed += 1
    return changed


def _mark_skipped(text: str) -> str:
    if _SKIPPED_TEXT not in text:
        return text
    return _ROW.sub(lambda m: m.group(0).replace(_TICK, SKIPPED_MARK) if _SKIPPED_TEXT in m.group(0)
                    else m.group(0), text)


def all_pages(site: Path) -> list[Path]:
    """Every page, and GX's own stylesheets (not the vendored ones)."""
    return sorted(site.rglob("*.html")) + sorted((site / "static" / "styles").glob("*.css"))
