"""The wish pages: a resident posts a wish on the H5 pages, the community approves it on the
console, a partner unit's contact claims and fulfils it on the phone, the resident confirms, the
public board shows it masked; the registry, lists, figures and hours export on the console."""
import csv
import io
from pathlib import Path

from sqlalchemy import select

from backend.wishes import services
from backend.wishes.models import ListItem, Member, VolunteerHours, Wish
from backend.accounts import sessions

CSRF = "test-csrf"
PNG = (Path(__file__).resolve().parents[1] / "fixtures" / "wechat" / "media.png").read_bytes()


def _as_resident(app, resident):
    client = app.test_client()
    with client.session_transaction() as session:
        sessions.sign_in(session, "resident", resident)
        session["csrf"] = CSRF
    return client


def _as_staff(app, staff):
    client = app.test_client()
    with client.session_transaction() as session:
        sessions.sign_in(session, "staff", staff)
        session["csrf"] = CSRF
    return client


def test_from_the_phone_to_the_board_and_back(app, db, redis, board):
    wisher = _as_resident(app, board["people"]["李桂兰"])
    posted = wisher.post("/m/wishes/new", data={
        "csrf": CSRF, "community": board["community"].id, "client_id": "k1",
        "text": "我是李桂兰，电话13912345678，住3号楼2单元501室，想请人帮忙修一下漏水的水龙头",
        "beneficiary": "独居的老伴", "photo": (io.BytesIO(PNG), "tap.png")}, content_type="multipart/form-data")
    assert posted.status_code == 302, posted.get_data(as_text=True)
    again = wisher.post("/m/wishes/new", data={"csrf": CSRF, "community": board["community"].id,
                                               "client_id": "k1", "text": "同一个心愿再点了一次"})
    assert again.status_code == 302 and db.session.query(Wish).count() == 1  # the double tap is one wish
    wish = db.session.scalar(select(Wish))
    assert wish.state == "submitted" and len(wish.photos) == 1
    assert wisher.get(f"/m/wishes/{wish.id}/photos/0").data == PNG

    console = _as_staff(app, board["admin"])
    assert "漏水的水龙头" in console.get("/console/wishes?state=submitted").get_data(as_text=True)
    page = console.get(f"/console/wishes/{wish.id}").get_data(as_text=True)
    assert "审核通过" in page and "张伟" in page  # the party member with 维修 is suggested first
    assert console.post(f"/console/wishes/{wish.id}/approve", data={"csrf": CSRF}).status_code == 302

    assert console.get(f"/console/wishes/{wish.id}/photos/0").data == PNG
    bank = _as_resident(app, board["people"]["王建军"])
    assert "漏水的水龙头" in bank.get("/m/wishes").get_data(as_text=True)
    assert bank.get(f"/m/wishes/{wish.id}/photos/0").status_code == 404  # a member, but not its claimant yet
    assert bank.post(f"/m/wishes/{wish.id}/claim", data={"csrf": CSRF}).status_code == 302
    school = _as_resident(app, board["people"]["陈丽"])
    assert school.post(f"/m/wishes/{wish.id}/claim", data={"csrf": CSRF}).status_code == 302
    assert "当前是「已认领」，不能「认领」" in school.get(f"/m/wishes/{wish.id}").get_data(as_text=True)  # one claimant
    refused = bank.post(f"/m/wishes/{wish.id}/fulfil", data={"csrf": CSRF, "evidence": "已换新龙头", "hours": "abc"})
    assert refused.status_code == 302
    assert bank.get(f"/m/wishes/{wish.id}/photos/0").data == PNG  # the claimant sees where to go
    assert "请检查填写的内容" in bank.get(f"/m/wishes/{wish.id}").get_data(as_text=True)
    bank.post(f"/m/wishes/{wish.id}/fulfil", data={"csrf": CSRF, "evidence": "已上门换了新水龙头", "hours": "1.5"})
    wisher.post(f"/m/wishes/{wish.id}/confirm", data={"csrf": CSRF, "note": "谢谢"})
    db.session.expire_all()
    wish = db.session.get(Wish, wish.id)
    assert wish.state == "confirmed" and wish.unit_id == board["units"]["bank"].id

    public = app.test_client().get("/public/wishes").get_data(as_text=True)
    assert "漏水的水龙头" in public and "工商银行园区支行" in public and "已实现" in public
    for private in ("李桂兰", "13912345678", "501室", "独居的老伴"):
        assert private not in public
    assert "139****5678" in public

    figures = console.get("/console/volunteers").get_data(as_text=True)
    assert "工商银行园区支行</td><td>1</td><td>1</td><td>1.5" in figures
    exported = console.get("/console/volunteers/hours.csv")
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][1:] == ["王建军", "共建单位联系人", "工商银行园区支行", "微心愿", str(wish.id), "1.5"]


