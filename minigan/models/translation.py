"""The translation skeleton: models that map an image of domain A to an image of domain B.

Paired models (pix2pix, ``pix2pix.py``) learn G: A → B from pairs (a, b) of the same scene
(notes 000: "paired image에서만 적용 가능"); unpaired ones (CycleGAN, DiscoGAN:
``UnpairedModel`` below) learn G: A → B and F: B → A from two unrelated piles of images,
kept honest by the reconstructions F(G(a)) ≈ a and G(F(b)) ≈ b. What they share:

    model.sample(n, inputs)        G(inputs): inputs (n, C, H, W) of domain A; with None,
                                   the first n held-out inputs of ``default_task``
    model.sample_inputs(data, n)   n held-out inputs of the data set spec ``data``: what
                                   ``minigan sample RUN`` hands to ``sample``
    model.preview(...)             rows of images: input | output | target, and where D
                                   is a PatchGAN, its per-patch P(real) drawn over the image
    model.evaluate(data, n)        per-pixel L1 to the ground truth (in [0, 1] pixel units,
                                   half the [−1, 1] distance), the MNIST classifier's
                                   accuracy on the translations, cycle errors

``class_matrix`` counts (label of x, class of the translation of x): its diagonal is the
share of translations that kept their digit, and a cycle-consistent pair of generators
that swaps classes (a 3 drawn as an 8 and back) shows there with a low cycle loss.

Unpaired step (``UnpairedModel.step``; CycleGAN's order: generators first, then the
discriminators on the fakes just made):

    b̂ = G(a), â = F(b);   L_G = g_loss(D_B(b̂)) + g_loss(D_A(â))
                              + λ · [d(F(b̂), a) + d(G(â), b)]        (cycle / L_CONST)
                              + λ_id · λ · [d(G(b), b) + d(F(a), a)]  (identity, optional)
    L_D = d_loss(D_B(b), D_B(pool_B(b̂))) + d_loss(D_A(a), D_A(pool_A(â)))

with d per pixel (``losses.reconstruction_loss``) and pool a ``ReplayBuffer`` (size 0: the
newest fakes only).
"""
import contextlib

import numpy as np

from minigan import backend, metrics, viz
from minigan.autograd import Tensor, no_grad
from minigan.data.translation import truth
from minigan.models.adversarial import eval_mode, frozen
from minigan.models.base import Model
from minigan.models.losses import reconstruction_loss
from minigan.models.translation_networks import receptive_field

EVAL_BATCH = 250      # images translated at a time by ``evaluate``
PREVIEW_IMAGES = 10   # images per preview row: one per class of the sorted digits
DIGIT_CLASSES = 10


# ==================== small helpers ====================

def spread(total, n):
    """n indices spread evenly over 0..total−1 (repeating when n > total): the test split
    is sorted by class, so the first n would all be zeros.

    >>> spread(500, 5).tolist(), spread(3, 5).tolist()
    ([0, 100, 200, 300, 400], [0, 0, 1, 1, 2])
    """
    return (np.arange(n) * total) // n


def class_matrix(predicted, labels, num_classes=DIGIT_CLASSES):
    """M[i, j] = how many images of label i were translated into something the classifier
    calls j: the identity (times the class counts) for a translation that keeps every
    digit, a permutation matrix for one that swaps classes consistently.

    >>> class_matrix(np.array([1, 0, 1]), np.array([0, 1, 1]), 2).tolist()
    [[0, 1], [1, 1]]
    """
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(labels), np.asarray(predicted)), 1)
    return m


def format_matrix(m):
    """A class matrix as a text table: rows = label of x, columns = class of G(x)."""
    k = len(m)
    lines = ["label\\G(x) " + " ".join(f"{j:>4}" for j in range(k))]
    lines += [f"{i:>10} " + " ".join(f"{v:>4}" for v in row) for i, row in enumerate(m)]
    return "\n".join(lines)


def class_map(m):
    """Where each class mostly goes, "0→0 1→7 ...": the argmax of each row of M."""
    return " ".join(f"{i}→{int(np.argmax(row))}" for i, row in enumerate(m) if row.sum())


def l1_pixels(x, y):
    """Mean |x − y| in [0, 1] pixel units (images stored in [−1, 1]: half the distance)."""
    return float(np.mean(np.abs(np.asarray(x, np.float64) - y)) / 2)


