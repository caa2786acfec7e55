"""The image's ``serve`` entry point: gunicorn workers running the Flask app.

Start-up order, and why:
1. settings are read and the model directory is checked in the gunicorn master (which file, manifest,
   pickle policy) without running any XGBoost code, so a missing or refused model stops ``serve`` at once
   with a clear message (exit 1);
2. the heavy libraries are imported in the master, so the workers share those pages copy-on-write;
3. each worker is bound to CPUs of its own when they fit (``cpu_slots``), then loads the model itself.
   Any XGBoost call in the master (even loading a model) starts libgomp's thread pool, and a process
   forked after that hangs on its first multi-threaded predict.
   A model that fails to load stops the worker before it serves anything, and gunicorn then shuts the
   whole server down (exit 3): /ping never answers for a server that cannot predict.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from xgboost_byoc.errors import UserError, XgbByocError
from xgboost_byoc.serving.settings import allowed_cpus

log = logging.getLogger("xgboost_byoc.serve")
WORKER_BOOT_ERROR = 3  # gunicorn halts the server when a worker exits with this code
SHM = "/dev/shm"
SLOT = "xgb_byoc_cpu_slot"  # the attribute of a gunicorn worker naming its slot in cpu_slots()


def cpu_slots(cpus: Sequence[int], workers: int, threads: int, pin: bool | None) -> list[frozenset[int]]:
    """The CPUs of each worker slot: ``threads`` CPUs each, no CPU in two slots; [] to leave placement to
    the kernel. Why: a request's threads (pyarrow's CSV reader hands its work between threads) that wait
    for a wake-up on another core, and a worker whose model leaves its core's cache, cost 0.13-0.25 ms per
    1000-row request in paired runs (bench/serve.py). Only when the slots fit: two workers pinned to one
    core could not move to an idle one.
    """
    if pin is False:
        return []
    if workers * threads > len(cpus):
        if pin:
            raise UserError(
                f"XGB_BYOC_PIN_WORKERS=true needs workers x threads <= CPUs, but {workers} x {threads} > "
                f"{len(cpus)}; lower SAGEMAKER_MODEL_SERVER_WORKERS or XGB_BYOC_PREDICT_THREADS, or unset it"
            )
        return []
    return [frozenset(cpus[k * threads : (k + 1) * threads]) for k in range(workers)]


def pinning_hooks(slots: Sequence[frozenset[int]]) -> dict[str, Callable[[Any, Any], None]]:
    """gunicorn's pre_fork (in the master: the new worker takes the lowest slot no live worker holds, so a
    restarted worker gets its predecessor's CPUs) and post_fork (in the worker, before the model loads)."""

    def pre_fork(arbiter: Any, worker: Any) -> None:
        taken = {getattr(w, SLOT, None) for w in arbiter.WORKERS.values()}
        setattr(worker, SLOT, next((k for k in range(len(slots)) if k not in taken), None))

    def post_fork(arbiter: Any, worker: Any) -> None:
        slot = getattr(worker, SLOT, None)
        # more workers than slots (gunicorn's TTIN signal adds one; a HUP reload starts the new workers
        # before the old ones stop): this one is left to the kernel
        if slot is None:
            log.info("worker %d: no CPU slot free, not bound", os.getpid())
            return
        try:
            os.sched_setaffinity(0, slots[slot])
        except OSError as exc:  # the CPUs allowed changed since start-up
            log.warning("worker %d: cannot bind to CPU %s (%s); not bound", os.getpid(), _cpu_list(slots[slot]), exc)
            return
        log.info("worker %d bound to CPU %s", os.getpid(), _cpu_list(slots[slot]))

    return {"pre_fork": pre_fork, "post_fork": post_fork}


