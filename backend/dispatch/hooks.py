"""Dispatch's part of every order change: the Redis claim queue follows the order after the
commit (a rolled-back change moves nothing)."""
from ..orders.signals import order_changed
from . import queues


def on_changed(order, **_):
    queues.stash(order)


def connect() -> None:
    order_changed.connect(on_changed)
