"""xgboost-byoc: a bring-your-own SageMaker image for XGBoost and the launcher around it."""

__version__ = "0.1.0"  # the single source: pyproject.toml reads it (setuptools dynamic version)
