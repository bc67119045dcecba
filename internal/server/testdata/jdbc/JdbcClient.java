// JDBC through MariaDB Connector/J against `iamsql serve`, as a Java
// program or a JDBC-based tool uses it.
//
// Run by TestJDBCClient (clients_test.go) with Debian's JDK and
// libmariadb-java:
//
//     java -cp /usr/share/java/mariadb-java-client.jar JdbcClient.java HOST PORT USER PASSWORD
//
// It works in two phases, each printing one line of JSON with what it saw.
// The metadata phase reads DatabaseMetaData (product, catalogs, tables,
// columns, keys, indexes, procedures), then waits for a line on standard
// input (the test counts the IAM calls meanwhile). The data phase runs a
// query through a PreparedStatement, the same prepared on the server, an
// UPDATE and CALL create_access_key. Any exception exits non-zero.

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

public class JdbcClient {
    public static void main(String[] args) throws Exception {
        String url = "jdbc:mariadb://" + args[0] + ":" + args[1] + "/iam";
        Properties props = new Properties();
        props.setProperty("user", args[2]);
        props.setProperty("password", args[3]);

        try (Connection c = DriverManager.getConnection(url, props)) {
            DatabaseMetaData md = c.getMetaData();
            Json out = new Json();
            out.put("product", md.getDatabaseProductName() + " " + md.getDatabaseProductVersion());
            out.put("catalogs", column(md.getCatalogs(), "TABLE_CAT"));
            out.put("tables", column(md.getTables("iam", null, "%", new String[] {"TABLE", "VIEW"}), "TABLE_NAME"));
            List<String> columns = new ArrayList<>();
            try (ResultSet rs = md.getColumns("iam", null, "access_keys", "%")) {
                while (rs.next()) {
                    columns.add(rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME"));
                }
            }
            out.put("columns", columns);
            out.put("primary_keys", column(md.getPrimaryKeys("iam", null, "access_keys"), "COLUMN_NAME"));
            out.put("indexes", column(md.getIndexInfo("iam", null, "access_keys", false, true), "INDEX_NAME"));
            out.put("procedures", column(md.getProcedures("iam", null, "%"), "PROCEDURE_NAME"));
            System.out.println(out);
            System.out.flush();
        }

        new BufferedReader(new InputStreamReader(System.in)).readLine();

        Json out = new Json();
        String query = "SELECT UserName, AccessKeyId, Status, CreateDate FROM access_keys WHERE region = ? AND UserName = ? ORDER BY AccessKeyId";
        try (Connection c = DriverManager.getConnection(url, props)) {
            try (PreparedStatement ps = c.prepareStatement(query)) {
                ps.setString(1, "us-east-1");
                ps.setString(2, "alice");
                out.put("query", rows(ps.executeQuery()));
            }
            try (Statement st = c.createStatement()) {
                out.put("update", String.valueOf(st.executeUpdate(
                    "UPDATE access_keys SET Status = 'Inactive' WHERE AccessKeyId = 'AKIABOB0000000000001' AND region = 'us-east-1'")));
                out.put("call", rows(st.executeQuery("CALL create_access_key('us-east-1', 'dave')")));
            }
        }
        // The same query prepared on the server (COM_STMT_PREPARE).
        props.setProperty("useServerPrepStmts", "true");
        try (Connection c = DriverManager.getConnection(url, props)) {
            try (PreparedStatement ps = c.prepareStatement(query)) {
                List<List<String>> both = new ArrayList<>();
                for (String user : new String[] {"carol", "erin"}) {
                    ps.setString(1, "us-east-1");
                    ps.setString(2, user);
                    both.addAll(rows(ps.executeQuery()));
                }
                out.put("server_prepared", both);
            }
        }
        System.out.println(out);
    }

    static List<String> column(ResultSet rs, String name) throws Exception {
        List<String> out = new ArrayList<>();
        try (rs) {
            while (rs.next()) {
                out.add(rs.getString(name));
            }
        }
        return out;
    }

    static List<List<String>> rows(ResultSet rs) throws Exception {
        List<List<String>> out = new ArrayList<>();
        try (rs) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                out.add(row);
            }
        }
        return out;
    }

    // Json writes an object of strings and (nested) lists of strings.
    static class Json {
        private final StringBuilder b = new StringBuilder();

        void put(String key, Object value) {
            b.append(b.length() == 0 ? "{" : ",");
            write(key);
            b.append(':');
            write(value);
        }

        private void write(Object v) {
            if (v == null) {
                b.append("null");
            } else if (v instanceof List) {
                b.append('[');
                boolean first = true;
                for (Object x : (List<?>) v) {
                    if (!first) {
                        b.append(',');
                    }
                    first = false;
                    write(x);
                }
                b.append(']');
            } else {
                b.append('"');
                for (char ch : v.toString().toCharArray()) {
                    if (ch == '"' || ch == '\\') {
                        b.append('\\').append(ch);
                    } else if (ch < 0x20) {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
                b.append('"');
            }
        }

        @Override
        public String toString() {
            return b.toString() + "}";
        }
    }
}
