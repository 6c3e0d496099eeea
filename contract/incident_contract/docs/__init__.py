"""A static documentation site generated from the packaged contract.

`build_site(out_dir)` writes plain HTML with inline CSS and a few lines of inline JS: no CDN, no network,
so the pages open from ``file://``. Every word of contract comes from ``openapi.yaml``.
"""

from __future__ import annotations

from incident_contract.docs.site import build_site

__all__ = ["build_site"]
