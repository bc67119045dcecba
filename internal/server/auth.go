package server

import (
	"bufio"
	"crypto/subtle"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"

	"github.com/dolthub/vitess/go/mysql"
	querypb "github.com/dolthub/vitess/go/vt/proto/query"
)

// User is an account that may connect.
type User struct {
	Name     string
	Password string
	// ReadOnly users may query but not change IAM: INSERT, UPDATE, DELETE
	// and mutating procedures fail with error 1290 before any IAM call.
	ReadOnly bool
	// MaxConnections bounds the user's concurrent connections; 0 means
	// Options.MaxUserConnections.
	MaxConnections int
}

// ParseUsers reads a users file: one user per line as
//
//	name:password:ro|rw[ max_user_connections=N]
//
// where ro is read-only and rw read-write, and N bounds the user's
// concurrent connections (instead of --max-user-connections). The
// password runs from the first to the last colon, so it may contain
// colons. Blank lines and lines starting with # are ignored.
func ParseUsers(r io.Reader) ([]User, error) {
	var users []User
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		first, last := strings.Index(line, ":"), strings.LastIndex(line, ":")
		if first < 0 || first == last {
			return nil, fmt.Errorf("line %d: expected name:password:ro|rw", n)
		}
		u := User{Name: line[:first], Password: line[first+1 : last]}
		fields := strings.Fields(line[last+1:])
		if len(fields) == 0 {
			fields = []string{""}
		}
		switch fields[0] {
		case "ro":
			u.ReadOnly = true
		case "rw":
		default:
			return nil, fmt.Errorf("line %d: access must be ro or rw, not %q", n, fields[0])
		}
		for _, opt := range fields[1:] {
			v, ok := strings.CutPrefix(opt, "max_user_connections=")
			max, err := strconv.Atoi(v)
			if !ok || err != nil || max < 1 {
				return nil, fmt.Errorf("line %d: after %s, only max_user_connections=N (N at least 1) may follow, not %q", n, fields[0], opt)
			}
			u.MaxConnections = max
		}
		if err := u.check(); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("line %d: user %q given twice", n, u.Name)
		}
		seen[u.Name] = true
		users = append(users, u)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return users, nil
}

func (u User) check() error {
	if u.Name == "" {
		return fmt.Errorf("empty user name")
	}
	if len(u.Name) > 32 || strings.ContainsAny(u.Name, " \t'\"`\\@") {
		return fmt.Errorf("user name %q: use up to 32 characters without spaces, quotes, backslashes or @", u.Name)
	}
	if u.Password == "" {
		return fmt.Errorf("user %q has an empty password", u.Name)
	}
	return nil
}

// account is an authenticated connection's user, kept in mysql.Conn.UserData.
type account struct {
	name     string
	readOnly bool
	// maxConns is the user's own connection limit (0: the server's).
	maxConns int
}

func (a *account) Get() *querypb.VTGateCallerID {
	return &querypb.VTGateCallerID{Username: a.name}
}

// authServer checks the configured users' passwords. With no users it
// lets any client in (New allows that on loopback only).
type authServer struct {
	users      map[string]User
	requireTLS bool
	// sha2First announces caching_sha2_password (as MySQL 8 does) when
	// TLS is available; clients without TLS are switched to
	// mysql_native_password.
	sha2First bool
	methods   []mysql.AuthMethod
	log       *slog.Logger
	// onLogin is told of each successful login and its method; an error
	// refuses the connection.
	onLogin func(*mysql.Conn, *account, mysql.AuthMethodDescription) error
}

var (
	_ mysql.AuthServer       = (*authServer)(nil)
	_ mysql.HashStorage      = (*authServer)(nil)
	_ mysql.CachingStorage   = (*authServer)(nil)
	_ mysql.PlainTextStorage = (*authServer)(nil)
	_ mysql.UserValidator    = (*authServer)(nil)
)

func newAuthServer(users []User, withTLS, requireTLS bool) (*authServer, error) {
	a := &authServer{users: map[string]User{}, requireTLS: requireTLS, sha2First: withTLS, log: slog.New(slog.DiscardHandler)}
	for _, u := range users {
		if err := u.check(); err != nil {
			return nil, err
		}
		if _, dup := a.users[u.Name]; dup {
			return nil, fmt.Errorf("user %q given twice", u.Name)
		}
		a.users[u.Name] = u
	}
	// mysql_native_password first: a client asking for a method the
	// connection cannot use (caching_sha2_password needs TLS) is switched
	// to the first one that can.
	a.methods = []mysql.AuthMethod{
		guarded{mysql.NewMysqlNativeAuthMethod(a, a), a},
		guarded{mysql.NewSha2CachingAuthMethod(a, a, a), a},
	}
	return a, nil
}

