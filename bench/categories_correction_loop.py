"""The category correction loop end to end, on a throw-away SQLite database:

  1. residents' orders are created (services.create_order, the classifier picks or skips a category);
  2. staff correct some of them: OrderEvent "correct_category" {"from", "to"} (as the lifecycle writes it);
  3. `flask export-corrections` writes them to a training file;
  4. `flask retrain-categories` trains a candidate and accepts it only if it loses nothing on the
     frozen evaluation sets; before/after lands in bot/reports/category_corrections.json.

    .venv/bin/python bench/categories_correction_loop.py

The corrections file is written to a temporary copy of intents/categories, so the repository's
training data is not changed by running this.
"""
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Staff corrections: (what the resident wrote, the category staff set).
CORRECTIONS = [
    ("小区南门外的下水井盖被车压碎了", "城乡建设/城市建设和市政管理/基础设施"),
    ("我们楼的热水器燃气总是点不着火 燃气公司说是压力不够", "城乡建设/城市建设和市政管理/燃气供应"),
    ("暖气片冰凉 热力公司电话打不通", "城乡建设/城市建设和市政管理/冬季采暖"),
    ("22路公交早上七点那班老是不来", "城乡建设/城市建设和市政管理/公共汽车"),
    ("物业把小区绿地改成停车位收费", "城乡建设/住房保障与房地产/物业服务"),
    ("电梯按钮坏了好几个 物业说等配件", "城乡建设/住房保障与房地产/物业服务"),
    ("楼上卫生间渗水到我家天花板 楼上不肯修", "政法/仲裁与调解/邻里纠纷"),
    ("对门邻居把鞋柜放在楼道里还占了我家门口", "政法/仲裁与调解/邻里纠纷"),
    ("小区里有人把狗放出来不牵 小孩被吓哭了", "政法/社会治安/文明养犬"),
    ("晚上十二点了还有人在楼下唱歌喝酒", "环境保护/环境污染/噪音污染"),
    ("楼下干洗店的味道很冲 窗户都不敢开", "环境保护/环境污染/大气污染"),
    ("垃圾房门口的垃圾袋被野猫扒得到处都是", "城乡建设/城市建设和市政管理/环境卫生"),
    ("老伴瘫痪在床 想申请上门护理服务", "民政/社会服务/养老服务"),
    ("残疾证到期了怎么换", "民政/社会服务/残疾人服务"),
    ("我妈的养老金这个月少了两百", "劳动和社会保障/退休政策及待遇/退休金发放"),
    ("在药店用医保买药提示余额不足 可是账户里明明有钱", "劳动和社会保障/城镇居民社会保险/城镇居民医疗保险"),
    ("装修队干完活老板不给结工钱", "劳动和社会保障/工资福利/工资发放"),
    ("孩子转学到这边 学校说没有学位", "教育文体/考试招生/招生录取"),
    ("小区门口的托管班一个老师看三十个孩子", "教育文体/教育行政管理/校外机构管理"),
    ("快递柜超时收费太坑了", "交通运输/邮政管理/快递市场管理"),
    ("电动车在楼道里充电 半夜电瓶冒烟了", "政法/社会治安/消防安全"),
    ("消防栓箱子被人撬开水带没了", "政法/社会治安/消防安全"),
    ("路口的红绿灯坏了一直闪黄灯", "政法/交通管理/交通安全管理"),
    ("身份证快过期了在这边能换吗", "政法/户籍证件/身份证管理"),
    ("接到冒充公安的电话说我涉嫌洗钱 骗走了八千", "政法/刑案侦破/案件侦破"),
    ("超市买的鸡蛋一半是坏的", "商贸旅游/市场监管/商品质量"),
    ("菜场的秤不准 买一斤少二两", "商贸旅游/市场监管/物价监督"),
    ("社区卫生服务站的医生不在岗", "卫生计生/医政监管/医疗技术和服务"),
    ("小孩的疫苗本丢了怎么补", "卫生计生/公共卫生/疾病预防控制"),
    ("家里网络晚上老掉线 打客服说没问题", "科技与信息产业/电信/通信保障"),
    ("社区工作人员让我们下载好几个APP打卡", "纪检监察/干部作风/形式主义"),
    ("申请低保半年了没有消息", "民政/社会救助/城镇低保"),
    ("想入党 申请书交给谁", "党务政务/党的建设/组织建设"),
    ("楼顶那户在露台上盖了个玻璃房", "城乡建设/城乡规划/违章建筑"),
    ("开发商答应的车库到现在没交付", "城乡建设/住房保障与房地产/房地产开发管理"),
    ("公租房的墙发霉了找谁修", "城乡建设/住房保障与房地产/保障性住房"),
]


def main():
    tmp = Path(tempfile.mkdtemp(prefix="cat-loop-"))
    data = tmp / "categories"
    shutil.copytree(ROOT / "intents" / "categories", data)
    os.environ.update(CATEGORY_DATA_DIR=str(data), DATABASE_URL=f"sqlite:///{tmp / 'loop.sqlite3'}")
    from backend import create_app
    from backend.extensions import db
    from backend.orders.models import OrderEvent
    from tests.factories import Factory

    app = create_app()  # development config: DATABASE_URL above; Redis side effects are best-effort
    with app.app_context():
        db.create_all()
        make = Factory(db)
        world = make.world()
        for text, to in CORRECTIONS:
            order = make.order(world["resident"], text=text, category=None)
            old = order.category or ""
            db.session.add(OrderEvent(order_id=order.id, actor_type="staff", action="correct_category",
                                      data={"from": old, "to": to}, note="demo correction"))
        db.session.commit()
    runner = app.test_cli_runner()
    out = data / "train" / "corrections.tsv"
    r = runner.invoke(args=["export-corrections", "--out", str(out)])
    print(r.output, end="")
    report = ROOT / "bot" / "reports" / "category_corrections.json"
    r = runner.invoke(args=["retrain-categories", "--report", str(report)])
    print(r.output, end="")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
