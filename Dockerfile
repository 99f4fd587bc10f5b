# KIP's application image: gunicorn serving the Flask app. See docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN useradd --system --home /app kip

COPY pyproject.toml README.md alembic.ini ./
COPY kip ./kip
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY scripts/docker-entrypoint ./scripts/docker-entrypoint
RUN pip install --no-cache-dir -e . && mkdir -p /app/instance && chown kip /app/instance

USER kip
EXPOSE 8000
ENTRYPOINT ["/app/scripts/docker-entrypoint"]
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "kip:create_app()"]
