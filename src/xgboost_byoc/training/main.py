"""The image's ``train`` entry point (SageMaker runs ``docker run IMAGE train``).

Only this function catches everything: on any error it writes ``/opt/ml/output/failure`` — FIRST line the
actionable message (SageMaker shows the first 1024 characters as FailureReason), then the error kind and
the traceback — logs the same, and exits non-zero. On success it writes ``/opt/ml/output/success``.
"""

from __future__ import annotations

import logging
import sys
import traceback

from xgboost_byoc.errors import XgbByocError
from xgboost_byoc.paths import Paths

log = logging.getLogger("xgboost_byoc.train")
FAILURE_REASON_LIMIT = 1024


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )


def run(paths: Paths) -> None:
    from xgboost_byoc.config import load_job_config
    from xgboost_byoc.hyperparameters import parse_hyperparameters

    job = load_job_config(paths)
    from xgboost_byoc.script_mode import program_of

    program = program_of(job.hyperparameters)
    if program is not None:  # script mode: the user's entry point, through the sagemaker-training toolkit
        from xgboost_byoc.script_mode import run_script

        run_script(paths, job, program)
        return
    hp = parse_hyperparameters(job.hyperparameters)  # every hyperparameter checked before any data is read
    from xgboost_byoc.training.algorithm import train_algorithm_mode

    outcome = train_algorithm_mode(paths, job, hp)
    log.info("model written to %s", paths.model_dir)
    log.info("metrics: %s", ", ".join(f"{k}={v}" for k, v in outcome.metrics.items() if isinstance(v, float)))


def write_failure(paths: Paths, exc: BaseException) -> int:
    if isinstance(exc, XgbByocError):
        headline, kind, code = exc.message.splitlines()[0], exc.kind, exc.exit_code
        detail = exc.detail or ""
    else:
        headline = f"internal error: {type(exc).__name__}: {exc}".splitlines()[0]
        kind, code, detail = "InternalError", 1, ""
    headline = headline[: FAILURE_REASON_LIMIT - 1]
    trace = "".join(traceback.format_exception(exc))
    body = "\n".join((headline, "", f"{kind}: {exc}", detail, trace))
    try:
        paths.output_dir.mkdir(parents=True, exist_ok=True)
        paths.failure_file.write_text(body + "\n", encoding="utf-8")
    except OSError as write_error:  # pragma: no cover - nothing else we can do but log
        log.error("cannot write %s: %s", paths.failure_file, write_error)
    log.error("%s: %s", kind, headline)
    log.debug("%s", body)
    return code


def main() -> int:
    configure_logging()
    from xgboost_byoc.training.checkpoints import install_sigterm_handler

    install_sigterm_handler()  # SageMaker stops jobs with SIGTERM; the loop checkpoints and stops cleanly
    paths = Paths.from_env()
    for stale in (paths.failure_file, paths.success_file):
        stale.unlink(missing_ok=True)
    try:
        run(paths)
    except Exception as exc:  # the one place that catches everything
        if not isinstance(exc, XgbByocError):
            log.exception("unexpected error")
        return write_failure(paths, exc)
    paths.output_dir.mkdir(parents=True, exist_ok=True)
    paths.success_file.write_text("")
    return 0


if __name__ == "__main__":
    sys.exit(main())
