"""Algorithm mode ("built-in style"): hyperparameters + channels → model, metrics, OOF predictions.

Order of work: hyperparameters are validated (by the caller) before any data is read; then the channels
are read and checked; then k-fold cross-validation (when ``kfold`` >= 2) chooses the round count and
yields out-of-fold predictions; then the final model is trained (``refit``) or the fold models are kept
(``ensemble``); last, artifacts, ``metrics.json`` and ``oof_predictions.csv`` are written.

Log lines follow ``metrics.py``: the LAST line printed for every metric carries the value of the model
that is saved.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xgboost_byoc import __version__
from xgboost_byoc.artifacts import (
    margin_booster,
    margin_dmatrix,
    save_model,
    transform_margin,
    write_atomic,
    write_json,
)
from xgboost_byoc.config import JobConfig
from xgboost_byoc.data import Dataset, check_labels, read_channel
from xgboost_byoc.errors import AlgorithmError, UserError
from xgboost_byoc.evaluation import best_threshold, scores_at
from xgboost_byoc.hyperparameters import Hyperparameters, validate_against_channels
from xgboost_byoc.metrics import CV_PREFIX, STD_SUFFIX, format_eval_line, metric_name, parse_xgboost_eval
from xgboost_byoc.paths import METRICS_FILE, OOF_FILE, REPORT_FILE, Paths
from xgboost_byoc.training.checkpoints import Checkpointer, fingerprint
from xgboost_byoc.training.cv import CVResult, run_cv
from xgboost_byoc.training.distributed import Cluster, Placement, describe_rows, tree_method_ok
from xgboost_byoc.training.fit import Member, boost

if TYPE_CHECKING:
    import xgboost as xgb

log = logging.getLogger(__name__)
KNOWN_CHANNELS = ("train", "validation")
SHAP_ROWS = 300  # mean |SHAP| per feature in the report is estimated on this many evaluation rows


def emit(line: str) -> None:
    """Evaluation lines go to stdout, unbuffered, exactly as formatted (SageMaker's regexes read them)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@dataclass
class Outcome:
    metrics: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float]] = field(default_factory=dict)  # the final model's per-round scores
    boosters: list[Any] = field(default_factory=list)
    valid_prediction: np.ndarray | None = None  # the saved model on the validation channel
    oof_prediction: np.ndarray | None = None  # out-of-fold predictions (k-fold), averaged over repeats
    train_prediction: np.ndarray | None = None  # the saved model on the train channel (no held-out data)


def train_algorithm_mode(paths: Paths, job: JobConfig, hp: Hyperparameters) -> Outcome:
    started = time.perf_counter()
    validate_against_channels(hp, job.channels)
    for name in job.channels:
        if name not in KNOWN_CHANNELS:
            log.warning("channel %r is not used in algorithm mode (only train and validation are)", name)
    cluster = Cluster.from_config(job.resources)
    if cluster.distributed:
        tree_method_ok(hp.booster_params())
    train = _read(paths, job, hp, "train")
    valid = _read(paths, job, hp, "validation") if "validation" in job.channels else None
    checkpoint_dir = job.checkpoint.local_path if job.checkpoint is not None else None
    if checkpoint_dir is not None:
        log.info("checkpoints every %d rounds (and on SIGTERM) in %s", hp["checkpoint_interval"], checkpoint_dir)
    hosts = None
    if cluster.distributed:
        train, train_index = cluster.local_rows(train, job.channels["train"])
        parts = {"train": (train_index, job.channels["train"].distribution == "ShardedByS3Key")}
        if valid is not None:
            valid, valid_index = cluster.local_rows(valid, job.channels["validation"])
            parts["validation"] = (valid_index, job.channels["validation"].distribution == "ShardedByS3Key")
        hosts = Hosts(cluster, parts)
    return train_datasets(
        hp,
        train,
        valid,
        model_dir=paths.model_dir,
        output_data_dir=paths.output_data_dir,
        started=started,
        checkpoint_dir=checkpoint_dir,
        hosts=hosts,
    )


