"""Personal data (个人信息保护法): audit of staff reads of residents' contact numbers, retention
(anonymising archived orders after RESIDENT_DATA_RETENTION_MONTHS), a resident's export and deletion.
docs/operations.md says how to use them."""


def init_app(app, api) -> None:
    from . import jobs, services
    jobs.register()
    services.connect()
