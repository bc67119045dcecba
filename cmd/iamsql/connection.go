package main

import (
	"context"
	"fmt"

	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// connection says where iamsql is connected and whom it acts as: the
// account and principal from one GetCallerIdentity (asked when first
// needed, then kept), the profile and the endpoint.
type connection struct {
	identity awsiam.Identity
	err      error // why the identity is unknown
	profile  string
	endpoint string
}

func (e *environment) connection(ctx context.Context, eng *provider.Engine) connection {
	c := connection{profile: "default", endpoint: "AWS (the IAM endpoint of the region's partition)"}
	switch {
	case e.sandbox:
		c.profile, c.endpoint = "none (the sandbox)", "the sandbox: an emulated IAM account in this process (nothing reaches AWS)"
	default:
		if p := e.profileName(); p != "" {
			c.profile = p
		}
		if u := e.endpoint(); u != "" {
			c.endpoint = u
		}
	}
	c.identity, c.err = eng.Identity(ctx)
	return c
}

// rows are the connection as label and value, for \s and exec --verbose.
func (c connection) rows() [][2]string {
	account, principal := c.identity.Account, c.identity.Arn
	if c.err != nil {
		account = "unknown: " + provider.FormatError(c.err)
		principal = "unknown"
	}
	return [][2]string{
		{"iamsql", versionString()},
		{"AWS account", account},
		{"Principal", principal},
		{"Profile", c.profile},
		{"Endpoint", c.endpoint},
	}
}

// prompt is the shell prompt's prefix: "alice@123456789012 ".
func (c connection) prompt() string {
	if c.err != nil {
		return ""
	}
	return c.identity.Name() + "@" + c.identity.Account + " "
}

// greeting is the interactive shell's banner.
func (c connection) greeting(sandbox bool) string {
	var target string
	switch {
	case c.err != nil:
		target = "Not connected to AWS: " + provider.FormatError(c.err) + "\n" +
			"Statements that call IAM fail until that is fixed; \\s shows the connection."
	case sandbox:
		target = fmt.Sprintf("Connected to the sandbox: an emulated IAM account with demo users and keys (nothing reaches AWS).\n"+
			"Account %s as %s.", c.identity.Account, c.identity.Arn)
	default:
		target = fmt.Sprintf("Connected to AWS account %s as %s\n(profile %s, endpoint %s).",
			c.identity.Account, c.identity.Arn, c.profile, c.endpoint)
	}
	return "Welcome to iamsql, SQL for AWS IAM access keys.\n" + target + "\n" +
		"End statements with ; (or \\G for vertical output). \\s shows the connection. Type help or \\? for help, \\q to quit.\n\n"
}
