"""Routing: aliases and compound names place free-text addresses; ambiguity goes to the pool."""
from backend.grids.routing import place


def test_building_alias_and_compound_name_place_the_order(make, db):
    a = make.community(name="甲社区")
    b = make.community(name="乙社区")
    ga, gb = make.grid(a), make.grid(b)
    make.building(ga, compound="水晶城小区", number=3)
    make.building(gb, compound="铁塔小区", number=3)
    make.building(gb, compound="铁塔小区", number=9, aliases=["老干部楼"])
    assert place("老干部楼门口的路灯").grid.id == gb.id
    assert place("铁塔小区三栋").grid.id == gb.id  # compound picks the community, then the number
    assert place("三号楼").grid is None  # two 3号楼 and nothing else to tell them apart: the pool
