"""One corpus of what residents type, built by rule families: every text comes with the data
(secrets) that must not survive `backend.masking.mask`. Families: names × kinship and courtesy
words; a name after a relation word or an introduction; mobiles in every script and grouping
(Arabic, full-width, Chinese, 幺, capital digits; spaced, one by one, dashed, dotted, +86 / ＋86);
ID numbers of 18 and 15 digits, spaced, and partial (region + birth date); QQ numbers; WeChat ids;
plates; landlines with and without brackets; house numbers. Deterministic: the same corpus every
run (tests/masking/test_masking_corpus.py measures it; the public-surface test publishes it)."""
import itertools
import random
import re

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江"
GIVEN = ["桂兰", "建国", "秀英", "玉珍", "德华", "丽", "强", "淑芬", "志刚", "海燕", "小明", "春梅", "国庆", "翠花", "振华", "敏"]
KIN = ["阿姨", "大爷", "大妈", "大娘", "奶奶", "爷爷", "叔叔", "婶婶", "姥姥", "伯伯", "大姐", "大哥", "师傅", "老师",
       "医生", "书记", "主任", "经理", "先生", "女士"]
RELATIONS = ["老伴", "我老伴", "我爱人", "我儿子", "我女儿", "我妈妈", "我爸爸", "我老公", "我媳妇", "邻居", "房东",
             "租客", "我孙子", "家属", "我姐姐", "我弟弟"]
INTROS = ["我叫", "本人", "姓名：", "联系人：", "户主：", "名叫", "他叫", "她叫", "请联系", "打给", "报修人"]
KIN_TEMPLATES = ["楼下{}{}家漏水到我家了", "住3号楼的{}{}摔倒了没人管", "请转告{}{}明天停水", "{}{}说垃圾没人清"]
REL_TEMPLATES = ["{}{}{}腿脚不好，电梯坏了下不了楼", "{}{}{}的医保卡用不了", "{}{}{}天天在楼道堆杂物"]
INTRO_TEMPLATES = ["{}{}{}，3号楼的路灯不亮", "{}{}{}反映小区噪音扰民"]

CN = {"lower": "零一二三四五六七八九", "yao": "零幺二三四五六七八九", "capital": "零壹贰叁肆伍陆柒捌玖",
      "full": "０１２３４５６７８９", "arabic": "0123456789"}


def _say(digits: str, script: str) -> str:
    return "".join(CN[script][int(d)] for d in digits)


def _mobiles(rng):
    out = []
    for i in range(40):
        number = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
        a, b, c = number[:3], number[3:7], number[7:]
        shapes = [number, f"{a}-{b}-{c}", f"{a} {b} {c}", " ".join(number), f"{a}.{b}.{c}", f"+86 {number}",
                  f"＋86{number}", f"+86-{a}-{b}-{c}", _say(number, "lower"), _say(number, "yao"),
                  _say(number, "capital"), _say(number, "full"), f"{_say(a, 'lower')} {_say(b, 'lower')} {_say(c, 'lower')}",
                  a + _say(b, "lower") + c, "-".join(number)]
        template = ["电话{}", "有事打我手机{}", "联系方式：{}，白天都在", "手机号 {} 可以加微信"][i % 4]
        out += [(template.format(shape), [number]) for shape in shapes]
    return out


def _region(rng):
    return rng.choice(["370102", "110105", "440305", "320106", "510104", "330106"])


def _ids(rng):
    out = []
    for i in range(30):
        birth = f"{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        region, seq = _region(rng), f"{rng.randint(0, 999):03d}"
        check = rng.choice("0123456789X")
        full = region + birth + seq + check
        short = region + birth[2:] + seq  # the old 15-digit card
        shapes = [(full, full), (full.lower(), full), (f"{region} {birth} {seq}{check}", full),
                  (f"{region} {birth[:4]} {birth[4:]} {seq}{check}", full), (" ".join(full), full),
                  (short, short), (f"{region} {birth[2:]} {seq}", short), (region + birth, region + birth),
                  (f"{region} {birth}", region + birth)]
        template = ["身份证号{}，医保卡办不下来", "我的身份证是{}", "证件号码 {} 社保查不到"][i % 3]
        out += [(template.format(shape), [_digits(secret)]) for shape, secret in shapes]
    return out