@dataclass
class Hosts:
    """A distributed job: the cluster and, per channel, this host's row indices (and whether sharded)."""

    cluster: Cluster
    parts: dict[str, tuple[np.ndarray, bool]]
    placements: dict[str, Placement] = field(default_factory=dict)

    def place(self) -> None:
        """Collective: rows per host of every channel (fails everywhere when a host has none)."""
        for channel, (index, sharded) in self.parts.items():
            self.placements[channel] = Placement.of(self.cluster, channel, index, sharded)
            log.info(
                "%s rows per host: %s",
                channel,
                describe_rows(self.cluster.hosts, self.placements[channel].per_host),
            )


def train_datasets(
    hp: Hyperparameters,
    train: Dataset,
    valid: Dataset | None,
    *,
    model_dir: Path,
    output_data_dir: Path,
    started: float | None = None,
    checkpoint_dir: Path | None = None,
    hosts: Hosts | None = None,
) -> Outcome:
    """The algorithm-mode pipeline on data already read: k-fold CV, final model, artifacts, metrics.

    Writes the model and manifest to ``model_dir`` and ``oof_predictions.csv`` / ``metrics.json`` to
    ``output_data_dir``. Script-mode users reach it through ``xgboost_byoc.scripting.train``.
    ``train_seconds`` in the metrics counts from ``started`` (default: now).
    """
    started = time.perf_counter() if started is None else started
    if valid is not None:
        _match_features(train, valid)
    try:
        import xgboost as xgb
    except ImportError as exc:  # pragma: no cover - broken image
        raise AlgorithmError(f"xgboost cannot be imported: {exc}") from exc

    params = hp.booster_params()
    monitor = hp.eval_metrics[-1]
    patience = hp["early_stopping_rounds"]
    cv: CVResult | None = None
    communicator = hosts.cluster.communicator() if hosts is not None else contextlib.nullcontext()
    try:
        with communicator:
            if hosts is not None:
                hosts.place()
            if hp.kfold:
                stratify = bool(hp["kfold_stratified"]) and hp.is_classification
                cv = run_cv(
                    train,
                    params,
                    k=hp.kfold,
                    repeats=int(hp["kfold_repeats"]),
                    seed=hp.kfold_seed,
                    stratify=stratify,
                    num_round=int(hp["num_round"]),
                    patience=patience,
                    monitor_metric=monitor,
                    emit=emit,
                    checkpoint_dir=checkpoint_dir,
                    checkpoint_interval=int(hp["checkpoint_interval"]),
                )
                log.info(
                    "cross-validation chose %d rounds (best iteration %d of %d run)",
                    cv.best_iteration + 1,
                    cv.best_iteration,
                    cv.rounds_run,
                )
            trained = _train_final(
                xgb,
                hp,
                params=params,
                train=train,
                valid=valid,
                cv=cv,
                checkpoint=_final_checkpoint(hp, params, train, checkpoint_dir),
                monitor=monitor,
                patience=patience,
            )
            # held-out predictions, made once: the threshold and the report both read them
            trained.valid_prediction = _predict(params, trained.boosters, valid) if valid is not None else None
            if valid is None and cv is None:  # the report's last resort: the training rows themselves
                trained.train_prediction = _predict(params, trained.boosters, train)
            if hosts is not None:
                train, valid, cv = _gather(hosts, train, valid, cv, trained)
    except xgb.core.XGBoostError as exc:
        first = str(exc).splitlines()[0]
        raise AlgorithmError(f"XGBoost failed: {first}", detail=str(exc)) from exc
    if hosts is not None and not hosts.cluster.is_master:
        log.info("host %s is done; the first host (%s) writes the model", hosts.cluster.current, hosts.cluster.master)
        return Outcome(metrics=trained.metrics, boosters=trained.boosters)
    outcome = _finish(model_dir, output_data_dir, hp, params=params, train=train, valid=valid, cv=cv, trained=trained)
    if hosts is not None:
        outcome.metrics["rows_per_host"] = {
            channel: dict(zip(hosts.cluster.hosts, (int(n) for n in placement.per_host), strict=True))
            for channel, placement in hosts.placements.items()
        }
    _write_report(hp, train, valid, cv, outcome, output_data_dir / REPORT_FILE, started)
    outcome.metrics["train_seconds"] = round(time.perf_counter() - started, 3)
    write_json(output_data_dir / METRICS_FILE, outcome.metrics)
    return outcome


