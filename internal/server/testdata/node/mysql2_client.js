// Node's mysql2 driver against `iamsql serve`, as a Node program uses it.
//
// Run by TestNodeMySQL2Client (clients_test.go) once .ci/run has
// installed the driver here (npm ci):
//
//     node mysql2_client.js HOST PORT USER PASSWORD
//
// It prints one JSON object with what it saw, for the test to compare
// with what IAM holds; any exception exits non-zero.

'use strict';

const mysql = require('mysql2/promise');

async function main() {
  const [host, port, user, password] = process.argv.slice(2);
  const conn = await mysql.createConnection({
    host, port: Number(port), user, password, database: 'iam', timezone: 'Z', dateStrings: true,
  });
  const seen = {};
  try {
    // query: placeholders filled in by the driver (text protocol).
    let [rows] = await conn.query(
      'SELECT UserName, AccessKeyId, Status, CreateDate FROM access_keys WHERE region = ? AND UserName IN (?) ORDER BY AccessKeyId',
      ['us-east-1', ['alice', 'bob']]);
    seen.query = rows.map((r) => [r.UserName, r.AccessKeyId, r.Status, r.CreateDate]);

    // execute: a prepared statement on the server (binary protocol),
    // run twice with other values.
    seen.execute = [];
    for (const name of ['carol', 'erin']) {
      [rows] = await conn.execute(
        'SELECT UserName, AccessKeyId, Status, CreateDate FROM access_keys WHERE region = ? AND UserName = ? ORDER BY AccessKeyId',
        ['us-east-1', name]);
      seen.execute.push(rows.map((r) => [r.UserName, r.AccessKeyId, r.Status, r.CreateDate]));
    }

    // CALL returns the new key with its secret, as a query and prepared.
    let [results] = await conn.query("CALL create_access_key('us-east-1', 'dave')");
    seen.call = (Array.isArray(results[0]) ? results[0] : results).map((r) => [r.AccessKeyId, r.UserName, r.SecretAccessKey]);
    [results] = await conn.execute('CALL update_access_key(?, ?, ?)', [seen.call[0][0], 'Inactive', 'us-east-1']);
    seen.call_update = Array.isArray(results) ? results.length : 0;

    // An UPDATE's OK packet: affected and changed rows from its info.
    const [ok] = await conn.query(
      "UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'");
    seen.update = { affectedRows: ok.affectedRows, changedRows: ok.changedRows, info: ok.info };

    // An INSERT, read back from created_access_keys on this connection.
    const [inserted] = await conn.query("INSERT INTO access_keys (UserName, region) VALUES ('erin', 'us-east-1')");
    seen.insert = { affectedRows: inserted.affectedRows, warningStatus: inserted.warningStatus };
    [rows] = await conn.query("SELECT AccessKeyId, UserName, SecretAccessKey FROM created_access_keys WHERE UserName = 'erin'");
    seen.created = rows.map((r) => [r.AccessKeyId, r.UserName, r.SecretAccessKey]);

    // An error, then the connection goes on.
    try {
      await conn.execute('SELECT * FROM access_keys WHERE UserName = ?', ['alice']);
      seen.error = null;
    } catch (e) {
      seen.error = [e.errno, e.message];
    }
    [rows] = await conn.query('SELECT 42 AS answer');
    seen.after_error = rows.map((r) => r.answer);
  } finally {
    await conn.end();
  }
  process.stdout.write(JSON.stringify(seen) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
