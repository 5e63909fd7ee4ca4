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
    QQ numbers                      QQ 12345678, 扣扣：12345678 → QQ ********
    names with a relation word      老伴刘桂英 → 老伴刘**, 我儿子王小明 → 我儿子王**
    names with a kinship word       张桂兰阿姨 → ***阿姨 (the whole name before 阿姨, 大爷, 奶奶…)
    any other run of 7+ digits      a local number 88886666, a partial ID (region + birth date) → ********
What residents type is folded first: full-width digits and letters (１３８, 鲁Ｐ, ＋86), and numbers
said in Chinese or capital digits (一三九…, 幺三九…, 壹叁玖…) once seven or more stand together; a
number may be grouped by spaces, dashes, dots or typed one digit at a time (1 3 9 …).
The building number stays: it names a place everyone sees, and the grid's work is about places.
Order matters: ID numbers before phones (an ID contains eleven-digit runs), QQ before phones (a QQ
number may be a phone's digits), plates before names, the catch-all for long digit runs last.

Why regular expressions and not a library: `jionlp` (PyPI) extracts phones, IDs, QQ numbers and
plates with patterns of the same kind as these — Arabic digits only, separators "-" and " " — and
brings numpy, a segmenter (jiojio) and a 16 MB wheel into every process; it finds none of the
shapes residents actually defeated the old masking with (Chinese or capital digits, one digit at a
time, dots, a name before 阿姨). `cn2an` converts Chinese numerals *with units* (一百二十三 → 123); a
phone said aloud has no units, only digit characters, and 幺 is not one of its numerals, so a
fifteen-character table (`_CN_DIGITS`) does what it would do here, exactly and without a
dependency. The corpus in tests/masking/masking_corpus.py and the hypothesis test beside it are what
keeps these patterns honest."""
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

# Digits said in Chinese: lower-case, 幺 (how 1 is read out in numbers), 〇, and the capital forms.
_CN_DIGITS = str.maketrans("零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖", "001234567891123456789")
_CN_DIGIT = "[零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖]"
_ANY_DIGIT = "[0-9零〇一二三四五六七八九幺壹贰叁肆伍陆柒捌玖]"
_SEP = r"[ \t.\-·•_/]"  # how digits get grouped: 139 1234 5678, 139-1234-5678, 139.1234.5678, 1 3 9 …
# Seven or more digits in a row (separators allowed) with at least one said in Chinese: a number.
_CN_NUMBER = re.compile(rf"{_ANY_DIGIT}(?:{_SEP}?{_ANY_DIGIT}){{6,}}")

_ID = re.compile(rf"(?<![0-9A-Za-z])(\d(?:{_SEP}?\d){{3}})(?:{_SEP}?\d){{13}}{_SEP}?[\dXx](?![0-9A-Za-z])")
# Bank card numbers and other long digit runs (16–19 digits) that are not ID numbers: keep the last four.
_LONG_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{12,15}(\d{4})(?![0-9A-Za-z])")
_MOBILE = re.compile(rf"(?<![0-9A-Za-z])(?:\+\s?86{_SEP}?|86{_SEP})?1(?:{_SEP}?\d){{10}}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)[(（]?(0\d{2,3})[)）]?[- ]?\d{3,4}[- ]?(\d{4})(?!\d)")
_QQ = re.compile(rf"(QQ|qq|Qq|qQ|扣扣|企鹅)(号码|号)?([:：\s]*)\d(?:{_SEP}?\d){{4,11}}(?!\d)")
_PLATE = re.compile(rf"([{_PROVINCES}])\s?([A-Za-z])[·•.\s]?[A-Za-z0-9]{{4}}[A-Za-z0-9挂学警领]{{1,2}}")
_HOUSE_DASHED = re.compile(r"(?<![\d-])(\d{1,3})-\d{1,2}-\d{3,4}(?![\d-])")
_HOUSE_WORDS = re.compile(r"(\d{1,3}(?:号楼|栋|幢|座|号))(?:\d{1,2})(单元)(?:\d{2,4})(室|号|户|房)?")
_UNIT_ROOM = re.compile(r"(?<!\d)\d{1,2}(单元)\d{3,4}(室|号|户|房)?(?!\d)")
_BUILDING_ROOM = re.compile(r"(\d{1,3}(?:号楼|栋|幢|座))\d{3,4}(室|号|户|房)?(?!\d)")
_ROOM = re.compile(r"(?<!\d)\d{3,4}(室|户|房)")
_WECHAT = re.compile(r"(微信号?|威信|薇信|[Vv]信|vx|VX|Vx|vX|wx|WX|Wx|weixin|WeChat|wechat)(号码|号|id|ID)?([:：\s]*)"
                     r"([A-Za-z][-_A-Za-z0-9]{5,19})")
_WXID = re.compile(r"\bwxid_[A-Za-z0-9_]{4,}")
# What is left: a run of seven or more digits (spaces allowed) that no rule above recognised — a local
# number without its area code, a partial ID (region + birth date), a QQ number without "QQ" — unless
# a unit says it is an amount or a measure.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\d(?: ?\d){6,}(?![0-9A-Za-z])(?!\s*(?:元|块|万|千|米|平|斤|克|吨|度|人|户|次|个|台|辆|件))")
# A given name is one or two characters, none of them the little words a sentence goes on with
# (我爸爸何强的医保卡: the name ends before 的).
_GIVEN_CHAR = r"(?:(?![的了是在和说家也都就又把被给让跟从到去来住要不没有很还腿脚])[\u4e00-\u9fa5])"
_NAME_INTRO = re.compile(rf"(我叫|他叫|她叫|我是|本人|名叫|名字是|名字叫|报修人|反映人|请联系|打给|"
                         rf"姓名[:：]?\s*|联系人[:：]?\s*|户主[:：]?\s*)({_SURNAME})({_GIVEN_CHAR}{{1,2}})")
# A name after a relation word: 老伴刘桂英, 我儿子王小明, 邻居张建国.
_RELATION = ("老伴|爱人|丈夫|妻子|老公|老婆|媳妇|儿子|女儿|儿媳|女婿|母亲|父亲|妈妈|爸爸|我妈|我爸|孙子|孙女|外孙|"
             "邻居|房东|租户|租客|业主|家属|舅舅|姑姑|哥哥|姐姐|弟弟|妹妹")
_NAME_RELATION = re.compile(rf"({_RELATION})(是|叫)?({_SURNAME})({_GIVEN_CHAR}{{1,2}})")
_SURNAME_ONLY = re.compile(rf"(我姓|免贵姓|姓)({_SURNAME})(?=[\u4e00-\u9fa5，,。.\s]|$)")
# A surname, or a whole name (张桂兰阿姨), before a kinship or courtesy word.
_NAME_TITLE = re.compile(rf"({_SURNAME})({_GIVEN_CHAR}{{0,2}}?)({_KIN})")
# Formal titles follow a full name too: 王芳女士, 李建国同志.
_FULL_NAME_TITLE = re.compile(rf"({_SURNAME})([\u4e00-\u9fa5]{{1,2}}?)(女士|先生|同志)")
# After 我是, most words are roles (我是业主, 我是居民); only a surname plus one or two characters
# that do not start a common role noun is taken for a name.
_NOT_A_NAME = re.compile(r"^(?:业主|居民|租户|住户|老人|党员|志愿|网格|物业|外卖|快递|保安|家长|学生|本地|外地|这里|那里|这边|楼上|楼下|对门|隔壁|马路|路过|路人)")


# Full-width digits and Latin letters (１３８…, 鲁Ｐ) are typed on Chinese keyboards; a number written
# with them is the same number. Only these are folded: Chinese punctuation stays as written.
_FULL_WIDTH = {code: code - 0xFEE0 for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B),
                                                0xFF0B, 0xFF0D)}  # and ＋ － (＋86, １３９－…)


def _stars(n: int) -> str:
    return "*" * n


def _mask_name(match: re.Match) -> str:
    lead, surname, given = match.group(1), match.group(2), match.group(3)
    if lead == "我是" and _NOT_A_NAME.match(surname + given):
        return match.group(0)
    return f"{lead}{surname}{_stars(len(given))}"


def _mask_title(match: re.Match) -> str:
    return _stars(len(match.group(1)) + len(match.group(2))) + match.group(3)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _mask_mobile(match: re.Match) -> str:
    found = match.group(0)
    digits = _digits(found)
    digits = digits[2:] if len(digits) == 13 else digits  # +86
    if digits[1] not in "3456789":
        return found  # not a mobile: the catch-all below judges the run
    return f"{digits[:3]}****{digits[-4:]}"


def _mask_id(match: re.Match) -> str:
    return _digits(match.group(1)) + _stars(14)


def _fold_spoken(match: re.Match) -> str:
    found = match.group(0)
    # Three or more said in Chinese: a number read out (一三九…), not a name beside digits (李四 139…).
    return found.translate(_CN_DIGITS) if len(re.findall(_CN_DIGIT, found)) >= 3 else found


def mask(text: str | None) -> str | None:
    """`text` with personal data replaced by asterisks (see the module docstring). None stays None."""
    if not text:
        return text
    text = text.translate(_FULL_WIDTH)
    text = _CN_NUMBER.sub(_fold_spoken, text)
    text = _ID.sub(_mask_id, text)
    text = _LONG_DIGITS.sub(lambda m: _stars(len(m.group(0)) - 4) + m.group(1), text)
    text = _QQ.sub(lambda m: m.group(1) + (m.group(2) or "") + m.group(3) + _stars(8), text)
    text = _MOBILE.sub(_mask_mobile, text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)}", text)
    text = _PLATE.sub(lambda m: m.group(1) + m.group(2).upper() + "·*****", text)
    text = _HOUSE_DASHED.sub(lambda m: f"{m.group(1)}-*-***", text)
    text = _HOUSE_WORDS.sub(lambda m: f"{m.group(1)}*{m.group(2)}***{m.group(3) or ''}", text)
    text = _UNIT_ROOM.sub(lambda m: f"*{m.group(1)}***{m.group(2) or ''}", text)
    text = _BUILDING_ROOM.sub(lambda m: f"{m.group(1)}***{m.group(2) or ''}", text)
    text = _ROOM.sub(lambda m: "***" + m.group(1), text)
    text = _WECHAT.sub(lambda m: m.group(1) + (m.group(2) or "") + m.group(3) + _stars(6), text)
    text = _WXID.sub("wxid_******", text)
    text = _DIGIT_RUN.sub(lambda m: _stars(len(m.group(0))), text)
    text = _FULL_NAME_TITLE.sub(lambda m: m.group(1) + _stars(len(m.group(2))) + m.group(3), text)
    text = _NAME_RELATION.sub(lambda m: m.group(1) + (m.group(2) or "") + m.group(3) + _stars(len(m.group(4))), text)
    text = _NAME_INTRO.sub(_mask_name, text)
    text = _SURNAME_ONLY.sub(lambda m: m.group(1) + "*", text)
    text = _NAME_TITLE.sub(_mask_title, text)
    return text
