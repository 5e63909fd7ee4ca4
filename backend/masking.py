"""One masking function for every surface the public or another resident can see (公示 pages, public
API): personal data residents type into their requests is replaced before it leaves the building.

What is masked, and how much is kept (enough to read the sentence, never enough to find a person):
    ID numbers (18 digits)          370102********123X → 3701**************
    bank cards, long digit runs     6222021234567890123 → ***************0123
    mobile numbers                  13812345678 → 138****5678
    landline numbers                0531-88886666 → 0531-****6666
    licence plates                  鲁P·12345, 鲁P12345 → 鲁P·*****
    house numbers                   3-2-501 → 3-*-***, 3号楼2单元501室 → 3号楼*单元***室, 501室 → ***室
    WeChat ids                      微信号 wxid_ab12cd → 微信号 ****** (also a bare wxid_…)
    names                           我叫张三 → 我叫张*, 姓王 → 姓*, 张阿姨 → *阿姨, 联系人：李四 → 联系人：李*,
                                    王芳女士 → 王*女士
The building number stays: it names a place everyone sees, and the grid's work is about places.
Order matters: ID numbers before phones (an ID contains eleven-digit runs), plates before names."""
import re

# The commonest Chinese surnames (together well over 80 % of people): a name is only masked when it
# starts with one, so "这阿姨" or "我叫外卖" are left alone. Surnames that are also everyday words
# (和, 时, 向, 常, 成, 明, 安, 全, 应, 商) are left out: "我和师傅说了" is not a name.
_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
             "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
             "戴莫孔汤温康施文牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
             "柯纪梅童凌毕单季裴霍涂苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳穆农司卓古"
             "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边卞姬师仇栾隋刁沙荣巫"
             "寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝")
_COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "令狐", "宇文")
_SURNAME = "(?:" + "|".join(_COMPOUND) + "|[" + _SURNAMES + "])"
_KIN = ("阿姨|大爷|大妈|大娘|叔叔|阿叔|婶婶|奶奶|爷爷|姥姥|姥爷|伯伯|大伯|大姐|大哥|大叔|师傅|先生|女士|小姐|老师|"
        "医生|书记|主任|经理|老板|同学|老人|老太|老汉|阿婆|阿公|姐|哥|叔|姨|婆|伯")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

_ID = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{13}[\dXx](?![0-9A-Za-z])")
# Bank card numbers and other long digit runs (16–19 digits) that are not ID numbers: keep the last four.
_LONG_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{12,15}(\d{4})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[- ]?\d{3,4}[- ]?(\d{4})(?!\d)")
_PLATE = re.compile(rf"([{_PROVINCES}][A-Z])[·•.\s]?[A-Z0-9]{{4}}[A-Z0-9挂学警领]{{1,2}}")
_HOUSE_DASHED = re.compile(r"(?<![\d-])(\d{1,3})-\d{1,2}-\d{3,4}(?![\d-])")
_HOUSE_WORDS = re.compile(r"(\d{1,3}(?:号楼|栋|幢|座|号))(?:\d{1,2})(单元)(?:\d{2,4})(室|号|户)?")
_ROOM = re.compile(r"(?<!\d)\d{3,4}(室|户)")
_WECHAT = re.compile(r"(微信号?|vx|VX|Vx|wx|WX|WeChat|wechat)([:：\s]*)([A-Za-z][-_A-Za-z0-9]{5,19})")
_WXID = re.compile(r"\bwxid_[A-Za-z0-9_]{4,}")
_NAME_INTRO = re.compile(rf"(我叫|我是|本人|名叫|姓名[:：]?\s*|联系人[:：]?\s*|户主[:：]?\s*)({_SURNAME})([\u4e00-\u9fa5]{{1,2}})")
_SURNAME_ONLY = re.compile(rf"(我姓|免贵姓|姓)({_SURNAME})(?=[\u4e00-\u9fa5，,。.\s]|$)")
_NAME_TITLE = re.compile(rf"({_SURNAME})({_KIN})")
# Formal titles follow a full name too: 王芳女士, 李建国同志.
_FULL_NAME_TITLE = re.compile(rf"({_SURNAME})([\u4e00-\u9fa5]{{1,2}}?)(女士|先生|同志)")
# After 我是, most words are roles (我是业主, 我是居民); only a surname plus one or two characters
# that do not start a common role noun is taken for a name.
_NOT_A_NAME = re.compile(r"^(?:业主|居民|租户|住户|老人|党员|志愿|网格|物业|外卖|快递|保安|家长|学生|本地|外地|这里|那里|这边|楼上|楼下|对门|隔壁|马路|路过|路人)")


# Full-width digits and Latin letters (１３８…, 鲁Ｐ) are typed on Chinese keyboards; a number written
# with them is the same number. Only these are folded: Chinese punctuation stays as written.
_FULL_WIDTH = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}


def _stars(n: int) -> str:
    return "*" * n


def _mask_name(match: re.Match) -> str:
    lead, surname, given = match.group(1), match.group(2), match.group(3)
    if lead == "我是" and _NOT_A_NAME.match(surname + given):
        return match.group(0)
    return f"{lead}{surname}{_stars(len(given))}"


def _mask_title(match: re.Match) -> str:
    return _stars(len(match.group(0)) - len(match.group(2))) + match.group(2)


def mask(text: str | None) -> str | None:
    """`text` with personal data replaced by asterisks (see the module docstring). None stays None."""
    if not text:
        return text
    text = text.translate(_FULL_WIDTH)
    text = _ID.sub(lambda m: m.group(1) + _stars(14), text)
    text = _LONG_DIGITS.sub(lambda m: _stars(len(m.group(0)) - 4) + m.group(1), text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)}", text)
    text = _PLATE.sub(lambda m: m.group(1) + "·*****", text)
    text = _HOUSE_DASHED.sub(lambda m: f"{m.group(1)}-*-***", text)
    text = _HOUSE_WORDS.sub(lambda m: f"{m.group(1)}*{m.group(2)}***{m.group(3) or ''}", text)
    text = _ROOM.sub(lambda m: "***" + m.group(1), text)
    text = _WECHAT.sub(lambda m: m.group(1) + m.group(2) + _stars(6), text)
    text = _WXID.sub("wxid_******", text)
    text = _NAME_INTRO.sub(_mask_name, text)
    text = _SURNAME_ONLY.sub(lambda m: m.group(1) + "*", text)
    text = _FULL_NAME_TITLE.sub(lambda m: m.group(1) + _stars(len(m.group(2))) + m.group(3), text)
    text = _NAME_TITLE.sub(_mask_title, text)
    return text
