"""How pure dcgan's k-means clusters are, by number of clusters K.

dcgan (defaults) conditions G and D on the online k-means cluster of each real digit, as
cgan conditions them on the class. The purer the clusters, the closer the model is to the
CGAN: purity = (1/n) Σ_k max_c |{x in cluster k with label c}|, the share of digits that
belong to their cluster's majority class (1 for the labels themselves). The clusters are
learnt as in training: ``nn.OnlineKMeans`` on batches of 64 of the embedded training
digits (pixels in [-1, 1], the loader's scaling), then every training digit is assigned.

    python benchmarks/cluster_purity.py [--clusters 10 20 40 60] [--steps 2000]
                                        [--seeds 0 1]

Prints, per K, the purity (mean and range over the seeds' batch orders), the smallest and
largest cluster's share of the digits, and how many classes have a cluster of their own
(a cluster whose majority class they are). Labels are read only to score the clusters.
"""
import argparse

import numpy as np

import minigan
from minigan.data import DataLoader, load_dataset
from minigan.nn.kmeans import OnlineKMeans


def cluster_scores(digits, clusters, steps, seed):
    """(purity, smallest share, largest share, classes with a cluster) of K = ``clusters``
    online k-means clusters learnt from ``steps`` batches of 64 drawn with ``seed``."""
    minigan.manual_seed(seed)
    kmeans = OnlineKMeans(clusters, int(np.prod(digits.images.shape[1:])))
    for batch in DataLoader(digits, 64, seed=seed).batches(steps):
        kmeans(batch["x"])
    kmeans.eval()
    assigned = np.concatenate([kmeans(batch["x"]).numpy() for batch in
                               DataLoader(digits, 500, shuffle=False).batches(
                                   len(digits) // 500)])
    labels = digits.labels[:len(assigned)]
    majority = {k: np.bincount(labels[assigned == k]).argmax()
                for k in np.unique(assigned)}
    purity = sum(np.sum(labels[assigned == k] == c) for k, c in majority.items())
    shares = np.bincount(assigned, minlength=clusters) / len(assigned)
    return purity / len(assigned), shares.min(), shares.max(), len(set(majority.values()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, nargs="+", default=[10, 20, 40, 60])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    digits = load_dataset("mnist5k", split="train")
    print(f"online k-means on the {len(digits)} embedded training digits, {args.steps} "
          f"batches of 64, seeds {args.seeds}")
    print(f"{'K':>4} {'purity':>7} {'range':>13} {'smallest':>9} {'largest':>8} "
          f"{'classes with a cluster':>23}")
    for clusters in args.clusters:
        scores = np.array([cluster_scores(digits, clusters, args.steps, seed)
                           for seed in args.seeds])
        purity = scores[:, 0]
        print(f"{clusters:>4} {purity.mean():>7.3f} {purity.min():>6.3f}–{purity.max():<6.3f} "
              f"{scores[:, 1].min():>9.4f} {scores[:, 2].max():>8.3f} "
              f"{int(scores[:, 3].min()):>20d}/10")


if __name__ == "__main__":
    main()
