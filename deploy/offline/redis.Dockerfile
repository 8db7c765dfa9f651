# Offline stand-in for the `redis` image: Debian's Redis, run as the compose file says.
FROM switchboard-offline/base:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      redis-server redis-tools \
    && rm -rf /var/lib/apt/lists/*
CMD ["redis-server"]
