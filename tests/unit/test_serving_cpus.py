"""Which CPUs each gunicorn worker is bound to (``cpu_slots``) and the hooks that bind it."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from xgboost_byoc.errors import UserError
from xgboost_byoc.serving import server
from xgboost_byoc.serving.server import SLOT, cpu_slots, gunicorn_options, pinning_hooks
from xgboost_byoc.serving.settings import Settings


@pytest.mark.parametrize(
    ("cpus", "workers", "threads", "slots"),
    [
        ([0, 1], 2, 1, [{0}, {1}]),
        ([0, 1], 1, 1, [{0}]),
        (list(range(8)), 2, 4, [{0, 1, 2, 3}, {4, 5, 6, 7}]),
        (list(range(8)), 3, 2, [{0, 1}, {2, 3}, {4, 5}]),
        ([2, 5], 2, 1, [{2}, {5}]),  # a container's cpuset: only the CPUs the server may use
        ([0, 1], 3, 1, []),  # more workers than CPUs: two on one core could not move to an idle one
        ([0, 1, 2, 3], 2, 3, []),
    ],
)
def test_each_worker_gets_cpus_of_its_own_when_they_fit(
    cpus: list[int], workers: int, threads: int, slots: list[set[int]]
) -> None:
    assert cpu_slots(cpus, workers, threads, None) == slots
    assert cpu_slots(cpus, workers, threads, False) == []


def test_pinning_asked_for_but_not_fitting_is_refused_at_start_up() -> None:
    assert cpu_slots([0, 1], 2, 1, True) == [{0}, {1}]
    with pytest.raises(UserError, match=r"XGB_BYOC_PIN_WORKERS=true needs workers x threads <= CPUs, but 2 x 2 > 2"):
        cpu_slots([0, 1], 2, 2, True)


@pytest.mark.parametrize(("raw", "value"), [("", None), ("auto", None), ("false", False), ("0", False), ("TRUE", True)])
def test_pin_workers_setting(raw: str, value: bool | None) -> None:
    assert Settings.from_env({"XGB_BYOC_PIN_WORKERS": raw}).pin_workers is value


def test_a_bad_pin_workers_value_names_the_choices() -> None:
    with pytest.raises(UserError, match=r"XGB_BYOC_PIN_WORKERS='sometimes' is not one of auto, true, false"):
        Settings.from_env({"XGB_BYOC_PIN_WORKERS": "sometimes"})


def test_the_hooks_are_gunicorn_options_only_when_workers_are_bound() -> None:
    settings = Settings.from_env({})
    assert "pre_fork" not in gunicorn_options(settings)
    options = gunicorn_options(settings, [frozenset({0})])
    assert callable(options["pre_fork"]) and callable(options["post_fork"])


def arbiter(*slots: int | None) -> SimpleNamespace:
    return SimpleNamespace(WORKERS={100 + i: SimpleNamespace(**{SLOT: s}) for i, s in enumerate(slots)})


def test_a_new_worker_takes_the_lowest_slot_no_live_worker_holds() -> None:
    hooks = pinning_hooks([frozenset({0}), frozenset({1}), frozenset({2})])
    for live, expected in [((), 0), ((0,), 1), ((0, 1), 2), ((1, 2), 0), ((0, 2), 1), ((0, 1, 2), None)]:
        worker = SimpleNamespace()
        hooks["pre_fork"](arbiter(*live), worker)
        assert getattr(worker, SLOT) == expected, live


def test_post_fork_binds_the_worker_to_its_slots_cpus(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    calls: list[tuple[int, frozenset[int]]] = []
    monkeypatch.setattr(server.os, "sched_setaffinity", lambda pid, cpus: calls.append((pid, cpus)))
    hooks = pinning_hooks([frozenset({0}), frozenset({2, 3})])
    with caplog.at_level(logging.INFO, logger="xgboost_byoc.serve"):
        hooks["post_fork"](arbiter(), SimpleNamespace(**{SLOT: 1}))
        hooks["post_fork"](arbiter(), SimpleNamespace(**{SLOT: None}))
    assert calls == [(0, frozenset({2, 3}))]
    assert "bound to CPU 2,3" in caplog.text and "no CPU slot free, not bound" in caplog.text


def test_a_worker_that_cannot_be_bound_still_serves(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    def refuse(pid: int, cpus: frozenset[int]) -> None:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(server.os, "sched_setaffinity", refuse)
    with caplog.at_level(logging.WARNING, logger="xgboost_byoc.serve"):
        pinning_hooks([frozenset({7})])["post_fork"](arbiter(), SimpleNamespace(**{SLOT: 0}))
    assert "cannot bind to CPU 7" in caplog.text and "not bound" in caplog.text
