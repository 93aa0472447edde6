"""Differentiable ops, one file per family; ``import minigan.functional as F``."""
from minigan.functional.activation import (leaky_relu, log_softmax, logsigmoid, relu, sigmoid,
                                           softmax, softplus, tanh)
from minigan.functional.arithmetic import (abs, add, clamp, div, exp, linear, log, matmul, mul,
                                           neg, pow, sqrt, sub, where)
from minigan.functional.reductions import broadcast_to, max, mean, min, sum, sum_to, var
from minigan.functional.shapes import (cat, flatten, getitem, permute, reshape, split, squeeze,
                                       stack, transpose, unsqueeze)
from minigan.functional.conv import conv2d, conv2d_grad_weight, conv_transpose2d
from minigan.functional.loss import (binary_cross_entropy, binary_cross_entropy_with_logits,
                                     cross_entropy, kl_div, l1_loss, mse_loss, nll_loss)
from minigan.functional.norm import batch_norm, group_norm, instance_norm, layer_norm
from minigan.functional.interpolation import interpolate
from minigan.functional.padding import pad
from minigan.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from minigan.functional import tensor_methods

tensor_methods.install()
