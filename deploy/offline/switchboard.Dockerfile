# Offline Switchboard image, for machines that reach no image registry (scripts/compose-e2e):
# the deploy/Dockerfile's runtime stage on the debootstrap base, around a binary built on the
# host. The script stages the context: the binary, the libraries it links that no Debian
# package owns (the Swift runtime, at their own paths under rootfs/), openapi.json,
# deploy/gateway.conf and web/ (the web app); PACKAGES names the Debian packages owning the others.
FROM switchboard-offline/base:bookworm
ARG PACKAGES
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      $PACKAGES ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app switchboard \
    && mkdir /keys && chown switchboard /keys && chmod 700 /keys
COPY rootfs/ /
WORKDIR /app
COPY switchboard /usr/local/bin/switchboard
COPY openapi.json gateway.conf /app/
COPY web /app/web
USER switchboard
ENV SWITCHBOARD_HOST=0.0.0.0 GATEWAY_CONFIG=/app/gateway.conf
ENTRYPOINT ["switchboard"]
