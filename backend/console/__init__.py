"""The staff console (Jinja pages on a session cookie). Importing the modules registers their routes."""
from .blueprint import bp
from . import views, desk, phone, intake, registry, rounds, letters, disputes, wishes, canned, jobs, assessment, roster, knowledge  # noqa: F401,E402  (each registers its pages on bp)

__all__ = ["bp"]
