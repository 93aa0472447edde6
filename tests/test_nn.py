"""minigan.nn: Module registration and state dicts, containers, layers, initialisers."""
import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import minigan
from minigan import backend, nn
from minigan.nn import init
from tests.helpers import randn64


class Affine(nn.Module):
    """y = x · scale + shift, with a step counter buffer and a non-persistent cache."""

    def __init__(self, n):
        super().__init__()
        self.scale = nn.Parameter(minigan.ones(n))
        self.register_buffer("steps", minigan.zeros(1))
        self.shift = nn.Parameter(minigan.zeros(n))
        self.register_buffer("cache", minigan.zeros(n), persistent=False)

    def forward(self, x):
        return x * self.scale + self.shift


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), Affine(3))
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        return self.head(self.body(x))


# ==================== Parameter and registration ====================

def test_parameter_is_a_leaf_that_requires_grad_and_shares_data():
    t = minigan.zeros(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, minigan.Tensor) and p.requires_grad and p.is_leaf
    assert p.data is t.data
    array = np.ones(4, dtype=np.float32)
    assert nn.Parameter(array).data is array
    assert not nn.Parameter(array, requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:")


def test_registration_keeps_assignment_order_and_kind():
    m = Affine(3)
    assert [n for n, _ in m.named_parameters()] == ["scale", "shift"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "cache"]
    assert list(m.state_dict()) == ["scale", "shift", "steps"]  # cache is not persistent
    assert m.scale is m._parameters["scale"] and "scale" not in m.__dict__


def test_nested_names_are_dotted_like_pytorch():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "body.0.weight", "body.0.bias", "body.2.scale", "body.2.shift",
        "head.weight", "head.bias"]
    assert [n for n, _ in net.named_buffers()] == ["body.2.steps", "body.2.cache"]
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "body.2",
                                                  "head"]
    assert [n for n, _ in net.named_children()] == ["body", "head"]
    assert net.get_submodule("body.2") is net.body[2]
    with pytest.raises(AttributeError, match="no sub-module 'nope'"):
        net.get_submodule("body.nope")


def test_sequential_keys_are_positions():
    seq = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    nested = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), nn.Linear(2, 1, bias=False))
    assert list(nested.state_dict()) == ["0.0.weight", "0.0.bias", "1.weight"]