def patch_picture(scores, discriminator, size):
    """A PatchGAN's verdicts drawn over the image: each patch's score in [0, 1] (1 = real;
    P(real) = σ(logit) for a BCE discriminator, the clipped score for a least-squares one)
    painted on the jump×jump pixels at the centre of its receptive field (white = real,
    black = fake, mid-grey where no patch is centred), in [−1, 1] like an image.

    Output (N, 1, size, size) from scores (N, 1, h, w); the centre of patch i along an
    axis is i·jump + start + (r − 1)/2 (``translation_networks.receptive_field``).
    """
    r, jump, start = receptive_field(discriminator)
    scores = np.clip(np.asarray(scores.numpy() if isinstance(scores, Tensor) else scores),
                     0, 1)
    cells = scores.repeat(jump, axis=2).repeat(jump, axis=3)  # (N, 1, h, w) -> (N, 1, jh, jw)
    offset = start + (r - jump) // 2
    canvas = np.full(scores.shape[:2] + (size, size), 0.5)
    top, left = max(offset, 0), max(offset, 0)
    bottom = min(offset + cells.shape[2], size)
    right = min(offset + cells.shape[3], size)
    canvas[:, :, top:bottom, left:right] = cells[:, :, top - offset:bottom - offset,
                                                 left - offset:right - offset]
    return canvas * 2 - 1


# ==================== the skeleton ====================

class TranslationModel(Model):
    """Base class of image-to-image models: sampling from inputs, previews, evaluation."""
    kind = "translation"
    data_kinds = ("image",)
    input_field = "x"        # the batch field that holds domain A's images
    default_task = None      # the data set ``sample(n)`` translates from without inputs

    def translate(self, x):
        """G(x), with its graph (``sample`` wraps it in eval mode and no_grad)."""
        raise NotImplementedError(f"{type(self).__name__} must define translate")

    @contextlib.contextmanager
    def evaluating(self):
        """Every network in eval mode (batch norm's running statistics, no dropout)."""
        with contextlib.ExitStack() as stack:
            for network in self.networks.values():
                stack.enter_context(eval_mode(network))
            with no_grad():
                yield

    def sample(self, n, condition=None):
        """G(x) for the n input images ``condition`` (n, C, H, W), a Tensor or an array in
        [−1, 1]; None: the first n held-out inputs of ``default_task`` (``sample_inputs``).
        No graph, networks in eval mode."""
        if condition is None:
            condition = self.sample_inputs(None, n)
        x = condition if isinstance(condition, Tensor) else Tensor(np.asarray(condition))
        if x.shape != (n,) + self.data_shape:
            raise ValueError(f"{self.name} translates images: expected inputs of shape "
                             f"{(n,) + self.data_shape}, found {x.shape}")
        with self.evaluating():
            return self.translate(x.to(self.device))

    def sample_inputs(self, data, n):
        """n held-out images of domain A of the data set spec ``data`` (its test split;
        None: ``default_task``), spread over it, as a Tensor on the model's device."""
        from minigan.data import load_dataset

        dataset = load_dataset(data or self.default_task, split="test")
        if self.input_field not in dataset.fields:
            raise ValueError(f"{self.name} translates the field {self.input_field!r}, which "
                             f"{data} lacks (fields: {', '.join(dataset.fields)})")
        images = dataset.fields[self.input_field]
        return Tensor(backend.to_device(images[spread(len(images), n)], self.device))

    def translate_all(self, network, images):
        """network(images) for a NumPy array of any length, EVAL_BATCH at a time, in eval
        mode and without a graph; a NumPy array."""
        parts = []
        with self.evaluating():
            for start in range(0, len(images), EVAL_BATCH):
                x = Tensor(backend.to_device(images[start:start + EVAL_BATCH], self.device))
                parts.append(network(x).numpy())
        return np.concatenate(parts)

    def preview_images(self, dataset, *fields):
        """``PREVIEW_IMAGES`` images of each of ``fields``, the same samples, spread over
        the data set (one per class of the sorted digits), as Tensors."""
        index = spread(len(dataset), PREVIEW_IMAGES)
        return {f: Tensor(backend.to_device(dataset.fields[f][index], self.device))
                for f in fields}

    @staticmethod
    def save_rows(path, rows, title=None):
        """One picture with a labelled row per (label, images (n, C, H, W)) of ``rows``."""
        arrays = [np.asarray(images.numpy() if isinstance(images, Tensor) else images)
                  for _, images in rows]
        viz.save_image_grid(np.concatenate(arrays), path, nrow=len(arrays[0]), title=title,
                            row_labels=[label for label, _ in rows])


