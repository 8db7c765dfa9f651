# Offline stand-in for the `rabbitmq` image: Debian's RabbitMQ, in the foreground.
FROM switchboard-offline/base:bookworm
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      rabbitmq-server \
    && rm -rf /var/lib/apt/lists/*
# The management plugin is not installed; guest may connect from any address, as in the real image.
RUN printf 'loopback_users = none\n' > /etc/rabbitmq/rabbitmq.conf
VOLUME /var/lib/rabbitmq
CMD ["rabbitmq-server"]
