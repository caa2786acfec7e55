"""A folder put first on the user script's PYTHONPATH by script mode: its ``sitecustomize`` records the
script's uncaught exception (type and message) in ``$XGB_BYOC_SCRIPT_ERROR_FILE``, exactly as raised.

The toolkit's own stream reader splits long output into chunks, so a traceback read back from the log
can be cut mid-line; the exception hook is the reliable source for the failure file's first line.
"""
