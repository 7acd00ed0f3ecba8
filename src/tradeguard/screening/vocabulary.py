"""Words of names that are not the name: titles, particles, legal forms, generic business words.

Public conventions of how names are written on sanctions lists and in applications:
titles and honorifics are dropped; particles (al-, bin, van, de) and generic business
words stay but weigh little; legal forms are written one way (LIMITED is LTD).
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


HONORIFICS = frozenset(
    _words(
        """MR MRS MS MISS MX DR PROF SIR DAME LADY HON REV SHEIKH SHAIKH SHAYKH SHEIK HAJI HAJJI
        HAJ HADJI HAJJ MULLAH MULLA MAULANA MAULVI MAWLAWI IMAM AYATOLLAH HOJATOLESLAM GEN
        COLONEL COL CAPTAIN CAPT LIEUTENANT LT SERGEANT SGT ADMIRAL ADM BRIGADIER BRIG CMDR
        HERR FRAU MONSIEUR MADAME MME SENOR SENORA GOSPODIN SAYYID SAYYED SEYYED SEYED"""
    )
)
"""Titles dropped from a name; those that are also given names or surnames (Don, Major,
Marshal) are not here and simply weigh as the names they are."""

PARTICLES = frozenset(
    _words(
        """AL EL AS AD ASH AR AN AT AZ UL UD BIN BEN IBN BINT BENT ABU UMM OULD WALD VAN VON
        DER DEN DE DA DI DU DEL DELLA DOS DAS LA LE LO LOS LAS Y E TER TEN ST SAINT"""
    )
)

LEGAL_FORMS: dict[str, str] = {
    "LIMITED": "LTD",
    "CORPORATION": "CORP",
    "INCORPORATED": "INC",
    "COMPANY": "CO",
    "COMPANIES": "CO",
    "CIE": "CO",
    "CIA": "CO",
    "PUBLIC": "PUBLIC",
    "PLC": "PLC",
    "LLC": "LLC",
    "LLP": "LLP",
    "GMBH": "GMBH",
    "AG": "AG",
    "SA": "SA",
    "SAS": "SAS",
    "SARL": "SARL",
    "SRL": "SRL",
    "SPA": "SPA",
    "BV": "BV",
    "NV": "NV",
    "AB": "AB",
    "AS": "AS",
    "OY": "OY",
    "KG": "KG",
    "OOO": "OOO",
    "OAO": "OAO",
    "ZAO": "ZAO",
    "PAO": "PAO",
    "AO": "AO",
    "TOO": "TOO",
    "PJSC": "PJSC",
    "JSC": "JSC",
    "CJSC": "CJSC",
    "OJSC": "OJSC",
    "FZE": "FZE",
    "FZCO": "FZCO",
    "FZC": "FZC",
    "DMCC": "DMCC",
    "PTE": "PTE",
    "PTY": "PTY",
    "PVT": "PVT",
    "BHD": "BHD",
    "SDN": "SDN",
    "TBK": "TBK",
    "KK": "KK",
    "SL": "SL",
    "SE": "SE",
    "LP": "LP",
    "EST": "EST",
    "ESTABLISHMENT": "EST",
}

# Several words that together are one legal form, written as that form.
LEGAL_PHRASES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("LIMITED", "LIABILITY", "COMPANY"), "LLC"),
    (("LIMITED", "LIABILITY", "PARTNERSHIP"), "LLP"),
    (("PUBLIC", "LIMITED", "COMPANY"), "PLC"),
    (("PUBLIC", "JOINT", "STOCK", "COMPANY"), "PJSC"),
    (("CLOSED", "JOINT", "STOCK", "COMPANY"), "CJSC"),
    (("OPEN", "JOINT", "STOCK", "COMPANY"), "OJSC"),
    (("JOINT", "STOCK", "COMPANY"), "JSC"),
    (("SOCIEDAD", "ANONIMA"), "SA"),
    (("SOCIETE", "ANONYME"), "SA"),
    (("SOCIEDADE", "ANONIMA"), "SA"),
    (("PRIVATE", "LIMITED"), "PVT LTD"),
    (("PROPRIETARY", "LIMITED"), "PTY LTD"),
    (("SENDIRIAN", "BERHAD"), "SDN BHD"),
    (("OBSHCHESTVO", "S", "OGRANICHENNOY", "OTVETSTVENNOSTYU"), "OOO"),
    (("AKTSIONERNOE", "OBSHCHESTVO"), "AO"),
    (("FREE", "ZONE", "ESTABLISHMENT"), "FZE"),
    (("FREE", "ZONE", "COMPANY"), "FZCO"),
)

GENERIC_WORDS = frozenset(
    _words(
        """THE OF AND FOR & TRADING TRADE TRADERS BANK BANKING INTERNATIONAL INTL GROUP HOLDING
        HOLDINGS INDUSTRIES INDUSTRY INDUSTRIAL SERVICES SERVICE ENTERPRISES ENTERPRISE
        GENERAL COMMERCIAL SHIPPING SHIP LINES LINE INVESTMENT INVESTMENTS CAPITAL FINANCE
        FINANCIAL MANAGEMENT DEVELOPMENT TECHNOLOGY TECHNOLOGIES TECH ENGINEERING
        CONSTRUCTION ENERGY OIL GAS PETROLEUM PETROCHEMICAL CHEMICAL CHEMICALS IMPORT EXPORT
        IMPEX GLOBAL WORLDWIDE PARTNERS ASSOCIATES AGENCY FOUNDATION ORGANIZATION
        ORGANISATION INSTITUTE CENTER CENTRE NATIONAL STATE UNITED MINISTRY DEPARTMENT
        AUTHORITY OFFICE CORPS FORCE FORCES ARMY ELECTRONICS ELECTRIC LOGISTICS TRANSPORT
        SHIPPING MARINE MARITIME AVIATION AIRLINES AIR METAL METALS MINING RESOURCES SUPPLY
        SUPPLIES SOLUTIONS SYSTEMS PRODUCTS MANUFACTURING FACTORY PLANT COMMERCE EXCHANGE
        MONEY CONSULTING CONSULTANTS MEDICAL PHARMA PHARMACEUTICAL INSURANCE REALTY
        PROPERTIES ESTATE REAL NEW FIRST ASIA ASIAN EUROPE MIDDLE EAST WEST NORTH SOUTH GULF
        OCEAN SEA STAR"""
    )
) | frozenset(LEGAL_FORMS.values())
