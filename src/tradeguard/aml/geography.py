"""FATF's lists of high-risk jurisdictions, as published after its plenary of October 2025.

"High-risk jurisdictions subject to a call for action" (the black list) and
"jurisdictions under increased monitoring" (the grey list), as ISO 3166 alpha-2 codes.
Both are defaults: ``MonitorParameters.geography`` replaces them when FATF publishes new lists.
"""

from __future__ import annotations

FATF_LISTS_AS_OF = "2025-10-24"
"""The plenary whose outcome the default lists follow."""

CALL_FOR_ACTION = frozenset({"KP", "IR", "MM"})
"""Democratic People's Republic of Korea, Iran, Myanmar."""

INCREASED_MONITORING = frozenset(
    {
        "DZ",  # Algeria
        "AO",  # Angola
        "BO",  # Bolivia
        "BG",  # Bulgaria
        "CM",  # Cameroon
        "CI",  # Côte d'Ivoire
        "CD",  # Democratic Republic of the Congo
        "HT",  # Haiti
        "KE",  # Kenya
        "LA",  # Lao People's Democratic Republic
        "LB",  # Lebanon
        "MC",  # Monaco
        "NA",  # Namibia
        "NP",  # Nepal
        "SS",  # South Sudan
        "SY",  # Syria
        "VE",  # Venezuela
        "VN",  # Vietnam
        "VG",  # Virgin Islands (UK)
        "YE",  # Yemen
    }
)
