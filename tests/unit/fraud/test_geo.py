"""Countries of addresses: a MaxMind-format database first, the CIDR table for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from tradeguard.core.errors import ConfigurationError
from tradeguard.fraud.geo import LOCAL_COUNTRY, UNKNOWN_COUNTRY, GeoLocator


def country_database(path: Path, database_type: str, blocks: dict[str, str]) -> Path:
    """A small GeoIP2-format database of ``blocks`` (CIDR: ISO code), written to ``path``."""
    writer = MMDBWriter(ip_version=6, database_type=database_type, ipv4_compatible=True)
    for cidr, code in blocks.items():
        writer.insert_network(IPSet([cidr]), {"country": {"iso_code": code, "names": {}}})
    writer.to_db_file(str(path))
    return path


@pytest.fixture
def database(tmp_path: Path) -> Path:
    blocks = {"203.0.113.0/24": "FR", "2001:db8:1::/48": "JP"}
    return country_database(tmp_path / "countries.mmdb", "GeoLite2-Country", blocks)


def test_locate_when_database_knows_the_address_then_its_country(database: Path) -> None:
    geo = GeoLocator.configured(["203.0.113.0/24=US"], database)
    located = geo.locate("203.0.113.9")
    assert located is not None
    assert (located.prefix, located.country) == ("203.0.113.0/24", "FR")
    v6 = geo.locate("2001:db8:1::5")
    assert v6 is not None
    assert v6.country == "JP"


def test_locate_when_database_does_not_know_then_table_then_local_or_unknown(
    database: Path,
) -> None:
    geo = GeoLocator.configured(["198.51.100.0/24=DE"], database)
    assert [geo.locate(ip).country for ip in ("198.51.100.7", "10.1.2.3", "8.8.8.8")] == [  # type: ignore[union-attr]
        "DE",
        LOCAL_COUNTRY,
        UNKNOWN_COUNTRY,
    ]


def test_locate_when_city_database_then_its_country(tmp_path: Path) -> None:
    path = country_database(tmp_path / "city.mmdb", "GeoLite2-City", {"192.0.2.0/24": "br"})
    located = GeoLocator.configured([], path).locate("192.0.2.44")
    assert located is not None
    assert located.country == "BR"


def test_configured_when_no_database_then_table_alone() -> None:
    geo = GeoLocator.configured(["203.0.113.0/24=US"], None)
    located = geo.locate("203.0.113.9")
    assert located is not None
    assert located.country == "US"


def test_configured_when_file_is_not_a_database_then_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.mmdb"
    bogus.write_bytes(b"not a database")
    with pytest.raises(ConfigurationError, match="cannot be read"):
        GeoLocator.configured([], bogus)
