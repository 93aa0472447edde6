"""F.linear: y = x Wᵀ + b as one fused op."""
import numpy as np
import pytest

import minigan
import minigan.functional as F
from tests.helpers import randn64


@pytest.mark.parametrize("x_shape", [(3, 4), (1, 4), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_forward_and_gradients(device, x_shape, bias):
    x = randn64(*x_shape, device=device)
    w = randn64(5, 4, device=device)
    b = randn64(5, device=device) if bias else None
    inputs = [x, w] + ([b] if bias else [])
    expected = x.numpy() @ w.numpy().T + (b.numpy() if bias else 0)
    np.testing.assert_allclose(F.linear(*inputs).numpy(), expected, rtol=1e-12)
    assert minigan.gradcheck(F.linear, inputs)
    assert minigan.gradgradcheck(F.linear, inputs)


def test_linear_feature_mismatch_names_both_sizes():
    with pytest.raises(ValueError, match="3 features.*expects 4"):
        F.linear(minigan.randn(2, 3), minigan.randn(5, 4))
