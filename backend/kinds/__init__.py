"""The order's kind (类型) predicted from its text (see model.py)."""
from .model import KINDS, get_model, predict_kind

__all__ = ["KINDS", "get_model", "predict_kind"]