def _qq(rng):
    out = []
    for i in range(30):
        number = str(rng.randint(10000, 99999999999))
        for cue in ("QQ", "qq号：", "扣扣", "QQ号 ", "企鹅"):
            out.append((f"不会用微信，{cue}{number}联系我", [number]))
    return out


def _wechat(rng):
    out = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    for i in range(30):
        wid = rng.choice(letters) + "".join(rng.choice(letters + "0123456789_-") for _ in range(rng.randint(5, 12)))
        for cue in ("微信号 ", "微信：", "vx:", "VX ", "V信", "wx：", "加我微信", "威信"):
            out.append((f"{cue}{wid} 有照片可以发", [wid]))
        out.append((f"加我 wxid_{wid[:8]}", [f"wxid_{wid[:8]}"]))
    return out


def _plates(rng):
    out = []
    for i in range(30):
        province = rng.choice("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼")
        letter = rng.choice("ABCDEFGHJKLMNP")
        tail = "".join(rng.choice("0123456789ABCDEFGHJKLMN") for _ in range(5))
        for shape in (f"{province}{letter}{tail}", f"{province}{letter}·{tail}", f"{province} {letter}{tail}",
                      f"{province}{letter.lower()}{tail.lower()}", f"{province}{letter}D{tail}"):
            out.append((f"车牌{shape}的车天天堵消防通道", [tail.upper()[-4:]]))
    return out


def _landlines(rng):
    out = []
    for i in range(30):
        area = rng.choice(["0531", "010", "021", "0755", "028"])
        local = str(rng.randint(2, 8)) + "".join(rng.choice("0123456789") for _ in range(7))
        for shape in (f"{area}-{local}", f"({area}){local}", f"（{area}）{local[:4]} {local[4:]}",
                      f"{area} {local[:4]} {local[4:]}", f"{area}{local}", local):
            out.append((f"家里座机{shape}，白天有人", [local]))
    return out


def _houses(rng):
    out = []
    for i in range(30):
        building, unit, room = rng.randint(1, 30), rng.randint(1, 6), rng.choice([f"{f}0{r}" for f in range(2, 19) for r in range(1, 5)])
        for shape in (f"{building}-{unit}-{room}", f"{building}号楼{unit}单元{room}室", f"{building}栋{unit}单元{room}",
                      f"{building}幢{unit}单元{room}户", f"{room}室", f"{building}号楼{room}", f"{unit}单元{room}",
                      f"{room}房"):
            out.append((f"住在{shape}，楼上漏水", [f"{unit}单元{room}" if "单元" in shape else room]))
    return out


def _names():
    out = []
    pairs = list(itertools.product(SURNAMES, GIVEN))
    for i, (surname, given) in enumerate(pairs):
        name = surname + given
        kin = KIN[i % len(KIN)]
        out.append((KIN_TEMPLATES[i % len(KIN_TEMPLATES)].format(name, kin), [name]))
        if i % 2 == 0:
            relation = RELATIONS[i % len(RELATIONS)]
            out.append((REL_TEMPLATES[i % len(REL_TEMPLATES)].format(relation, "", name), [name]))
        if i % 3 == 0:
            intro = INTROS[i % len(INTROS)]
            out.append((INTRO_TEMPLATES[i % len(INTRO_TEMPLATES)].format(intro, "", name), [name]))
    return out


def _digits(text: str) -> str:
    return re.sub(r"[^0-9Xx]", "", text).upper()


def build() -> list[tuple[str, list[str]]]:
    rng = random.Random(27)
    return (_names() + _mobiles(rng) + _ids(rng) + _qq(rng) + _wechat(rng) + _plates(rng)
            + _landlines(rng) + _houses(rng))


CORPUS = build()

_FOLD = str.maketrans("零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖０１２３４５６７８９", "001234567891123456789" + "0123456789")


def leaked(shown: str, secrets: list[str]) -> list[str]:
    """The secrets still readable in `shown`: as written, or — for numbers — as digits once Chinese
    and full-width digits are folded and separators between digits are dropped."""
    folded = re.sub(r"(?<=[0-9Xx])[\s.\-·•_/]+(?=[0-9Xx])", "", shown.translate(_FOLD)).upper()
    return [s for s in secrets if s in shown or s.upper() in folded]
