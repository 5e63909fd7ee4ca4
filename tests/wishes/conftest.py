"""A community with its admin, a wisher, two partner units each with a contact person, a party
member and a volunteer — the people of the wish board."""
import pytest

from backend.accounts.actors import Actor
from backend.wishes import registry, services


@pytest.fixture
def board(make, db):
    street = make.street()
    community = make.community(street, name="金鸡湖社区")
    other = make.community(street, name="翠苑社区")
    admin = make.staff("community_admin", community=community, name="周主任")
    admin_actor = Actor.for_staff(admin)
    bank = registry.add_unit(admin_actor, community_id=community.id, name="工商银行园区支行")
    school = registry.add_unit(admin_actor, community_id=community.id, name="星海小学")
    people = {name: make.resident(name=name, phone=f"1390000{i:04d}")
              for i, name in enumerate(("李桂兰", "王建军", "陈丽", "张伟", "赵敏", "钱多"))}
    actors = {name: Actor.for_resident(r) for name, r in people.items()}
    members = {
        "bank": registry.register(actors["王建军"], community_id=community.id, kind="unit_contact", name="王建军",
                                  skills=["理财"], hours_available=4, join_code=bank.join_code),
        "school": registry.register(actors["陈丽"], community_id=community.id, kind="unit_contact", name="陈丽",
                                    skills=["辅导"], hours_available=4, join_code=school.join_code),
        "party": registry.register(actors["张伟"], community_id=community.id, kind="party_member", name="张伟",
                                   skills=["维修", "电工"], hours_available=6, workplace="园区供电所"),
        "volunteer": registry.register(actors["赵敏"], community_id=community.id, kind="volunteer", name="赵敏",
                                       skills=["陪伴"], hours_available=2),
    }
    return {"street": street, "community": community, "other": other, "admin": admin, "admin_actor": admin_actor,
            "units": {"bank": bank, "school": school}, "people": people, "actors": actors, "members": members,
            "wisher": actors["李桂兰"]}


@pytest.fixture
def publish(board):
    """A wish of 李桂兰's, checked and on the board."""
    def make_published(text="家里的旧空调不制冷了，希望有人帮忙看看", **fields):
        wish = services.create_wish(board["wisher"], community_id=board["community"].id, text=text, **fields)
        return services.perform(board["admin_actor"], wish, "approve")
    return make_published
