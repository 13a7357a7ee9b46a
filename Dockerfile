# Myelin application image: the same image runs web, worker and beat (see docker-compose.yml).
FROM python:3.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MYELIN_MODE=production \
    MYELIN_STATIC_ROOT=/app/staticfiles

WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir --require-hashes -r requirements.txt

COPY manage.py ./
COPY clinic ./clinic
COPY patients ./patients
COPY treatments ./treatments
COPY templates ./templates

# collectstatic only needs importable settings, not real services or secrets.
RUN DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build \
    DJANGO_ALLOWED_HOSTS=build DATABASE_URL=postgres://build@build/build REDIS_URL=redis://build:6379/0 \
    MYELIN_DEMO_MODE=false python manage.py collectstatic --no-input

RUN useradd --system --uid 10001 --home /app myelin && mkdir -p /app/var && chown myelin /app/var
USER myelin
EXPOSE 8000
# Routes, not paths, in the access log (clinic.logs.GunicornLogger; as in clinic/devstack.py).
CMD ["gunicorn", "clinic.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--no-control-socket", \
     "--logger-class", "clinic.logs.GunicornLogger", \
     "--access-logfile", "-", "--access-logformat", "%(h)s \"%(m)s %(U)s\" %(s)s %(b)s %(M)sms"]
