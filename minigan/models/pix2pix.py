"""pix2pix (Isola et al. 2017; notes 000 "pix2pix", notes 001 "Pix2Pix Loss 함수", "PatchGAN"):
a conditional GAN that translates an input image x into its paired target y.

Objective (notes 001):

    G* = arg min_G max_D  L_cGAN(G, D) + λ L_L1(G),     λ = 100

    L_cGAN(G, D) = E_{x,y}[log D(x, y)] + E_x[log(1 − D(x, G(x)))]
    L_L1(G)      = E_{x,y}[|y − G(x)|]      ∂(λ L_L1)/∂G(x) = −λ · sign(y − G(x)) / N

with N the number of pixels in the batch. D sees the input and an image *together*,
cat(x, y) or cat(x, G(x)) along the channels, and judges every patch: it is a PatchGAN
(``translation_networks.patchgan``) whose logits (N, 1, H', W') each cover an r×r patch
(r = 16 for the default ``d_layers`` 1 on 28×28 digits: 12×12 patches; printed by
``receptive_field`` and checked by back-propagating one logit in lesson 10). The expectation
in L_cGAN is the mean over the patches too. As in the paper, D minimises
½ [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)] (the ½ slows D relative to G) and G the
non-saturating −log D(x, G(x)) + λ L_L1; Adam(2e-4, β = (0.5, 0.999)) for both, weights
initialised N(0, 0.02²) as in the authors' code (``networks.dcgan_init_``).

G is a U-Net (``translation_networks.UNet``): 28×28 padded to 32, five stride-2 levels down
to 1×1 and back, each decoder level concatenating the encoder's output of its size. Its
only noise is dropout (p = 0.5 in the three innermost decoder blocks), on while training;
the paper keeps it on at test time too, minigan's ``sample`` runs G in eval mode
(deterministic, batch norm's running statistics).

The paper's ablation is one flag each: ``--no-gan`` trains G on λ L_L1 alone (D is not
trained), ``--lambda-l1 0`` on L_cGAN alone, the defaults on both (``benchmarks/
pix2pix_ablation.py``). L1 alone gives the per-pixel median of what the input allows:
blurry where the target is uncertain; the cGAN term pushes every patch to look real.

Data: a paired task, ``--data digits-edges`` (edges → digit) or ``digits-thick``
(``minigan.data.translation``): batches hold the target "x" and the input "x_paired".

>>> import minigan
>>> model = Pix2Pix((1, 28, 28), width=4, d_width=4)
>>> x, y = minigan.rand(4, 1, 28, 28) * 2 - 1, minigan.rand(4, 1, 28, 28) * 2 - 1
>>> sorted(model.step({"x": y, "x_paired": x}))
['D(x,G(x))', 'D(x,y)', 'l1', 'loss_D', 'loss_G']
>>> model.sample(4, x).shape
(4, 1, 28, 28)
"""
import numpy as np

from minigan import metrics, optim
from minigan.autograd import no_grad
from minigan.functional.activation import sigmoid
from minigan.functional.loss import l1_loss
from minigan.functional import cat
from minigan.models.adversarial import frozen
from minigan.models.losses import d_loss_bce, g_loss_nonsaturating, score_stats
from minigan.models.networks import dcgan_init_
from minigan.models.options import Option
from minigan.models.translation import (TranslationModel, l1_pixels, patch_picture,
                                        spread)
from minigan.models.translation_networks import UNet, patchgan, receptive_field

NORMS = ("batch", "instance")


