"""Differentiable ops, one file per family; ``import minigan.functional as F``."""
from minigan.functional.activation import (leaky_relu, log_softmax, logsigmoid, relu, sigmoid,
                                           softmax, softplus, tanh)
from minigan.functional.math import (abs, add, broadcast_to, cat, clamp, div, exp, flatten,
                                     getitem, linear, log, matmul, max, mean, min, mul, neg, permute,
                                     pow, reshape, split, sqrt, squeeze, stack, sub, sum,
                                     sum_to, transpose, unsqueeze, var, where)
from minigan.functional import tensor_methods

tensor_methods.install()
