"""The two deterministic alternatives to a bandit: a canary with automatic rollback, and a blue-green switch.

Canary: a fixed share of requests goes to the challenger, chosen by a hash of the request id (the same request
id always lands on the same model, so a retried request does not flip models). Every outcome is counted; once
the challenger has `min_requests` outcomes and its error rate passes `max_error_rate`, the canary rolls back by
itself: all traffic returns to the champion and stays there until a person resets it. A bandit would also move
traffic away from a bad challenger, but gradually and never to exactly zero; the canary's guarantee is a hard
bound on how much traffic a bad model sees (share x requests until the bound trips).

Blue-green: two complete deployments (two registry versions), one alias `live` pointing at one of them; a switch
moves the alias (all traffic at once), a rollback moves it back. Nothing is shared between the two sides, so the
rollback is as fast as the switch. The alias store is the MLflow registry in production (MlflowAliases) or a
dict in tests (MemoryAliases).
"""

import hashlib
from dataclasses import dataclass, field

CHAMPION, CHALLENGER = "champion", "challenger"


def bucket(request_id: str) -> float:
    """A stable number in [0, 1) for a request id (first 8 bytes of its SHA-256)."""
    digest = hashlib.sha256(request_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class Canary:
    share: float  # fraction of requests sent to the challenger while the canary runs
    max_error_rate: float  # roll back when the challenger's error rate exceeds this ...
    min_requests: int  # ... measured over at least this many of its outcomes
    counts: dict = field(default_factory=lambda: {CHAMPION: [0, 0], CHALLENGER: [0, 0]})  # [requests, errors]
    rolled_back_after: int | None = None  # challenger outcomes seen when it rolled back

    def __post_init__(self):
        if not 0 <= self.share <= 1:
            raise ValueError(f"canary share must be in [0, 1], got {self.share}")
        if not 0 <= self.max_error_rate <= 1:
            raise ValueError(f"canary max_error_rate must be in [0, 1], got {self.max_error_rate}")
        if self.min_requests < 1:
            raise ValueError(f"canary min_requests must be >= 1, got {self.min_requests}")

    @property
    def rolled_back(self) -> bool:
        return self.rolled_back_after is not None

    def route(self, request_id: str) -> str:
        if self.rolled_back:
            return CHAMPION
        return CHALLENGER if bucket(request_id) < self.share else CHAMPION

    def record(self, model: str, correct: bool) -> None:
        """The outcome of one served prediction; may trigger the rollback."""
        if model not in self.counts:
            raise ValueError(f"model must be {CHAMPION!r} or {CHALLENGER!r}, got {model!r}")
        self.counts[model][0] += 1
        self.counts[model][1] += 0 if correct else 1
        seen, errors = self.counts[CHALLENGER]
        if not self.rolled_back and seen >= self.min_requests and errors / seen > self.max_error_rate:
            self.rolled_back_after = seen

    def error_rate(self, model: str) -> float:
        seen, errors = self.counts[model]
        return errors / seen if seen else 0.0

    def reset(self) -> None:
        """A person decided to try again: counts cleared, canary share restored."""
        self.counts = {CHAMPION: [0, 0], CHALLENGER: [0, 0]}
        self.rolled_back_after = None


class MemoryAliases:
    """Alias -> version in a dict (tests, simulations)."""

    def __init__(self, aliases: dict[str, str] | None = None):
        self.aliases = dict(aliases or {})

    def get(self, alias: str) -> str | None:
        return self.aliases.get(alias)

    def set(self, alias: str, version: str) -> None:
        self.aliases[alias] = version


class MlflowAliases:
    """Alias -> version in the MLflow model registry (what the service loads as models:/name@alias)."""

    def __init__(self, client, model_name: str):
        self.client, self.model_name = client, model_name

    def get(self, alias: str) -> str | None:
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(self.model_name, alias).version)
        except MlflowException:
            return None

    def set(self, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(self.model_name, alias, version)


class BlueGreen:
    """Two deployments `blue` and `green` (aliases naming registry versions) and the alias `live` on one."""

    def __init__(self, aliases, live: str = "live"):
        self.aliases, self.live = aliases, live
        for side in ("blue", "green"):
            if aliases.get(side) is None:
                raise ValueError(f"blue-green needs the alias {side!r} set to a model version first")
        if aliases.get(live) is None:
            aliases.set(live, aliases.get("blue"))
        self.history: list[str] = [aliases.get(live)]

    @property
    def live_version(self) -> str:
        return self.aliases.get(self.live)

    def live_side(self) -> str:
        return "blue" if self.live_version == self.aliases.get("blue") else "green"

    def switch(self) -> str:
        """Send all traffic to the other side; returns the version now live."""
        other = "green" if self.live_side() == "blue" else "blue"
        self.aliases.set(self.live, self.aliases.get(other))
        self.history.append(self.live_version)
        return self.live_version

    def rollback(self) -> str:
        """Back to the version that was live before the last switch."""
        if len(self.history) < 2:
            raise ValueError("nothing to roll back: the live alias has not been switched yet")
        self.history.pop()
        self.aliases.set(self.live, self.history[-1])
        return self.live_version


def canary_replay(canary: Canary, request_ids, champion_correct, challenger_correct) -> list[dict]:
    """Serve a logged stream through a canary: per request, which model served it and the challenger's share so
    far. champion_correct/challenger_correct: whether each model's answer to each request was right."""
    rows, to_challenger = [], 0
    for i, request_id in enumerate(request_ids):
        model = canary.route(str(request_id))
        correct = bool(challenger_correct[i] if model == CHALLENGER else champion_correct[i])
        canary.record(model, correct)
        to_challenger += model == CHALLENGER
        rows.append({"request": i + 1, "model": model, "challenger_share": to_challenger / (i + 1)})
    return rows
