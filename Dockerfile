# topicscout as a container: `topicscout run` (scheduler + bot) as a non-root user.
# The only state is the /data volume: /data/config.toml and the SQLite database next to it
# ([storage] path = "topicscout.sqlite" is relative to the config file). The bot token comes
# from the environment (TOPICSCOUT_BOT_TOKEN by default), never from a file in the image.
#
#   docker build -t topicscout .
#   docker run --rm -v topicscout-data:/data topicscout topicscout init   # writes config.toml
#   docker run -d --name topicscout --restart unless-stopped --stop-timeout 15 \
#       -v topicscout-data:/data -e TOPICSCOUT_BOT_TOKEN=... topicscout
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    TOPICSCOUT_CONFIG=/data/config.toml

COPY . /src
RUN pip install /src && rm -rf /src \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin topicscout \
    && mkdir -p /data && chown topicscout:topicscout /data

USER topicscout
WORKDIR /data
VOLUME ["/data"]

# SIGTERM (docker stop) stops it cleanly within 10 s; give it --stop-timeout 15 for margin.
STOPSIGNAL SIGTERM
CMD ["topicscout", "run", "--log-format", "json"]
