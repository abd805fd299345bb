# The project image: worker, API, migrations and the two simulators all run from it, with a
# different command each (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 bhyt \
 && useradd --system --uid 10001 --gid bhyt --home-dir /app --shell /usr/sbin/nologin bhyt

WORKDIR /app

# Dependencies pinned by constraints.txt, the same pins CI tests with. The source stays in /app
# too: migrations/ and data/ are read from there, and `python -m` finds /app first.
COPY . .
RUN pip install -c constraints.txt . \
 && mkdir -p /data /app/var/receipt-signing \
 && chown -R bhyt:bhyt /data /app/var

USER bhyt

# API, registry simulator, bank simulator
EXPOSE 8000 8101 8102

CMD ["python", "-m", "api"]
