from __future__ import annotations

from pathlib import Path

import pytest

from xgboost_byoc.errors import UserError
from xgboost_byoc.serving.server import gunicorn_options
from xgboost_byoc.serving.settings import Settings


def test_defaults_follow_sagemaker() -> None:
    settings = Settings.from_env({"SAGEMAKER_BASE_DIR": "/x"})
    assert settings.port == 8080 and settings.host == "0.0.0.0"
    assert settings.max_payload_bytes == 6 * 1024 * 1024
    assert settings.model_dir == Path("/x/model")
    assert settings.workers >= 1 and settings.threads >= 1
    assert settings.default_output is None and settings.allow_pickle is False


def test_threads_per_worker_divide_the_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: set(range(8)))
    assert Settings.from_env({"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}).threads == 4
    assert Settings.from_env({"SAGEMAKER_MODEL_SERVER_WORKERS": "16"}).threads == 1
    assert Settings.from_env({"XGB_BYOC_PREDICT_THREADS": "3"}).threads == 3


def test_the_cpus_counted_are_those_serve_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    """A container limited to two CPUs of a 16-CPU host (docker --cpuset-cpus) gets two workers, not 16."""
    monkeypatch.setattr("os.cpu_count", lambda: 16)
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {4, 9})
    settings = Settings.from_env({})
    assert (settings.workers, settings.threads) == (2, 1)


def test_every_variable_is_read() -> None:
    settings = Settings.from_env(
        {
            "SAGEMAKER_BIND_TO_PORT": "9000",
            "XGB_BYOC_BIND_HOST": "127.0.0.1",
            "SAGEMAKER_MODEL_SERVER_WORKERS": "3",
            "SAGEMAKER_MODEL_SERVER_TIMEOUT": "20",
            "SAGEMAKER_MAX_PAYLOAD_IN_MB": "50",
            "SAGEMAKER_INFERENCE_OUTPUT": "predicted_label",
            "XGB_BYOC_PREDICT_THREADS": "2",
            "XGB_BYOC_ALLOW_PICKLE": "TRUE",
        }
    )
    assert (settings.port, settings.host, settings.workers, settings.timeout) == (9000, "127.0.0.1", 3, 20)
    assert settings.max_payload_mb == 50 and settings.default_output == "predicted_label"
    assert settings.threads == 2 and settings.allow_pickle is True
    options = gunicorn_options(settings)
    assert options["bind"] == "127.0.0.1:9000" and options["workers"] == 3 and options["timeout"] == 20
    assert options["preload_app"] is False  # XGBoost must not run in the master before fork


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SAGEMAKER_BIND_TO_PORT", "http", "SAGEMAKER_BIND_TO_PORT='http' is not a whole number"),
        ("SAGEMAKER_MODEL_SERVER_WORKERS", "0", "must be >= 1"),
        ("SAGEMAKER_MAX_PAYLOAD_IN_MB", "lots", "is not a number"),
        ("SAGEMAKER_MAX_PAYLOAD_IN_MB", "500", "must be in (0, 100]"),
        ("SAGEMAKER_INFERENCE_OUTPUT", "labels", "is not one of probability"),
        ("XGB_BYOC_ALLOW_PICKLE", "maybe", "is not a boolean"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(UserError) as info:
        Settings.from_env({name: value})
    assert message in info.value.message


@pytest.mark.skipif(__import__("os").geteuid() != 0, reason="workers drop privileges only when serve runs as root")
def test_serve_user_becomes_the_workers_uid_and_gid() -> None:
    import pwd

    options = gunicorn_options(Settings.from_env({"XGB_BYOC_SERVE_USER": "nobody"}))
    account = pwd.getpwnam("nobody")
    assert (options["user"], options["group"]) == (account.pw_uid, account.pw_gid)
    assert "user" not in gunicorn_options(Settings.from_env({}))


@pytest.mark.skipif(__import__("os").geteuid() != 0, reason="workers drop privileges only when serve runs as root")
def test_unknown_serve_user_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="XGB_BYOC_SERVE_USER='no-such-user': no such user"):
        gunicorn_options(Settings.from_env({"XGB_BYOC_SERVE_USER": "no-such-user"}))


def test_worker_heartbeat_files_live_in_shared_memory_when_it_is_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xgboost_byoc.serving import server

    monkeypatch.setattr(server, "SHM", str(tmp_path))
    assert gunicorn_options(Settings.from_env({}))["worker_tmp_dir"] == str(tmp_path)
    monkeypatch.setattr(server, "SHM", str(tmp_path / "absent"))
    assert "worker_tmp_dir" not in gunicorn_options(Settings.from_env({}))  # gunicorn's default: the temp dir
