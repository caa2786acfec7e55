"""The ``xgb-byoc`` launcher: job specs run locally, in Docker or on SageMaker."""
