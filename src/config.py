"""Check a stage's config against a typed schema before any work starts.

Hydra already refuses an override of a key that does not exist (`day01.sizse=3` fails at compose time). What
it cannot see is a hand-edited params.yaml or a value of the wrong type or range; this module catches those
at start-up, naming the key, so a typo never runs for ten minutes and then crashes.

A schema is a dataclass (nested dataclasses for sub-sections) whose fields have no defaults: conf/ is the one
place a default lives, so a key missing from conf/ is an error, never a silent fallback. Each number, text or
list field declares its allowed range with `setting(...)`:

    @dataclass
    class CNNConfig:
        epochs: int = setting(at_least=1)
        lr: float = setting(above=0)
        dropout: float = setting(at_least=0, below=1)
        hidden: list[int] = setting(at_least=1)          # a list: every element, and the list non-empty
        optimizer: str = setting(one_of=("adam", "sgd"))
        eval_file: str | None = setting(text=True, optional=True)

`validate` checks every declared range before any work and names the key (`day04.cnn.dropout must be < 1, got
1.5`). Checks that relate two keys go in `__post_init__` and raise ValueError; they run after every key has
passed its own range, so a relation never has to make sense of a nonsense value. A setting that is a word or a
number (`gamma: scale` or `0.1`) uses `word_or_number(("scale",), above=0)`.
"""