def _gather(
    hosts: Hosts, train: Dataset, valid: Dataset | None, cv: CVResult | None, trained: Trained
) -> tuple[Dataset, Dataset | None, CVResult | None]:
    """Collective: every host's labels, weights and held-out predictions, in channel row order."""
    cluster, place = hosts.cluster, hosts.placements
    where = place["train"]
    if cv is not None:
        cv = dataclasses.replace(
            cv,
            oof_margin=where_gather(cluster, where, cv.oof_margin, axis=1).astype(np.float32),
            fold_ids=[where_gather(cluster, where, ids).astype(np.int32) for ids in cv.fold_ids],
        )
    # predictions travel as float64 and come back as the float32 XGBoost made (losslessly), so a
    # threshold chosen on them is a float32 value, as on one host
    if trained.train_prediction is not None:
        trained.train_prediction = where_gather(cluster, where, trained.train_prediction).astype(np.float32)
    gathered_train = where.gather_dataset(cluster, train)
    gathered_valid = None
    if valid is not None:
        gathered_valid = place["validation"].gather_dataset(cluster, valid)
        assert trained.valid_prediction is not None
        trained.valid_prediction = where_gather(cluster, place["validation"], trained.valid_prediction).astype(
            np.float32
        )
    return gathered_train, gathered_valid, cv


def where_gather(cluster: Cluster, placement: Placement, local: np.ndarray, axis: int = 0) -> np.ndarray:
    return cluster.gather(local, placement.index, placement.total, axis=axis)


def _read(paths: Paths, job: JobConfig, hp: Hyperparameters, name: str) -> Dataset:
    started = time.perf_counter()
    data = read_channel(
        job.channels[name],
        paths.channel_dir(name),
        csv_header=str(hp["csv_header"]),
        weights=bool(hp["csv_weights"]),
    )
    check_labels(data, hp.objective, hp["num_class"], channel=name)
    log.info(
        "channel %s: %d rows x %d features from %d file(s) in %.2f s",
        name,
        data.n_rows,
        data.n_features,
        len(data.files),
        time.perf_counter() - started,
    )
    return data


def _match_features(train: Dataset, valid: Dataset) -> None:
    if train.n_features == valid.n_features:
        return
    if hasattr(train.X, "tocsr"):  # libsvm: a narrower file simply has no rows using the last columns
        import scipy.sparse as sp

        width = max(train.n_features, valid.n_features)
        train.X = sp.csr_matrix(train.X, shape=(train.n_rows, width))
        valid.X = sp.csr_matrix(valid.X, shape=(valid.n_rows, width))
        return
    raise UserError(
        f"the validation channel has {valid.n_features} features but train has {train.n_features}; "
        "both need the same columns (label first)"
    )


def _final_checkpoint(
    hp: Hyperparameters, params: dict[str, Any], train: Dataset, directory: Path | None
) -> Checkpointer | None:
    if directory is None:
        return None
    facts = {
        "phase": "final",
        "params": params,
        "hyperparameters": hp.as_record(),
        "rows": train.n_rows,
        "features": train.n_features,
    }
    return Checkpointer(directory, "final", fingerprint(**facts), int(hp["checkpoint_interval"]))


def _dmatrix(xgb: Any, data: Dataset, params: dict[str, Any]) -> xgb.DMatrix:
    return xgb.DMatrix(data.X, label=data.y, weight=data.weights, nthread=params.get("nthread", -1))


@dataclass
class Trained:
    """The final model(s) and XGBoost's own scores of them; held-out predictions added after."""

    boosters: list[Any]
    best: int
    final: dict[str, float]
    history: dict[str, list[float]]
    metrics: dict[str, Any]
    valid_prediction: np.ndarray | None = None
    train_prediction: np.ndarray | None = None