func (a *authServer) open() bool { return len(a.users) == 0 }

func (a *authServer) AuthMethods() []mysql.AuthMethod { return a.methods }

func (a *authServer) DefaultAuthMethodDescription() mysql.AuthMethodDescription {
	if a.sha2First {
		return mysql.CachingSha2Password
	}
	return mysql.MysqlNativePassword
}

// HandleUser accepts every name, so that an unknown user fails the
// password check (error 1045) like a wrong password does.
func (a *authServer) HandleUser(string, net.Addr) bool { return true }

// UserEntryWithHash checks a mysql_native_password scramble.
func (a *authServer) UserEntryWithHash(_ []*x509.Certificate, salt []byte, user string, resp []byte, addr net.Addr) (mysql.Getter, error) {
	return a.verify(user, addr, len(resp) > 0, func(password string) bool {
		return subtle.ConstantTimeCompare(mysql.ScrambleMysqlNativePassword(salt, []byte(password)), resp) == 1
	})
}

// UserEntryWithCacheHash checks a caching_sha2_password scramble. The
// passwords are known, so the fast path always decides.
func (a *authServer) UserEntryWithCacheHash(_ []*x509.Certificate, salt []byte, user string, resp []byte, addr net.Addr) (mysql.Getter, mysql.CacheState, error) {
	g, err := a.verify(user, addr, len(resp) > 0, func(password string) bool {
		return subtle.ConstantTimeCompare(mysql.ScrambleCachingSha2Password(salt, []byte(password)), resp) == 1
	})
	if err != nil {
		return nil, mysql.AuthRejected, err
	}
	return g, mysql.AuthAccepted, nil
}

// UserEntryWithPassword checks a password sent in full (over TLS only).
func (a *authServer) UserEntryWithPassword(_ []*x509.Certificate, user, password string, addr net.Addr) (mysql.Getter, error) {
	return a.verify(user, addr, password != "", func(want string) bool {
		return subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
	})
}

func (a *authServer) verify(user string, addr net.Addr, usedPassword bool, matches func(password string) bool) (mysql.Getter, error) {
	if a.open() {
		return &account{name: user}, nil
	}
	u, known := a.users[user]
	if !known {
		// Spend the same time as for a known user.
		u = User{Password: "\x00not a password"}
	}
	if !matches(u.Password) || !known {
		return nil, accessDenied(user, addr, usedPassword)
	}
	return &account{name: u.Name, readOnly: u.ReadOnly, maxConns: u.MaxConnections}, nil
}

func accessDenied(user string, addr net.Addr, usedPassword bool) error {
	host := ""
	if addr != nil {
		host, _, _ = net.SplitHostPort(addr.String())
	}
	using := "NO"
	if usedPassword {
		using = "YES"
	}
	return mysql.NewSQLError(mysql.ERAccessDeniedError, mysql.SSAccessDeniedError, "Access denied for user '%s'@'%s' (using password: %s)", user, host, using)
}

// errInsecureTransport is MySQL's answer under require_secure_transport.
func errInsecureTransport() error {
	return mysql.NewSQLError(3159, "HY000", "Connections using insecure transport are prohibited: this server requires TLS (--require-tls)")
}

// guarded is an auth method that also enforces --require-tls and logs
// the outcome (user and address; never a password).
type guarded struct {
	mysql.AuthMethod
	srv *authServer
}

func (g guarded) HandleAuthPluginData(c *mysql.Conn, user string, serverData, clientData []byte, addr net.Addr) (mysql.Getter, error) {
	if g.srv.requireTLS && !c.TLSEnabled() {
		g.srv.log.Warn("connection refused: TLS required", "user", user, "remote", addrString(addr))
		return nil, errInsecureTransport()
	}
	getter, err := g.AuthMethod.HandleAuthPluginData(c, user, serverData, clientData, addr)
	if err != nil {
		g.srv.log.Warn("authentication failed", "user", user, "remote", addrString(addr), "method", string(g.Name()), "tls", c.TLSEnabled())
		return nil, err
	}
	if acct, ok := getter.(*account); ok && g.srv.onLogin != nil {
		if err := g.srv.onLogin(c, acct, g.Name()); err != nil {
			return nil, err
		}
	}
	return getter, nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}
