"""The image's ``serve`` entry point: gunicorn workers running the Flask app.

Start-up order, and why:
1. settings are read and the model directory is checked in the gunicorn master (which file, manifest,
   pickle policy) without running any XGBoost code, so a missing or refused model stops ``serve`` at once
   with a clear message (exit 1);
2. the heavy libraries are imported in the master, so the workers share those pages copy-on-write;
3. each worker loads the model itself. Any XGBoost call in the master (even loading a model) starts
   libgomp's thread pool, and a process forked after that hangs on its first multi-threaded predict.
   A model that fails to load stops the worker before it serves anything, and gunicorn then shuts the
   whole server down (exit 3): /ping never answers for a server that cannot predict.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from xgboost_byoc.errors import UserError, XgbByocError

log = logging.getLogger("xgboost_byoc.serve")
WORKER_BOOT_ERROR = 3  # gunicorn halts the server when a worker exits with this code
SHM = "/dev/shm"


def gunicorn_options(settings: Any) -> dict[str, Any]:
    options = {
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
        options = gunicorn_options(settings)
    except XgbByocError as exc:
        log.error("cannot start: %s", exc.message)
        return 1
    import xgboost  # noqa: F401 - imported once here, shared by the workers; no XGBoost work before fork

    from xgboost_byoc.serving.app import create_app

    what = f"{source.path} ({source.kind})" if source else f"{hooks} (the model's own inference.py)"
    log.info(
        "serving %s on %s:%d with %d worker(s) x %d XGBoost thread(s), max payload %g MB",
        what,
        settings.host,
        settings.port,
        settings.workers,
        settings.threads,
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
