"""The FailtrackConfig block: Prefect's standard block checks, a real save and load, the
database URL it supplies, and the script that registers it."""

from __future__ import annotations

import importlib.util
import inspect
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from prefect.blocks.core import Block
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings
from prefect.testing.standard_test_suites import BlockStandardTestSuite
from pydantic import SecretStr

import prefect_failtrack
from prefect_failtrack import ErrorType, PermanentError, RetryPolicy, classify
from prefect_failtrack import config as failtrack_config
from prefect_failtrack.blocks import FailtrackConfig, ReportThresholds, RuleSpec
from prefect_failtrack.settings import FailtrackSettings
from prefect_failtrack.store.database import resolve_database_url, url_from_block

ROOT = Path(__file__).resolve().parents[2]


class TestFailtrackConfigStandards(BlockStandardTestSuite):
    """Prefect's own checks for integration blocks (prefect/testing/standard_test_suites)."""

    @pytest.fixture
    def block(self) -> type[Block]:
        return FailtrackConfig

    def test_has_a_valid_image(self, block: type[Block]) -> None:
        # The suite's version downloads the logo (and skips without Pillow); failtrack has
        # no logo, which Prefect allows (Block._logo_url defaults to None).
        assert block._logo_url is None


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def fresh_lookups() -> None:
    failtrack_config.forget_configs()
    yield
    failtrack_config.forget_configs()


def test_the_collection_module_exposes_the_block() -> None:
    # `prefect block register -m prefect_failtrack` registers the Block classes among the
    # module's members (prefect/cli/block.py, _register_blocks_in_module).
    members = dict(inspect.getmembers(prefect_failtrack))
    assert members["FailtrackConfig"] is FailtrackConfig
    assert FailtrackConfig.get_block_type_slug() == "failtrack-config"


def test_saved_and_loaded_through_the_api() -> None:
    name = unique()
    policy = RetryPolicy.default().override(ErrorType.TRANSIENT, max_retries=5, jitter=0)
    FailtrackConfig(
        database_url="postgresql+psycopg://etl:s3cret@db/audit",
        retry_policy=policy,
        rules=[
            RuleSpec(kind="http_status", match=409, error_type="TRANSIENT"),
            RuleSpec(kind="message", match=r"quota \w+ exceeded", error_type="TRANSIENT"),
            RuleSpec(kind="type", match="builtins.LookupError", error_type="VALIDATION"),
        ],
        redaction_patterns=[r"ticket=(?P<secret>\w+)"],
        report_thresholds=ReportThresholds(failure_rate=0.1, stuck_runs=None),
        notify_block="slack-webhook/oncall",
        stuck_after_minutes=45,
    ).save(name)

    loaded = FailtrackConfig.load(name)
    assert isinstance(loaded.database_url, SecretStr)
    assert loaded.database_url.get_secret_value() == "postgresql+psycopg://etl:s3cret@db/audit"
    assert loaded.policy() == policy
    assert loaded.policy().classes[ErrorType.TRANSIENT].max_retries == 5
    assert loaded.report_thresholds == ReportThresholds(failure_rate=0.1, stuck_runs=None)
    assert (loaded.notify_block, loaded.stuck_after_minutes) == ("slack-webhook/oncall", 45)
    rules = loaded.classification_rules()
    assert classify(KeyError("x"), rules).error_type is ErrorType.VALIDATION
    assert classify(RuntimeError("quota daily exceeded"), rules).reason.startswith("config message")
    # By slug, as the report flow loads notification blocks: the class comes from the registry.
    assert type(Block.load(f"failtrack-config/{name}")) is FailtrackConfig


def test_url_from_block_reads_the_named_document(fresh_lookups: None, tmp_path: Path) -> None:
    name = unique()
    url = f"sqlite:///{tmp_path / 'from-block.db'}"
    FailtrackConfig(database_url=url).save(name)

    assert url_from_block(name) == url
    settings = FailtrackSettings(database_url=None, config_block=name, home=tmp_path)
    assert resolve_database_url(settings) == url
    # The setting still wins over the block.
    explicit = FailtrackSettings(database_url="sqlite:///explicit.db", config_block=name)
    assert resolve_database_url(explicit) == "sqlite:///explicit.db"


