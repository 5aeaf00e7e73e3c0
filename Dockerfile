# CALLE's image: the service by default, the `calle` command for batch jobs.
#   docker build -t calle .
#   docker run -p 8000:8000 -e CALLE_DATABASE_URL=... -e CALLE_MLFLOW_TRACKING_URI=... calle
#   docker run --rm -e ... calle train --promote      # any `calle` subcommand
# The install is the one the tests run (scripts/bootstrap.sh): pip with constraints.txt's pins.

FROM python:3.11.7-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/calle
COPY pyproject.toml constraints.txt README.md ./
COPY calle ./calle
COPY features ./features
COPY models ./models
COPY training ./training
COPY service ./service
RUN /opt/calle/bin/python -m pip install -c constraints.txt . \
 && /opt/calle/bin/python -c "import calle, features, models, training, service"

FROM python:3.11.7-slim-bookworm
# LightGBM's OpenMP runtime; nothing else beyond Python is needed at run time
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /var/lib/calle --uid 10001 calle \
 && mkdir -p /var/lib/calle/mlartifacts /var/lib/calle/inbox /var/lib/calle/imported \
 && chown -R calle /var/lib/calle
COPY --from=build /opt/calle /opt/calle
ENV PATH=/opt/calle/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CALLE_HOME=/var/lib/calle
USER calle
WORKDIR /var/lib/calle
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
ENTRYPOINT ["calle"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