def test_shared_parameter_and_module_are_counted_once():
    a, b = nn.Linear(3, 3), nn.Linear(3, 3)
    b.weight = a.weight
    seq = nn.Sequential(a, b)
    params = list(seq.parameters())
    assert len(params) == 3  # a.weight (shared), a.bias, b.bias
    assert sum(p.size for p in params) == 9 + 3 + 3
    twice = nn.Sequential(a, nn.ReLU(), a)
    assert [n for n, _ in twice.named_parameters()] == ["0.weight", "0.bias"]
    assert len(list(twice.modules())) == 3  # the Sequential, a, ReLU
    assert list(twice.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_reassignment_and_deletion():
    m = Affine(2)
    m.shift = None
    assert [n for n, _ in m.named_parameters()] == ["scale"]
    with pytest.raises(TypeError, match="parameter 'scale'.*expected a Parameter or None"):
        m.scale = minigan.ones(2)
    m.steps = minigan.ones(1)  # a buffer takes a new Tensor
    assert m.state_dict()["steps"].data.tolist() == [1.0]
    with pytest.raises(TypeError, match="buffer 'steps'.*expected a Tensor or None"):
        m.steps = 3
    del m.scale
    assert list(m.parameters()) == []
    m.scale = 5  # a plain attribute once it is no longer registered
    assert m.scale == 5


def test_assignment_before_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(minigan.zeros(1))

    with pytest.raises(AttributeError, match=r"call super\(\).__init__\(\) first"):
        Broken()


def test_register_functions_check_their_arguments():
    m = nn.Module()
    with pytest.raises(TypeError, match="expected a Parameter or None, found Tensor"):
        m.register_parameter("w", minigan.zeros(1))
    with pytest.raises(TypeError, match="expected a Tensor or None, found ndarray"):
        m.register_buffer("b", np.zeros(1))
    with pytest.raises(KeyError, match="without '.'"):
        m.register_buffer("a.b", minigan.zeros(1))
    with pytest.raises(TypeError, match="expected a Module or None, found int"):
        m.add_module("x", 3)
    with pytest.raises(NotImplementedError, match="must define forward"):
        m(minigan.zeros(1))


# ==================== modes, gradients, devices ====================

def test_train_eval_recurse_and_return_self():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    net.body.eval()
    assert net.training and not net.body[0].training
    with pytest.raises(ValueError, match="expected a bool"):
        net.train("no")


def test_zero_grad_and_requires_grad():
    net = Net()
    net(minigan.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.head.requires_grad_(False)
    net(minigan.randn(5, 4)).sum().backward()
    assert net.head.weight.grad is None and net.body[0].weight.grad is not None


def test_apply_visits_children_before_parent():
    net = Net()
    order = []
    assert net.apply(lambda m: order.append(type(m).__name__)) is net
    assert order == ["Linear", "ReLU", "Affine", "Sequential", "Linear", "Net"]


def test_to_moves_parameters_grads_and_buffers_in_place(device):
    net = Net()
    net.register_buffer("count", minigan.tensor(3))  # int64: dtype casts leave it alone
    net(minigan.randn(2, 4)).sum().backward()
    weight = net.head.weight
    assert net.to(device) is net and net.head.weight is weight
    tensors = list(net.parameters()) + list(net.buffers())
    assert all(t.device == device for t in tensors)
    assert all(p.grad.device == device for p in net.parameters())
    net.double()
    assert all(t.dtype == np.float64 for t in net.parameters())
    assert net.count.dtype == np.int64
    assert net(minigan.randn(2, 4, dtype="float64", device=device)).device == device
    with pytest.raises(ValueError, match="float32 or float64, found int32"):
        net.to(dtype="int32")


def test_deepcopy_is_independent():
    net = Net()
    clone = copy.deepcopy(net)
    clone.head.weight.data += 1
    assert not np.array_equal(clone.head.weight.data, net.head.weight.data)
    assert isinstance(clone.head.weight, nn.Parameter) and clone.head.weight.requires_grad


# ==================== state dicts ====================

def test_state_dict_is_detached_and_round_trips():
    src, dst = Net(), Net()
    src.body[2].steps.data[...] = 7
    state = src.state_dict()
    assert all(not t.requires_grad and t.is_leaf for t in state.values())
    assert isinstance(state, OrderedDict)
    weight_array = dst.head.weight.data
    result = dst.load_state_dict(state)
    assert result == ([], [])
    assert dst.head.weight.data is weight_array  # copied in place
    for key, value in src.state_dict().items():
        assert np.array_equal(dst.state_dict()[key].data, value.data), key
    x = minigan.randn(3, 4)
    assert np.array_equal(src(x).data, dst(x).data)


def test_load_state_dict_accepts_arrays_and_casts_dtype():
    m = nn.Linear(2, 3)
    state = {"weight": np.arange(6, dtype=np.float64).reshape(3, 2), "bias": [1, 2, 3]}
    m.load_state_dict(state)
    assert m.weight.dtype == np.float32
    assert m.weight.data.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert m.bias.data.tolist() == [1, 2, 3]


def test_missing_and_unexpected_keys_are_all_listed():
    net = Net()
    state = net.state_dict()
    del state["head.weight"], state["body.0.bias"]
    state["extra.weight"] = minigan.zeros(1)
    state["body.9.bias"] = minigan.zeros(1)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    message = str(error.value)
    assert "Error(s) in loading state_dict for Net" in message
    assert 'Missing key(s) in state_dict: "body.0.bias", "head.weight".' in message
    assert 'Unexpected key(s) in state_dict: "extra.weight", "body.9.bias".' in message


def test_shape_mismatch_names_key_and_both_shapes_and_copies_nothing():
    net = Net()
    before = net.head.bias.data.copy()
    state = net.state_dict()
    state = {k: minigan.zeros(*v.shape) for k, v in state.items()}
    state["body.0.weight"] = minigan.zeros(3, 5)
    with pytest.raises(RuntimeError, match=r"size mismatch for body\.0\.weight: copying a param "
                       r"with shape \(3, 5\) from checkpoint, the shape in current model is "
                       r"\(3, 4\)"):
        net.load_state_dict(state, strict=False)
    assert np.array_equal(net.head.bias.data, before)


def test_non_strict_load_returns_missing_and_unexpected():
    net = Net()
    state = {"head.bias": np.full(2, 5.0), "other": np.zeros(1)}
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert unexpected == ["other"]
    assert missing == [k for k in net.state_dict() if k != "head.bias"]
    assert net.head.bias.data.tolist() == [5.0, 5.0]


def test_load_state_dict_moves_to_the_parameter_device(device):
    m = nn.Linear(2, 2).to(device)
    m.load_state_dict({"weight": np.eye(2), "bias": minigan.zeros(2)})
    assert m.weight.device == device
    assert backend.to_numpy(m.weight.data).tolist() == [[1, 0], [0, 1]]


# ==================== repr ====================

def test_repr_is_nested_like_pytorch():
    net = nn.Sequential(nn.Linear(784, 128), nn.LeakyReLU(0.2),
                        nn.Sequential(nn.Dropout(0.3), nn.Linear(128, 1, bias=False)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=128, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.3)\n"
        "    (1): Linear(in_features=128, out_features=1, bias=False)\n"
        "  )\n"
        ")")
    assert repr(nn.Tanh()) == "Tanh()"
    assert repr(nn.Embedding(10, 3)) == "Embedding(10, 3)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


# ==================== containers ====================

def test_sequential_indexing_iteration_and_named_entries():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers
    assert seq[0] is layers[0] and seq[-1] is layers[2]
    assert list(seq[1:]) == layers[1:] and isinstance(seq[1:], nn.Sequential)
    with pytest.raises(IndexError, match="index 3 is out of range for a container of 3"):
        seq[3]
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    seq.append(nn.Sigmoid())
    assert len(seq) == 4
    with pytest.raises(TypeError, match="container entry 1: expected a Module, found int"):
        nn.Sequential(nn.ReLU(), 3)
    with pytest.raises(TypeError, match=r"found the class ReLU; did you mean ReLU\(...\)\?"):
        nn.Sequential(nn.Linear(2, 2), nn.ReLU)


def test_sequential_applies_layers_in_order():
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    x = minigan.randn(4, 2)
    w, b = seq[0].weight.data, seq[0].bias.data
    np.testing.assert_allclose(seq(x).data, np.maximum(x.data @ w.T + b, 0), rtol=1e-6)


def test_sequential_gives_inputs_after_x_to_its_first_module_only():
    """D(x, v) of a conditional D: the nested first block's first layer gets v."""
    class Shift(nn.Module):                      # y = x + c, c given beside x
        def forward(self, x, c):
            return x + c

    seq = nn.Sequential(nn.Sequential(Shift(), nn.ReLU()), nn.Linear(2, 1))
    x, c = minigan.randn(4, 2), minigan.randn(4, 2)
    w, b = seq[1].weight.data, seq[1].bias.data
    np.testing.assert_allclose(seq(x, c).data, np.maximum(x.data + c.data, 0) @ w.T + b,
                               rtol=1e-6)


def test_replacing_a_child_or_parameter_keeps_its_place():
    """PyTorch's order: a replaced entry stays where it was defined (a Sequential's forward,
    modules(), parameters() and state_dict() all follow that order)."""
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    seq[1] = nn.Tanh()
    assert [type(m).__name__ for m in seq] == ["Linear", "Tanh", "Linear"]
    x = minigan.randn(3, 2)
    w0, b0, w2, b2 = (p.data for p in seq.parameters())
    np.testing.assert_allclose(seq(x).data, np.tanh(x.data @ w0.T + b0) @ w2.T + b2, rtol=1e-6)
    named = nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.ReLU(), out=nn.Linear(2, 1)))
    named[0] = nn.Linear(2, 2, bias=False)
    assert list(named.state_dict()) == ["fc.weight", "out.weight", "out.bias"]
    blocks = nn.ModuleList([nn.ReLU(), nn.Tanh(), nn.Sigmoid()])
    blocks[0] = nn.Identity()
    assert [type(m).__name__ for m in blocks] == ["Identity", "Tanh", "Sigmoid"]
    layer = nn.Linear(2, 3)
    layer.weight = nn.Parameter(minigan.zeros(3, 2))
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    layer.register_buffer("stat", minigan.zeros(1), persistent=False)
    layer.register_buffer("stat", minigan.ones(1))       # re-registered as persistent
    assert list(layer.state_dict()) == ["weight", "bias", "stat"]


