"""What a cluster is, in a few words: the majority value of a label column with its share (`7 · 96%`), or the words
that set its texts apart from the other clusters' (class-based TF-IDF, as BERTopic names topics), or its number."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MISSING = "(missing)"
WORDS = 3  # a label's words: short enough to read on the map
MAX_CHARS = 2_000  # of each text: a cluster's words show in its first lines; whole books would cost minutes
MAX_TERMS = 50_000  # the vocabulary, most frequent first: enough for a label, bounded memory whatever the texts
TOKENS = r"(?u)\b[^\W\d_]{2,}\b"  # words of two letters or more: no numbers, no lone letters


def majority(codes: np.ndarray, k: int, column: pa.ChunkedArray) -> tuple[list[str], list[float]]:
    """Each of the `k` clusters' most common value of `column` (as text; ties: the value met first) and its share
    of the cluster. `codes`: each row's cluster, or -1 for none."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    shown = [_text(v) for v in encoded.dictionary.to_pylist()] + [MISSING]  # the last: a null
    # an empty value is "(missing)" too, as in the legend, and counts with the nulls
    shown = [MISSING if text == "" else text for text in shown]
    position: dict[str, int] = {}
    for text in shown:
        position.setdefault(text, len(position))
    values = list(position)
    same = np.array([position[text] for text in shown], dtype=np.int64)
    index = same[encoded.indices.fill_null(len(shown) - 1).to_numpy(zero_copy_only=False).astype(np.int64)]
    inside = codes >= 0
    counts = np.zeros((k, len(values)), dtype=np.int64)
    np.add.at(counts, (codes[inside], index[inside]), 1)
    top = counts.argmax(axis=1)
    sizes = np.maximum(counts.sum(axis=1), 1)
    return [values[t] for t in top], (counts[np.arange(k), top] / sizes).tolist()


def distinctive_words(codes: np.ndarray, k: int, texts: pa.ChunkedArray, top: int = WORDS) -> list[tuple[str, ...]]:
    """Each cluster's `top` words by class-based TF-IDF: a word's frequency in the cluster's texts (all its texts
    as one document) times log(1 + A / f), with A the average number of words per cluster and f the word's count
    in every text, noise included: frequent in the cluster, rare elsewhere. English stop words are left out."""
    from sklearn.feature_extraction.text import CountVectorizer

    docs = [(t or "")[:MAX_CHARS] for t in texts.to_pylist()]
    vectorizer = CountVectorizer(stop_words="english", token_pattern=TOKENS, max_features=MAX_TERMS)
    try:
        counts = vectorizer.fit_transform(docs)
    except ValueError:  # no word at all (empty texts, only stop words)
        return [() for _ in range(k)]
    terms = vectorizer.get_feature_names_out()
    per_class = _sum_by_cluster(counts, np.where(codes >= 0, codes, k), k + 1)  # row k: the noise
    f = per_class.sum(axis=0)
    average = per_class.sum() / max(1, k + (per_class[k].sum() > 0))
    tf = per_class[:k] / np.maximum(per_class[:k].sum(axis=1, keepdims=True), 1)
    score = tf * np.log1p(average / np.maximum(f, 1))
    words = []
    for row, present in zip(score, per_class[:k] > 0, strict=True):
        order = np.lexsort((terms, -row))  # ties by the word, so the same texts give the same label
        words.append(tuple(str(terms[i]) for i in order[:top] if present[i]))
    return words


def _sum_by_cluster(counts, codes: np.ndarray, classes: int) -> np.ndarray:
    """Word counts summed per cluster (a sparse one-hot product: one pass over the counts)."""
    from scipy.sparse import csr_matrix

    onehot = csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(classes, len(codes)))
    return np.asarray((onehot @ counts).todense(), dtype=np.float64)


def unique(labels: list[str]) -> list[str]:
    """Labels as given, a repeated one numbered (`1 · 60% (2)`), so that each names one cluster."""
    taken: set[str] = set()
    out = []
    for label in labels:
        name, n = label, 1
        while name in taken:
            n += 1
            name = f"{label} ({n})"
        taken.add(name)
        out.append(name)
    return out


def _text(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