def _train_final(
    xgb: Any,
    hp: Hyperparameters,
    *,
    params: dict[str, Any],
    train: Dataset,
    valid: Dataset | None,
    cv: CVResult | None,
    monitor: str,
    patience: int | None,
    checkpoint: Checkpointer | None = None,
) -> Trained:
    """The model that is saved: refit or ensemble after k-fold, else one model (early-stopped on validation)."""
    dtrain = _dmatrix(xgb, train, params)
    dvalid = _dmatrix(xgb, valid, params) if valid is not None else None
    evals = [(dtrain, "train")] + ([(dvalid, "validation")] if dvalid is not None else [])
    if cv is not None and hp["kfold_model"] == "ensemble":
        boosters = cv.boosters
        best = cv.best_iteration
        final = _ensemble_scores(params, boosters, evals)
        emit(format_eval_line(best, final.items()))
        history: dict[str, list[float]] = {}
    elif cv is not None:  # refit on every training row for the CV-chosen number of rounds
        member = Member(dtrain, evals, params)
        result = boost(
            [member],
            cv.best_iteration + 1,
            on_round=lambda i, s: emit(format_eval_line(i, s[0].items())),
            checkpoint=checkpoint,
        )
        boosters, best = [member.booster], cv.best_iteration
        final = result.at(best)[0]
        history = result.history[0]
    else:
        member = Member(dtrain, evals, params)
        stop_on = metric_name("validation", monitor) if dvalid is not None and patience else None
        result = boost(
            [member],
            int(hp["num_round"]),
            monitor=stop_on,
            patience=patience,
            on_round=lambda i, s: emit(format_eval_line(i, s[0].items())),
            checkpoint=checkpoint,
        )
        best = result.best_iteration
        boosters = [member.booster[: best + 1]]
        final = result.at(best)[0]
        history = result.history[0]
        if best + 1 < result.rounds_run:
            log.info("early stopping: keeping %d of %d rounds (best %s)", best + 1, result.rounds_run, stop_on)
            emit(format_eval_line(best, final.items()))  # the saved model's values come last
    metrics: dict[str, Any] = {**final, "best_iteration": best, "num_round_used": best + 1}
    return Trained(boosters=list(boosters), best=best, final=final, history=history, metrics=metrics)


def _finish(
    model_dir: Path,
    output_data_dir: Path,
    hp: Hyperparameters,
    *,
    params: dict[str, Any],
    train: Dataset,
    valid: Dataset | None,
    cv: CVResult | None,
    trained: Trained,
) -> Outcome:
    """Threshold, CV metrics, OOF file, manifest and model: from labels and held-out predictions only."""
    metrics = dict(trained.metrics)
    if cv is not None:
        metrics.update(_cv_metrics(cv))
        _write_oof(output_data_dir / OOF_FILE, train, cv, hp)
    valid_prob = trained.valid_prediction
    oof_prob = _oof_probabilities(params, cv) if cv is not None else None
    threshold = _threshold(hp, train=train, valid=valid, valid_prob=valid_prob, oof_prob=oof_prob, metrics=metrics)
    manifest = _manifest(hp, params=params, train=train, cv=cv, best=trained.best, threshold=threshold)
    save_model(model_dir, trained.boosters, manifest)
    return Outcome(
        metrics=metrics,
        manifest=manifest,
        history=trained.history,
        boosters=trained.boosters,
        valid_prediction=valid_prob,
        oof_prediction=oof_prob,
        train_prediction=trained.train_prediction,
    )


def _write_report(
    hp: Hyperparameters,
    train: Dataset,
    valid: Dataset | None,
    cv: CVResult | None,
    outcome: Outcome,
    path: Path,
    started: float,
) -> None:
    """report.html beside metrics.json; its headline numbers go into the metrics too. A report that
    cannot be made is logged as a warning and noted in the metrics, never a failed job."""
    begun = time.perf_counter()
    try:
        from xgboost_byoc import report

        params = hp.booster_params()
        if valid is not None and outcome.valid_prediction is not None:
            y, prediction = valid.y, outcome.valid_prediction
            where, prefix, sample = "the validation channel", "validation", valid.X
        elif outcome.oof_prediction is not None:
            y, prediction = train.y, outcome.oof_prediction
            where, prefix, sample = "out-of-fold predictions on the train channel", "cv", train.X
        else:
            fitted = outcome.train_prediction
            y, prediction = train.y, fitted if fitted is not None else _predict(params, outcome.boosters, train)
            where, prefix, sample = "the training rows themselves (no held-out data: optimistic)", "train", train.X
        if hp.objective == "binary:logitraw":
            prediction = transform_margin({"objective": "binary:logistic"}, prediction)
        rows = sample.shape[0]
        shap_rows = (
            sample[np.random.default_rng(0).choice(rows, SHAP_ROWS, replace=False)] if rows > SHAP_ROWS else sample
        )
        threshold = (outcome.manifest.get("threshold") or {}).get("value", 0.5)
        inputs = report.ReportInputs(
            title=f"xgboost-byoc evaluation report — {hp.objective}",
            objective=hp.objective,
            num_class=hp["num_class"],
            summary=_summary(hp, train, valid, cv, outcome, time.perf_counter() - started),
            evaluation_set=where,
            y=y,
            prediction=np.asarray(prediction),
            threshold=float(threshold),
            curves=report.Curves(
                final=outcome.history,
                cv_mean={k: v[0] for k, v in cv.curves.items()} if cv else {},
                cv_std={k: v[1] for k, v in cv.curves.items()} if cv else {},
                cv_folds=cv.fold_curves if cv else {},
                chosen_round=outcome.metrics.get("best_iteration"),
            ),
            importance=report.importance_of(outcome.boosters, train.feature_names, shap_rows),
        )
        write_atomic(path, report.render(inputs).encode())
        outcome.metrics.update(report.report_metrics(inputs, prefix))
    except Exception as exc:  # the model is fine; only its report is missing, and we say so
        log.warning("no evaluation report: %s: %s", type(exc).__name__, exc, exc_info=True)
        outcome.metrics["report_error"] = f"{type(exc).__name__}: {exc}"
        return
    outcome.metrics["report_seconds"] = round(time.perf_counter() - begun, 3)
    log.info("evaluation report written to %s in %.2f s", path, outcome.metrics["report_seconds"])