def _cpu_list(cpus: frozenset[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


def gunicorn_options(settings: Any, slots: Sequence[frozenset[int]] = ()) -> dict[str, Any]:
    options: dict[str, Any] = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": settings.workers,
        "worker_class": "sync",
        "timeout": settings.timeout,
        "graceful_timeout": 10,
        "preload_app": False,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "xgboost-byoc-serve",
        "control_socket_disable": True,  # gunicorn >= 25.1 opens a control socket in $HOME otherwise
    }
    # Each worker touches a heartbeat file several times per request; in a container /tmp is the image's
    # overlay filesystem, where that metadata write can stall a worker (gunicorn's docs advise /dev/shm).
    if os.path.isdir(SHM) and os.access(SHM, os.W_OK):
        options["worker_tmp_dir"] = SHM
    if slots:
        options.update(pinning_hooks(slots))
    if settings.serve_user and os.geteuid() == 0:  # workers drop root; the master keeps the port
        import pwd

        try:
            account = pwd.getpwnam(settings.serve_user)
        except KeyError:
            raise UserError(f"XGB_BYOC_SERVE_USER={settings.serve_user!r}: no such user") from None
        options["user"] = account.pw_uid
        options["group"] = account.pw_gid
    return options


def load_worker_model(settings: Any) -> tuple[Any, Any, Any]:
    """(predictor or None, the model's inference.py hooks or None, what predict_fn receives)."""
    import xgboost as xgb

    from xgboost_byoc.serving.handlers import load_handlers
    from xgboost_byoc.serving.predictor import Predictor, bare_model, load_predictor

    handlers = load_handlers(settings.model_dir)
    if handlers is not None and handlers.model_fn is not None:
        model = handlers.model_fn(str(settings.model_dir))
        if isinstance(model, xgb.Booster):
            return Predictor(bare_model(model), threads=settings.threads), handlers, model
        if handlers.predict_fn is None:
            raise UserError(f"model_fn returned a {type(model).__name__}, not an XGBoost Booster: define predict_fn")
        return None, handlers, model
    predictor = load_predictor(settings.model_dir, threads=settings.threads, allow_pickle=settings.allow_pickle)
    log.info(
        "worker ready: %s, %d features, %d booster(s)",
        predictor.objective,
        predictor.n_features,
        len(predictor.model.boosters),
    )
    boosters = predictor.model.boosters
    return predictor, handlers, boosters[0] if len(boosters) == 1 else predictor.model


def main() -> int:
    from gunicorn.app.base import BaseApplication
    from gunicorn.errors import HaltServer

    from xgboost_byoc.serving.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        settings = Settings.from_env()
        from xgboost_byoc.serving.handlers import handlers_file
        from xgboost_byoc.serving.predictor import locate_model

        hooks = handlers_file(settings.model_dir)
        source = None if hooks else locate_model(settings.model_dir, allow_pickle=settings.allow_pickle)
        cpus = allowed_cpus()
        slots = cpu_slots(cpus, settings.workers, settings.threads, settings.pin_workers)
        options = gunicorn_options(settings, slots)
    except XgbByocError as exc:
        log.error("cannot start: %s", exc.message)
        return 1
    import xgboost  # noqa: F401 - imported once here, shared by the workers; no XGBoost work before fork

    from xgboost_byoc.serving.app import create_app

    what = f"{source.path} ({source.kind})" if source else f"{hooks} (the model's own inference.py)"
    if slots:
        placement = "each bound to CPUs of its own"
    elif settings.pin_workers is False:
        placement = "not bound to CPUs (XGB_BYOC_PIN_WORKERS=false)"
    else:
        placement = f"not bound to CPUs (they need more than the {len(cpus)} this process may use)"
    log.info(
        "serving %s on %s:%d with %d worker(s) x %d XGBoost thread(s), %s, max payload %g MB",
        what,
        settings.host,
        settings.port,
        settings.workers,
        settings.threads,
        placement,
        settings.max_payload_mb,
    )

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # options newer than the installed gunicorn are skipped
                    self.cfg.set(key, value)

        def load(self) -> Any:  # in each worker, after the fork
            try:
                predictor, handlers, model = load_worker_model(settings)
            except XgbByocError as exc:
                log.error("cannot start: %s", exc.message)
                raise SystemExit(WORKER_BOOT_ERROR) from None
            return create_app(predictor, settings, handlers, model)

    try:
        Server().run()
    except HaltServer as exc:  # gunicorn re-raises it when a second worker fails to boot while halting
        log.error("stopped: %s", exc.reason)
        return int(exc.exit_status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
