"""The published metadata in tap/ checked with astropy, the reference VO client library:
every UCD is a valid UCD1+ from the controlled vocabulary, every unit a valid VOUnit."""
import pathlib
import tomllib
import warnings

import pytest
from astropy import units
from astropy.io.votable import ucd as ucd_check

TAP_DIR = pathlib.Path(__file__).resolve().parents[2] / "tap"


def columns():
    for path in sorted(TAP_DIR.glob("*.toml")):
        data = tomllib.loads(path.read_text())
        for table in data.get("tables", []):
            for column in table["columns"]:
                yield f"{data['schema']['name']}.{table['name']}.{column['name']}", column


COLUMNS = list(columns())


def test_metadata_has_columns():
    assert len(COLUMNS) > 50


@pytest.mark.parametrize("name,column", COLUMNS, ids=[n for n, _ in COLUMNS])
def test_ucd_is_valid_ucd1plus(name, column):
    ucd = column.get("ucd")
    if not ucd:
        return
    # parse_ucd raises ValueError for a word outside the vocabulary or in the wrong place
    # (a secondary-only word used as primary, etc.).
    ucd_check.parse_ucd(ucd, check_controlled_vocabulary=True, has_colon=False)


@pytest.mark.parametrize("name,column", COLUMNS, ids=[n for n, _ in COLUMNS])
def test_unit_is_a_vounit(name, column):
    unit = column.get("unit")
    if not unit:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parsed = units.Unit(unit, format="vounit")
    assert parsed.to_string(format="vounit") in (unit, unit.replace("pix", "pixel"))


@pytest.mark.parametrize("name,column", COLUMNS, ids=[n for n, _ in COLUMNS])
def test_description_is_given(name, column):
    assert len(column["description"].strip()) > 5
