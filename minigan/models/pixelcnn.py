"""PixelCNN (van den Oord et al. 2016; notes 003, "Pixel RNN/CNN"): an autoregressive model
of binary images whose likelihood is exact.

Objective. Order the D pixels in raster order (row by row, left to right). Any p(x)
factorises by the chain rule of probability (notes 003: "multiply the probabilities of
all the pixels"):

    p(b) = Π_{i=1..D} p(b_i | b_<i),   p(b_i = 1 | b_<i) = σ(l_i(b_<i)),

and one network computes all D logits l_i in one pass, its convolutions masked so that
l_i depends on the pixels before i only (``minigan.nn.masked_conv``: mask A on the first
layer, B after). Training minimises the exact negative log-likelihood, nats per image,

    −log p(b) = Σ_i [softplus(l_i) − b_i l_i]          (``losses.bernoulli_nll``)

with no bound and no latent variable: the number reported is log p itself, in nats and in
bits per dimension (nats / (784 ln 2), dividing by the 784 true pixels). The conditionals
p(b_i | b_<i) of a network with causal masks always multiply to a normalised
distribution over the 2^D images (lesson 17 sums them over all 16 images of a 2×2 grid).

Network (van den Oord et al., the residual PixelCNN; ``channels`` = 2h, ``blocks``):

    x (N, 1, H, W) → MaskedConv 7×7 A (1 → 2h)
      → blocks × [x + Conv1×1(h → 2h)(ReLU(MaskedConv 3×3 B (h → h)(ReLU(Conv1×1(2h → h)
                                                                       (ReLU(x))))))]
      → ReLU → Conv1×1 (2h → 2h) → ReLU → Conv1×1 (2h → 1) → logits (N, 1, H, W)

Its blind spot: stacked 3×3 masks reach, d rows above a pixel, only about d + 2 columns
to its right, so a wedge of earlier pixels up and to the right never influences it
(``masked_conv.receptive_field``; drawn in lesson 17).

Sampling is ancestral: draw b_1, then b_2 given b_1, ... Pixel by pixel that is D = 784
passes of the network over the whole image (``sample_raster``, kept as the reference).
``sample`` draws the same images from the same uniforms u (b_i = [u_i < σ(l_i)]) with
two shortcuts. Each layer reads, d rows above a unit, at most 3 columns to its right (the
7×7 mask A; 1 for 3×3 masks), so every pixel on a line j + 4i = t depends only on lines
before t (``masked_conv.wavefront_skew``): a pass draws a whole line, 27 + 4·27 + 1 = 136
passes. And a pass evaluates every layer at that line's positions only, reading the
layer's input at earlier positions from a cache (``_LineConv``): all passes together
cost about one forward pass over the image.

Pixels: x ∈ [−1, 1] is the network's input, b = (x + 1)/2 the targets; the NLL is
reported on binary digits only (``likelihood.py``). Samples are binary, 2b − 1.

With the defaults (29,825 weights), 15 epochs of batch 64 (≈ 5 minutes of one CPU core)
reach a test NLL of 73.8 nats (0.136 bits/dim) on mnist5k-bin and 96.6 (0.178) on
mnist5k-sbin, below the VAEs' importance-weighted bounds; 64 samples take 0.3 s of CPU
(61 s pixel by pixel; BENCHMARKS.md).

>>> import minigan, numpy as np
>>> model = PixelCNN((1, 8, 8), channels=8, blocks=1)
>>> x = minigan.tensor(np.sign(np.random.default_rng(0).standard_normal((4, 1, 8, 8))))
>>> sorted(model.step({"x": x}))
['bits_per_dim', 'loss']
>>> model.sample(2).shape
(2, 1, 8, 8)
"""
import numpy as np

from minigan import backend, nn, optim, viz
from minigan.autograd import Tensor, no_grad
from minigan.creation import rand
from minigan.functional.activation import relu, sigmoid
from minigan.functional import mean
from minigan.models.adversarial import eval_mode
from minigan.models.likelihood import LikelihoodModel, bits_per_dim, spread_images
from minigan.models.losses import bernoulli_nll
from minigan.models.options import Option
from minigan.models.vae import bernoulli_image
from minigan.nn.masked_conv import MaskedConv2d, wavefront_skew

PREVIEW_ROW = 8
PREVIEW_SAMPLE_ROWS = 2


class ResidualBlock(nn.Module):
    """x + Conv1×1(h → 2h)(ReLU(MaskedConv3×3 B(h → h)(ReLU(Conv1×1(2h → h)(ReLU(x)))))):
    a 1×1 convolution is causal as it is (it reads its own pixel, which mask B allows)."""

    def __init__(self, channels):
        super().__init__()
        h = channels // 2
        self.reduce = MaskedConv2d(channels, h, 1, "B")
        self.spatial = MaskedConv2d(h, h, 3, "B")
        self.expand = MaskedConv2d(h, channels, 1, "B")

    def forward(self, x, conv=None):
        """``conv(layer, v)`` applies each convolution (default: the layer itself on the
        whole image; ``sample`` passes one that evaluates a line of positions only)."""
        conv = conv or _whole_image
        return x + conv(self.expand, relu(conv(self.spatial, relu(conv(self.reduce, relu(x))))))