def _summary(
    hp: Hyperparameters, train: Dataset, valid: Dataset | None, cv: CVResult | None, outcome: Outcome, wall: float
) -> dict[str, Any]:
    import xgboost as xgb

    summary: dict[str, Any] = {"training rows": train.n_rows, "features": train.n_features}
    if valid is not None:
        summary["validation rows"] = valid.n_rows
    if hp.is_classification:
        classes, counts = np.unique(train.y, return_counts=True)
        summary["class balance (train)"] = ", ".join(
            f"{c:g}: {n:,} ({n / train.n_rows:.1%})" for c, n in zip(classes, counts, strict=True)
        )
    summary["rounds in the model"] = outcome.metrics.get("num_round_used")
    if cv is not None:
        summary["cross-validation"] = f"{cv.k} folds x {cv.repeats} repeat(s), {cv.rounds_run} rounds run"
    threshold = outcome.manifest.get("threshold")
    if threshold:
        summary["decision threshold"] = (
            f"{threshold['value']:.4f} (maximises {threshold['metric']} on {threshold['source']})"
        )
    for name, value in hp.as_record().items():
        summary[f"hyperparameter {name}"] = ",".join(value) if isinstance(value, list) else value
    summary["xgboost version"] = xgb.__version__
    summary["training wall time (s)"] = round(wall, 2)
    return summary


def _ensemble_scores(params: dict[str, Any], boosters: list[Any], evals: list[tuple[Any, str]]) -> dict[str, float]:
    """XGBoost's own metrics for the averaged margin of the fold models, on each eval set."""
    scores: dict[str, float] = {}
    for dmatrix, name in evals:
        margin = np.mean([b.predict(dmatrix, output_margin=True) for b in boosters], axis=0)
        scored = margin_dmatrix(
            margin, dmatrix.get_label(), dmatrix.get_weight() if dmatrix.get_weight().size else None
        )
        scores.update(parse_xgboost_eval(margin_booster(params, scored).eval_set([(scored, name)], 0)))
    return scores


def _cv_metrics(cv: CVResult) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, (mean, std) in cv.summary.items():
        prefix, _, metric = name.partition(":")
        if prefix == CV_PREFIX:
            out[name] = mean
            out[metric_name(CV_PREFIX, metric + STD_SUFFIX)] = std
        else:  # the fold models' scores on their own training rows, for over-fitting diagnosis
            out[metric_name(CV_PREFIX, f"{prefix}_{metric}")] = mean
    out["cv:folds"] = cv.k
    out["cv:repeats"] = cv.repeats
    return out


def _oof_probabilities(params: dict[str, Any], cv: CVResult) -> np.ndarray:
    """Out-of-fold predictions (averaged over repeats in margin space) in the objective's output."""
    return transform_margin(params, cv.oof_margin.mean(axis=0))


