"""Finding the entry a resident's question asks for: TF-IDF over character 1–3-grams and jieba words
(sublinear tf, cosine), each entry scored by the best of its question and its variants. No model is
trained and nothing is downloaded: an index is built from the entries themselves in well under a
second, rebuilt in each process when an entry changes (the stamp below), so a new or changed entry
is answered on the next question. Scope and validity are filtered per question; the nearer scope
wins among the entries that match about as well (`NEAR_MARGIN`)."""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from ..text import for_matching

MAX_CHARS = 300  # a pasted essay costs no more than a long question
NEAR_MARGIN = 0.15  # a nearer scope's entry this close to the best one wins
SCOPE_RANK = {"community": 0, "street": 1, "district": 2}

_lock = threading.Lock()


def _tokenizer():
    from ..categories.model import tokenizer
    return tokenizer(None)


def _is_word(w: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in w)


# How a question is asked, not what it asks: removed before matching, so 「暖气什么时候来」 and
# 「什么时候开始打疫苗」 are not alike for their 什么时候, nor 「医保卡怎么补办」 unlike 「补办医保卡」.
ASKING = re.compile("|".join(sorted((
    "请问", "问一下", "想问", "打听", "咨询", "我想", "我要", "俺想", "一下", "什么时候", "啥时候", "什么时间",
    "几点", "几号", "哪天", "哪一天", "怎么办", "怎么弄", "怎么样", "怎么", "怎样", "咋办", "咋整", "咋弄", "咋",
    "如何", "什么", "啥", "哪里", "哪儿", "在哪", "哪个", "哪些", "多少", "能不能", "可不可以", "可以", "有没有",
    "是不是", "需要", "知道", "告诉我", "吗", "呢", "吧", "啊", "呀", "嘛", "哈", "了", "的", "是", "么", "您好", "你好",
    "开始", "今年", "现在", "我们", "咱们", "俺们", "小区", "社区"), key=len, reverse=True)))


def normalize(text: str) -> str:
    text = for_matching(text or "")[:MAX_CHARS].lower()
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    stripped = ASKING.sub("", text)
    return stripped or text


def analyze(text: str) -> list[str]:
    """Character 1–3-grams of the letters and digits, and the jieba words (marked w:)."""
    chars = normalize(text)
    grams = [chars[i:i + n] for n in (1, 2, 3) for i in range(len(chars) - n + 1)]
    words = ["w:" + w for w in _tokenizer().lcut(chars, HMM=False) if _is_word(w)]
    return grams + words


def _given(tokens: list[str]) -> list[str]:
    return tokens


def vectorizer():
    """TF-IDF over token lists already made by `analyze` (the background's are made once)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    return TfidfVectorizer(analyzer=_given, sublinear_tf=True, dtype=np.float32)


_background: list[list[str]] = []
_background_lock = threading.Lock()


def background() -> list[list[str]]:
    """What residents write besides questions — the bot's training messages (reports, small talk,
    follow-ups; intents/nlu without the FAQ file) and the kind model's — as token lists, made once:
    counted in the IDF only, so a word every kind of message uses (时间, 开放, 在哪, 办理) weighs little
    and a topic's own (暖气, 泳池, 驿站) much, however few entries there are."""
    with _background_lock:
        if not _background:
            _background.extend([analyze(text) for text in _background_texts()])
    return _background


def _background_texts() -> list[str]:
    import yaml
    from ..config import ROOT
    texts = []
    for path in sorted((ROOT / "intents" / "nlu").glob("*.yml")):
        if path.name == "faq.yml":
            continue
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            texts += [line.strip()[2:] for line in str(block.get("examples", "")).splitlines()
                      if line.strip().startswith("- ")]
    kinds = ROOT / "intents" / "kinds" / "train.tsv"
    if kinds.exists():
        texts += [line.split("\t")[-1] for line in kinds.read_text(encoding="utf-8").splitlines()[1:] if line]
    return texts


