package server

import (
	"testing"
)

// Clients that cannot be installed here send these statements when they
// connect and browse a database. They were read from the clients' public
// sources:
//
//   - DBeaver's MySQL plugin (plugins/org.jkiss.dbeaver.ext.mysql,
//     MySQLDataSource.initialize and the caches of MySQLCatalog, as of
//     October 2024), through MySQL Connector/J 8, whose session start is
//     its well-known variables query;
//   - Metabase's sql-jdbc sync (describe_database.clj: the select probe of
//     every table) and MySQL driver (the database time zone), which read
//     tables and columns through JDBC DatabaseMetaData, as TestJDBCClient
//     does;
//   - Grafana's MySQL data source (mySqlMetaQuery.ts: datasets, tables
//     and columns for the query editor), over go-sql-driver/mysql.
//
// Each is replayed with the capabilities its driver announces; every
// answer must be well-formed and the statement's own, and none may call
// IAM. A statement that reads an IAM table's rows (a data preview)
// answers with the region error, as it does for every client.

// toolStatement is a statement a tool sends and the error number it must
// get (0: it succeeds).
type toolStatement struct {
	query string
	err   int
}

var (
	// MySQL Connector/J 8 starts a session so (DBeaver, and Metabase's
	// MySQL driver where it uses Connector/J).
	connectorJSession = []toolStatement{
		{query: "/* mysql-connector-j-8.0.33 (Revision: 7d6b0800528b6b25c68b52dc10d6c1c8429c100c) */SELECT  @@session.auto_increment_increment AS auto_increment_increment, @@character_set_client AS character_set_client, @@character_set_connection AS character_set_connection, @@character_set_results AS character_set_results, @@character_set_server AS character_set_server, @@collation_server AS collation_server, @@collation_connection AS collation_connection, @@init_connect AS init_connect, @@interactive_timeout AS interactive_timeout, @@license AS license, @@lower_case_table_names AS lower_case_table_names, @@max_allowed_packet AS max_allowed_packet, @@net_write_timeout AS net_write_timeout, @@performance_schema AS performance_schema, @@query_cache_size AS query_cache_size, @@query_cache_type AS query_cache_type, @@sql_mode AS sql_mode, @@system_time_zone AS system_time_zone, @@time_zone AS time_zone, @@transaction_isolation AS transaction_isolation, @@wait_timeout AS wait_timeout"},
		{query: "SET NAMES utf8mb4"},
		{query: "SET character_set_results = NULL"},
		{query: "SET autocommit=1"},
		{query: "SELECT @@session.transaction_read_only"},
		{query: "SELECT @@session.transaction_isolation"},
	}

	dbeaver = append(append([]toolStatement(nil), connectorJSession...), []toolStatement{
		{query: "SHOW ENGINES"},
		{query: "SHOW CHARSET"},
		{query: "SHOW COLLATION"},
		{query: "SELECT @@GLOBAL.character_set_server,@@GLOBAL.collation_server"},
		{query: "SHOW PLUGINS"},
		{query: "SHOW VARIABLES LIKE 'lower_case_table_names'"},
		{query: "show databases"},
		{query: "SELECT * FROM information_schema.TABLES t\nWHERE\n\tt.TABLE_SCHEMA = 'information_schema'\n\tAND t.TABLE_NAME = 'CHECK_CONSTRAINTS'"},
		{query: "SELECT * FROM information_schema.SCHEMATA WHERE SCHEMA_NAME='iam'"},
		{query: "SHOW FULL TABLES FROM `iam`"},
		{query: "SHOW TABLE STATUS FROM `iam`"},
		{query: "SELECT SUM((DATA_LENGTH+INDEX_LENGTH))\nFROM INFORMATION_SCHEMA.TABLES \nWHERE TABLE_SCHEMA='iam'"},
		{query: "SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='iam' AND TABLE_NAME='access_keys' ORDER BY ORDINAL_POSITION"},
		{query: "SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA='iam' ORDER BY ORDINAL_POSITION"},
		{query: "SELECT * FROM information_schema.STATISTICS WHERE TABLE_SCHEMA='iam' AND TABLE_NAME='access_keys' ORDER BY TABLE_NAME,INDEX_NAME,SEQ_IN_INDEX"},
		{query: "SELECT kc.CONSTRAINT_NAME,kc.TABLE_NAME,kc.COLUMN_NAME,kc.ORDINAL_POSITION\nFROM INFORMATION_SCHEMA.KEY_COLUMN_USAGE kc WHERE kc.TABLE_SCHEMA='iam' AND kc.REFERENCED_TABLE_NAME IS NULL AND kc.TABLE_NAME='access_keys'\nORDER BY kc.CONSTRAINT_NAME,kc.ORDINAL_POSITION"},
		{query: "SELECT cc.CONSTRAINT_NAME, cc.CHECK_CLAUSE, tc.TABLE_NAME\nFROM (SELECT CONSTRAINT_NAME, CHECK_CLAUSE\nFROM INFORMATION_SCHEMA.CHECK_CONSTRAINTS\nWHERE CONSTRAINT_SCHEMA = 'iam'\nORDER BY CONSTRAINT_NAME) cc,\n(SELECT TABLE_NAME, CONSTRAINT_NAME\nFROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS\nWHERE TABLE_SCHEMA = 'iam' AND TABLE_NAME='access_keys') tc\nWHERE cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME\nORDER BY cc.CONSTRAINT_NAME"},
		{query: "SELECT * FROM information_schema.ROUTINES\nWHERE ROUTINE_SCHEMA='iam' AND ROUTINE_TYPE IN ('PROCEDURE','FUNCTION')\nORDER BY ROUTINE_NAME"},
		{query: "SELECT * FROM INFORMATION_SCHEMA.TRIGGERS\nWHERE TRIGGER_SCHEMA = 'iam'\nORDER BY TRIGGER_NAME"},
		{query: "SELECT * FROM information_schema.EVENTS WHERE EVENT_SCHEMA='iam'"},
		{query: "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA='iam' AND TABLE_TYPE = 'SEQUENCE'"},
		{query: "SHOW CREATE TABLE `iam`.`access_keys`"},
		{query: "SHOW CREATE TABLE `iam`.`created_access_keys`"},
		// The users editor and the data viewer: no mysql database, and an
		// IAM table's rows need a region.
		{query: "SELECT * FROM mysql.user ORDER BY user", err: 1049},
		{query: "SELECT * FROM `iam`.`access_keys` LIMIT 0, 200", err: 1210},
		{query: "SELECT COUNT(*) FROM `iam`.`users`", err: 1210},
		{query: "SELECT * FROM `iam`.`methods` LIMIT 0, 200"},
	}...)

	metabase = []toolStatement{
		{query: "SELECT @@GLOBAL.time_zone AS global_tz, @@system_time_zone AS system_tz, time_format(   timediff(      now(), convert_tz(now(), @@GLOBAL.time_zone, '+00:00')   ),   '%H:%i' ) AS offset;"},
		{query: "SELECT TRUE AS `_` FROM `iam`.`access_keys` WHERE 1 <> 1 LIMIT 0"},
		{query: "SELECT TRUE AS `_` FROM `iam`.`account_summary` WHERE 1 <> 1 LIMIT 0"},
		{query: "SELECT TRUE AS `_` FROM `iam`.`created_access_keys` WHERE 1 <> 1 LIMIT 0"},
		{query: "SELECT TRUE AS `_` FROM `iam`.`methods` WHERE 1 <> 1 LIMIT 0"},
		{query: "SELECT TRUE AS `_` FROM `iam`.`users` WHERE 1 <> 1 LIMIT 0"},
		{query: "SELECT * FROM `iam`.`access_keys` WHERE 1 <> 1 LIMIT 0"},
		// Field values for filters: an IAM table's rows need a region.
		{query: "SELECT `iam`.`users`.`UserName` AS `UserName` FROM `iam`.`users` GROUP BY `iam`.`users`.`UserName` ORDER BY `iam`.`users`.`UserName` ASC LIMIT 1000", err: 1210},
	}

	grafana = []toolStatement{
		{query: "SELECT 1"},
		{query: "SELECT DISTINCT TABLE_SCHEMA from information_schema.TABLES where TABLE_TYPE != 'SYSTEM VIEW' ORDER BY TABLE_SCHEMA"},
		{query: "SELECT table_name FROM information_schema.tables WHERE table_schema = database() ORDER BY table_name"},
		{query: "SELECT table_name FROM information_schema.tables WHERE table_schema = 'iam' ORDER BY table_name"},
		{query: "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'iam' AND table_name = 'access_keys' ORDER BY column_name"},
		{query: "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = database() AND table_name = 'access_keys' AND data_type IN ('timestamp','datetime','bigint','int','double','float') ORDER BY column_name"},
	}
)

