"""Sample metrics against closed forms and hand-made samples; the shipped MNIST
classifier's held-out accuracy."""
import numpy as np
import pytest

from minigan import metrics as M


def random_spd(d, rng):
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


def rotation(d, rng):
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return q


# ==================== Fréchet distance ====================

def test_sqrtm_psd_squares_back_and_clips_round_off():
    rng = np.random.default_rng(0)
    a = random_spd(5, rng)
    root = M.sqrtm_psd(a)
    np.testing.assert_allclose(root @ root, a, atol=1e-10)
    np.testing.assert_allclose(root, root.T)
    v = rng.standard_normal((4, 1))
    singular = v @ v.T - 1e-15 * np.eye(4)  # rank 1, tiny negative eigenvalues
    root = M.sqrtm_psd(singular)
    assert np.isfinite(root).all()
    np.testing.assert_allclose(root @ root, v @ v.T, atol=1e-7)


def test_frechet_distance_diagonal_closed_form():
    """Diagonal covariances commute: d² = ‖μ₁ − μ₂‖² + Σ(√aᵢ − √bᵢ)²."""
    a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1 + 4 + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    assert M.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected)


def test_frechet_distance_commuting_covariances_closed_form():
    """Σ₁ = Q diag(a) Qᵀ, Σ₂ = Q diag(b) Qᵀ share eigenvectors: the same formula holds."""
    rng = np.random.default_rng(1)
    q = rotation(6, rng)
    a, b = rng.uniform(0.1, 3, 6), rng.uniform(0.1, 3, 6)
    d = M.frechet_distance(np.zeros(6), q @ np.diag(a) @ q.T, np.zeros(6), q @ np.diag(b) @ q.T)
    assert d == pytest.approx(((np.sqrt(a) - np.sqrt(b)) ** 2).sum(), rel=1e-9)


def test_frechet_distance_general_against_eigenvalues_of_the_product():
    """Non-commuting covariances. Σ₁Σ₂ is similar to the PSD Σ₁^{1/2}Σ₂Σ₁^{1/2}, so its
    eigenvalues are real and ≥ 0 and Tr((Σ₁Σ₂)^{1/2}) = Σᵢ √λᵢ(Σ₁Σ₂): a closed form from the
    general (non-symmetric) eigenvalues, not the symmetric square root the metric uses."""
    rng = np.random.default_rng(2)
    s1, s2 = random_spd(5, rng), random_spd(5, rng)
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    trace_sqrt = np.sqrt(np.real(np.linalg.eigvals(s1 @ s2))).sum()
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2) - 2 * trace_sqrt
    assert M.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)
    assert M.frechet_distance(mu2, s2, mu1, s1) == pytest.approx(expected, rel=1e-8)


def test_fid_of_samples_zero_symmetric_and_near_closed_form():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4000, 3)) * np.array([1.0, 2.0, 0.5])
    y = rng.standard_normal((4000, 3)) * np.array([2.0, 1.0, 0.5]) + np.array([1.0, 0, 0])
    # fid(x, x) is Tr Σ + Tr Σ − 2 Tr((Σ^½ Σ Σ^½)^½): exactly 0, but computed as a difference
    # of terms of size 2 Tr Σ (≈ 10.5 here) from backward-stable eigendecompositions, each
    # off by a few machine epsilons relative. 100 ε · 2 Tr Σ (2e-13) bounds that round-off.
    trace = np.trace(np.cov(x, rowvar=False))
    assert M.fid(x, x) == pytest.approx(0.0, abs=100 * np.finfo(float).eps * 2 * trace)
    assert M.fid(x, y) == pytest.approx(M.fid(y, x), rel=1e-9)
    # populations: ‖μ₁−μ₂‖² = 1, Σ(√a − √b)² = (1−2)² + (2−1)² + 0 = 2
    assert M.fid(x, y) == pytest.approx(3.0, abs=0.15)


def test_feature_statistics_use_the_unbiased_covariance():
    """Points (0, 0), (2, 0), (0, 2): mean (⅔, ⅔), deviations (−⅔, −⅔), (⁴⁄₃, −⅔), (−⅔, ⁴⁄₃).
    Σ of the squared x deviations is 4/9 + 16/9 + 4/9 = 8/3, of the products
    4/9 − 8/9 − 8/9 = −4/3; divided by N − 1 = 2: Σ = [[4/3, −2/3], [−2/3, 4/3]]
    (the biased N-denominator would give [[8/9, −4/9], [−4/9, 8/9]])."""
    mean, cov = M.feature_statistics(np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]]))
    np.testing.assert_allclose(mean, [2 / 3, 2 / 3], rtol=1e-15)
    np.testing.assert_allclose(cov, [[4 / 3, -2 / 3], [-2 / 3, 4 / 3]], rtol=1e-15)


