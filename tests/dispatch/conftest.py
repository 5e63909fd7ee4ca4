import pytest

from backend.accounts.actors import Actor


@pytest.fixture
def city(make):
    """make.world() plus a grid leader for the second grid, a department for 城乡建设 and its liaison."""
    world = make.world()
    world["leader2"] = make.staff("grid_leader", grid=world["grids"][1])
    world["department"] = make.department(world["street"], categories=["城乡建设", "国土资源"])
    world["other_department"] = make.department(world["street"], categories=["卫生计生"])
    world["liaison"] = make.staff("department_liaison", department=world["department"])
    return world


def actor(staff) -> Actor:
    return Actor.for_staff(staff)
