"""An exponential moving average of a network's weights (Yazıcı et al. 2019; Karras et al.
2018 sample Progressive GAN from one): a copy θ̄ of the network that follows it slowly,

    θ̄ ← θ̄ + (1 − β_t)(θ − θ̄)      after update number t (from 0),
    β_t = min(β, (1 + t)/(10 + t))  (the warm-up of TensorFlow's moving averages),

so the average forgets the random initial weights within the first ~100 updates instead
of ~1/(1 − β), and a short run's samples are not its initial weights. Buffers (batch-norm
running statistics) are not averaged but copied: the average is evaluated as the network
itself would be. No gradient flows: the average is a function of the past weights only.

>>> from minigan import nn
>>> net, average = nn.Linear(2, 1), nn.Linear(2, 1)
>>> before = average.weight.numpy().copy()
>>> net.weight.data[...] = 1.0
>>> average_decay(0.999, updates=0)                  # the first update: β_0 = 1/10
0.1
>>> update_average(average, net, 0.1)
>>> bool(abs(average.weight.numpy() - (before + 0.9 * (1.0 - before))).max() < 1e-6)
True
"""
from minigan.autograd import no_grad


def average_decay(decay, updates):
    """β_t = min(decay, (1 + t)/(10 + t)) for the update after ``updates`` = t updates."""
    return min(decay, (1 + updates) / (10 + updates))


def update_average(average, module, decay):
    """θ̄ ← θ̄ + (1 − decay)(θ − θ̄) for every parameter θ of ``module`` and its namesake θ̄
    in ``average`` (a network of the same structure); buffers copied."""
    with no_grad():
        for (name, mean), (other, p) in zip(average.named_parameters(),
                                            module.named_parameters()):
            if name != other:
                raise ValueError(f"update_average: the average's parameter {name!r} meets "
                                 f"the network's {other!r}; expected the same structure")
            mean.data += (1 - decay) * (p.data - mean.data)
        for mean, b in zip(average.buffers(), module.buffers()):
            mean.data[...] = b.data
