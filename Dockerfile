# The container path: `docker build -t conduit .` then
#   docker run -e CONDUIT_JWT_SECRET=... -e CONDUIT_DATABASE_URL=postgresql+asyncpg://... -p 8000:8000 conduit
# It brings the databases' schemas up to date, then serves with WEB_CONCURRENCY uvicorn workers.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONDUIT_ENV=production \
    WEB_CONCURRENCY=2

WORKDIR /app

# The dependencies alone first (read from pyproject.toml), so that a change to the code
# reuses this layer. Every one of them ships wheels: no compiler is needed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
RUN useradd --create-home --uid 10001 conduit
USER 10001

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]

# exec: uvicorn replaces the shell (python -m server becomes `uvicorn app:app` with the options
# every start of the server shares), so `docker stop` (SIGTERM) reaches it and it shuts down
# gracefully. uvicorn reads the worker count from WEB_CONCURRENCY; its log config makes the
# supervisor's own lines JSON too (the workers' follow CONDUIT_LOG_FORMAT).
CMD ["sh", "-c", "python -m stores.sql.migrate upgrade && exec python -m server --host 0.0.0.0 --port 8000 --timeout-graceful-shutdown 20 --no-access-log --log-config uvicorn-log-config.json"]
