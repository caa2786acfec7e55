# xgboost-byoc: a bring-your-own SageMaker image for XGBoost.
#   docker build --platform linux/amd64 -t xgboost-byoc .        (build_and_push.sh does this for you)
#   docker run --rm -v "$PWD/local_test/test_dir:/opt/ml" xgboost-byoc train
#   docker run --rm -p 8080:8080 -v "$PWD/local_test/test_dir:/opt/ml" xgboost-byoc serve
# SageMaker runs `docker run IMAGE train` and `docker run IMAGE serve`: there is no ENTRYPOINT, and both
# entry points are console scripts on PATH. Build arg XGBOOST_PACKAGE=xgboost gives the full (GPU) build.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG XGBOOST_PACKAGE=xgboost-cpu
# gcc only here: sagemaker-training compiles a small C extension; the final stage copies the result.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY container/install.sh ./container/install.sh
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && python -m venv /opt/venv \
    && container/install.sh /opt/venv /wheels "${XGBOOST_PACKAGE}"

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="xgboost-byoc" \
      org.opencontainers.image.description="Bring-your-own SageMaker image for XGBoost: honest k-fold training, fast serving" \
      com.amazonaws.sagemaker.capabilities.accept-bind-to-port=true
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:${PATH}" \
    XGB_BYOC_SERVE_USER=model-server
# Training runs as root (SageMaker mounts /opt/ml for root); serve's gunicorn workers drop to this user.
RUN groupadd --system model-server \
    && useradd --system --gid model-server --no-create-home --shell /usr/sbin/nologin model-server
COPY --from=builder /opt/venv /opt/venv
WORKDIR /opt/ml
EXPOSE 8080
CMD ["serve"]
