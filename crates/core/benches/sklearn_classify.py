"""scikit-learn's time for the same classify suite as benches/metrics.rs, on one
million string labels drawn the same way (skewed gold, ~78 % right).

Prints JSON: {"rows", "sklearn_s" (full suite, best of 3), "sklearn_confusion_s"}.
"""
import json
import sys
import time

import numpy as np
from sklearn import metrics

ROWS = 1_000_000
LABELS = np.array(["billing", "cancel", "complaint", "other", "tech"])
rng = np.random.default_rng(42)
gold_i = rng.choice(5, size=ROWS, p=[0.35, 0.25, 0.2, 0.12, 0.08])
right = rng.random(ROWS) < 0.78
pred_i = np.where(right, gold_i, rng.integers(0, 5, size=ROWS))
gold, pred = LABELS[gold_i], LABELS[pred_i]


def suite():
    labels = np.unique(np.concatenate([gold, pred]))
    metrics.accuracy_score(gold, pred)
    metrics.confusion_matrix(gold, pred, labels=labels)
    metrics.precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    for avg in ("macro", "micro", "weighted"):
        metrics.precision_recall_fscore_support(gold, pred, labels=labels, average=avg, zero_division=0)
    metrics.cohen_kappa_score(gold, pred)
    metrics.matthews_corrcoef(gold, pred)
    metrics.balanced_accuracy_score(gold, pred)


def best(f, n=3):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


json.dump(
    {
        "rows": ROWS,
        "sklearn_s": best(suite),
        "sklearn_confusion_s": best(lambda: metrics.confusion_matrix(gold, pred)),
    },
    sys.stdout,
)
