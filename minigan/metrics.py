"""Scores for generated samples: is the generator any good, and does it cover every mode?

Pixels cannot be compared directly, so MNIST digits are scored through a small CNN
classifier trained with minigan on the embedded digits (``MnistClassifier``, weights in
``minigan/weights/mnist_classifier.npz``, rebuilt by ``python tools/train_classifier.py``):

    class coverage     classes that receive ≥ 5 % of the samples (mode collapse: few)
    confidence         mean max_y p(y|x): digits that look like some digit score high
    classifier-FID     Fréchet distance of the classifier's 64-d penultimate features,
                       real vs generated (lower is better, 0 for identical statistics)
    inception score    exp(E_x KL(p(y|x) ‖ p(y))): ≤ number of classes, high when every
                       sample is confident AND the classes are balanced
    label accuracy     for a conditional GAN: share of samples classified as the label
                       they were generated for

The classifier is not Inception-v3, so the numbers compare runs of minigan with each
other, not with published FID/IS values. 2-D toy mixtures (ring8, grid25) are scored
directly: modes covered and the share of high-quality samples (within 3σ of a mode).

``python -m minigan eval CHECKPOINT`` prints these scores: a model's ``evaluate``
draws its samples and hands them to ``score_samples``.
"""
import os

import numpy as np

from minigan import backend, nn
from minigan.autograd import Tensor, no_grad
from minigan.nn.conv import Conv2d
from minigan.nn.resize import MaxPool2d
from minigan.serialization import load


# ==================== Fréchet distance ====================

def sqrtm_psd(a):
    """The symmetric square root of a symmetric positive semi-definite matrix:
    a = V diag(λ) Vᵀ  ->  a^{1/2} = V diag(√λ) Vᵀ. Round-off makes tiny negative
    eigenvalues of a PSD matrix; they are clipped to 0 before the √.

    >>> sqrtm_psd(np.array([[4.0, 0.0], [0.0, 9.0]]))
    array([[2., 0.],
           [0., 3.]])
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"sqrtm_psd: expected a square matrix, found shape {a.shape}")
    lam, v = np.linalg.eigh((a + a.T) / 2)  # symmetrise: eigh reads one triangle only
    return (v * np.sqrt(np.clip(lam, 0, None))) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet (2-Wasserstein²) distance between N(μ₁, Σ₁) and N(μ₂, Σ₂):

        d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}).

    Σ₁^{1/2} Σ₂ Σ₁^{1/2} is symmetric PSD, so its square root is taken by eigendecomposition
    (``sqrtm_psd``) and Tr of it is Σ √λᵢ. When Σ₁ and Σ₂ commute (e.g. both diagonal, with
    eigenvalues aᵢ, bᵢ) the trace term is Σ (√aᵢ − √bᵢ)². The result is clipped at 0
    (round-off can make d² of identical statistics −1e-13).

    >>> frechet_distance(np.zeros(2), np.diag([1.0, 4.0]), np.ones(2), np.diag([4.0, 1.0]))
    4.0
    """
    mu1, mu2 = (np.atleast_1d(np.asarray(m, np.float64)) for m in (mu1, mu2))
    sigma1, sigma2 = (np.atleast_2d(np.asarray(s, np.float64)) for s in (sigma1, sigma2))
    d = mu1.shape[0]
    for name, value, shape in (("mu1", mu1, (d,)), ("mu2", mu2, (d,)),
                               ("sigma1", sigma1, (d, d)), ("sigma2", sigma2, (d, d))):
        if value.shape != shape:
            raise ValueError(f"frechet_distance: expected {name} of shape {shape}, found "
                             f"{value.shape}")
    root1 = sqrtm_psd(sigma1)
    middle = root1 @ sigma2 @ root1
    lam = np.linalg.eigvalsh((middle + middle.T) / 2)
    trace_root = np.sqrt(np.clip(lam, 0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * trace_root, 0.0))


