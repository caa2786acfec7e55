#!/usr/bin/env bash
# Build the image, smoke-test it, push it to Amazon ECR and print its URI.
#
#   ./build_and_push.sh [--dry-run] IMAGE_NAME [TAG]
#
# --dry-run   print every docker / ECR command (the docker login line included) without running docker or
#             changing anything in AWS; it still asks STS for the account, to print the real image URI.
# Env: AWS_REGION or AWS_DEFAULT_REGION (else `aws configure get region`); PLATFORM (default linux/amd64 —
#      SageMaker runs amd64, and an arm64 image fails there with "exec format error"); XGBOOST_PACKAGE
#      (xgboost-cpu, default; xgboost for the GPU build); SKIP_SMOKE_TEST=1 to skip the local test run;
#      AWS_ENDPOINT_URL is honoured by the AWS CLI (e.g. a local AWS-compatible endpoint).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage="usage: $0 [--dry-run] IMAGE_NAME [TAG]"
die() {
  echo "build_and_push.sh: $*" >&2
  exit 1
}

dry_run=0
if [ "${1:-}" = "--dry-run" ]; then
  dry_run=1
  shift
fi
name="${1:-}"
tag="${2:-latest}"
if [ -z "$name" ] || [ $# -gt 2 ]; then
  echo "$usage" >&2
  exit 2
fi
if ! [[ "$name" =~ ^[a-z0-9]+([._/-][a-z0-9]+)*$ ]]; then
  die "'$name' is not a valid ECR repository name (lower-case letters, digits, and . _ - / between them)"
fi
if ! [[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
  die "'$tag' is not a valid image tag"
fi
platform="${PLATFORM:-linux/amd64}"
xgboost_package="${XGBOOST_PACKAGE:-xgboost-cpu}"

command -v aws >/dev/null 2>&1 || die "the AWS CLI is not installed (pip install awscli, or AWS's installer)"
if [ "$dry_run" -eq 0 ]; then
  command -v docker >/dev/null 2>&1 || die "docker is not installed; --dry-run shows what would run"
  docker info >/dev/null 2>&1 || die "cannot reach a Docker engine (is it running?); --dry-run shows what would run"
fi

region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}"
[ -n "$region" ] || die "no AWS region: set AWS_REGION or run 'aws configure'"
export AWS_DEFAULT_REGION="$region" # AWS CLI v1 reads only this one
if ! account="$(aws sts get-caller-identity --region "$region" --query Account --output text 2>&1)"; then
  die "cannot read the AWS account from STS (are credentials configured?): $account"
fi
suffix="amazonaws.com"
[[ "$region" == cn-* ]] && suffix="amazonaws.com.cn"
registry="$account.dkr.ecr.$region.$suffix"
image="$registry/$name:$tag"

# Each step is printed; with --dry-run it is only printed.
run() {
  printf '+ %s\n' "$*"
  if [ "$dry_run" -eq 0 ]; then
    "$@"
  fi
}

run docker build --platform "$platform" --build-arg "XGBOOST_PACKAGE=$xgboost_package" -t "$name:$tag" "$here"

smoke_test() {
  local dir port container
  dir="$(mktemp -d)"
  trap 'rm -rf "$dir"' RETURN
  mkdir -p "$dir/input/config" "$dir/input/data/train"
  echo '{"objective": "binary:logistic", "num_round": "20", "kfold": "3"}' >"$dir/input/config/hyperparameters.json"
  awk 'BEGIN { srand(7); for (i = 0; i < 300; i++) { a = rand(); b = rand(); printf "%d,%.4f,%.4f\n", (a > b), a, b } }' \
    >"$dir/input/data/train/train.csv"
  run docker run --rm --platform "$platform" -v "$dir:/opt/ml" "$name:$tag" train
  [ "$dry_run" -eq 1 ] || [ -f "$dir/output/success" ] || die "smoke test: train did not write output/success"
  port="${SMOKE_TEST_PORT:-18080}"
  printf '+ %s\n' "docker run -d --rm -p 127.0.0.1:$port:8080 -v $dir:/opt/ml $name:$tag serve"
  [ "$dry_run" -eq 1 ] && return 0
  container="$(docker run -d --rm --platform "$platform" -p "127.0.0.1:$port:8080" -v "$dir:/opt/ml" "$name:$tag" serve)"
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/ping" >/dev/null 2>&1 && break
    sleep 0.2
  done
  local answer
  answer="$(curl -sf -X POST -H 'Content-Type: text/csv' --data-binary '0.9,0.1' "http://127.0.0.1:$port/invocations" || true)"
  docker stop "$container" >/dev/null
  [ -n "$answer" ] || die "smoke test: serve did not answer /ping and /invocations"
  echo "smoke test passed: train wrote a model, serve answered $answer"
}
if [ "${SKIP_SMOKE_TEST:-0}" = "1" ]; then
  echo "skipping the smoke test (SKIP_SMOKE_TEST=1)"
else
  smoke_test
fi

if [ "$dry_run" -eq 1 ]; then
  echo "+ aws ecr describe-repositories --repository-names $name --region $region || aws ecr create-repository --repository-name $name --region $region"
elif ! aws ecr describe-repositories --repository-names "$name" --region "$region" >/dev/null 2>&1; then
  run aws ecr create-repository --repository-name "$name" --region "$region" --output text --query repository.repositoryUri
fi

# The password goes from the AWS CLI straight into docker's stdin: never echoed, never in argv.
echo "+ aws ecr get-login-password --region $region | docker login --username AWS --password-stdin $registry"
if [ "$dry_run" -eq 0 ]; then
  aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"
fi
run docker tag "$name:$tag" "$image"
run docker push "$image"
echo "$image"
