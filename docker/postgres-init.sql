-- The Prefect database is created by POSTGRES_DB; MLflow gets its own database on the same server.
CREATE DATABASE mlflow OWNER deltaflow;
