# dfbs-vo container: multi-stage build. The runtime image holds the binary, its metadata and
# migrations, the classifier, anomaly and subclass models (models/, with their card), the
# PostgreSQL client libraries, CFITSIO and the ONNX Runtime library (from the onnxruntime
# wheel, as on a developer machine; the version scripts/requirements.txt pins). With DATABASE_URL it uses that server (see
# compose.yaml); without, it runs its own private cluster under /var/lib/dfbs-vo.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libcfitsio-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY config config
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        ca-certificates libcfitsio10 postgresql-client-15 postgresql-15 postgresql-15-q3c \
        python3 python3-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/onnxruntime \
    && /opt/onnxruntime/bin/pip install --no-cache-dir onnxruntime==1.31.1 \
    && ln -s "$(ls /opt/onnxruntime/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.*)" /usr/local/lib/libonnxruntime.so \
    && ldconfig
RUN useradd --system --create-home --home-dir /var/lib/dfbs-vo dfbs
COPY --from=build /src/target/release/dfbs-vo /usr/local/bin/dfbs-vo
COPY config /opt/dfbs-vo/config
COPY tap /opt/dfbs-vo/tap
COPY schema /opt/dfbs-vo/schema
COPY models /opt/dfbs-vo/models
USER dfbs
WORKDIR /opt/dfbs-vo
ENV DFBS_HOME=/opt/dfbs-vo \
    DFBS__SERVICE__LISTEN=0.0.0.0:8080 \
    DFBS__DATABASE__DATA_DIR=/var/lib/dfbs-vo/pg \
    ORT_DYLIB_PATH=/usr/local/lib/libonnxruntime.so
VOLUME /var/lib/dfbs-vo
EXPOSE 8080
CMD ["dfbs-vo", "serve"]
