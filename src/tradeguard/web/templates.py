"""The one way pages are rendered: each package's templates over identity's shared layout."""

from __future__ import annotations

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

LAYOUT_PACKAGE = "tradeguard.identity"


def page_templates(*packages: str) -> Environment:
    """Templates found in each package's ``templates`` folder (the first wins), then the layout.

    Autoescaped, and a missing value is an error rather than an empty string.
    """
    names = [*packages, *(() if LAYOUT_PACKAGE in packages else (LAYOUT_PACKAGE,))]
    return Environment(
        loader=ChoiceLoader([PackageLoader(name, "templates") for name in names]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
