"""PyMySQL against `iamsql serve` over the sandbox's demo account.

Run by TestPyMySQLClient (server_clients_test.go) with the system Python:

    /usr/bin/python3 pymysql_client.py HOST PORT RW_USER RW_PASSWORD RO_USER RO_PASSWORD

It prints a transcript of what it did and exits 0 when every check held,
1 (with the failed check on stderr) otherwise.
"""

import sys

import pymysql


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def connect(host, port, user, password):
    return pymysql.connect(host=host, port=port, user=user, password=password, database="iam", autocommit=True)


def expect_error(conn, sql, number):
    """Runs sql, which must fail with MySQL error number."""
    with conn.cursor() as cur:
        try:
            cur.execute(sql)
        except pymysql.MySQLError as e:
            print("%s\n  -> ERROR %d: %s" % (sql, e.args[0], e.args[1]))
            if e.args[0] != number:
                fail("%s: error %d, want %d" % (sql, e.args[0], number))
            return
    fail("%s: succeeded, want error %d" % (sql, number))


def main():
    host, port, rw_user, rw_pw, ro_user, ro_pw = sys.argv[1:7]
    port = int(port)

    conn = connect(host, port, rw_user, rw_pw)
    with conn.cursor() as cur:
        # Parameters are interpolated by PyMySQL (text protocol).
        cur.execute(
            "SELECT AccessKeyId, Status FROM access_keys WHERE region = %s AND UserName = %s ORDER BY AccessKeyId",
            ("us-east-1", "alice"),
        )
        rows = cur.fetchall()
        print("SELECT alice's keys ->", rows)
        if rows != (("AKIAALICE00000000001", "Active"), ("AKIAALICE00000000002", "Inactive")):
            fail("alice's keys: %r" % (rows,))

        n = cur.execute("INSERT INTO access_keys (UserName, region) VALUES ('dave', 'us-east-1')")
        warnings = conn.show_warnings()
        print("INSERT dave ->", n, "row(s) affected; warnings:", warnings)
        if n != 1:
            fail("INSERT affected %d rows" % n)
        if len(warnings) != 1 or warnings[0][0] != "Note" or warnings[0][1] != 4100:
            fail("INSERT note: %r" % (warnings,))

        cur.execute("SELECT AccessKeyId, UserName, SecretAccessKey FROM created_access_keys")
        created = cur.fetchall()
        print("SELECT created_access_keys ->", len(created), "row(s) for", [r[1] for r in created])
        if len(created) != 1 or created[0][1] != "dave" or len(created[0][2]) != 40:
            fail("created_access_keys: %d rows" % len(created))
        # The transcript is checked against the emulator's secret.
        print("DAVE_KEY", created[0][0], created[0][2])

        cur.execute("CALL create_access_key('us-east-1', 'erin')")
        cols = [d[0] for d in cur.description]
        row = dict(zip(cols, cur.fetchone()))
        print("CALL create_access_key(erin) -> columns", cols)
        if row["UserName"] != "erin" or len(row["SecretAccessKey"]) != 40:
            fail("create_access_key row: %r" % (cols,))
        print("ERIN_KEY", row["AccessKeyId"], row["SecretAccessKey"])

        cur.execute("SELECT AccessKeyId FROM aws.iam_api.access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
        print("StackQL SELECT bob ->", cur.fetchall())
        n = cur.execute(
            "EXEC aws.iam_api.access_keys.access_keys_Update @AccessKeyId = 'AKIABOB0000000000001', @Status = 'Inactive', @region = 'us-east-1'"
        )
        print("StackQL EXEC access_keys_Update -> ok")
        cur.execute("SELECT Status FROM access_keys WHERE region = 'us-east-1' AND UserName = 'bob'")
        status = cur.fetchone()[0]
        print("bob's key is now", status)
        if status != "Inactive":
            fail("bob's key: %s" % status)

    expect_error(conn, "CALL create_access_key('us-east-1', 'alice')", 1226)
    expect_error(conn, "CALL update_access_key('AKIABOB0000000000001', 'Active', 'us-east-1', 'nobody')", 1032)
    expect_error(conn, "SELECT * FROM access_keys WHERE UserName = 'alice'", 1210)
    conn.close()

    ro = connect(host, port, ro_user, ro_pw)
    expect_error(ro, "DELETE FROM access_keys WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'", 1290)
    expect_error(ro, "CALL create_access_key('us-east-1', 'dave')", 1290)
    ro.close()

    try:
        connect(host, port, rw_user, "not-the-password")
    except pymysql.MySQLError as e:
        print("wrong password -> ERROR %d: %s" % (e.args[0], e.args[1]))
        if e.args[0] != 1045:
            fail("wrong password: error %d" % e.args[0])
    else:
        fail("a wrong password was accepted")
    print("OK")


if __name__ == "__main__":
    main()
