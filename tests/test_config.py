"""crawler.config: every project setting read once, typed, validated, defaults from settings.py."""

from __future__ import annotations

import dataclasses

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.config import Config, ConfigError


def _settings(**cmdline: object) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for name, value in cmdline.items():
        settings.set(name, value, "cmdline")
    return settings


def test_every_project_setting_has_a_field_and_the_same_default():
    ours = {
        name
        for name in dir(project_settings)
        if name.startswith(("CORPUS_", "CLEAN_", "ALLOW_PRIVATE_"))
    }
    assert set(Config.setting_names()) == ours
    config = Config()
    for name in ours:
        assert getattr(config, name.lower()) == getattr(project_settings, name), name


def test_the_project_settings_read_as_the_defaults():
    assert Config.from_settings(_settings()) == Config()


def test_a_crawler_without_the_project_settings_still_gets_the_defaults():
    crawler = get_crawler(settings_dict={"CLEAN_WORKERS": 2})
    config = Config.from_settings(crawler.settings)
    assert config.clean_workers == 2
    assert config.clean_min_words == project_settings.CLEAN_MIN_WORDS == 25
    assert config.corpus_skip_known is True and config.corpus_db == "corpus.db"


def test_command_line_strings_become_typed_values():
    config = Config.from_settings(
        _settings(
            CORPUS_BATCH_SIZE="50",
            CORPUS_WRITER_THREAD="False",
            CORPUS_BUSY_TIMEOUT="2.5",
            CLEAN_SITE_PROFILES="0",
            ALLOW_PRIVATE_NETWORKS="true",
            CORPUS_REDIS_URL="redis://127.0.0.1:6379/1",
        )
    )
    assert config.corpus_batch_size == 50
    assert config.corpus_writer_thread is False
    assert config.corpus_busy_timeout == 2.5
    assert config.clean_site_profiles is False
    assert config.allow_private_networks is True
    assert config.distributed


def test_a_path_is_a_path(tmp_path):
    assert Config.from_settings(_settings(CORPUS_DB=tmp_path / "c.db")).corpus_db == str(
        tmp_path / "c.db"
    )


def test_it_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().clean_min_words = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "name, value, why",
    [
        ("CLEAN_MIN_WORDS", "-1", "CLEAN_MIN_WORDS must be 0 or more"),
        ("CLEAN_MIN_WORDS", "many", "CLEAN_MIN_WORDS must be a whole number, not 'many'"),
        ("CORPUS_BATCH_SIZE", "0", "CORPUS_BATCH_SIZE must be 1 or more"),
        ("CORPUS_BUSY_TIMEOUT", "soon", "CORPUS_BUSY_TIMEOUT must be a number"),
        ("CORPUS_WRITER_THREAD", "perhaps", "CORPUS_WRITER_THREAD must be True or False"),
        ("CORPUS_REDIS_IDLE_CLOSE", "-3", "CORPUS_REDIS_IDLE_CLOSE must be 0 or more"),
        ("CORPUS_REDIS_URL", "10.0.0.5:6379", "CORPUS_REDIS_URL '10.0.0.5:6379' must start"),
        ("CORPUS_DB", 42, "CORPUS_DB must be a string, not 42"),
    ],
)
def test_a_bad_value_is_one_error_naming_the_setting(name, value, why):
    with pytest.raises(ConfigError) as exc:
        Config.from_settings(_settings(**{name: value}))
    assert str(exc.value).startswith(why)


def test_a_bad_redis_key_is_refused_only_on_a_worker():
    assert Config.from_settings(_settings(CORPUS_REDIS_KEY="50%")).corpus_redis_key == "50%"
    with pytest.raises(ConfigError, match="CORPUS_REDIS_KEY '50%' must not contain"):
        Config.from_settings(_settings(CORPUS_REDIS_URL="redis://h", CORPUS_REDIS_KEY="50%"))


@pytest.mark.e2e
def test_a_bad_setting_stops_scrapy_crawl_with_one_line(tmp_path):
    from tests.helpers import run_scrapy

    (tmp_path / "a.txt").write_text("Headline\n\nSome text.\n")
    proc = run_scrapy(
        "crawl", "files", "-a", f"path={tmp_path}", "-s", "CORPUS_BATCH_SIZE=lots", timeout=120
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "scrapy crawl files: error: CORPUS_BATCH_SIZE must be a whole number, not 'lots'"
    )