def feature_statistics(features):
    """Mean (D,) and unbiased covariance (D, D) of ``features`` (N, D), N ≥ 2."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"feature_statistics: expected features (N, D) with N >= 2, found "
                         f"shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False).reshape(
        features.shape[1], features.shape[1])  # (D, D) even for D = 1


def fid(features1, features2):
    """Fréchet distance between the Gaussians fitted to two feature sets (N₁, D), (N₂, D).

    >>> x = np.random.default_rng(0).standard_normal((100, 3))
    >>> round(fid(x, x), 9), round(fid(x, x + 1.0), 6)  # 0 up to round-off; 1 in 3 dims: 3
    (0.0, 3.0)
    """
    f1, f2 = np.asarray(features1), np.asarray(features2)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError(f"fid: expected two feature arrays (N, D) with the same D, found "
                         f"shapes {f1.shape} and {f2.shape}")
    return frechet_distance(*feature_statistics(f1), *feature_statistics(f2))


# ==================== classifier scores ====================

def _check_probs(probs, name):
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2:
        raise ValueError(f"{name}: expected class probabilities (N, K), found shape "
                         f"{probs.shape}")
    if (probs < 0).any() or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(f"{name}: expected rows of non-negative probabilities summing to 1, "
                         f"found row sums in [{probs.sum(axis=1).min():.4g}, "
                         f"{probs.sum(axis=1).max():.4g}]")
    return probs


def inception_score(probs):
    """exp(E_x KL(p(y|x) ‖ p(y))), with p(y) = E_x p(y|x) the marginal over the samples.

    1 when every sample gets the same prediction (KL = 0); K (the number of classes) when
    each prediction is one-hot and the K classes are equally frequent; in between otherwise.
    Terms with p(y|x) = 0 contribute 0 (0 log 0 = 0).

    >>> inception_score(np.eye(4))
    4.0
    """
    probs = _check_probs(probs, "inception_score")
    marginal = probs.mean(axis=0, keepdims=True)  # (1, K)
    positive = probs > 0
    ratio = np.where(positive, probs, 1.0) / np.where(positive, marginal, 1.0)
    kl = (probs * np.log(ratio)).sum(axis=1)  # (N,)
    return float(np.exp(kl.mean()))


def class_histogram(predictions, num_classes=10):
    """Share of the samples predicted as each class, (num_classes,)."""
    predictions = np.asarray(predictions)
    if predictions.ndim != 1 or predictions.size == 0:
        raise ValueError(f"expected a non-empty 1-D array of predicted classes, found shape "
                         f"{predictions.shape}")
    if predictions.min() < 0 or predictions.max() >= num_classes:
        raise ValueError(f"expected predicted classes in [0, {num_classes}), found values in "
                         f"[{predictions.min()}, {predictions.max()}]")
    return np.bincount(predictions.astype(np.int64), minlength=num_classes) / predictions.size


def class_coverage(predictions, num_classes=10, min_share=0.05):
    """How many classes receive at least ``min_share`` of the samples (0..num_classes).

    >>> class_coverage(np.array([0, 0, 1, 1, 1, 2] * 5 + [3]), num_classes=10)
    3
    """
    return int((class_histogram(predictions, num_classes) >= min_share).sum())


def mean_confidence(probs):
    """Mean over samples of max_y p(y|x)."""
    return float(_check_probs(probs, "mean_confidence").max(axis=1).mean())


def label_accuracy(probs, labels):
    """Share of samples whose predicted class is the label they were generated for."""
    probs = _check_probs(probs, "label_accuracy")
    labels = np.asarray(labels)
    if labels.shape != (probs.shape[0],):
        raise ValueError(f"label_accuracy: expected labels of shape ({probs.shape[0]},), "
                         f"found {labels.shape}")
    return float((probs.argmax(axis=1) == labels).mean())


# ==================== 2-D toy mixtures ====================

def toy_metrics(points, modes, std, min_share=0.01, radius=3.0):
    """Mode coverage of 2-D samples from a Gaussian mixture with centres ``modes`` (K, 2).

    Each sample goes to its nearest mode; it is *high quality* when it lies within
    ``radius``·std of it (3σ). A mode is *covered* when at least max(1, min_share · N) of
    the samples are high-quality samples of it. Returns a dict with "modes_covered",
    "num_modes", "high_quality" (share of the N samples) and "mode_counts" (K,).

    >>> modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    >>> r = toy_metrics(np.array([[0.0, 0.01], [0.0, 5.0], [9.99, 0.0]]), modes, std=0.1)
    >>> r["modes_covered"], round(r["high_quality"], 4)
    (2, 0.6667)
    """
    points, modes = np.asarray(points, np.float64), np.asarray(modes, np.float64)
    if points.ndim != 2 or modes.ndim != 2 or points.shape[1] != modes.shape[1] \
            or len(points) == 0:
        raise ValueError(f"toy_metrics: expected points (N, D) and modes (K, D) with the same "
                         f"D, found shapes {points.shape} and {modes.shape}")
    distances = np.linalg.norm(points[:, None, :] - modes[None, :, :], axis=2)  # (N, K)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(points)), nearest] <= radius * std
    counts = np.bincount(nearest[good], minlength=len(modes))
    covered = int((counts >= max(1.0, min_share * len(points))).sum())
    return {"modes_covered": covered, "num_modes": len(modes),
            "high_quality": float(good.mean()), "mode_counts": counts}


# ==================== the MNIST classifier ====================

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights",
                       "mnist_classifier.npz")
DIGIT_SHAPE = (1, 28, 28)


class MnistClassifier(nn.Module):
    """A small CNN for 28×28 digits in [−1, 1]; its 64 penultimate features feed the FID.

        x (N, 1, 28, 28) → Conv(1, 16, 5)+ReLU → MaxPool 2   (N, 16, 12, 12)
          → Conv(16, 32, 5)+ReLU → MaxPool 2                 (N, 32, 4, 4)
          → flatten 512 → Linear(512, 64)+ReLU = features    (N, 64)
          → Linear(64, 10) = logits                          (N, 10)
    """

    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(Conv2d(1, 16, 5), nn.ReLU(), MaxPool2d(2),
                                  Conv2d(16, 32, 5), nn.ReLU(), MaxPool2d(2),
                                  nn.Flatten())  # (N, 32, 4, 4) -> (N, 512)
        self.fc = nn.Sequential(nn.Linear(512, 64), nn.ReLU())
        self.head = nn.Linear(64, 10)

    def features(self, x):
        """The penultimate activations (N, 64)."""
        return self.fc(self.conv(x))

    def forward(self, x):
        return self.head(self.features(x))


def load_classifier(path=WEIGHTS, device="cpu"):
    """The shipped classifier (eval mode) on ``device``; its weights come from
    ``tools/train_classifier.py``."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"classifier weights {path!r} do not exist; rebuild them with "
                                "`python tools/train_classifier.py`")
    model = MnistClassifier()
    model.load_state_dict(load(path, device="cpu")["model"])
    return model.to(device).eval()


