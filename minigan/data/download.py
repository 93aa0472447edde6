"""Verified download of MNIST and Fashion-MNIST (the four .gz IDX files of each).

Each file is streamed into a temporary file next to its final name, its sha256 is checked,
and only then is it renamed into place with ``os.replace`` (atomic on one filesystem). An
interrupted or corrupted download therefore never sits under the final name, where a
later run would trust it.
"""
import hashlib
import http.client
import os
import urllib.error
import urllib.request

from tqdm import tqdm

from minigan.atomic import atomic_write

MIRRORS = {
    # yann.lecun.com now refuses most downloads; PyTorch's mirror serves the same files.
    "mnist": "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "fashion-mnist": "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
}

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")

# sha256 of the original .gz files, from tensorflow/datasets
# tensorflow_datasets/url_checksums/mnist.txt (commit 31f1255e, which lists the same files on
# storage.googleapis.com/cvdf-datasets) and .../fashion_mnist.txt (commit 333639b3); the same
# values appear in many independent projects that fetch these files.
CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz":
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz":
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz":
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz":
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz":
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz":
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz":
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz":
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}

CHUNK = 1 << 16


def default_root():
    """Where downloads go unless told otherwise: $MINIGAN_DATA, else ~/.minigan/data."""
    return os.environ.get("MINIGAN_DATA") or os.path.join(os.path.expanduser("~"),
                                                          ".minigan", "data")


def sha256_file(path):
    """The sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url, path, expected, progress):
    """Stream ``url`` into ``path`` atomically; the file is kept only if its sha256 is
    ``expected`` (otherwise the old ``path``, if any, is untouched)."""
    name = os.path.basename(path)
    try:
        with atomic_write(path) as out, urllib.request.urlopen(url, timeout=60) as response:
            digest, received = hashlib.sha256(), 0
            size = response.headers.get("Content-Length")
            size = int(size) if size else None
            with tqdm(total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=name,
                      disable=not progress) as bar:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            # read(n) returns b"" when the server hangs up early, without raising
            if size is not None and received != size:
                raise ConnectionError(f"download of {url} was cut off: received {received} of "
                                      f"{size} bytes")
            found = digest.hexdigest()
            if found != expected:
                raise ValueError(f"{name} from {url}: sha256 expected {expected}, found "
                                 f"{found}; the file was not kept")
    except urllib.error.URLError as e:
        raise ConnectionError(f"could not download {url}: {e.reason}; offline, the "
                              "embedded 'mnist5k' data set needs no download") from e
    except (http.client.HTTPException, ConnectionResetError, TimeoutError) as e:
        raise ConnectionError(f"download of {url} was cut off: {e!r}") from e


def download(name, root=None, base_url=None, checksums=None, progress=True):
    """Download and verify the four .gz IDX files of a data set.

    name: "mnist" or "fashion-mnist"; root: parent directory (default ``default_root()``),
    the files go to ``root/name``; base_url: where to fetch from (default the mirror in
    ``MIRRORS``); checksums: {file name: sha256} replacing ``CHECKSUMS[name]`` (tests serve
    their own files); progress: show a tqdm bar per file.
    Files already present with the right sha256 are not fetched again.
    Returns the directory holding the files (what ``load_dataset("mnist:DIR")`` reads).
    """
    if name not in MIRRORS:
        raise ValueError(f"cannot download {name!r}: expected one of {sorted(MIRRORS)}")
    checksums = CHECKSUMS[name] if checksums is None else checksums
    missing = [f for f in FILES if f not in checksums]
    if missing:
        raise ValueError(f"checksums: expected a sha256 for each of {FILES}, missing {missing}")
    base_url = base_url or MIRRORS[name]
    directory = os.path.join(root or default_root(), name)
    os.makedirs(directory, exist_ok=True)
    for file in FILES:
        path = os.path.join(directory, file)
        if os.path.isfile(path) and sha256_file(path) == checksums[file]:
            continue
        _fetch(base_url.rstrip("/") + "/" + file, path, checksums[file], progress)
    return directory
