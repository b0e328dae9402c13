# The serving image: the Bento that `dvc repro package` built, served by `bentoml serve` as a non-root user.
#   dvc repro package && docker build -t issue-classifier . && docker run -p 3000:3000 issue-classifier
# Same service and pins as bentofile.yaml (whose versions come from requirements.lock). These machines run no
# Docker engine, so this file is kept minimal and was not built here; `make lint` checks it with hadolint.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MLFLOW_DISABLE_TELEMETRY=true DO_NOT_TRACK=true HF_HUB_OFFLINE=1 \
    BENTOML_HOME=/home/app/bentoml ISSUE_CLASSIFIER_LOG_DIR=/home/app/logs

# torch first, from the CPU wheel index: letting another package pull torch would fetch a multi-GB CUDA build.
COPY requirements.lock /tmp/requirements.lock
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
 && pip install -r /tmp/requirements.lock \
 && rm /tmp/requirements.lock

RUN useradd --create-home --uid 10001 app
USER 10001
WORKDIR /home/app
# The built Bento (code, params.yaml) and the model it names, from the project-local store.
COPY --chown=app:app .bentoml/bentos /home/app/bentoml/bentos
COPY --chown=app:app .bentoml/models /home/app/bentoml/models

EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]
# ISSUE_CLASSIFIER_API_KEY: pass it at run time (docker run -e ...), never bake it into the image.
CMD ["bentoml", "serve", "issue-classifier-service:latest", "--host", "0.0.0.0", "--port", "3000"]
