"""Online k-means (minigan/nn/kmeans.py) against a slow reference that keeps every
cluster's members in lists: the centroids are the means of all samples ever assigned."""
import numpy as np
import pytest

import minigan
from minigan.nn.kmeans import OnlineKMeans


def reference(batches, k):
    """Seed empty clusters with the next samples of a batch, assign every sample of the
    batch to its nearest seeded centroid, then set each centroid to its members' mean."""
    members = [[] for _ in range(k)]
    centroids = np.zeros((k, batches[0].shape[1]))
    labels = []
    for batch in batches:
        empty = [j for j in range(k) if not members[j]]
        seeded = set(empty[:len(batch)])
        for j, x in zip(empty, batch):
            centroids[j] = x
        usable = [j for j in range(k) if members[j] or j in seeded]
        batch_labels = [min(usable, key=lambda j: ((x - centroids[j]) ** 2).sum())
                        for x in batch]
        for j, x in zip(batch_labels, batch):
            members[j].append(x)
        for j in range(k):
            if members[j]:
                centroids[j] = np.mean(members[j], axis=0)
        labels.append(batch_labels)
    return centroids, np.array([len(m) for m in members]), labels


def test_streaming_centroids_are_the_means_of_their_members():
    rng = np.random.default_rng(0)
    # three blobs in 5-D; batches of 2 (fewer than k: seeding spans batches), then larger
    blobs = rng.normal(size=(3, 5)) * 4
    data = blobs[rng.integers(0, 3, 40)] + rng.normal(size=(40, 5)) * 0.3
    batches = [data[:2], data[2:4], data[4:20], data[20:]]
    km = OnlineKMeans(4, 5).to("float64")
    labels = [km(minigan.tensor(b, dtype="float64")).numpy().tolist() for b in batches]
    centroids, counts, expected_labels = reference(batches, 4)
    assert labels == expected_labels
    np.testing.assert_allclose(km.centroids.numpy(), centroids, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(km.counts.numpy(), counts)
    np.testing.assert_allclose(km.frequencies(), counts / 40)


def test_eval_mode_assigns_without_moving_and_shapes_are_checked():
    km = OnlineKMeans(2, 3)
    np.testing.assert_array_equal(km.frequencies(), [0.5, 0.5])   # nothing seen yet
    km(minigan.tensor([[0.0, 0, 0], [5, 5, 5], [1, 0, 0]]))
    before = km.state_dict()["centroids"].numpy().copy(), km.counts.numpy().copy()
    km.eval()
    assert km(minigan.tensor([[4.0, 4, 4], [0, 1, 0]])).numpy().tolist() == [1, 0]
    np.testing.assert_array_equal(km.centroids.numpy(), before[0])
    np.testing.assert_array_equal(km.counts.numpy(), before[1])
    with pytest.raises(ValueError, match=r"expected samples of 3 numbers, found 4"):
        km(minigan.zeros(2, 4))
    one = OnlineKMeans(3, 3)          # one cluster seeded: the other two take no sample,
    one(minigan.tensor([[5.0, 5, 5]]))  # however close their unset centroids (0) are
    assert one.eval()(minigan.tensor([[0.0, 0, 0]])).numpy().tolist() == [0]