// TestBIToolsMetadataQueriesMakeNoIAMCalls replays what DBeaver,
// Metabase and Grafana send on connecting and browsing (see above), each
// with its driver's capabilities, on one connection per tool.
func TestBIToolsMetadataQueriesMakeNoIAMCalls(t *testing.T) {
	w := newWorld(t, worldOptions{})
	base := uint32(capLongPassword | capLongFlag | capConnectWithDB | capProtocol41 |
		capTransactions | capSecureConnection | capMultiResults | capPluginAuth)
	for _, tool := range []struct {
		name       string
		caps       uint32
		statements []toolStatement
	}{
		{"DBeaver (MySQL Connector/J)", base | capDeprecateEOF | capSessionTrack, dbeaver},
		{"Metabase (MariaDB Connector/J)", base | capDeprecateEOF, append(append([]toolStatement(nil), connectorJSession...), metabase...)},
		{"Grafana (go-sql-driver/mysql)", base, grafana},
	} {
		t.Run(tool.name, func(t *testing.T) {
			w.emu.ResetCalls()
			sc := dialStrict(t, w, tool.caps)
			for i, st := range tool.statements {
				a := sc.query(t, st.query)
				switch {
				case st.err == 0 && a.err != nil:
					t.Errorf("%.120s: %v", st.query, a.err)
				case st.err != 0 && (a.err == nil || a.err.Num != st.err):
					t.Errorf("%.120s: %v, want error %d", st.query, a, st.err)
				}
				sc.inStep(t, st.query, 1000+i)
			}
			if n := w.emu.TotalCalls(); n != 0 {
				t.Errorf("%s made %d IAM calls: %v", tool.name, n, w.emu.Calls())
			}
		})
	}
}