def classify(images, model=None, batch_size=500):
    """Class probabilities (N, 10) and penultimate features (N, 64), as float64 NumPy
    arrays, of digits ``images`` (N, 1, 28, 28) in [−1, 1] (a Tensor or an array)."""
    data = images.data if isinstance(images, Tensor) else images
    if tuple(data.shape[1:]) != DIGIT_SHAPE:
        raise ValueError(f"the MNIST classifier takes digits of shape (N, 1, 28, 28), found "
                         f"{tuple(data.shape)}")
    model = load_classifier() if model is None else model
    device = next(model.parameters()).device
    probs, features = [], []
    with no_grad():
        for start in range(0, data.shape[0], batch_size):
            x = Tensor(backend.to_device(data[start:start + batch_size], device)
                       .astype(np.float32))
            h = model.features(x)
            probs.append(model.head(h).softmax(axis=1).numpy())
            features.append(h.numpy())
    return (np.concatenate(probs).astype(np.float64),
            np.concatenate(features).astype(np.float64))


def digit_scores(probs, features, real_features, labels=None):
    """The digit scores of generated samples from their classifier outputs: coverage,
    confidence, inception score, FID against ``real_features``, label accuracy."""
    predictions = probs.argmax(axis=1)
    scores = {"class_coverage": class_coverage(predictions),
              "samples_per_class": " ".join(
                  str(n) for n in np.bincount(predictions, minlength=probs.shape[1])),
              "confidence": mean_confidence(probs),
              "inception_score": inception_score(probs),
              "fid": fid(real_features, features)}
    if labels is not None:
        scores["label_accuracy"] = label_accuracy(probs, labels)
    return scores


# ==================== score a model's samples ====================

DIGIT_DATA = ("mnist5k", "mnist5k-bin", "mnist5k-sbin", "mnist")


def score_samples(samples, data, labels=None, device="cpu"):
    """The scores of generated ``samples`` (a NumPy array) against the data set spec
    ``data`` they imitate, a dict name -> value (``python -m minigan eval`` prints it).

    MNIST digits ("mnist5k", its binarised "mnist5k-bin" and "mnist5k-sbin",
    "mnist[:DIR]"), (N, 1, 28, 28): the classifier scores, FID against the held-out test
    digits (of the same binarisation), and, as the floor a perfect generator would reach,
    "fid_real" between as many real training digits and the same test digits; ``labels``:
    the classes the samples were drawn for (label accuracy). 2-D mixtures ("ring8",
    "grid25"), (N, 2): toy_metrics.
    """
    from minigan.data import load_dataset

    samples = np.asarray(samples)
    name = data.split(":")[0]
    if samples.ndim == 2:
        dataset = load_dataset(data)
        if not hasattr(dataset, "modes"):
            raise ValueError(f"eval of 2-D points needs a mixture with known modes (ring8, "
                             f"grid25), found {data!r}")
        scores = toy_metrics(samples, dataset.modes, dataset.std)
        counts = scores.pop("mode_counts")
        scores["samples_per_mode"] = " ".join(str(int(c)) for c in counts)
        return scores
    if name not in DIGIT_DATA or samples.shape[1:] != DIGIT_SHAPE:
        raise ValueError(f"eval scores MNIST digits (1, 28, 28) of {' or '.join(DIGIT_DATA)} "
                         f"with the digit classifier, found {samples.shape[1:]} samples of "
                         f"{data!r}")
    model = load_classifier(device=device)
    test = load_dataset(data, split="test")
    train = load_dataset(data, split="train")
    _, real_features = classify(test.images, model)
    keep = np.random.default_rng(0).choice(len(train), len(test), replace=False)
    _, train_features = classify(train.images[keep], model)
    probs, features = classify(samples, model)
    scores = digit_scores(probs, features, real_features, labels)
    scores["fid_real"] = fid(real_features, train_features)
    scores["samples"] = len(samples)
    return scores