def test_url_from_block_is_none_quickly_and_asks_once(
    fresh_lookups: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[str] = []
    load = FailtrackConfig.load

    def counting_load(cls: type, name: str, **kwargs: object) -> FailtrackConfig:
        calls.append(name)
        return load(name, **kwargs)

    monkeypatch.setattr(FailtrackConfig, "load", classmethod(counting_load))
    missing = unique("missing")
    started = time.monotonic()
    assert url_from_block(missing) is None
    assert url_from_block(missing) is None
    assert time.monotonic() - started < 3
    assert calls == [missing]  # the answer (no document) is remembered
    settings = FailtrackSettings(database_url=None, config_block=missing, home=tmp_path)
    assert resolve_database_url(settings) == settings.default_database_url()

    FailtrackConfig(database_url="sqlite:///late.db").save(missing)
    assert url_from_block(missing) is None  # still the remembered answer...
    failtrack_config.forget_configs()
    assert url_from_block(missing) == "sqlite:///late.db"  # ...until forgotten


def test_url_from_block_never_asks_without_an_api(
    fresh_lookups: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("no API call without PREFECT_API_URL")

    monkeypatch.setattr(FailtrackConfig, "load", classmethod(refuse))
    with temporary_settings(updates={PREFECT_API_URL: None}):
        assert not get_current_settings().api.url
        assert url_from_block("default") is None


def test_url_from_block_gives_up_on_a_slow_api(
    fresh_lookups: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(*args: object, **kwargs: object) -> None:
        time.sleep(5)

    monkeypatch.setattr(FailtrackConfig, "load", classmethod(slow))
    monkeypatch.setattr(failtrack_config, "LOOKUP_TIMEOUT_S", 0.3)
    started = time.monotonic()
    assert url_from_block(unique()) is None
    assert time.monotonic() - started < 2


def test_a_broken_document_is_ignored(fresh_lookups: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Unable to load 'default' of block type 'failtrack-config'")

    monkeypatch.setattr(FailtrackConfig, "load", classmethod(broken))
    assert url_from_block(unique()) is None


def load_register_script():  # blocks/ is not a package: load the script by its path
    path = ROOT / "blocks" / "register.py"
    spec = importlib.util.spec_from_file_location("failtrack_blocks_register", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_register_script_registers_and_creates_the_default_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    register = load_register_script()
    name = unique("default")  # not "default" itself: other tests share this API
    assert register.main(["--name", name, "--notify-block", "custom-webhook/alerts"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Registered block type 'failtrack-config'.",
        f"Saved FailtrackConfig {name!r}.",
    ]
    created = FailtrackConfig.load(name)
    assert created.notify_block == "custom-webhook/alerts"
    assert created.policy() == RetryPolicy.default()

    assert register.main(["--name", name]) == 0
    assert f"FailtrackConfig {name!r} exists; kept it" in capsys.readouterr().out
    assert FailtrackConfig.load(name).notify_block == "custom-webhook/alerts"


def test_prefect_block_register_finds_the_block_through_the_package() -> None:
    env = {**os.environ, "PREFECT_API_URL": str(get_current_settings().api.url)}
    result = subprocess.run(
        [sys.executable, "-m", "prefect", "block", "register", "-m", "prefect_failtrack"],
        capture_output=True, text=True, env=env, timeout=120, cwd=ROOT, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failtrack Config" in result.stdout  # the table of registered block types


def test_rules_and_patterns_must_be_valid() -> None:
    with pytest.raises(ValueError, match="status 100-599"):
        RuleSpec(kind="http_status", match="teapot", error_type="PERMANENT")
    with pytest.raises(ValueError, match="invalid message pattern"):
        RuleSpec(kind="message", match="(unclosed", error_type="PERMANENT")
    with pytest.raises(ValueError, match="5- or 2-character"):
        RuleSpec(kind="sqlstate", match="4", error_type="PERMANENT")
    with pytest.raises(ValueError, match="invalid redaction pattern"):
        FailtrackConfig(redaction_patterns=["[a-"])
    with pytest.raises(ValueError, match="block-type-slug/name"):
        FailtrackConfig(notify_block="oncall")
    assert classify(PermanentError("x"), FailtrackConfig().classification_rules()).error_type is (
        ErrorType.PERMANENT
    )
