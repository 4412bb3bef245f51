# The image every Airflow service of docker-compose.yml runs: Airflow 3.3.2 (Python 3.11) with the
# project's locked dependencies (requirements.lock, hashes checked) and the safetynet package.
#
#   docker compose build            # or: docker build -t safetynet-airflow:3.3.2 .
#
# The DAGs, plugins, expectations and the package source are copied in, so the image runs on
# its own; docker-compose.yml also mounts ./dags, ./plugins, ./include and ./expectations over
# them (and puts /opt/airflow/include first on PYTHONPATH) so local edits apply without a rebuild.
FROM apache/airflow:3.3.2-python3.11

USER airflow

# Dependencies first: this layer is rebuilt only when the lock changes.
COPY --chown=airflow:root requirements.lock /opt/safetynet/requirements.lock
RUN pip install --no-cache-dir --require-hashes -r /opt/safetynet/requirements.lock \
    && python -c "import airflow, celery, redis, paramiko, great_expectations; \
assert airflow.__version__ == '3.3.2', airflow.__version__"

# The package itself (no dependencies: they are all in the lock).
COPY --chown=airflow:root pyproject.toml README.md /opt/safetynet/
COPY --chown=airflow:root include /opt/safetynet/include
RUN pip install --no-cache-dir --no-deps /opt/safetynet \
    && python -c "import safetynet.orchestration.alerts"

COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root plugins /opt/airflow/plugins
COPY --chown=airflow:root expectations /opt/airflow/expectations

ENV SAFETYNET_CONFIG=/opt/airflow/config/safetynet.yaml