# ==================== unpaired translation ====================

class ReplayBuffer:
    """The image pool of CycleGAN (Shrivastava et al. 2017): D is shown a mix of the newest
    fakes and older ones, so it does not forget what G drew a few updates ago.

    ``query(fakes)``: while fewer than ``size`` images are stored, each fake is stored and
    shown; then each fake is, with probability ½, swapped with a random stored image (the
    stored one is shown, the fake kept), else shown itself. size 0: the fakes as they are.
    The draws come from minigan's generator, and the stored images are part of the
    model's state, so a resumed run continues exactly.

    >>> import minigan
    >>> pool = ReplayBuffer(2)
    >>> pool.query(minigan.ones(3, 1)).shape, len(pool)
    ((3, 1), 2)
    """

    def __init__(self, size):
        self.size = int(size)
        self.images = None   # (stored, C, H, W) array on the fakes' device

    def __len__(self):
        return 0 if self.images is None else len(self.images)

    def query(self, fakes):
        if self.size == 0:
            return fakes
        rng = backend.generator()
        xp = backend.get_array_module(fakes.data)
        shown = fakes.data.copy()
        for i in range(len(shown)):
            image = fakes.data[i:i + 1].copy()
            if len(self) < self.size:
                self.images = image if self.images is None else xp.concatenate([self.images,
                                                                                image])
            elif rng.random() < 0.5:
                j = int(rng.integers(self.size))
                shown[i] = self.images[j]
                self.images[j] = image[0]
        return Tensor(shown)

    def state_dict(self):
        return {"images": None if self.images is None else backend.to_numpy(self.images)}

    def load_state_dict(self, state, device):
        images = state["images"]
        self.images = None if images is None else backend.to_device(
            np.asarray(images.data if isinstance(images, Tensor) else images), device)