def _whole_image(layer, x):
    return layer(x)


def pixelcnn_network(in_channels, channels, blocks):
    """The residual PixelCNN of the module docstring, logits shaped like the input."""
    return nn.Sequential(MaskedConv2d(in_channels, channels, 7, "A"),
                         *[ResidualBlock(channels) for _ in range(blocks)],
                         nn.ReLU(), MaskedConv2d(channels, channels, 1, "B"),
                         nn.ReLU(), MaskedConv2d(channels, in_channels, 1, "B"))


def causal_masks(network):
    """The masks of a network's masked convolutions, as NumPy arrays, in order."""
    return [backend.to_numpy(m.mask.data)[0, 0] for m in network.modules()
            if isinstance(m, MaskedConv2d)]


class _LineConv:
    """A masked convolution evaluated at a few positions (rows[p], cols[p]) at a time, for
    sampling: it keeps its input so far in a cache, zero-padded by K//2 above, left and
    right (no row below is ever read), and computes an output position from its kept
    taps there: out[n, o, p] = b[o] + Σ_{c, taps} W̃[o, c, tap] · cache[n, c, p + tap].
    An output at position p is final once its taps are: ``wavefront_skew`` orders the
    positions so that they are."""

    def __init__(self, conv, n, height, width):
        xp = backend.get_array_module(conv.weight.data)
        mask = backend.to_numpy(conv.mask.data)[0, 0]
        self.pad = c = mask.shape[0] // 2
        taps = np.nonzero(mask)                                     # (T,), (T,)
        self.rows, self.cols = taps                                 # tap offsets + c
        w = conv.weight.data[:, :, taps[0], taps[1]]                # (O, C, T)
        self.weight = w.reshape(w.shape[0], -1).T                   # (C·T, O)
        self.bias = conv.bias.data[None, :, None]                   # (1, O, 1)
        self.cache = xp.zeros((n, conv.in_channels, height + c, width + 2 * c),
                              dtype=w.dtype)

    def write(self, values, rows, cols):
        """Store the input (N, C, P) at positions (rows, cols)."""
        self.cache[:, :, rows + self.pad, cols + self.pad] = values

    def image(self):
        """The input stored so far, without its padding, as a Tensor (N, C, H, W)."""
        c = self.pad
        return Tensor(self.cache[:, :, c:, c:self.cache.shape[-1] - c].copy())

    def __call__(self, v, rows, cols):
        """The output (N, O, P) at (rows, cols), after storing the input v (N, C, P) there;
        v None: the cache holds the input already (the image being drawn)."""
        if v is not None:
            self.write(v.data, rows, cols)
        patch = self.cache[:, :, rows[:, None] + self.rows, cols[:, None] + self.cols]
        n, channels, p, taps = patch.shape                          # (N, C, P, T)
        out = patch.transpose(0, 2, 1, 3).reshape(n * p, channels * taps) @ self.weight
        return Tensor(out.reshape(n, p, -1).transpose(0, 2, 1) + self.bias)  # (N, O, P)


