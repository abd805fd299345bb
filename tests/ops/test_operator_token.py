"""starter.py acts as the operator whose token it is given; production refuses the dev operator."""

from __future__ import annotations

import json

import pytest

from config import Settings
from starter import operator_of


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_the_token_names_the_operator() -> None:
    cfg = settings(
        bhyt_operator_tokens=json.dumps(
            {"an.nguyen": "an-token-0123456789", "binh.tran": "binh-token-0123456789"}
        )
    )
    assert operator_of(cfg, "binh-token-0123456789") == "binh.tran"
    with pytest.raises(SystemExit, match="not one of"):
        operator_of(cfg, "dev-portal-token")


def test_development_defaults_to_the_dev_operator() -> None:
    assert operator_of(settings(), None) == "dev-operator"


def test_production_refuses_the_dev_operator_token_and_a_missing_one() -> None:
    cfg = settings(
        bhyt_env="production", bhyt_operator_tokens=json.dumps({"an.nguyen": "an-token-0123456789"})
    )
    with pytest.raises(SystemExit, match="needs BHYT_OPERATOR_TOKEN"):
        operator_of(cfg, None)
    with pytest.raises(SystemExit, match="development operator"):
        operator_of(cfg, "dev-operator-token")
    assert operator_of(cfg, "an-token-0123456789") == "an.nguyen"
