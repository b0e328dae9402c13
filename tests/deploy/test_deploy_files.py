"""deploy/: the compose file against the Compose Specification's schema, the Prometheus rules' structure, the
dashboard's queries. (No Docker engine here: nothing is started.)"""

import json
import re

import jsonschema
import pytest
import yaml

from src.paths import ROOT

DEPLOY = ROOT / "deploy"


def load(name):
    return yaml.safe_load((DEPLOY / name).read_text())


def test_compose_file_is_valid_under_the_compose_spec_schema():
    schema = json.loads((DEPLOY / "schema" / "compose-spec.json").read_text())
    compose = load("docker-compose.yml")
    jsonschema.validate(compose, schema)
    assert set(compose["services"]) == {"service", "redis", "mlflow", "prometheus", "grafana"}


def test_the_schema_check_catches_a_malformed_file():
    schema = json.loads((DEPLOY / "schema" / "compose-spec.json").read_text())
    compose = load("docker-compose.yml")
    compose["services"]["redis"]["ports"] = {"not": "a list"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(compose, schema)


def test_alert_rules_have_prometheus_structure():
    rules = load("prometheus/alerts.yml")["groups"][0]["rules"]
    assert len(rules) >= 4
    for rule in rules:
        assert {"alert", "expr", "labels", "annotations"} <= set(rule)
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["expr"].count("(") == rule["expr"].count(")")
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s"))
    config = load("prometheus/prometheus.yml")
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    assert config["scrape_configs"][0]["static_configs"][0]["targets"] == ["service:3000"]


def test_queried_metrics_are_ones_the_service_exposes():
    api = (ROOT / "src" / "production" / "observability.py").read_text()  # where the service defines its metrics
    ours = set(re.findall(r'name="(issue_classifier_[a-z_]+)"', api))
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "issue-classifier.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += [r["expr"] for r in load("prometheus/alerts.yml")["groups"][0]["rules"]]
    for expr in exprs:
        for metric in re.findall(r"\b(issue_classifier_[a-z_]+?)(?:_total|_bucket)?\b", expr):
            assert metric in ours, f"{metric} is queried but the service does not define it"
    bentoml = {m for e in exprs for m in re.findall(r"\b(bentoml_[a-z_]+)", e)}
    # BentoML 1.4's @bentoml.service apps export HTTP metrics under the namespace bentoml_service
    assert bentoml <= {"bentoml_service_request_total", "bentoml_service_request_duration_seconds_bucket"}
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