class Pix2Pix(TranslationModel):
    """pix2pix: U-Net G, PatchGAN D on (input, image), cGAN + λ·L1 (λ = 100)."""
    name = "pix2pix"
    needs = ("x", "x_paired")
    input_field = "x_paired"
    default_task = "digits-edges"
    options = (
        Option("lambda_l1", 100.0, "weight λ of the L1 term (0: the cGAN term alone)",
               least=0),
        Option("no_gan", False, "drop the cGAN term: G learns λ·L1 alone, D is not trained"),
        Option("lr", 2e-4, "Adam learning rate of G and D", least=0),
        Option("beta1", 0.5, "Adam β₁", least=0),
        Option("beta2", 0.999, "Adam β₂", least=0),
        Option("width", 32, "channels of the U-Net's first level (pix2pix: 64)", least=1),
        Option("d_width", 32, "channels of the PatchGAN's first layer (pix2pix: 64)", least=1),
        Option("d_layers", 1, "stride-2 layers of the PatchGAN: 1 sees 16×16 patches, 2 "
               "34×34, 3 pix2pix's 70×70", least=1),
        Option("dropout", 0.5, "dropout of G's three innermost decoder blocks, its noise",
               least=0),
        Option("norm", "batch", "normalisation of G and D", choices=NORMS),
    )

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        super().__init__(data_shape, num_classes, device, **options)
        hp = self.hp
        if hp.no_gan and hp.lambda_l1 == 0:
            raise ValueError("pix2pix: with --no-gan and lambda_l1 0 there is nothing to "
                             "train; give lambda_l1 > 0 or drop --no-gan")
        if hp.dropout >= 1:
            raise ValueError(f"pix2pix: dropout must be below 1, found {hp.dropout}")
        channels, size = self.data_shape[0], self.data_shape[1]
        if self.data_shape[2] != size:
            raise ValueError(f"pix2pix takes square images, found {self.data_shape}")
        self.G = dcgan_init_(UNet(channels, channels, size, hp.width, norm=hp.norm,
                                  dropout=hp.dropout)).to(self.device)
        self.D = dcgan_init_(patchgan(2 * channels, hp.d_width, hp.d_layers,
                                      hp.norm)).to(self.device)
        self.networks = {"G": self.G, "D": self.D}
        self.optimizers = {name: optim.Adam(net.parameters(), lr=hp.lr,
                                            betas=(hp.beta1, hp.beta2))
                           for name, net in self.networks.items()}
        self.receptive_field = receptive_field(self.D)[0]

    def translate(self, x):
        return self.G(x)

    def discriminate(self, x, y):
        """D's logits (N, 1, H', W'), one per patch of the pair (x, y)."""
        return self.D(cat([x, y], axis=1))  # (N, C, H, W) twice -> (N, 2C, H, W)

    def step(self, batch):
        """One D update (unless ``no_gan``), then one G update."""
        x, y = self.batch_field(batch, "x_paired"), self.batch_field(batch, "x")
        fake = self.G(x)
        logs = {}
        if not self.hp.no_gan:
            real_logits = self.discriminate(x, y)
            fake_logits = self.discriminate(x, fake.detach())
            loss_d = 0.5 * d_loss_bce(real_logits, fake_logits)
            self.optimizers["D"].zero_grad()
            loss_d.backward()
            self.optimizers["D"].step()
            with no_grad():
                d_real, d_fake = score_stats(sigmoid(real_logits), sigmoid(fake_logits))
            logs = {"loss_D": loss_d.item(), "D(x,y)": d_real, "D(x,G(x))": d_fake}
        l1 = l1_loss(fake, y)
        loss_g = self.hp.lambda_l1 * l1
        if not self.hp.no_gan:
            with frozen(self.D):
                loss_g = loss_g + g_loss_nonsaturating(self.discriminate(x, fake))
        self.optimizers["G"].zero_grad()
        loss_g.backward()
        self.optimizers["G"].step()
        return {**logs, "loss_G": loss_g.item(), "l1": l1.item()}

    # ---- pictures and scores ----
    def preview_inputs(self, dataset):
        images = self.preview_images(dataset, "x_paired", "x")
        return {"input": images["x_paired"], "target": images["x"]}

    def preview(self, path, inputs, title=None):
        """Rows input | G(input) | target, then D's per-patch P(real) on (input, G(input))
        and on (input, target) (white: real), unless D is not trained (``no_gan``)."""
        x, y = inputs["input"], inputs["target"]
        with self.evaluating():
            fake = self.G(x)
            rows = [("input", x), ("G(input)", fake), ("target", y)]
            if not self.hp.no_gan:
                size = self.data_shape[1]
                rows += [("D on G", patch_picture(sigmoid(self.discriminate(x, fake)),
                                                  self.D, size)),
                         ("D on real", patch_picture(sigmoid(self.discriminate(x, y)),
                                                     self.D, size))]
        self.save_rows(path, rows, title)

    def evaluate(self, data, num_samples=1000):
        """On the test split of the paired task ``data``: per-pixel L1 of G(x) to the target
        ([0, 1] units), the classifier's accuracy on G(x), on the targets (the ceiling)
        and on the inputs themselves, and the classifier-FID of G(x) against the targets
        (blur raises it; L1 hardly sees blur)."""
        from minigan.data import load_dataset

        test = load_dataset(data, split="test")
        index = spread(len(test), min(num_samples, len(test)))
        x, y, labels = test.fields["x_paired"][index], test.x[index], test.labels[index]
        fake = self.translate_all(self.G, x)
        model = metrics.load_classifier(device=self.device)
        probs, features = metrics.classify(fake, model)
        target_probs, target_features = metrics.classify(y, model)
        return {"l1": l1_pixels(fake, y),
                "accuracy": float(np.mean(probs.argmax(axis=1) == labels)),
                "accuracy_target": float(np.mean(target_probs.argmax(axis=1) == labels)),
                "accuracy_input": float(np.mean(
                    metrics.classify(x, model)[0].argmax(axis=1) == labels)),
                "fid": metrics.fid(target_features, features),
                "images": len(index)}

