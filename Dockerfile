# The newsdesk image that docker-compose.yml runs as worker, beat, flower, crawler and sources.
#
# Two stages: the first installs the package (with Flower) into a virtual environment; the
# second copies that environment alone onto a clean base, so pip, its cache, the build
# backend and the source tree stay behind. Every dependency installs from a wheel, so no
# compiler is needed in either stage, within the versions the tests last passed with
# (.ci/constraints.txt; Flower's own dependencies are not in it).
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
COPY . /src
# --without-pip: the image's own pip installs into the environment, which keeps none.
RUN python -m venv --without-pip /opt/newsdesk \
    && pip --python /opt/newsdesk/bin/python install -c /src/.ci/constraints.txt "/src[flower]"

FROM python:3.11-slim
ENV PATH=/opt/newsdesk/bin:$PATH \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/newsdesk /opt/newsdesk
# A user of its own: no process of the image runs as root. Its home is the working
# directory, where a SQLite database (NEWSDESK_DATABASE_URL's default) would be written.
RUN useradd --create-home --uid 10001 newsdesk
USER newsdesk
WORKDIR /home/newsdesk
# The most common role of the image; docker-compose.yml gives each service its command.
# Needs NEWSDESK_BROKER_URL and NEWSDESK_DATABASE_URL.
CMD ["newsdesk", "worker"]
