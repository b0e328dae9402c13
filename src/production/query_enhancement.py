"""HyDE: search with a hypothetical answer instead of the question (Gao et al., "Precise Zero-Shot Dense
Retrieval without Relevance Labels", ACL 2023). A generator writes a passage that *would* answer the query; its
embedding (or its words) lands nearer the real answers than the short question does. The passage may be wrong:
only its vocabulary and form matter.

    from src.production.query_enhancement import HyDEGenerator
    hyde = HyDEGenerator()                                   # offline unless RAG_LLM_URL is set
    enhanced_query = hyde.generate("What is the capital of Mars?")

Generators (pluggable: anything with .complete(prompt) -> str):
- OpenAICompatibleGenerator: POST {RAG_LLM_URL}/chat/completions with RAG_LLM_API_KEY (bearer) and RAG_LLM_MODEL,
  all from the environment; the key is never logged or put in an error message.
- TemplateGenerator (offline default): turns the question into the opening of a declarative answer with a few
  rules ("What is the capital of Mars?" -> "The capital of Mars is ...") and, when given a corpus, continues it
  with the corpus sentences that best match the question's words (BM25 over sentences): a retrieval-built
  hypothetical document. Nothing leaves the machine.

A remote generator is called through a circuit breaker (circuit_breaker.py): when the endpoint fails or times
out, generate() falls back to the offline generator and says so (a warning, and `last_fallback`); after
`breaker_failures` failures in a row the endpoint is not called at all for `breaker_reset_s` seconds.
"""

import json
import logging
import os
import re
import urllib.request

from src.llm.text import split_sentences, tokenize
from src.production.circuit_breaker import CircuitBreaker, CircuitOpenError

logger = logging.getLogger(__name__)

PROMPT = "Write a short passage (3 sentences) that answers the question.\nQuestion: {query}\nPassage:"
WH_PATTERNS = [
    (re.compile(r"^what (is|are|was|were) (the )?(.+)$", re.I), "{article}{rest} {verb}"),
    (re.compile(r"^who (is|are|was|were) (.+)$", re.I), "{rest} {verb}"),
    (re.compile(r"^(how|why) (does|do|did|is|are) (.+)$", re.I), "{rest}"),
    (re.compile(r"^(does|do|did|is|are|can|could|will) (.+)$", re.I), "{rest}"),
]


class GeneratorError(RuntimeError):
    """The generation endpoint failed or answered something that is not a completion."""


class OpenAICompatibleGenerator:
    def __init__(self, url: str, api_key: str | None = None, model: str = "gpt-4o-mini", timeout: float = 30):
        self.url = url.rstrip("/") + "/chat/completions"
        self._api_key = api_key
        self.model, self.timeout = model, timeout

    @classmethod
    def from_env(cls) -> "OpenAICompatibleGenerator | None":
        url = os.environ.get("RAG_LLM_URL")
        if not url:
            return None
        return cls(url, os.environ.get("RAG_LLM_API_KEY"), os.environ.get("RAG_LLM_MODEL", "gpt-4o-mini"))

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleGenerator(url={self.url!r}, model={self.model!r})"

    def complete(self, prompt: str, max_tokens: int = 200) -> str:
        body = {"model": self.model, "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.url, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
            return answer["choices"][0]["message"]["content"].strip()
        except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
            raise GeneratorError(f"generation endpoint {self.url} failed: {type(err).__name__}: {err}") from None


def declarative_opening(query: str) -> str:
    """'What is the capital of Mars?' -> 'The capital of Mars is'; a statement is returned as it is."""
    text = query.strip().rstrip("?").strip()
    for pattern, template in WH_PATTERNS:
        match = pattern.match(text)
        if not match:
            continue
        groups = match.groups()
        if template.startswith("{article}"):
            rest = groups[2]
            return template.format(article="The " if groups[1] else "", rest=rest, verb=groups[0].lower())
        if "{verb}" in template:
            return template.format(rest=groups[1][:1].upper() + groups[1][1:], verb=groups[0].lower())
        rest = groups[-1]
        return rest[:1].upper() + rest[1:]
    return text


class TemplateGenerator:
    """Offline generator (see the module docstring). `corpus` is a list of texts to draw sentences from."""

    def __init__(self, corpus: list[str] | None = None, sentences: int = 2):
        self.sentences = sentences
        self.index = None
        if corpus:
            from src.llm.bm25 import BM25

            self.pool = [s for text in corpus for s in split_sentences(text)]
            self.index = BM25().index([tokenize(s) for s in self.pool])

    def complete(self, prompt: str, max_tokens: int = 200) -> str:
        query = prompt.split("Question:", 1)[-1].split("\nPassage:", 1)[0].strip()
        opening = declarative_opening(query)
        subject = opening.rsplit(" ", 1)[0] if opening.endswith((" is", " are", " was", " were")) else opening
        words = [w for w in re.findall(r"[A-Za-z][\w-]+", subject) if w.lower() not in ("the", "a", "an", "of")]
        if opening.endswith((" is", " are", " was", " were")):
            first = f"{opening} described in this passage, which gives the facts about {' and '.join(words[-2:])}."
        else:
            first = opening.rstrip(".") + "."
        passage = [first]
        if self.index is not None:
            indices, scores = self.index.search([tokenize(query)], self.sentences)
            passage += [self.pool[i] for i, s in zip(indices[0], scores[0], strict=True) if s > 0]
        else:
            passage.append(f"Evidence about {', '.join(words) or 'this question'} is summarised below.")
        return " ".join(passage)


class HyDEGenerator:
    """generate(query) -> a hypothetical passage answering it, from the configured generator."""

    def __init__(self, generator=None, fallback=None, breaker_failures: int = 3, breaker_reset_s: float = 30):
        self.generator = generator or OpenAICompatibleGenerator.from_env() or TemplateGenerator()
        self.remote = isinstance(self.generator, OpenAICompatibleGenerator)
        self.fallback = fallback or TemplateGenerator()
        self.breaker = CircuitBreaker(breaker_failures, breaker_reset_s, name="HyDE endpoint")
        self.last_fallback: str | None = None  # why the last generate() used the fallback, or None

    def generate(self, query: str) -> str:
        if not isinstance(query, str) or not query.strip():
            raise ValueError("HyDE needs a non-empty query string")
        prompt = PROMPT.format(query=query.strip())
        self.last_fallback = None
        if not self.remote:
            return self.generator.complete(prompt)
        try:
            return self.breaker.call(self.generator.complete, prompt)
        except (GeneratorError, CircuitOpenError) as error:
            self.last_fallback = f"{error}; used the offline generator instead"
            logger.warning("HyDE: %s", self.last_fallback)
            return self.fallback.complete(prompt)

    def enhance(self, query: str) -> str:
        """The query followed by its hypothetical passage: what a sparse retriever searches with."""
        return f"{query.strip()} {self.generate(query)}"
