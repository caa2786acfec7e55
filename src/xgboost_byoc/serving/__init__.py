"""The inference server (gunicorn + Flask): /ping, /invocations, /execution-parameters."""
