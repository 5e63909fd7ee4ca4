"""The outbox: durable notification rows, delivered with retries; the staff's console inbox."""


def init_app(app, api) -> None:
    from . import services
    services.register_jobs()
