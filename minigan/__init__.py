"""minigan: a from-scratch GAN teaching engine on NumPy (and CuPy for CUDA)."""
from minigan.autograd import Function, Tensor, enable_grad, grad, is_grad_enabled, no_grad
from minigan.backend import (cuda_available, get_default_dtype, manual_seed,
                             set_default_dtype)
from minigan.creation import (arange, full, ones, ones_like, rand, randint, randn, randn_like,
                              tensor, zeros, zeros_like)
from minigan import functional
from minigan.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigan import nn, optim
from minigan.serialization import load, save

__version__ = "0.1.0"
