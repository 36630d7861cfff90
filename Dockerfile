# The newsdesk image that docker-compose.yml runs: the package and its command, nothing else.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md settings.py scrapy.cfg ./
COPY spiders ./spiders
COPY workers ./workers
COPY storage ./storage
RUN pip install --no-cache-dir . && useradd --create-home newsdesk
USER newsdesk
ENTRYPOINT []
CMD ["newsdesk", "--help"]
