"""Routing live requests between the registry aliases `champion` and `challenger` by Thompson sampling, with the
posterior in Redis so that every worker shares it and it survives a restart.

    router = ABRouter(redis.Redis.from_url(os.environ["REDIS_URL"]))
    arm, note = router.route(prediction_id)      # "champion" / "challenger"; note says why when it fell back
    router.feedback(prediction_id, correct=True)  # later, when the true label is known

Redis holds, under `<prefix>:posterior`, the Beta posterior's alpha and beta for each arm (HINCRBYFLOAT: atomic,
so concurrent workers never lose an update), and `<prefix>:prediction:<id>` -> arm for `ttl_s` seconds, so that
feedback finds which model served a prediction. Feedback for an unknown (or expired) id raises
UnknownPrediction (the route answers 404); feedback twice for one id counts once.

When Redis is unreachable, `route` falls back to the champion and says so (the service reports it in /readyz);
it never raises, so a Redis outage cannot turn into 5xx answers.
"""

import numpy as np

ARMS = ("champion", "challenger")


class UnknownPrediction(KeyError):
    """Feedback for a prediction id the router never served (or whose record expired)."""


class ABRouter:
    def __init__(self, client, prefix: str = "ab", prior: tuple[float, float] = (1.0, 1.0), ttl_s: int = 7 * 86400,
                 rng: np.random.Generator | None = None):  # fmt: skip
        self.client, self.prefix, self.prior, self.ttl_s = client, prefix, prior, ttl_s
        self.rng = rng or np.random.default_rng()
        self.last_error: str | None = None

    @property
    def posterior_key(self) -> str:
        return f"{self.prefix}:posterior"

    def posterior(self) -> dict[str, tuple[float, float]]:
        """arm -> (alpha, beta), prior included."""
        stored = {
            k.decode() if isinstance(k, bytes) else k: float(v)
            for k, v in self.client.hgetall(self.posterior_key).items()
        }
        return {
            arm: (self.prior[0] + stored.get(f"{arm}:alpha", 0.0), self.prior[1] + stored.get(f"{arm}:beta", 0.0))
            for arm in ARMS
        }

    def route(self, prediction_id: str) -> tuple[str, str | None]:
        """(arm, None), or ("champion", reason) when Redis cannot be used."""
        try:
            posterior = self.posterior()
            draws = {arm: self.rng.beta(*posterior[arm]) for arm in ARMS}
            arm = max(draws, key=draws.get)
            self.client.set(f"{self.prefix}:prediction:{prediction_id}", arm, ex=self.ttl_s)
        except Exception as error:  # redis.ConnectionError, TimeoutError, ...: degrade, never fail the request
            self.last_error = f"A/B routing unavailable ({type(error).__name__}: {error}); serving the champion"
            return ARMS[0], self.last_error
        self.last_error = None
        return arm, None

    def feedback(self, prediction_id: str, correct: bool) -> str:
        """Record whether the prediction was right; returns the arm that served it."""
        key = f"{self.prefix}:prediction:{prediction_id}"
        arm = self.client.getdel(key)  # atomic: a second feedback for the same id finds nothing
        if arm is None:
            raise UnknownPrediction(prediction_id)
        arm = arm.decode() if isinstance(arm, bytes) else arm
        self.client.hincrbyfloat(self.posterior_key, f"{arm}:{'alpha' if correct else 'beta'}", 1.0)
        return arm

    def ready(self) -> tuple[bool, str]:
        """For /readyz: is the shared posterior reachable?"""
        try:
            self.client.ping()
            return True, "A/B routing: Redis reachable"
        except Exception as error:
            return False, f"A/B routing: Redis unreachable ({type(error).__name__}); requests go to the champion"