class PixelCNN(LikelihoodModel):
    """Residual PixelCNN with Bernoulli pixels: exact NLL, ancestral sampling."""
    name = "pixelcnn"
    options = (
        Option("channels", 32, "channels 2h of the residual stream (h inside a block)",
               least=2),
        Option("blocks", 8, "residual blocks, each with one 3x3 mask-B convolution",
               least=0),
        Option("lr", 1e-3, "Adam learning rate", least=0),
    )

    def __init__(self, data_shape, num_classes=None, device="cpu", **options):
        super().__init__(data_shape, num_classes, device, **options)
        if self.hp.channels % 2:
            raise ValueError(f"{self.name}: channels must be even (a block narrows 2h to "
                             f"h), found {self.hp.channels}")
        self.net = pixelcnn_network(self.data_shape[0], self.hp.channels,
                                    self.hp.blocks).to(self.device)
        self.networks = {"net": self.net}
        self.optimizers = {"net": optim.Adam(self.net.parameters(), lr=self.hp.lr)}
        self.skew = wavefront_skew(causal_masks(self.net))

    def nll(self, x):
        """−log p(b) per image (N,), nats, b = (x + 1)/2: exact, one pass."""
        return bernoulli_nll(self.net(x), self.targets(x))

    def step(self, batch):
        """One Adam step on the batch mean of −log p(b) (nats per image)."""
        loss = mean(self.nll(self.batch_field(batch, "x")))
        self.optimizers["net"].zero_grad()
        loss.backward()
        self.optimizers["net"].step()
        nats = loss.item()
        return {"loss": nats, "bits_per_dim": bits_per_dim(nats, self.num_features)}

    def nats(self, x):
        """−log p(b) per image (N,), network in eval mode."""
        with eval_mode(self.net):
            return self.nll(x)

    def heldout_bounds(self, x):
        """{"nll": −log p(b) per image}: exact, not a bound."""
        return {"nll": backend.to_numpy(self.nats(x).data)}

    # ---- sampling ----
    def uniforms(self, n):
        """The uniforms u ~ U[0, 1) (n, *data_shape) a sample is drawn from."""
        return rand(n, *self.data_shape, device=self.device)

    def sample(self, n, condition=None, noise=None):
        """n binary images 2b − 1, drawn ancestrally from the uniforms ``noise`` (default:
        fresh): b_i = [u_i < p(b_i = 1 | b_<i)], one anti-diagonal line of pixels
        j + k·i = t per pass (see the module docstring).

        A pass evaluates the network at the line's positions only: each convolution keeps
        its input so far in a cache (``_LineConv``) and reads its taps there, so all the
        passes together cost about one forward pass over the whole image."""
        u = self._uniforms(n, condition, noise)
        _, height, width = self.data_shape
        first = self.net[0]
        line = {m: _LineConv(m, n, height, width) for m in self.net.modules()
                if isinstance(m, MaskedConv2d)}

        def conv(layer, v):
            return line[layer](v, rows, cols)

        with no_grad():
            for t in range(width - 1 + self.skew * (height - 1) + 1):
                rows = np.arange(max(0, -(-(t - width + 1) // self.skew)),
                                 min(height - 1, t // self.skew) + 1)
                if not len(rows):               # an image narrower than k skips lines
                    continue
                cols = t - self.skew * rows
                v = None                        # the first layer reads the image drawn so far
                for layer in self.net:
                    v = (conv(layer, v) if isinstance(layer, MaskedConv2d) else
                         layer(v, conv) if isinstance(layer, ResidualBlock) else layer(v))
                picked = (slice(None), slice(None), rows, cols)           # (N, C, P)
                line[first].write(bernoulli_image(Tensor(u.data[picked]), v).data, rows, cols)
        return line[first].image()

    def sample_raster(self, n, condition=None, noise=None):
        """The same samples as ``sample``, one pixel per pass in raster order (H·W passes
        on the whole image): the slow, plain ancestral loop, kept as the reference."""
        u = self._uniforms(n, condition, noise)
        _, height, width = self.data_shape
        x = Tensor(backend.get_array_module(u.data).zeros_like(u.data))
        with eval_mode(self.net), no_grad():
            for i in range(height):
                for j in range(width):
                    self._draw(x, u, np.array([i]), np.array([j]), height)
        return x

    def _uniforms(self, n, condition, noise):
        if condition is not None:
            raise ValueError(f"{self.name} is not conditional: it draws samples of no "
                             "particular class")
        u = self.uniforms(n) if noise is None else noise
        if u.shape != (n,) + self.data_shape:
            raise ValueError(f"{self.name}: expected uniforms of shape "
                             f"{(n,) + self.data_shape}, found {u.shape}")
        return u

    def _draw(self, x, u, rows, cols, top_rows):
        """Set pixels (rows, cols) of every image of x (in place) from one pass over its
        first ``top_rows`` rows."""
        logits = self.net(Tensor(x.data[:, :, :top_rows]))     # (N, C, top_rows, W)
        picked = (slice(None), slice(None), rows, cols)        # -> (N, C, len(rows))
        x.data[picked] = bernoulli_image(Tensor(u.data[picked]),
                                         Tensor(logits.data[picked])).data

    # ---- pictures ----
    def preview_inputs(self, dataset):
        """Fixed uniforms for the sample rows and a row of training images."""
        per_row = min(PREVIEW_ROW, len(dataset))
        images = spread_images(dataset, per_row, self.device)
        return {"noise": self.uniforms(per_row * PREVIEW_SAMPLE_ROWS), "images": images}

    def preview(self, path, inputs, title=None):
        """A row of data, the model's p(b_i = 1 | b_<i) at every pixel of it (one pass:
        how sure each next-pixel guess is), then samples from the fixed uniforms."""
        images, noise = inputs["images"], inputs["noise"]
        with eval_mode(self.net), no_grad():
            probability = sigmoid(self.net(images)) * 2.0 - 1.0   # as an image in [−1, 1]
        grid = np.concatenate([images.numpy(), probability.numpy(),
                               self.sample(len(noise), noise=noise).numpy()])
        labels = ["data", "p(b_i|b_<i)", "samples"] + [""] * (PREVIEW_SAMPLE_ROWS - 1)
        viz.save_image_grid(grid, path, nrow=len(images), title=title, row_labels=labels)