def test_a_photo_that_is_no_image_is_refused_in_chinese_and_makes_no_wish(app, db, redis, board):
    wisher = _as_resident(app, board["people"]["李桂兰"])
    answer = wisher.post("/m/wishes/new", data={"csrf": CSRF, "community": board["community"].id, "text": "想学剪纸",
                                                "photo": (io.BytesIO(b"not an image"), "x.png")},
                         content_type="multipart/form-data")
    assert answer.status_code == 422 and "只能接收" in answer.get_data(as_text=True)
    assert db.session.query(Wish).count() == 0


def test_a_bad_wish_form_answers_422_with_chinese_field_messages(app, db, redis, board):
    wisher = _as_resident(app, board["people"]["李桂兰"])
    answer = wisher.post("/m/wishes/new", data={"csrf": CSRF, "community": "abc", "text": "",
                                                "wanted_by": "下周"})
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "必填" in body and "日期格式应为" in body and "请选择" in body
    assert db.session.query(Wish).count() == 0


def test_a_resident_registers_on_the_phone_and_the_community_keeps_the_lists(app, db, redis, board):
    newcomer = _as_resident(app, board["people"]["钱多"])
    wrong = newcomer.post("/m/volunteer", data={"csrf": CSRF, "community": board["community"].id,
                                                "kind": "unit_contact", "name": "钱多", "join_code": "NOPE"})
    assert wrong.status_code == 422 and "单位报到码不对" in wrong.get_data(as_text=True)
    done = newcomer.post("/m/volunteer", data={"csrf": CSRF, "community": board["community"].id,
                                               "kind": "volunteer", "name": "钱多", "skills": "理发，陪伴",
                                               "hours_available": "3"})
    assert done.status_code == 302
    member = db.session.scalar(select(Member).where(Member.name == "钱多"))
    assert member.skills == ["理发", "陪伴"] and member.kind == "volunteer"

    console = _as_staff(app, board["admin"])
    c = board["community"].id
    console.post("/console/volunteers/items", data={"csrf": CSRF, "community": c, "kind": "need", "title": "老年食堂缺帮厨"})
    console.post("/console/volunteers/items", data={"csrf": CSRF, "community": c, "kind": "resource",
                                                    "unit": board["units"]["bank"].id, "title": "反诈宣讲"})
    need, resource = db.session.scalars(select(ListItem).order_by(ListItem.id)).all()
    console.post(f"/console/volunteers/items/{need.id}/claim", data={"csrf": CSRF, "unit": board["units"]["school"].id})
    console.post(f"/console/volunteers/items/{resource.id}/claim", data={"csrf": CSRF})
    twice = console.post(f"/console/volunteers/items/{need.id}/claim", data={"csrf": CSRF, "unit": board["units"]["bank"].id})
    assert twice.status_code == 302
    db.session.expire_all()
    need, resource = db.session.scalars(select(ListItem).order_by(ListItem.id)).all()
    assert need.claimed_by_unit_id == board["units"]["school"].id  # the second claim changed nothing
    assert resource.claimed_by_community and resource.claimed_by_unit_id is None

    console.post("/console/volunteers/hours", data={"csrf": CSRF, "member": member.id, "task": "重阳节陪老人包饺子",
                                                    "hours": "3", "day": "2026-10-29"})
    assert [(h.task, float(h.hours)) for h in db.session.scalars(select(VolunteerHours))] == [("重阳节陪老人包饺子", 3.0)]
    page = console.get("/console/volunteers").get_data(as_text=True)
    assert "老年食堂缺帮厨" in page and "星海小学已认领" in page


def test_another_communitys_admin_and_grid_staff_see_no_wish(app, db, redis, make, board, publish):
    wish = publish()
    other = _as_staff(app, make.staff("community_admin", community=board["other"]))
    assert other.get(f"/console/wishes/{wish.id}").status_code == 404
    assert "家里的旧空调" not in other.get("/console/wishes").get_data(as_text=True)
    worker = _as_staff(app, make.staff("grid_worker", grid=make.grid(board["community"])))
    assert worker.get("/console/wishes").status_code == 403
    assert services.get_wish  # the same service behind both