def _write_oof(path: Path, train: Dataset, cv: CVResult, hp: Hyperparameters) -> None:
    params = hp.booster_params()
    lines = []
    preds = [transform_margin(params, margin) for margin in cv.oof_margin]
    multi = preds[0].ndim == 2
    header = ["row", "label", "repeat", "fold"] + (
        [f"prediction_{c}" for c in range(preds[0].shape[1])] if multi else ["prediction"]
    )
    lines.append(",".join(header))
    rows = np.arange(train.n_rows)
    for r, ids in enumerate(cv.fold_ids):
        pred = preds[r].reshape(train.n_rows, -1)
        block = np.column_stack([rows, train.y, np.full(train.n_rows, r), ids, pred])
        lines.append(_savetxt(block, ["%d", "%.10g", "%d", "%d"] + ["%.8g"] * pred.shape[1]))
    write_atomic(path, ("\n".join(lines) + "\n").encode())


def _savetxt(block: np.ndarray, fmt: list[str]) -> str:
    import io

    out = io.StringIO()
    np.savetxt(out, block, fmt=fmt, delimiter=",")
    return out.getvalue().rstrip("\n")


def _threshold(
    hp: Hyperparameters,
    *,
    train: Dataset,
    valid: Dataset | None,
    valid_prob: np.ndarray | None,
    oof_prob: np.ndarray | None,
    metrics: dict[str, Any],
) -> dict[str, Any] | None:
    """Binary objectives with probability output: the decision threshold and where it came from."""
    if hp.objective != "binary:logistic":
        return None
    metric = str(hp["threshold_metric"])
    if oof_prob is not None:
        threshold, _ = best_threshold(train.y, oof_prob, metric, train.weights)
        source = "out-of-fold predictions"
        metrics.update(_prefixed("cv", scores_at(train.y, oof_prob, threshold, train.weights), "_at_threshold"))
    elif valid is not None and valid_prob is not None:
        threshold, _ = best_threshold(valid.y, valid_prob, metric, valid.weights)
        source = "validation channel (no k-fold: validation scores below are optimistic)"
    else:
        threshold, source = 0.5, "default (no k-fold, no validation channel)"
    if valid is not None and valid_prob is not None:
        metrics.update(
            _prefixed("validation", scores_at(valid.y, valid_prob, threshold, valid.weights), "_at_threshold")
        )
        metrics.update(_prefixed("validation", scores_at(valid.y, valid_prob, 0.5, valid.weights), "_at_0.5"))
    metrics["threshold"] = threshold
    log.info("decision threshold %.4f (maximises %s on %s)", threshold, metric, source)
    return {"value": threshold, "metric": metric, "source": source}


def _prefixed(prefix: str, scores: dict[str, float], suffix: str) -> dict[str, float]:
    return {metric_name(prefix, name + suffix): value for name, value in scores.items()}


def _predict(params: dict[str, Any], boosters: list[Any], data: Dataset) -> np.ndarray:
    margin = np.mean([b.inplace_predict(data.X, predict_type="margin") for b in boosters], axis=0)
    return transform_margin(params, margin)


def _manifest(
    hp: Hyperparameters,
    *,
    params: dict[str, Any],
    train: Dataset,
    cv: CVResult | None,
    best: int,
    threshold: dict[str, Any] | None,
) -> dict[str, Any]:
    import xgboost as xgb

    classes: list[float] | None = None
    if hp.is_binary:
        classes = [0, 1]
    elif hp.is_multiclass:
        classes = list(range(int(hp["num_class"])))
    return {
        "format": "xgboost-byoc-manifest/1",
        "xgboost_version": xgb.__version__,
        "xgboost_byoc_version": __version__,
        "objective": hp.objective,
        "num_class": hp["num_class"],
        "classes": classes,
        "num_features": train.n_features,
        "feature_names": train.feature_names,
        "eval_metric": hp.eval_metrics,
        "best_iteration": best,
        "num_boosted_rounds": best + 1,
        "threshold": threshold,
        "ensemble": "mean-margin" if cv is not None and hp["kfold_model"] == "ensemble" else None,
        "cv": None
        if cv is None
        else {
            "folds": cv.k,
            "repeats": cv.repeats,
            "seed": hp.kfold_seed,
            "stratified": bool(hp["kfold_stratified"]) and hp.is_classification,
            "model": hp["kfold_model"],
            "rounds_run": cv.rounds_run,
            "metrics": {name: {"mean": m, "std": s} for name, (m, s) in cv.summary.items()},
            "per_fold": cv.per_fold,
        },
        "training_rows": train.n_rows,
        "hyperparameters": hp.as_record(),
        "booster_params": {k: v for k, v in params.items()},
    }