def test_module_list_and_dict_register_their_entries():
    blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
    blocks.append(nn.Linear(2, 1))
    blocks.insert(0, nn.Tanh())
    assert [n for n, _ in blocks.named_parameters()][:2] == ["1.weight", "1.bias"]
    assert len(blocks) == 4 and isinstance(blocks[0], nn.Tanh)
    blocks[0] = nn.ReLU()
    assert isinstance(blocks[0], nn.ReLU) and len(blocks) == 4
    heads = nn.ModuleDict({"a": nn.Linear(2, 1)})
    heads["b"] = nn.Linear(2, 3)
    assert list(heads) == ["a", "b"] and "b" in heads
    assert list(heads.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]


# ==================== Linear ====================

@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4), (1, 4)])
def test_linear_forward_matches_numpy(device, shape):
    layer = nn.Linear(4, 3, dtype="float64", device=device)
    x = randn64(*shape, device=device, requires_grad=False)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    expected = np.einsum("...i,oi->...o", x.numpy(), w) + b  # y_o = Σ_i x_i W_oi + b_o
    y = layer(x)
    assert y.shape == shape[:-1] + (3,)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-12)
    nobias = nn.Linear(4, 3, bias=False, dtype="float64", device=device)
    np.testing.assert_allclose(nobias(x).numpy(),
                               np.einsum("...i,oi->...o", x.numpy(), nobias.weight.numpy()),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradients_first_and_second_order(device, shape, bias):
    layer = nn.Linear(4, 3, bias=bias, dtype="float64", device=device)
    x = randn64(*shape, device=device)
    inputs = [x] + list(layer.parameters())

    def fn(x, *params):  # params are the layer's own Parameters, perturbed in place
        return layer(x)

    assert minigan.gradcheck(fn, inputs, name="Linear")
    assert minigan.gradgradcheck(fn, inputs, name="Linear")


def test_linear_default_init_is_pytorch_uniform():
    layer = nn.Linear(1000, 500)
    bound = 1 / math.sqrt(1000)
    w, b = np.abs(layer.weight.data), np.abs(layer.bias.data)
    assert w.max() <= bound and w.max() > 0.999 * bound
    assert b.max() <= bound and b.max() > 0.95 * bound
    assert abs(layer.weight.data.std() - bound / math.sqrt(3)) < 0.01 * bound  # U(−b, b)
    assert abs(layer.weight.data.mean()) < 0.01 * bound


def test_linear_checks_its_arguments_and_input():
    with pytest.raises(ValueError, match="in_features must be a positive int, found 0"):
        nn.Linear(0, 3)
    layer = nn.Linear(784, 128)
    with pytest.raises(ValueError, match=r"last dimension is 784, found shape \(64, 100\)"):
        layer(minigan.zeros(64, 100))
    with pytest.raises(TypeError, match="expected a Tensor input, found ndarray"):
        layer(np.zeros((1, 784)))


# ==================== activations and shapes ====================

def test_activation_layers_compute_their_functions():
    x = minigan.tensor([-2.0, -0.5, 0.0, 1.5], dtype="float64")
    v = x.numpy()
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), np.maximum(v, 0))
    np.testing.assert_allclose(nn.LeakyReLU()(x).numpy(), np.where(v > 0, v, 0.01 * v))
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(x).numpy(), np.where(v > 0, v, 0.2 * v))
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(v))
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-v)))
    assert nn.Identity()(x) is x
    with pytest.raises(TypeError, match="negative_slope must be a number"):
        nn.LeakyReLU("0.2")