def test_fid_uses_the_unbiased_covariance():
    """{−1, 1} against {4, 4} in 1-D: ‖μ₁ − μ₂‖² = 16, σ₁² = (1 + 1)/(2 − 1) = 2, σ₂² = 0 and
    the cross term 2√(σ₁²σ₂²) = 0: FID = 18 (17 with the biased σ₁² = 1)."""
    assert M.fid(np.array([[-1.0], [1.0]]), np.array([[4.0], [4.0]])) == pytest.approx(
        18.0, rel=1e-15)


def test_fid_with_fewer_samples_than_dimensions_is_finite():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((5, 10)), rng.standard_normal((6, 10))
    assert np.isfinite(M.fid(x, y)) and M.fid(x, y) > 0


def test_fid_bad_shapes():
    with pytest.raises(ValueError, match=r"same D, found shapes \(4, 3\) and \(4, 2\)"):
        M.fid(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"N >= 2, found shape \(1, 3\)"):
        M.fid(np.zeros((1, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"sigma2 of shape \(2, 2\), found \(3, 3\)"):
        M.frechet_distance(np.zeros(2), np.eye(2), np.zeros(2), np.eye(3))


# ==================== inception score, coverage, confidence ====================

def test_inception_score_bounds():
    rng = np.random.default_rng(5)
    constant = np.tile(rng.dirichlet(np.ones(10)), (50, 1))
    assert M.inception_score(constant) == pytest.approx(1.0)
    one_hot = np.eye(10)[np.repeat(np.arange(10), 7)]  # confident, classes balanced
    assert M.inception_score(one_hot) == pytest.approx(10.0)
    unbalanced = np.eye(10)[[0] * 5 + [1] * 5]  # confident, two classes of ten
    assert M.inception_score(unbalanced) == pytest.approx(2.0)
    soft = rng.dirichlet(np.ones(10) * 0.3, size=200)
    assert 1.0 <= M.inception_score(soft) <= 10.0


def test_inception_score_hand_computed():
    """p(y|x) = [[1, 0], [½, ½]]: p(y) = [¾, ¼]; KL₁ = log(4/3), KL₂ = ½log(2/3) + ½log 2."""
    probs = np.array([[1.0, 0.0], [0.5, 0.5]])
    kl = [np.log(4 / 3), 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25)]
    assert M.inception_score(probs) == pytest.approx(np.exp(np.mean(kl)))


def test_class_coverage_confidence_label_accuracy():
    predictions = np.array([0] * 10 + [1] * 5 + [2] * 4 + [3] * 1)  # shares .5 .25 .2 .05
    assert M.class_coverage(predictions) == 4
    assert M.class_coverage(predictions, min_share=0.1) == 3
    np.testing.assert_allclose(M.class_histogram(predictions, 5), [0.5, 0.25, 0.2, 0.05, 0])
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]])
    assert M.mean_confidence(probs) == pytest.approx((0.9 + 0.7 + 0.6) / 3)
    assert M.label_accuracy(probs, np.array([0, 1, 1])) == pytest.approx(2 / 3)


def test_classifier_score_bad_inputs():
    with pytest.raises(ValueError, match=r"predicted classes in \[0, 10\), found .*\[0, 12\]"):
        M.class_coverage(np.array([0, 12]))
    with pytest.raises(ValueError, match="summing to 1, found row sums in"):
        M.inception_score(np.array([[0.5, 0.2]]))
    with pytest.raises(ValueError, match=r"labels of shape \(2,\), found \(3,\)"):
        M.label_accuracy(np.eye(2), np.zeros(3))


# ==================== toy mixtures ====================

def test_toy_metrics_hand_made_samples():
    modes = np.array([[2.0, 0.0], [0.0, 2.0], [-2.0, 0.0], [0.0, -2.0]])
    std = 0.1
    points = np.array([[2.0, 0.05], [2.1, 0.0], [1.95, 0.0],   # mode 0, all within 3σ
                       [0.0, 2.25],                              # mode 1 but 2.5σ: good
                       [0.0, 2.5],                               # 5σ from mode 1: bad
                       [0.0, 0.0]])                              # between modes: bad
    r = M.toy_metrics(points, modes, std)
    assert r["num_modes"] == 4 and r["modes_covered"] == 2
    assert r["high_quality"] == pytest.approx(4 / 6)
    np.testing.assert_array_equal(r["mode_counts"], [3, 1, 0, 0])
    # with 1,000 samples, a mode needs 10 high-quality ones to count as covered
    many = np.concatenate([np.tile(points[:3], (330, 1)), np.tile(points[3:4], (9, 1)),
                           np.tile(points[5:], (1, 1))])
    assert M.toy_metrics(many, modes, std)["modes_covered"] == 1


