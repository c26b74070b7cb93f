# One image for web, workers and beat. Build the gpu worker's image with CUDA wheels:
#   docker compose build --build-arg ... (see docker-compose.yml, service worker-gpu)
FROM python:3.11-slim-bookworm

# The PyTorch wheel to install; point PIP_EXTRA_INDEX_URL at a CPU or CUDA wheel index.
ARG TORCH_SPEC=torch==2.13.0
ARG PIP_EXTRA_INDEX_URL=
# onnxruntime-gpu on GPU nodes: ONNX Runtime then offers the CUDA execution provider.
ARG ONNXRUNTIME_SPEC=onnxruntime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HDR_VAR_DIR=/var/lib/hdr

# The fonts the generated negatives draw with (training and evaluating digit models).
COPY ml/negatives/font-packages.txt /tmp/font-packages.txt
RUN apt-get update \
    && apt-get install -y --no-install-recommends curl libglib2.0-0 \
        $(grep -v '^#' /tmp/font-packages.txt) \
    && rm -rf /var/lib/apt/lists/* /tmp/font-packages.txt

WORKDIR /app
COPY pyproject.toml README.md manage.py ./
COPY hdrsite ./hdrsite
COPY recognition ./recognition
COPY forms_ocr ./forms_ocr
COPY ml ./ml
COPY worker ./worker
COPY templates ./templates
COPY static ./static

RUN PIP_EXTRA_INDEX_URL="$PIP_EXTRA_INDEX_URL" pip install "$TORCH_SPEC" \
    && pip install -e . \
    && if [ "$ONNXRUNTIME_SPEC" != "onnxruntime" ]; then \
         pip uninstall -y onnxruntime && pip install "$ONNXRUNTIME_SPEC"; \
       fi

RUN useradd --system --home /app hdr && mkdir -p /var/lib/hdr && chown hdr /var/lib/hdr
USER hdr
EXPOSE 8000
CMD ["gunicorn", "-c", "python:hdrsite.gunicorn_conf", "hdrsite.wsgi", "--bind", "0.0.0.0:8000"]