def test_flatten_and_unflatten_shapes():
    x = minigan.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0)(x).shape == (120,)
    assert nn.Flatten(1, 2)(x).shape == (2, 12, 5)
    assert nn.Flatten(-2, -1)(x).shape == (2, 3, 20)
    flat = nn.Flatten()(x)
    back = nn.Unflatten(1, (3, 4, 5))(flat)
    assert back.shape == (2, 3, 4, 5) and np.array_equal(back.data, x.data)
    assert nn.Unflatten(-1, (2, 2))(minigan.zeros(3, 4)).shape == (3, 2, 2)
    with pytest.raises(ValueError, match=r"sizes \(3, 3\) hold 9 elements, but dim 1 .*has 60"):
        nn.Unflatten(1, (3, 3))(flat)
    with pytest.raises(ValueError, match=r"dim 4 is out of range for an input of shape"):
        nn.Flatten(4)(x)
    with pytest.raises(ValueError, match="start_dim 2 comes after end_dim 1"):
        nn.Flatten(2, 1)(x)


def test_flatten_gradient_is_reshape_back():
    x = randn64(2, 3, 2)
    assert minigan.gradcheck(nn.Flatten(), [x])
    assert minigan.gradgradcheck(lambda x: nn.Flatten()(x) ** 2, [x])


