"""SQLAlchemy and pandas against `iamsql serve`, as a data analyst uses them.

Run by TestSQLAlchemyAndPandas (clients_test.go) with the system Python
(Debian's python3-sqlalchemy, python3-pandas and python3-pymysql):

    /usr/bin/python3 sqlalchemy_pandas_client.py HOST PORT USER PASSWORD

It works in two phases, each printing one line, a JSON object with what
it saw, for the test to compare with what IAM holds. The schema phase
reflects the database (what an ORM or a notebook does on connecting) and
reads tables whole with pandas.read_sql_table; then it waits for a line on
standard input (the test counts the IAM calls meanwhile). The data phase
reads the inventory with pandas.read_sql and creates a key whose secret
it reads back from created_access_keys on the same connection. Any
exception exits non-zero.
"""

import json
import sys

import pandas
import sqlalchemy
from sqlalchemy import text


def frame_rows(frame):
    """A DataFrame's rows as lists of strings (timestamps in ISO form)."""
    out = []
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if v is None or (isinstance(v, float) and v != v) or v is pandas.NaT:
                cells.append(None)
            elif isinstance(v, pandas.Timestamp):
                cells.append(v.isoformat())
            else:
                cells.append(str(v))
        out.append(cells)
    return out


def schema_phase(engine):
    seen = {}
    inspector = sqlalchemy.inspect(engine)
    tables = inspector.get_table_names()
    seen["tables"] = tables
    seen["columns"] = {}
    for table in tables:
        seen["columns"][table] = [[c["name"], c["type"].compile(dialect=engine.dialect)] for c in inspector.get_columns(table)]
        # Keys and indexes are read too; their answers must parse.
        inspector.get_pk_constraint(table)
        inspector.get_indexes(table)
        inspector.get_foreign_keys(table)
    seen["views"] = inspector.get_view_names()
    # Reflecting one table as SQLAlchemy Core does.
    keys = sqlalchemy.Table("access_keys", sqlalchemy.MetaData(), autoload_with=engine)
    seen["reflected"] = [c.name for c in keys.columns]

    with engine.connect() as conn:
        methods = pandas.read_sql_table("methods", conn)
        seen["methods_columns"] = list(methods.columns)
        seen["methods_rows"] = len(methods)
        created = pandas.read_sql_table("created_access_keys", conn)
        seen["created_columns"] = list(created.columns)
        seen["created_rows"] = len(created)
        empty = pandas.read_sql("SELECT * FROM access_keys LIMIT 0", conn)
        seen["limit0_columns"] = list(empty.columns)
        # A whole iamsql table needs its region: a clear error, and the
        # connection goes on.
        try:
            pandas.read_sql_table("access_keys", conn)
            seen["whole_table_error"] = None
        except sqlalchemy.exc.DBAPIError as e:
            seen["whole_table_error"] = [e.orig.args[0], e.orig.args[1]]
        seen["after_error"] = frame_rows(pandas.read_sql("SELECT 42 AS answer", conn))
    return seen


def data_phase(engine):
    seen = {}
    with engine.connect() as conn:
        inventory = pandas.read_sql(
            text("SELECT UserName, AccessKeyId, Status, CreateDate FROM access_keys WHERE region = :region ORDER BY AccessKeyId"),
            conn,
            params={"region": "us-east-1"},
        )
        seen["inventory_dtypes"] = [str(t) for t in inventory.dtypes]
        seen["inventory"] = frame_rows(inventory)
        per_user = pandas.read_sql(
            "SELECT u.UserName, COUNT(k.AccessKeyId) AS keys_ FROM users u LEFT JOIN access_keys k "
            "ON k.UserName = u.UserName AND k.region = 'us-east-1' WHERE u.region = 'us-east-1' "
            "GROUP BY u.UserName ORDER BY u.UserName",
            conn,
        )
        seen["per_user"] = frame_rows(per_user)
        conn.execute(text("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')"))
        created = pandas.read_sql_table("created_access_keys", conn)
        seen["created"] = frame_rows(created[["AccessKeyId", "UserName", "SecretAccessKey"]])
    return seen


def main():
    host, port, user, password = sys.argv[1:5]
    url = sqlalchemy.engine.URL.create(
        "mysql+pymysql", username=user, password=password, host=host, port=int(port), database="iam"
    )
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    print(json.dumps(schema_phase(engine)), flush=True)
    sys.stdin.readline()
    print(json.dumps(data_phase(engine)), flush=True)


if __name__ == "__main__":
    main()
