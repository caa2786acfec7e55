"""Algorithm-mode training: k-fold cross-validation (cv.py), the boosting loop (fit.py), the job (algorithm.py)."""
