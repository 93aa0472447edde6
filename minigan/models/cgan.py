"""Conditional GAN (Mirza & Osindero 2014; notes 000, 001, 003): G and D both see the label.

Objective, the DCGAN game with every term conditioned on the class y:

    min_G max_D  E_{x,y}[log D(x | y)] + E_{z,y}[log(1 − D(G(z | y) | y))]

with the non-saturating G loss −E[log D(G(z | y) | y)] (``--loss`` as in DCGAN). The
condition enters as a one-hot vector (notes 000: "latent vector and one-hot vector
concatenated"): G's input is [z, onehot(y)] (N, Z + K, 1, 1); D's input is the image with
K constant channels appended, channel k all ones for class k (N, C + K, H, W). For 2-D
points both are plain concatenations. G's update uses the labels of the real batch, so
classes are drawn as often as they occur in the data. ``python -m minigan sample RUN
--label 3`` draws one class.

D is as wide as G (``d_width`` = ``width``, 64 and 128 channels on MNIST), as in the
CGAN of the course notes 000 follow, whose DCGAN's D is a quarter as wide. The label
planes are constant and D's first convolution has no padding, so every tap of a label
channel sees the same 1: the label reaches D only as a per-class bias of its first-block
channels (which is how the first layer computes it: ``nn.ConstantChannelsConv2d``). With
the DCGAN's 16 channels D went to chance by iteration 300 and label accuracy stalled at
0.6–0.7; with 64 it reaches 0.965–0.983 at 4,000 iterations (three runs, BENCHMARKS.md).

>>> import minigan
>>> gan = CGAN((2,), num_classes=8)
>>> losses = gan.step({"x": minigan.randn(6, 2), "y": minigan.tensor([0, 1, 2, 3, 4, 5])})
>>> gan.sample(2, 7).shape
(2, 2)
"""
from minigan.models.dcgan import DCGAN, NOTES
from minigan.models.options import extend


class CGAN(DCGAN):
    """Conditional DCGAN: one-hot labels joined to z and, as constant channels, to D's input."""
    name = "cgan"
    needs = ("x", "y")
    options = extend(DCGAN.options, **NOTES)   # the notes' recipe (DCGAN's defaults differ)

    @classmethod
    def default_d_width(cls, data_shape, width):
        """D as wide as G, as in the notes' CGAN (their DCGAN's D is a quarter as wide)."""
        return width
