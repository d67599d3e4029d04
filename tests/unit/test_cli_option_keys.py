"""Options JSON in camelCase or snake_case, for ``pixop process`` and ``pixop legacy process``."""

from __future__ import annotations

import argparse
import json

import pytest

from pixop_async.cli.common import CliError
from pixop_async.cli.legacy_cmd import PROCESS_OPTIONS, process_request
from pixop_async.cli.option_keys import camel, camel_keys, snake, snake_keys
from pixop_async.cli.process_cmd import parse_options
from pixop_async.errors import InvalidRequestError

CAMEL = {
    "container": "MP4",
    "encodingConfiguration": {"codec": "H264"},
    "filters": {"scaler": "DVRES2"},
    "filterSettings": {"resolution": {"tag": "2X"}},
}
SNAKE = {
    "container": "MP4",
    "encoding_configuration": {"codec": "H264"},
    "filters": {"scaler": "DVRES2"},
    "filter_settings": {"resolution": {"tag": "2X"}},
}


@pytest.mark.parametrize(
    ("given", "snake_form", "camel_form"),
    [
        ("filterSettings", "filter_settings", "filterSettings"),
        ("filter_settings", "filter_settings", "filterSettings"),
        ("startPositionMs", "start_position_ms", "startPositionMs"),
        ("tag", "tag", "tag"),
        ("mbps", "mbps", "mbps"),
    ],
)
def test_key_spellings(given: str, snake_form: str, camel_form: str) -> None:
    assert snake(given) == snake_form
    assert camel(given) == camel_form


def test_rekeying_is_deep_and_leaves_values_alone() -> None:
    data = {"a_b": [{"c_d": "e_f"}], "gH": {"iJ": "kL"}}
    assert camel_keys(data) == {"aB": [{"cD": "e_f"}], "gH": {"iJ": "kL"}}
    assert snake_keys(data) == {"a_b": [{"c_d": "e_f"}], "g_h": {"i_j": "kL"}}


def test_both_spellings_of_one_key_are_refused_naming_it() -> None:
    with pytest.raises(InvalidRequestError, match=r"options\.filter_settings.*twice"):
        camel_keys({"filterSettings": {}, "filter_settings": {}})


def test_process_options_accept_both_spellings_alike() -> None:
    assert parse_options(SNAKE) == parse_options(CAMEL)
    assert parse_options(SNAKE).to_json() == CAMEL


def test_process_option_errors_print_snake_case_for_either_spelling() -> None:
    for data in (
        {**CAMEL, "filterSettings": {"resolution": {"width": "wide"}}},
        {**SNAKE, "filter_settings": {"resolution": {"width": "wide"}}},
    ):
        with pytest.raises(InvalidRequestError) as info:
            parse_options(data)
        assert "options.filter_settings.resolution.width" in str(info.value)


def _legacy_args(options: dict[str, object]) -> argparse.Namespace:
    ns = argparse.Namespace(options=json.dumps(options))
    for name in PROCESS_OPTIONS:
        setattr(ns, f"opt_{name}", None)
    return ns


def test_legacy_process_accepts_camel_and_snake_case() -> None:
    camel_req = process_request(
        _legacy_args({"codec": "prores", "appleProresProfile": "hq", "startPositionMs": 0})
    )
    snake_req = process_request(
        _legacy_args({"codec": "prores", "apple_prores_profile": "hq", "start_position_ms": 0})
    )
    assert camel_req == snake_req


def test_legacy_unknown_option_is_named_in_snake_case() -> None:
    with pytest.raises(CliError, match="apple_prores_profil'"):
        process_request(_legacy_args({"appleProresProfil": "hq"}))