@dataclass
class Doc:
    """What retrieval needs of an entry (kept in the index, so a question loads no rows)."""
    id: int
    scope: str
    street_id: int | None
    community_id: int | None
    question: str
    texts: list[str]
    valid_from: date | None = None
    valid_until: date | None = None

    def applies(self, community_id: int | None, street_id: int | None, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        if self.valid_until is not None and day > self.valid_until:
            return False
        if self.scope == "community":
            return community_id is not None and self.community_id == community_id
        if self.scope == "street":
            return street_id is not None and self.street_id == street_id
        return True


@dataclass
class Hit:
    doc: Doc
    score: float


@dataclass
class Index:
    stamp: tuple
    docs: list[Doc]
    vec: object = None
    matrix: object = None  # rows = every text of every doc, in doc order
    by_feature: object = None  # the same, features × texts
    vocabulary: dict = field(default_factory=dict)
    idf: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def build(cls, docs: list[Doc], stamp: tuple = ()) -> "Index":
        index = cls(stamp, docs)
        texts = [t for d in docs for t in d.texts]
        if texts:
            tokens = [analyze(t) for t in texts]
            index.vec = vectorizer()
            index.vec.fit(tokens + background())
            index.matrix = index.vec.transform(tokens).tocsr()
            index.by_feature = index.matrix.T.tocsr()
            index.vocabulary = index.vec.vocabulary_
            index.idf = index.vec.idf_.astype(np.float32)
            index.starts = np.cumsum([0] + [len(d.texts) for d in docs[:-1]]).astype(np.int64)
        return index

    def query(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The question's known features and their TF-IDF weights, L2-normalised (what the
        vectorizer's transform gives, without its per-call overhead)."""
        counts: dict[int, int] = {}
        for token in analyze(text):
            column = self.vocabulary.get(token)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        columns = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * self.idf[columns]
        return columns, weights / (float(np.sqrt((weights * weights).sum())) or 1.0)

    def scores(self, text: str) -> np.ndarray:
        """The best cosine of each doc's texts with the question."""
        if self.matrix is None or not normalize(text):
            return np.zeros(len(self.docs), dtype=np.float32)
        columns, weights = self.query(text)
        if not len(columns):
            return np.zeros(len(self.docs), dtype=np.float32)
        rows = self.by_feature[columns].T @ weights  # features × texts, only the question's rows
        return np.maximum.reduceat(rows, self.starts)

    def search(self, text: str, *, community_id: int | None, street_id: int | None, day: date,
               limit: int = 2) -> list[Hit]:
        """The entries that apply to the resident, best first; the nearer scope first among those
        within NEAR_MARGIN of the best."""
        scores = self.scores(text)
        order = np.argsort(-scores, kind="stable")
        hits: list[Hit] = []
        for i in order:
            if scores[i] <= 0:
                break
            doc = self.docs[int(i)]
            if doc.applies(community_id, street_id, day):
                hits.append(Hit(doc, float(scores[i])))
                if len(hits) >= 8:
                    break
        if not hits:
            return []
        best = hits[0].score
        near = [h for h in hits if h.score >= best - NEAR_MARGIN]
        near.sort(key=lambda h: (SCOPE_RANK[h.doc.scope], -h.score))
        winner = near[0]
        # What a farther scope says about as well is overridden by the winner, not offered beside it.
        rest = [h for h in hits if h is not winner and not (
            h in near and SCOPE_RANK[h.doc.scope] > SCOPE_RANK[winner.doc.scope])]
        return ([winner] + rest)[:limit]


_index: Index | None = None


def current(stamp: tuple, load) -> Index:
    """The process's index, rebuilt when the entries' stamp changed (`load()` gives the docs)."""
    global _index
    index = _index
    if index is not None and index.stamp == stamp:
        return index
    with _lock:
        if _index is None or _index.stamp != stamp:
            _index = Index.build(load(), stamp)
        return _index


def forget() -> None:
    global _index
    _index = None


def groups(texts: list[str], threshold: float = 0.12) -> list[list[int]]:
    """Similar questions together: average-linkage clustering on the same features (two groups
    join while their questions are alike by `threshold` on average). Lists of positions in `texts`,
    the biggest group first."""
    if not texts:
        return []
    if len(texts) == 1:
        return [[0]]
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform
    tokens = [analyze(t) for t in texts]
    vec = vectorizer()
    vec.fit(tokens + background())
    matrix = vec.transform(tokens).tocsr()
    distance = 1.0 - np.clip((matrix @ matrix.T).toarray(), 0.0, 1.0)
    np.fill_diagonal(distance, 0.0)
    labels = fcluster(linkage(squareform(distance, checks=False), "average"), t=1.0 - threshold,
                      criterion="distance")
    members: dict[int, list[int]] = {}
    for position, label in enumerate(labels):
        members.setdefault(int(label), []).append(position)
    return sorted(members.values(), key=lambda m: (-len(m), m[0]))
