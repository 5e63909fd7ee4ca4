"""The resident's H5 pages. Importing the modules registers their routes on views.bp."""
from . import views, wishes  # noqa: F401
