"""Online k-means (mini-batch k-means, Sculley 2010): clusters learnt from the batches a
model sees, kept as buffers like batch norm's running statistics.

Each sample x (flattened) goes to its nearest centroid, k(x) = argmin_j ‖x − c_j‖². In
training mode every centroid then moves to the mean of all the samples ever assigned to
it: with n_j samples so far and m_j of this batch, of mean x̄_j,

    c_j ← (n_j c_j + m_j x̄_j) / (n_j + m_j),   n_j ← n_j + m_j,

i.e. a per-centroid learning rate 1/n_j, so the centroids settle as samples accumulate.
A centroid that has no sample yet (n_j = 0) is first set to the next unused sample of
the batch, so the first K samples seed the K clusters. The counts n_j also give the
clusters' frequencies in the data (``frequencies``). Nothing here is differentiable:
the assignment is a constant label, as a data set's class labels are.

>>> import minigan
>>> km = OnlineKMeans(2, 1)
>>> km(minigan.tensor([[0.0], [10.0], [1.0], [9.0]])).numpy().tolist()   # seeds: 0, 10
[0, 1, 0, 1]
>>> km.centroids.numpy().ravel().tolist(), km.frequencies().tolist()
([0.5, 9.5], [0.5, 0.5])
"""
import numpy as np

from minigan import backend
from minigan.autograd import Tensor
from minigan.creation import zeros
from minigan.nn.module import Module


class OnlineKMeans(Module):
    """K centroids of ``num_features``-dimensional samples; ``forward(x)`` returns the
    cluster of each sample of x (N, ...) as int64 labels (N,), and in training mode moves
    the centroids (see the module docstring).

    Shape: input (N, *) with num_features numbers per sample -> labels (N,);
    buffers centroids (K, num_features), counts (K,) (samples assigned so far).
    """

    def __init__(self, num_clusters, num_features, device=None):
        super().__init__()
        self.num_clusters, self.num_features = int(num_clusters), int(num_features)
        self.register_buffer("centroids", zeros(num_clusters, num_features, device=device))
        self.register_buffer("counts", zeros(num_clusters, device=device))

    def forward(self, x):
        flat = x.data.reshape(x.shape[0], -1)                  # (N, ...) -> (N, F)
        if flat.shape[1] != self.num_features:
            raise ValueError(f"OnlineKMeans({self.num_clusters}, {self.num_features}): "
                             f"expected samples of {self.num_features} numbers, found "
                             f"{flat.shape[1]} (input shape {x.shape})")
        xp = backend.get_array_module(flat)
        centroids, counts = self.centroids.data, self.counts.data
        usable = counts > 0
        if self.training:                                      # seed empty clusters
            empty = xp.flatnonzero(~usable)[:len(flat)]
            centroids[empty] = flat[:len(empty)]
            usable[empty] = True
        distances = ((centroids * centroids).sum(axis=1)[None, :]
                     - 2 * flat @ centroids.T)                  # (N, K): ‖c‖² − 2x·c
        distances[:, ~usable] = xp.inf
        labels = distances.argmin(axis=1)
        if self.training:
            members = xp.eye(self.num_clusters, dtype=flat.dtype)[labels]     # (N, K)
            added = members.sum(axis=0)                        # m_j
            total = counts + added
            moved = added > 0
            centroids[moved] = ((counts[moved, None] * centroids[moved]
                                 + (members.T @ flat)[moved]) / total[moved, None])
            counts[...] = total
        return Tensor(labels.astype(np.int64))

    def frequencies(self):
        """Each cluster's share of the samples assigned so far, an array (K,) summing to 1
        (uniform before any sample)."""
        counts = backend.to_numpy(self.counts.data).astype(np.float64)
        total = counts.sum()
        return counts / total if total > 0 else np.full(self.num_clusters,
                                                        1 / self.num_clusters)

    def extra_repr(self):
        return f"{self.num_clusters}, {self.num_features}"