class UnpairedModel(TranslationModel):
    """Two generators G: A → B, F: B → A and two discriminators D_A, D_B trained on
    unpaired batches (fields "x" of A and "x_b" of B); see the module docstring.

    A subclass builds the networks (``build_generator``, ``build_discriminator``) and their
    optimisers (``build_optimizer``), chooses the adversarial pair (``d_loss``,
    ``g_loss``) and the per-pixel distance ``distance``, and defines ``lambda_rec`` (λ),
    ``lambda_identity`` (λ_id) and ``pool_size`` (attributes, or properties that read its
    options).
    """
    needs = ("x", "x_b")
    default_task = "digits-inverted"   # domain A of every unpaired task is the digits
    distance = "l1"
    patch_discriminator = False        # D gives one logit per patch: draw them

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        super().__init__(data_shape, num_classes, device, **options)
        self.G, self.F = (self.build_generator().to(self.device) for _ in range(2))
        self.D_A, self.D_B = (self.build_discriminator().to(self.device) for _ in range(2))
        self.networks = {"G": self.G, "F": self.F, "D_A": self.D_A, "D_B": self.D_B}
        self.optimizers = {name: self.build_optimizer(net)
                           for name, net in self.networks.items()}
        self.pools = {"A": ReplayBuffer(self.pool_size), "B": ReplayBuffer(self.pool_size)}

    def build_generator(self):
        raise NotImplementedError(f"{type(self).__name__} must define build_generator")

    def build_discriminator(self):
        raise NotImplementedError(f"{type(self).__name__} must define build_discriminator")

    def build_optimizer(self, network):
        raise NotImplementedError(f"{type(self).__name__} must define build_optimizer")

    def d_loss(self, real_scores, fake_scores):
        raise NotImplementedError(f"{type(self).__name__} must define d_loss")

    def g_loss(self, fake_scores):
        raise NotImplementedError(f"{type(self).__name__} must define g_loss")

    def translate(self, x):
        return self.G(x)

    # ---- one training step ----
    def step(self, batch):
        """One update of G and F, then one of D_A and D_B (module docstring)."""
        a, b = self.batch_field(batch, "x"), self.batch_field(batch, "x_b")
        fake_b, fake_a = self.G(a), self.F(b)
        with frozen(self.D_A), frozen(self.D_B):
            adversarial = self.g_loss(self.D_B(fake_b)) + self.g_loss(self.D_A(fake_a))
            cycle = reconstruction_loss([(self.F(fake_b), a), (self.G(fake_a), b)],
                                        self.distance)
            total = adversarial + self.lambda_rec * cycle
            logs = {}
            if self.lambda_identity:
                identity = reconstruction_loss([(self.G(b), b), (self.F(a), a)], self.distance)
                total = total + self.lambda_identity * self.lambda_rec * identity
                logs["identity"] = identity.item()
            self._update(("G", "F"), total)
        loss_a = self.d_loss(self.D_A(a), self.D_A(self.pools["A"].query(fake_a.detach())))
        loss_b = self.d_loss(self.D_B(b), self.D_B(self.pools["B"].query(fake_b.detach())))
        self._update(("D_A", "D_B"), loss_a + loss_b)
        return {"loss_G": adversarial.item(), "cycle": cycle.item(), **logs,
                "loss_D_A": loss_a.item(), "loss_D_B": loss_b.item()}

    def _update(self, names, loss):
        for name in names:
            self.optimizers[name].zero_grad()
        loss.backward()
        for name in names:
            self.optimizers[name].step()

    # ---- state: the networks' and the image pools' ----
    def state_dict(self):
        state = super().state_dict()
        state["pools"] = {name: pool.state_dict() for name, pool in self.pools.items()}
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        for name, pool in self.pools.items():
            pool.load_state_dict(state["pools"][name], self.device)

    # ---- pictures and scores ----
    def preview_inputs(self, dataset):
        images = self.preview_images(dataset, "x", "x_b")
        return {"a": images["x"], "b": images["x_b"]}

    def preview(self, path, inputs, title=None):
        """Rows a | G(a) | F(G(a)) | b | F(b) | G(F(b)), and D_B's verdict on G(a) when
        D_B is a PatchGAN."""
        a, b = inputs["a"], inputs["b"]
        with self.evaluating():
            fake_b, fake_a = self.G(a), self.F(b)
            rows = [("a", a), ("G(a)", fake_b), ("F(G(a))", self.F(fake_b)),
                    ("b", b), ("F(b)", fake_a), ("G(F(b))", self.G(fake_a))]
            if self.patch_discriminator:   # least squares: score 1 = real, 0 = fake
                rows.insert(2, ("D_B(G(a))", patch_picture(self.D_B(fake_b), self.D_B,
                                                           self.data_shape[1])))
        self.save_rows(path, rows, title)

    def report(self, data, num_samples=1000):
        """Scores and class matrices of both directions on the test split of ``data``:
        {"scores": {...}, "matrices": {"A→B": M, "B→A": M}} (``evaluate`` prints the
        scores; the benchmarks print the matrices)."""
        from minigan.data import load_dataset

        test = load_dataset(data, split="test")
        index = spread(len(test), min(num_samples, len(test)))
        a, b = test.x[index], test.fields["x_b"][index]
        fake_b, fake_a = self.translate_all(self.G, a), self.translate_all(self.F, b)
        scores = {"cycle_l1_A": l1_pixels(self.translate_all(self.F, fake_b), a),
                  "cycle_l1_B": l1_pixels(self.translate_all(self.G, fake_a), b)}
        matrices = {}
        maps = truth(data)
        if maps is not None:
            a_to_b, b_to_a = maps
            scores["l1_AB"] = l1_pixels(fake_b, a_to_b(a))
            scores["l1_BA"] = l1_pixels(fake_a, b_to_a(b))
            model = metrics.load_classifier(device=self.device)
            for direction, images, labels in (("A→B", b_to_a(fake_b), test.labels[index]),
                                              ("B→A", fake_a, test.fields["y_b"][index])):
                predicted = metrics.classify(images, model)[0].argmax(axis=1)
                matrices[direction] = class_matrix(predicted, labels)
                scores[f"accuracy_{direction}"] = float(np.mean(predicted == labels))
                scores[f"class_map_{direction}"] = class_map(matrices[direction])
        scores["images"] = len(index)
        return {"scores": scores, "matrices": matrices}

    def evaluate(self, data, num_samples=1000):
        """Per-pixel L1 of G(a) to the ground truth T(a) and of F(b) to T⁻¹(b) ([0, 1]
        units), the classifier's accuracy on T⁻¹(G(a)) and F(b) against the labels of a and
        b, where each class mostly goes, and the cycle errors |F(G(a)) − a|, |G(F(b)) − b|.
        Tasks without a ground truth (Quick, Draw!) get the cycle errors only."""
        return self.report(data, num_samples)["scores"]
