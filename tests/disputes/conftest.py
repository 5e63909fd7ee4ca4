import pytest

from backend.accounts.actors import Actor
from backend.disputes import services


@pytest.fixture
def parking(make, world):
    """A parking-space dispute in grid 1, started from a resident's order of kind dispute."""
    order = make.order(world["resident"], kind="dispute", text="地下车库车位被邻居长期占用，物业不管",
                       location_text="水晶城小区3号楼")
    worker = Actor.for_staff(world["workers"][0])
    dispute = services.register(worker, topic="parking", order_number=order.number, parties=[
        {"kind": "resident", "name": "王秀英"}, {"kind": "resident", "name": "赵建国"},
        {"kind": "property", "name": "水晶城物业公司"}])
    return dispute
