"""The category model loaded compactly (backend/categories/compact.py) gives the same words and the
same predictions as the model and jieba loaded in full, on a varied set of texts: the training
examples (requests, chatter), the user dictionary's own words, and inputs jieba treats apart
(Latin letters, digits, punctuation, spaces, nothing)."""
import random

import numpy as np
import pytest

from backend.categories import classifier as C, compact, model as M, training
from backend.categories.taxonomy import DATA_DIR

pytest.importorskip("marisa_trie")

DICTIONARY = DATA_DIR / training.DICTIONARY_FILE
ODD = ["", " ", "？？", "行", "WiFi坏了 3号楼", "C++ & python_3.10 -- 50% off", "楼道灯坏了好几天了，晚上漆黑一片",
       "１２３号楼ＡＢＣ单元", "电梯\n停了\t两天", "abc" * 40, "中华人民共和国国务院办公厅关于印发", "😀垃圾桶满了😀"]


@pytest.fixture(scope="module")
def texts():
    examples = [t for t, _ in training.examples(DATA_DIR)]
    user_words = [line.split()[0] for line in DICTIONARY.read_text(encoding="utf-8").splitlines() if line.split()]
    return random.Random(15).sample(examples, min(1500, len(examples))) + user_words[:300] + ODD


@pytest.fixture(scope="module")
def tokenizers(tmp_path_factory):
    # A trie built here (not the cache's), from jieba's dictionary and ours, as compact.tokenizer builds it.
    path = tmp_path_factory.mktemp("freq") / "jieba-freq-test.marisa"
    compact.build_frequencies(DICTIONARY, path)
    full = compact._full_tokenizer(DICTIONARY)
    small = compact._compact_tokenizer_class()()
    import array
    import marisa_trie
    small._ids = marisa_trie.Trie().mmap(str(path))
    small._counts = array.array("Q")
    small._counts.frombytes(path.with_suffix(".counts").read_bytes())
    small.FREQ = compact.Frequencies(small._ids, small._counts)
    small.total = small._counts[len(small._ids)]
    small.initialized = True
    return full, small


def test_the_trie_holds_every_counted_word_with_its_count_and_jiebas_total(tokenizers):
    full, small = tokenizers
    counted = {w: c for w, c in full.FREQ.items() if c}
    assert len(small.FREQ) == len(counted) and small.total == full.total
    for word in random.Random(7).sample(sorted(counted), 2000):
        assert word in small.FREQ and small.FREQ[word] == counted[word] == small.FREQ.get(word)
    prefix_only = next(w for w, c in full.FREQ.items() if not c)
    assert small.FREQ.get(prefix_only) is None and (full.FREQ.get(prefix_only) or None) is None


def test_the_same_words_as_jieba_in_full(tokenizers, texts):
    full, small = tokenizers
    for text in texts:
        normal = M.normalize_text(text)
        assert small.lcut(normal, HMM=False) == full.lcut(normal, HMM=False), text
        assert small.lcut(text, HMM=False) == full.lcut(text, HMM=False), text


def test_the_same_predictions_as_the_model_loaded_in_full(texts):
    path = training.model_path(DATA_DIR)
    if not path.exists():
        training.build(DATA_DIR)
    compacted = C.CategoryClassifier(compact.load_model(path, DICTIONARY))
    saved = dict(M._tokenizers)
    M._tokenizers.clear()
    try:
        whole = C.CategoryClassifier(M.Model.load(path, DICTIONARY))
    finally:
        M._tokenizers.clear()
        M._tokenizers.update(saved)
    assert type(whole.model._tok) is not type(compacted.model._tok)
    assert whole.threshold == compacted.threshold
    assert isinstance(compacted.model.layers["l3"].W.base, np.memmap)  # mapped, not read into memory
    for text in texts:
        assert [p.to_dict() for p in compacted.predict_top(text)] == [p.to_dict() for p in whole.predict_top(text)], text