import dataclasses
import math
import sys
from dataclasses import dataclass

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key and how to fix it."""


@dataclass(frozen=True)
class Range:
    """The values a setting may take. Bounds are inclusive (`at_least`, `at_most`) or strict (`above`,
    `below`); `one_of` lists the allowed choices; `text` asks for a non-empty string. For a list the check
    applies to every element, and the list must not be empty."""

    at_least: float | None = None
    above: float | None = None
    at_most: float | None = None
    below: float | None = None
    one_of: tuple = ()
    text: bool = False
    optional: bool = False  # None is allowed (it means "automatic" or "not used": say which in conf/)

    def problem(self, value) -> str | None:
        """What is wrong with `value`, or None when it is allowed."""
        if value is None:
            return None if self.optional else "must be set (it is null)"
        if isinstance(value, list | tuple):
            if not value:
                return "must be a non-empty list"
            for i, item in enumerate(value):
                if (why := self.problem(item)) is not None:
                    return f"element {i} ({item!r}) {why}"
            return None
        if self.one_of:
            return None if value in self.one_of else f"must be one of {list(self.one_of)}, got {value!r}"
        if self.text:
            return None if isinstance(value, str) and value.strip() else f"must be a non-empty string, got {value!r}"
        if isinstance(value, float) and not math.isfinite(value):
            return f"must be a finite number, got {value}"
        for bound, fails, words in (
            (self.at_least, lambda v, b: v < b, ">="),
            (self.above, lambda v, b: v <= b, ">"),
            (self.at_most, lambda v, b: v > b, "<="),
            (self.below, lambda v, b: v >= b, "<"),
        ):
            if bound is not None and fails(value, bound):
                return f"must be {words} {bound:g}, got {value!r}"
        return None

    def invalid_example(self):
        """A value this range refuses (the tests feed one to every key)."""
        if self.one_of or self.text:
            return "" if self.text else "no-such-choice"
        for bound, step in ((self.at_least, -1), (self.above, 0), (self.at_most, 1), (self.below, 0)):
            if bound is not None:
                return bound + step
        raise AssertionError("a Range with no bound refuses nothing: give it one")


def setting(**bounds):
    """A schema field with no default (conf/ gives the value) and the range it must fall in (see Range)."""
    return dataclasses.field(metadata={"range": Range(**bounds)})


@dataclass(frozen=True)
class WordOrNumber(Range):
    """A setting that is one of a few words (one_of) or a number within the bounds, e.g. gamma: scale or 0.1."""

    def problem(self, value):
        if value is None or isinstance(value, str):
            why = super().problem(value)
            return why and f"must be one of {list(self.one_of)} or a number, got {value!r}"
        return Range.problem(dataclasses.replace(self, one_of=()), value)  # the number's bounds alone


def word_or_number(words: tuple[str, ...], **bounds):
    """A schema field that takes one of `words` or a number within `bounds` (see WordOrNumber)."""
    return dataclasses.field(metadata={"range": WordOrNumber(one_of=words, **bounds)})


@dataclass
class ProfileConfig:
    name: str = setting(one_of=("cpu", "gpu", "smoke"))
    device: str = setting(one_of=("cpu", "cuda", "auto"))


def validate(cfg: DictConfig, section: str, schema: type):
    """Return cfg[section] as an instance of `schema`, or raise ConfigError naming the bad key."""
    _typed(cfg, "profile", ProfileConfig)
    seed = cfg.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ConfigError(f"config key 'seed' must be an integer in [0, 2**32), got {seed!r}")
    return _typed(cfg, section, schema)


def check_ranges(values: DictConfig, schema: type, prefix: str) -> None:
    """Raise ConfigError for the first value outside its field's declared Range. It walks the merged config, not
    the schema instance: building the instance runs `__post_init__`, whose relations must see valid keys only."""
    for field in dataclasses.fields(schema):
        value = values[field.name]
        key = f"{prefix}.{field.name}"
        if isinstance(field.type, type) and dataclasses.is_dataclass(field.type):
            check_ranges(value, field.type, key)
            continue
        if isinstance(value, DictConfig | ListConfig):
            value = OmegaConf.to_container(value, resolve=True)
        if (allowed := field.metadata.get("range")) is not None and (why := allowed.problem(value)):
            raise ConfigError(f"config key '{key}' {why}. Fix it in conf/ (then `make params`) or in your override.")


def leaf_settings(schema: type, prefix: str = ""):
    """(dotted key, field) for every non-dataclass field of a schema, recursively: what tests feed nonsense to."""
    hints = {f.name: f.type for f in dataclasses.fields(schema)}
    for field in dataclasses.fields(schema):
        key = f"{prefix}{field.name}"
        kind = hints[field.name]
        if isinstance(kind, type) and dataclasses.is_dataclass(kind):
            yield from leaf_settings(kind, f"{key}.")
        else:
            yield key, field


def _typed(cfg: DictConfig, section: str, schema: type):
    if section not in cfg:
        raise ConfigError(
            f"config has no '{section}' section. Run `make params` to recompose params.yaml from conf/, "
            f"and check that conf/config.yaml lists '{section}' in its defaults."
        )
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), cfg[section])  # types checked here
        check_ranges(merged, schema, section)  # then each key's range
        settings = OmegaConf.to_object(merged)  # then the relations, in each schema's __post_init__
    except ConfigError:  # a key out of its range: its message already names it
        raise
    except OmegaConfBaseException as err:
        key = f"{section}.{err.full_key}" if getattr(err, "full_key", None) else section
        reason = str(err).splitlines()[0]
        raise ConfigError(
            f"bad config key '{key}': {reason}. Fix it in conf/ (then `make params`) or in your -S/override."
        ) from None
    except ValueError as err:  # a range check in the schema's __post_init__
        raise ConfigError(f"bad value in config section '{section}': {err}") from None
    return settings


def validate_or_exit(cfg: DictConfig, section: str, schema: type):
    """`validate` for a stage's entry point: a config error ends the process with the message alone
    (exit status 1), not with a traceback through Hydra that buries it."""
    try:
        return validate(cfg, section, schema)
    except ConfigError as err:
        sys.exit(f"config error: {err}")


def torch_device(profile_device: str) -> str:
    """profile.device -> a torch device name: "auto" takes the GPU when there is one, "cuda" insists on it."""
    import torch

    if profile_device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("profile.device is cuda but torch sees no GPU: use profile=cpu (or device auto)")
    return "cuda" if profile_device != "cpu" and torch.cuda.is_available() else "cpu"
