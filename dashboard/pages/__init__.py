"""The pages, one module each. Importing this package imports every module in it, which registers each page and
its header link (`@protected_page` / `@public_page` in `dashboard.components.shell`): a new page is one file here."""

from __future__ import annotations

import importlib
import pkgutil

for _page in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_page.name}")
