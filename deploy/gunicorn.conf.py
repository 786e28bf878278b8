"""gunicorn settings shared by every app server deploy/serve.py starts (the rest are on its command line).

child_exit: with PROMETHEUS_MULTIPROC_DIR set, a worker that exits has its live gauges dropped, so
/metrics sums only the workers that are there (backend/core/ops.py)."""
from backend.core.ops import child_exit  # noqa: F401 - gunicorn reads the hook by name
