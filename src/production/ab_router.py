"""Routing live requests between the registry aliases `champion` and `challenger` by Thompson sampling, with the
posterior in Redis so that every worker shares it and it survives a restart of the service.

    router = ABRouter(redis.Redis.from_url(url), versions={"champion": "3", "challenger": "4"})
    [arm], note = router.choose()                     # "champion" / "challenger"; note says why when it fell back
    router.remember(prediction_id, arm, label="bug")  # after the model answered
    router.feedback(prediction_id, true_label="bug")  # later, when the true label is known -> reward 1

The posterior is kept per *registry version*, not per alias: Redis holds, under `<prefix>:posterior`, the Beta
posterior's successes and failures as fields `<version>:alpha` / `<version>:beta` (HINCRBYFLOAT: atomic, so
concurrent workers never lose an update). When the alias moves (a promotion), the new champion starts from the
prior and the promoted challenger keeps its evidence. `<prefix>:prediction:<id>` -> {"arm", "version", "label"}
for `ttl_s` seconds lets feedback find which model served a prediction and whether it was right. Feedback for an
unknown (or expired) id raises UnknownPrediction (the route answers 404); feedback twice for one id counts once.

With one arm (no `challenger` alias registered: a fresh clone), `choose` is the champion without asking Redis.
When Redis is unreachable, `choose` falls back to the champion and says so; it never raises, so a Redis outage
cannot turn into 5xx answers. Every Redis call goes through a circuit breaker: while Redis is down, requests skip
it in microseconds instead of each waiting for its socket timeout.
"""

import json

import numpy as np

from src.production.circuit_breaker import CircuitBreaker

CHAMPION, CHALLENGER = "champion", "challenger"


class UnknownPrediction(KeyError):
    """Feedback for a prediction id the router never recorded (or whose record expired)."""


class ABRouter:
    def __init__(self, client, versions: dict[str, str], prefix: str = "ab", prior: tuple[float, float] = (1.0, 1.0),
                 ttl_s: int = 7 * 86400, breaker: CircuitBreaker | None = None,
                 rng: np.random.Generator | None = None):  # fmt: skip
        if CHAMPION not in versions or not set(versions) <= {CHAMPION, CHALLENGER}:
            raise ValueError(f"versions must name {CHAMPION!r} (and optionally {CHALLENGER!r}), got {versions}")
        self.client, self.versions, self.prefix, self.prior, self.ttl_s = client, dict(versions), prefix, prior, ttl_s
        self.breaker = breaker or CircuitBreaker(failure_threshold=3, reset_timeout=5.0, name="redis")
        self.rng = rng or np.random.default_rng()

    @property
    def arms(self) -> tuple[str, ...]:
        return tuple(self.versions)

    @property
    def posterior_key(self) -> str:
        return f"{self.prefix}:posterior"

    def _redis(self, method: str, *args, **kwargs):
        return self.breaker.call(getattr(self.client, method), *args, **kwargs)

    def posterior(self) -> dict[str, tuple[float, float]]:
        """arm -> (alpha, beta) of its version's Beta posterior, prior included."""
        stored = {
            k.decode() if isinstance(k, bytes) else k: float(v)
            for k, v in self._redis("hgetall", self.posterior_key).items()
        }
        return {
            arm: (self.prior[0] + stored.get(f"{v}:alpha", 0.0), self.prior[1] + stored.get(f"{v}:beta", 0.0))
            for arm, v in self.versions.items()
        }

    def choose(self, n: int = 1) -> tuple[list[str], str | None]:
        """(arms, None): for each of `n` requests, one draw from each arm's posterior, the larger wins (Thompson
        sampling; one posterior read serves all n); ([CHAMPION] * n, reason) when Redis cannot be used."""
        if len(self.versions) == 1:
            return [CHAMPION] * n, None
        try:
            posterior = self.posterior()
        except Exception as error:  # redis.ConnectionError, TimeoutError, CircuitOpenError: degrade, never fail
            return [CHAMPION] * n, f"A/B routing unavailable ({type(error).__name__}); serving the champion"
        draws = np.stack([self.rng.beta(*posterior[arm], size=n) for arm in self.arms], axis=1)
        return [self.arms[i] for i in draws.argmax(axis=1)], None

    def remember(self, prediction_id: str, arm: str, label: str) -> str | None:
        """Keep which arm served `prediction_id` and what it answered, for feedback; a note when Redis failed
        (the answer is still served; feedback for it will be refused as unknown)."""
        record = json.dumps({"arm": arm, "version": self.versions[arm], "label": label})
        try:
            self._redis("set", f"{self.prefix}:prediction:{prediction_id}", record, ex=self.ttl_s)
        except Exception as error:
            return f"prediction not recorded for feedback ({type(error).__name__})"
        return None

    def feedback(self, prediction_id: str, true_label: str) -> dict:
        """Reward 1 if the served label was `true_label`, else 0, to the posterior of the version that served it.
        Returns {"arm", "version", "label", "reward"}. Raises UnknownPrediction; Redis errors propagate."""
        stored = self._redis("getdel", f"{self.prefix}:prediction:{prediction_id}")  # atomic: counted once
        if stored is None:
            raise UnknownPrediction(prediction_id)
        record = json.loads(stored)
        reward = int(record["label"] == true_label)
        self._redis("hincrbyfloat", self.posterior_key, f"{record['version']}:{'alpha' if reward else 'beta'}", 1.0)
        return {**record, "reward": reward}

    def ready(self) -> tuple[bool, str]:
        """For /readyz: can the shared posterior be reached?"""
        try:
            self._redis("ping")
        except Exception as error:
            return False, f"A/B routing: Redis unreachable ({type(error).__name__}); requests go to the champion"
        return True, f"A/B routing: Redis reachable, arms {self.versions}"
