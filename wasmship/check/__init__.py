"""`wasmship check URL`: after a deploy, does the site serve the dist the way it must?

`results` is the model (what was checked, what came back), `site` fetches and checks every
file, `dictionaries` checks Compression Dictionary Transport, `report` shows the results.
"""

from wasmship.check.findings import CheckReport, Result
from wasmship.check.site import cache_ok, check_site

__all__ = ["CheckReport", "Result", "cache_ok", "check_site"]
