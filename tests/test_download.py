"""download() against a local http.server on 127.0.0.1: nothing here touches the internet."""
import gzip
import hashlib
import http.server
import re
import struct
import threading

import numpy as np
import pytest

from minigan.data import load_dataset
from minigan.data.download import CHECKSUMS, FILES, default_root, download


def idx_gz(array):
    """A gzipped IDX file (spec: 0, 0, 0x08, ndim, big-endian uint32 dims, bytes)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    raw = header + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()
    return gzip.compress(raw, mtime=0)


def tiny_mnist():
    """The four files of a 5-train, 3-test MNIST look-alike, as bytes."""
    r = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": r.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": r.integers(0, 10, 5, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": r.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": r.integers(0, 10, 3, dtype=np.uint8),
    }
    return {name: idx_gz(array) for name, array in arrays.items()}


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Server:
    """Serves ``files`` {name: bytes}; ``cut`` {name: n} sends only n bytes of that file
    while announcing its full length, like a dropped connection. Records each request."""

    def __init__(self):
        self.files, self.cut, self.requests = {}, {}, []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                owner.requests.append(self.path)
                if name not in owner.files:
                    self.send_error(404)
                    return
                body = owner.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[:owner.cut.get(name, len(body))])
                self.close_connection = True

            def log_message(self, *args):  # keep pytest's output clean
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"


@pytest.fixture
def server():
    s = Server()
    thread = threading.Thread(target=s.httpd.serve_forever, daemon=True)
    thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def served(server):
    server.files = tiny_mnist()
    return server, {name: sha(data) for name, data in server.files.items()}


def test_download_fetches_verifies_and_loads(tmp_path, served):
    server, checksums = served
    directory = download("mnist", tmp_path, base_url=server.url, checksums=checksums,
                         progress=False)
    assert directory == str(tmp_path / "mnist")
    for name, data in server.files.items():
        assert (tmp_path / "mnist" / name).read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(FILES)
    assert len(load_dataset(f"mnist:{directory}")) == 5
    assert len(load_dataset("mnist", root=str(tmp_path), split="test")) == 3


def test_download_skips_verified_files(tmp_path, served):
    server, checksums = served
    download("mnist", tmp_path, base_url=server.url, checksums=checksums, progress=False)
    assert len(server.requests) == 4
    download("mnist", tmp_path, base_url=server.url, checksums=checksums, progress=True)
    assert len(server.requests) == 4


def test_download_replaces_corrupt_existing_file(tmp_path, served):
    server, checksums = served
    (tmp_path / "mnist").mkdir()
    stale = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    stale.write_bytes(b"half a file")
    download("mnist", tmp_path, base_url=server.url, checksums=checksums, progress=False)
    assert stale.read_bytes() == server.files[stale.name]
    assert len(server.requests) == 4


def test_checksum_mismatch_keeps_nothing_under_final_name(tmp_path, served):
    server, checksums = served
    last = FILES[-1]
    server.files[last] = server.files[last][:-1] + b"!"  # a corrupted mirror
    with pytest.raises(ValueError) as e:
        download("mnist", tmp_path, base_url=server.url, checksums=checksums, progress=False)
    message = str(e.value)
    assert last in message and checksums[last] in message
    assert sha(server.files[last]) in message
    # the files before it verified and stay; nothing else, no temp file, is left behind
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(FILES[:-1])


def test_interrupted_transfer_leaves_no_partial_file(tmp_path, served):
    server, checksums = served
    first = FILES[0]
    server.cut[first] = len(server.files[first]) // 3
    with pytest.raises(ConnectionError, match=re.escape(server.url + first)):
        download("mnist", tmp_path, base_url=server.url, checksums=checksums, progress=False)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_missing_file_on_server_names_url(tmp_path, served):
    server, checksums = served
    del server.files[FILES[1]]
    with pytest.raises(ConnectionError, match=re.escape(server.url + FILES[1])):
        download("mnist", tmp_path, base_url=server.url, checksums=checksums, progress=False)
    assert not (tmp_path / "mnist" / FILES[1]).exists()


def test_download_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="cifar.*fashion-mnist.*mnist"):
        download("cifar", tmp_path)
    with pytest.raises(ValueError, match="missing"):
        download("mnist", tmp_path, checksums={FILES[0]: "0" * 64})


def test_checksum_table_is_complete():
    for name in ("mnist", "fashion-mnist"):
        assert set(CHECKSUMS[name]) == set(FILES)
        assert all(re.fullmatch("[0-9a-f]{64}", d) for d in CHECKSUMS[name].values())
    digests = [d for table in CHECKSUMS.values() for d in table.values()]
    assert len(set(digests)) == 8


def test_default_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path))
    assert default_root() == str(tmp_path)
