"""The one masking function, on a corpus of the personal data residents really type into requests:
every datum is gone from the output, the sentence around it is still readable, and ordinary numbers
(order numbers, dates, money, building numbers) are left alone."""
import pytest

from backend.masking import mask

# (what a resident wrote, what the public may see)
CORPUS = [
    ("我叫张三，电话13812345678，住3号楼2单元501室", "我叫张*，电话138****5678，住3号楼*单元***室"),
    ("本人王小明，身份证37010219800101123X", "本人王**，身份证3701**************"),
    ("身份证号370102198001011234", "身份证号3701**************"),
    ("手机 138-1234-5678 或 +86 139 1234 5678", "手机 138****5678 或 139****5678"),
    ("家里座机0531-88886666，单位010 6655 4433", "家里座机0531-****6666，单位010-****4433"),
    ("车牌鲁P·12345和鲁P12345天天堵消防通道", "车牌鲁P·*****和鲁P·*****天天堵消防通道"),
    ("新能源车粤BD12345占了充电位", "新能源车粤B·*****占了充电位"),
    ("住在3-2-501的张阿姨家漏水", "住在3-*-***的*阿姨家漏水"),
    ("5栋1单元1202户楼道灯坏了", "5栋*单元***户楼道灯坏了"),
    ("楼上1502室装修太吵", "楼上***室装修太吵"),
    ("我姓王，微信号 wxid_ab12cd34，也可以加vx：zhang_san88", "我姓*，微信号 ******，也可以加vx：******"),
    ("免贵姓欧阳，有事找我", "免贵姓*，有事找我"),
    ("联系人：李四 13912345678", "联系人：李* 139****5678"),
    ("姓名：赵六六", "姓名：赵**"),
    ("王老师说楼下刘大爷摔倒了", "*老师说楼下*大爷摔倒了"),
    ("找物业的陈经理没人接", "找物业的*经理没人接"),
    ("工资卡6222021234567890123被冻结", "工资卡***************0123被冻结"),
    ("回访电话打给王芳女士和李建国同志", "回访电话打给王*女士和李**同志"),
    ("电话１３８１２３４５６７８，车牌鲁Ｐ１２３４５", "电话138****5678，车牌鲁P·*****"),  # full-width digits
]

# Texts without personal data: masking must not damage them.
UNTOUCHED = [
    "HX20261122-0007 还没人接单",
    "2026-11-22 09:30 水管爆了，花了300元请人修",
    "我是业主，我和师傅说了三次",
    "我是马路对面的住户，老百姓反映多次",
    "3号楼的电梯坏了一个星期",
    "小区南门的路灯不亮",
    "微信群里说明天停水",
]


@pytest.mark.parametrize("written,shown", CORPUS)
def test_personal_data_is_masked(written, shown):
    assert mask(written) == shown


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ordinary_text_is_left_alone(text):
    assert mask(text) == text


SECRETS = ["13812345678", "１３８１２３４５６７８", "1234 5678", "88886666", "6655 4433", "37010219800101123X", "370102198001011234", "12345",
           "wxid_ab12cd34", "zhang_san88", "张三", "王小明", "李四", "赵六六", "王芳", "李建国", "501室", "1202户", "1502室",
           "6222021234567890123", "张阿姨", "王老师", "刘大爷", "陈经理"]


def test_no_datum_of_the_corpus_survives_in_any_text():
    masked = "\n".join(mask(written) for written, _ in CORPUS)
    survivors = [s for s in SECRETS if s in masked]
    assert survivors == []


def test_masking_is_idempotent_and_keeps_none():
    for written, shown in CORPUS:
        assert mask(shown) == shown
    assert mask(None) is None and mask("") == ""
