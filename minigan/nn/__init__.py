"""Layers and models with PyTorch's names: ``from minigan import nn``.

>>> import minigan
>>> from minigan import nn
>>> G = nn.Sequential(nn.Linear(100, 128), nn.ReLU(), nn.Linear(128, 784), nn.Tanh())
>>> G(minigan.randn(64, 100)).shape
(64, 784)
"""
from minigan.nn import init
from minigan.nn.activation import LeakyReLU, ReLU, Sigmoid, Tanh
from minigan.nn.container import ModuleDict, ModuleList, Sequential
from minigan.nn.dropout import Dropout, Dropout2d
from minigan.nn.embedding import Embedding
from minigan.nn.linear import Identity, Linear
from minigan.nn.module import Module, Parameter
from minigan.nn.shape import Flatten, Unflatten
from minigan.nn.norm import (BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm2d,
                             LayerNorm)
from minigan.nn.resize import (AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, ReflectionPad2d,
                               ReplicationPad2d, Upsample, ZeroPad2d)
from minigan.nn.conv import (Conv2d, ConvTranspose2d, conv_output_size,
                             conv_transpose_output_size)
from minigan.nn.constant_channels import ConstantChannelsConv2d
