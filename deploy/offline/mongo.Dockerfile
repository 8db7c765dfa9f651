# Offline stand-in for the `mongo` image: SecantusDB from PyPI behind a `mongod` that takes
# the compose file's flags. Built by scripts/compose-e2e on the debootstrap base, from a
# context it stages: these two scripts and wheels/, SecantusDB's and pymongo's wheels
# downloaded on the host (the host's pip reaches PyPI; a container's may not trust the way).
FROM switchboard-offline/base:bookworm
COPY wheels /tmp/wheels
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/secantus \
    && /opt/secantus/bin/pip install -q --no-cache-dir --disable-pip-version-check --no-index \
         --find-links /tmp/wheels secantusdb pymongo \
    && rm -rf /tmp/wheels
COPY mongod mongo-ready /usr/local/bin/
VOLUME /data/db
WORKDIR /data/db
ENTRYPOINT ["mongod"]
