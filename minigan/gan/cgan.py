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

>>> import minigan
>>> gan = CGAN((2,), num_classes=8)
>>> losses = gan.step(minigan.randn(6, 2), minigan.tensor([0, 1, 2, 3, 4, 5]))
>>> gan.sample(gan.noise(2), minigan.tensor([7, 7])).shape
(2, 2)
"""
from minigan.gan.dcgan import DCGAN


class CGAN(DCGAN):
    """Conditional DCGAN: one-hot labels joined to z and, as constant channels, to D's input."""
    name = "cgan"
    conditional = True
