"""The category correction loop: staff corrections (OrderEvent "correct_category") exported as
training data by `flask export-corrections`, in the format the trainer reads."""
from backend.categories import training
from backend.orders.corrections import ACTION


def _correct(db, order, old, new, note=None):
    from backend.orders.models import OrderEvent
    db.session.add(OrderEvent(order_id=order.id, actor_type="staff", actor_id=None, action=ACTION,
                              note=note, data={"from": old, "to": new}))
    db.session.commit()


def test_export_corrections_writes_latest_valid_correction_per_order(app, db, make, tmp_path):
    world = make.world()
    heating = make.order(world["resident"], text="暖气片  一点都不热 屋里才十二度", category="环境保护/环境污染")
    hukou = make.order(world["resident"], text="孩子出生了户口怎么上", category="民政/社会服务")
    ignored = make.order(world["resident"], text="楼下太吵了", category="环境保护/环境污染/噪音污染")
    untouched = make.order(world["resident"], text="路灯不亮")
    _correct(db, heating, "环境保护/环境污染", "城乡建设/城市建设和市政管理")
    _correct(db, heating, "城乡建设/城市建设和市政管理", "城乡建设/城市建设和市政管理/冬季采暖", note="供暖")
    _correct(db, hukou, "民政/社会服务", "政法/户籍证件/户籍管理")
    _correct(db, ignored, "环境保护/环境污染/噪音污染", "不存在/的分类")        # not a taxonomy path
    _correct(db, ignored, "环境保护/环境污染/噪音污染", "环境保护")                # top level only: too coarse

    out = tmp_path / "corrections.tsv"
    result = app.test_cli_runner().invoke(args=["export-corrections", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 corrected orders" in result.output

    rows = training.read_tsv(out)
    assert rows == [("暖气片 一点都不热 屋里才十二度", "城乡建设/城市建设和市政管理/冬季采暖"),
                    ("孩子出生了户口怎么上", "政法/户籍证件/户籍管理")]
    assert untouched.text not in {t for t, _ in rows}


def test_export_with_no_corrections_writes_an_empty_training_file(app, db, tmp_path):
    out = tmp_path / "corrections.tsv"
    result = app.test_cli_runner().invoke(args=["export-corrections", "--out", str(out)])
    assert result.exit_code == 0 and "0 corrected orders" in result.output
    assert training.read_tsv(out) == [] and out.read_text(encoding="utf-8") == "text\tpath\n"