# ==================== Dropout ====================

def test_dropout_eval_and_p0_are_identity():
    x = minigan.randn(100)
    assert nn.Dropout(0.5).eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    images = minigan.randn(2, 3, 4, 4)
    assert nn.Dropout2d(0.5).eval()(images) is images and nn.Dropout2d(0)(images) is images


def test_dropout_zeroes_fraction_p_and_preserves_the_mean(device):
    n, p = 200_000, 0.3
    y = nn.Dropout(p)(minigan.ones(n, device=device)).numpy()
    kept = y != 0
    assert set(np.unique(y)) == {0.0, np.float32(1 / (1 - p))}
    sigma = math.sqrt(p * (1 - p) / n)  # std of the observed fraction, Binomial(n, p) / n
    assert abs((~kept).mean() - p) < 5 * sigma
    assert abs(y.mean() - 1.0) < 5 * sigma / (1 - p)


def test_dropout_p1_zeroes_everything():
    assert not nn.Dropout(1.0)(minigan.ones(10)).data.any()


def test_dropout_gradient_is_the_scaled_mask():
    x = randn64(6, 5)

    def fn(x):
        minigan.manual_seed(3)  # the same mask on every call of the finite differences
        return nn.Dropout(0.4)(x)

    y = fn(x)
    (gx,) = minigan.grad(y.sum(), x)
    mask = y.numpy() != 0
    np.testing.assert_allclose(gx.numpy(), mask / 0.6)
    assert minigan.gradcheck(fn, [x])
    assert minigan.gradgradcheck(lambda x: fn(x) * x, [x])


def test_dropout2d_zeroes_whole_channels(device):
    p = 0.5
    y = nn.Dropout2d(p)(minigan.ones(16, 8, 3, 3, device=device)).numpy()
    per_channel = y.reshape(16, 8, 9)
    zero = (per_channel == 0).all(axis=2)
    scaled = (per_channel == np.float32(1 / (1 - p))).all(axis=2)
    assert (zero | scaled).all() and zero.any() and scaled.any()
    with pytest.raises(ValueError, match=r"4-D input \(N, C, H, W\), found shape \(8, 3, 3\)"):
        nn.Dropout2d()(minigan.ones(8, 3, 3))


def test_dropout_checks_p():
    for bad in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match=r"p must be a number in \[0, 1\]"):
            nn.Dropout(bad)


# ==================== Embedding ====================

def test_embedding_picks_rows(device):
    emb = nn.Embedding(10, 4, device=device)
    idx = minigan.tensor([[3, 0], [9, 3]], device=device)
    y = emb(idx)
    assert y.shape == (2, 2, 4)
    weight = emb.weight.numpy()
    for i in range(2):
        for j in range(2):
            np.testing.assert_array_equal(y.numpy()[i, j], weight[idx.numpy()[i, j]])


def test_embedding_gradient_scatter_adds_repeated_indices(device):
    emb = nn.Embedding(5, 3, dtype="float64", device=device)
    indices = [1, 4, 1, 1]
    gy = np.arange(12.0).reshape(4, 3)
    y = emb(np.array(indices))
    y.backward(backend.to_device(gy, device))
    expected = np.zeros((5, 3))
    for position, row in enumerate(indices):  # ∂L/∂W[k] = Σ_{i_p = k} ∂L/∂y_p
        expected[row] += gy[position]
    np.testing.assert_allclose(emb.weight.grad.numpy(), expected)


def test_embedding_gradcheck(device):
    emb = nn.Embedding(4, 2, dtype="float64", device=device)
    idx = np.array([0, 2, 2, 3, 0])
    assert minigan.gradcheck(lambda w: emb(idx) * emb(idx), [emb.weight])
    assert minigan.gradgradcheck(lambda w: emb(idx) * emb(idx), [emb.weight])


