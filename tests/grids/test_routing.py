import pytest

from backend.grids.routing import chinese_number, place


@pytest.mark.parametrize("text,value", [("3", 3), ("三", 3), ("十", 10), ("十二", 12), ("二十三", 23), ("两", 2), ("abc", None)])
def test_chinese_number(text, value):
    assert chinese_number(text) == value


def test_building_number_in_text_finds_its_grid(make, db):
    world = make.world()
    assert place("水晶城小区3号楼2单元").grid.id == world["grids"][0].id
    assert place("八栋楼下").grid.id == world["grids"][1].id


def test_unknown_address_goes_to_community_pool(make, db):
    world = make.world()
    placement = place("不知道哪里")
    assert placement.grid is None
    assert placement.community.id == world["community"].id