def test_toy_metrics_on_the_mixture_itself_covers_every_mode():
    from minigan.data import ring8
    data = ring8(2000)
    r = M.toy_metrics(data.points, data.modes, data.std)
    assert r["modes_covered"] == 8 and r["high_quality"] > 0.98  # 3σ in 2-D holds 98.9 %


def test_toy_metrics_bad_shapes():
    with pytest.raises(ValueError, match=r"found shapes \(3, 3\) and \(8, 2\)"):
        M.toy_metrics(np.zeros((3, 3)), np.zeros((8, 2)), 0.1)


# ==================== the shipped classifier ====================

@pytest.fixture(scope="module")
def classifier():
    return M.load_classifier()


def test_shipped_classifier_held_out_accuracy(classifier):
    from minigan.data import load_dataset
    test = load_dataset("mnist5k", split="test")
    probs, features = M.classify(test.images, classifier)
    assert probs.shape == (500, 10) and features.shape == (500, 64)
    assert (probs.argmax(axis=1) == test.labels).mean() >= 0.97


def test_digit_scores_of_real_digits_are_near_perfect(classifier):
    """Real test digits scored as if generated: every class covered, confident, labels
    right, and FID against themselves 0."""
    from minigan.data import load_dataset
    test = load_dataset("mnist5k", split="test")
    probs, features = M.classify(test.images, classifier)
    scores = M.digit_scores(probs, features, features, labels=test.labels)
    assert scores["class_coverage"] == 10 and scores["fid"] == 0.0
    # 50 test digits per class, 98 % of them classified right: each count near 50
    assert all(44 <= int(n) <= 56 for n in scores["samples_per_class"].split())
    assert scores["label_accuracy"] >= 0.97 and scores["confidence"] > 0.9
    assert scores["inception_score"] > 8.0
    one_class = test.images[test.labels == 1]
    probs1, features1 = M.classify(one_class, classifier)
    collapsed = M.digit_scores(probs1, features1, features)
    assert collapsed["class_coverage"] == 1 and collapsed["inception_score"] < 1.5
    assert collapsed["fid"] > 10 * M.fid(features[::2], features[1::2])


def test_classify_rejects_other_shapes(classifier):
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\), found \(2, 3, 28, 28\)"):
        M.classify(np.zeros((2, 3, 28, 28), np.float32), classifier)


def test_missing_weights_say_how_to_rebuild(tmp_path):
    with pytest.raises(FileNotFoundError, match="tools/train_classifier.py"):
        M.load_classifier(str(tmp_path / "none.npz"))


# ==================== a model's evaluate (python -m minigan eval) ====================

def test_evaluate_toy_model():
    from minigan.models import get_model
    gan = get_model("wgan-gp")((2,), None, "cpu", hidden=16)
    scores = gan.evaluate("ring8", num_samples=200)
    assert scores["num_modes"] == 8 and 0 <= scores["modes_covered"] <= 8
    assert 0 <= scores["high_quality"] <= 1 and len(scores["samples_per_mode"].split()) == 8


def test_evaluate_conditional_digits():
    from minigan.models import get_model
    gan = get_model("cgan")((1, 28, 28), 10, "cpu", width=8)
    scores = gan.evaluate("mnist5k", num_samples=100)
    assert set(scores) == {"class_coverage", "samples_per_class", "confidence",
                           "inception_score", "fid", "label_accuracy", "fid_real", "samples"}
    assert sum(map(int, scores["samples_per_class"].split())) == 100
    assert 0 <= scores["label_accuracy"] <= 1 and scores["fid"] > scores["fid_real"] > 0


def test_score_samples_refuses_images_it_cannot_score():
    with pytest.raises(ValueError, match=r"MNIST digits \(1, 28, 28\).*found \(3, 32, 32\)"):
        M.score_samples(np.zeros((4, 3, 32, 32)), "folder:x")
    with pytest.raises(ValueError, match=r"needs a mixture with known modes"):
        M.score_samples(np.zeros((4, 2)), "mnist5k")


def test_cli_eval_prints_the_scores(tmp_path, capsys):
    from minigan import cli
    run = tmp_path / "run"
    assert cli.main(["train", "wgan-gp", "--data", "ring8", "--steps", "2", "--hidden", "8",
                     "--out", str(run)]) == 0
    capsys.readouterr()
    assert cli.main(["eval", str(run)]) == 0
    out = capsys.readouterr().out
    assert "modes_covered" in out and "high_quality" in out
