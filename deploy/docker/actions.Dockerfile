# The action server (`python -m actions.server`) and the marketing workers
# (`aurora-marketing consume-events`, `aurora-marketing scheduler`): the same
# code and pinned set as the bot, no model.
#
#   docker build -f deploy/docker/actions.Dockerfile -t aurora-wechat-actions:0.1.0 .
#
# Build arguments (defaults first):
#   TORCH_BUILD=cpu|cuda  cpu: torch's CPU wheel of the pinned version from
#       TORCH_INDEX_URL and the pinned set without torch's CUDA runtime wheels
#       (deploy/docker/torch-cuda-only.txt). cuda: requirements.txt exactly as
#       pinned, for the `transformers` copy generator on a GPU node.
#
# The runtime stage runs as the unprivileged user 10001 and holds no secret: every
# setting comes from the environment (README "Deploying in containers").

# Rasa 3.6 and rasa-sdk 3.6 need Python < 3.11.
ARG PYTHON_IMAGE=python:3.10-slim-bookworm

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

# --- the runtime image -----------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# tini as PID 1: forwards SIGTERM to the server or worker and reaps children.
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
# service; .runtime (the marketing outbox, a durable queue) is the service's.
RUN pip install --no-cache-dir --no-deps --no-build-isolation --editable . \
 && python -m compileall -q /app \
 && mkdir -p /app/.runtime \
 && chown aurora:aurora /app/.runtime
USER 10001:10001
EXPOSE 5055
# rasa-sdk's /health (no token needed). The workers, which serve no HTTP, turn
# it off (docker-compose.yml: healthcheck disable).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:5055/health', timeout=4)"]
ENTRYPOINT ["tini", "--"]
# 0.0.0.0 inside the container (the action server listens on loopback by
# default); it takes only requests with AURORA_ACTION_TOKEN but /health.
CMD ["python", "-m", "actions.server", "--host", "0.0.0.0", "--port", "5055"]
