"""gunicorn settings for the operations tests: the Prometheus multiprocess hook, as production uses it."""
from backend.core.ops import child_exit  # noqa: F401 - gunicorn reads the hook by name