def test_embedding_init_and_errors():
    emb = nn.Embedding(1000, 100)
    assert abs(emb.weight.data.std() - 1) < 0.01 and abs(emb.weight.data.mean()) < 0.01
    with pytest.raises(IndexError, match=r"indices must lie in \[0, 1000\), found values "
                       "from -1 to 5"):
        emb(minigan.tensor([5, -1]))
    with pytest.raises(TypeError, match="expected integer indices, found dtype float32"):
        emb(minigan.tensor([1.0]))


# ==================== init ====================

def test_calculate_gain_table():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans_of_linear_and_conv_weights():
    assert init._calculate_fan_in_and_fan_out(minigan.zeros(7, 3)) == (3, 7)
    # conv weight (OC, C, KH, KW): fan_in = C·KH·KW, fan_out = OC·KH·KW
    assert init._calculate_fan_in_and_fan_out(minigan.zeros(8, 4, 3, 5)) == (60, 120)
    with pytest.raises(ValueError, match=r"at least 2 dimensions, found shape \(5,\)"):
        init._calculate_fan_in_and_fan_out(minigan.zeros(5))


def _uniform_check(values, bound):
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert abs(values.std() - bound / math.sqrt(3)) < 0.02 * bound


@pytest.mark.parametrize("shape", [(400, 300), (64, 32, 3, 3)])
def test_xavier_and_kaiming_match_their_closed_forms(device, shape):
    w = minigan.zeros(*shape, dtype="float64", device=device)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(w)
    init.xavier_uniform_(w, gain=2.0)
    _uniform_check(w.numpy(), 2.0 * math.sqrt(6 / (fan_in + fan_out)))
    init.xavier_normal_(w)
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.02)
    init.kaiming_uniform_(w, nonlinearity="relu")
    _uniform_check(w.numpy(), math.sqrt(2) * math.sqrt(3 / fan_in))
    init.kaiming_uniform_(w, a=math.sqrt(5))  # Linear/Conv default: U(−1/√fan_in, 1/√fan_in)
    _uniform_check(w.numpy(), 1 / math.sqrt(fan_in))
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / fan_out), rel=0.02)
    init.kaiming_normal_(w, a=0.2)
    assert w.numpy().std() == pytest.approx(math.sqrt(2 / 1.04) / math.sqrt(fan_in), rel=0.02)
    assert w.device == device


def test_plain_initialisers(device):
    w = nn.Parameter(minigan.zeros(200, 500, device=device))
    array = w.data
    assert init.uniform_(w, -2.0, 3.0) is w and w.data is array and w.is_leaf
    assert w.numpy().min() >= -2 and w.numpy().max() <= 3
    assert w.numpy().mean() == pytest.approx(0.5, abs=0.02)
    init.normal_(w, 1.0, 0.5)
    assert w.numpy().mean() == pytest.approx(1.0, abs=0.01)
    assert w.numpy().std() == pytest.approx(0.5, rel=0.01)
    assert w.dtype == np.float32 and w.creator is None
    init.constant_(w, 0.25)
    assert (w.numpy() == 0.25).all()
    init.ones_(w)
    assert (w.numpy() == 1).all()
    init.zeros_(w)
    assert not w.numpy().any()
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(w, mode="fan")


def test_initialisers_follow_the_seed():
    a, b = minigan.zeros(3, 4), minigan.zeros(3, 4)
    minigan.manual_seed(5)
    init.xavier_uniform_(a)
    minigan.manual_seed(5)
    init.xavier_uniform_(b)
    assert np.array_equal(a.data, b.data)


def test_update_average_follows_the_formula_copies_buffers_and_checks_structure():
    from minigan.nn.averaging import average_decay, update_average
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    average = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    start = average[0].weight.numpy().astype(np.float64)
    net[1].running_mean.data[...] = 5.0
    expected = start
    for t in range(3):
        decay = average_decay(0.999, t)
        assert decay == (1 + t) / (10 + t)          # the warm-up bound, below 0.999
        update_average(average, net, decay)
        expected = expected + (1 - decay) * (net[0].weight.numpy() - expected)
    np.testing.assert_allclose(average[0].weight.numpy(), expected, rtol=1e-6)
    assert (average[1].running_mean.numpy() == 5.0).all()
    assert average_decay(0.9, 1000) == 0.9
    with pytest.raises(ValueError, match="same structure"):
        update_average(nn.Sequential(nn.Identity(), nn.Linear(3, 2)), nn.Linear(3, 2), 0.5)
