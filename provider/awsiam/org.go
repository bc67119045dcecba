package awsiam

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IdentityAPI says who the caller is (STS).
type IdentityAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// OrganizationsAPI is the part of AWS Organizations iamsql reads.
type OrganizationsAPI interface {
	organizations.ListAccountsAPIClient
	ListParents(context.Context, *organizations.ListParentsInput, ...func(*organizations.Options)) (*organizations.ListParentsOutput, error)
}

var (
	_ IdentityAPI      = (*sts.Client)(nil)
	_ OrganizationsAPI = (*organizations.Client)(nil)
)

// globalRegion is where STS and Organizations are called when the
// configuration names no region (both have a global endpoint there).
const globalRegion = "us-east-1"

// Identity returns the STS client of the caller's credentials. Clients
// wrapping an API (NewClientsFor) answer with it when it has
// GetCallerIdentity.
func (c *Clients) Identity(ctx context.Context) (IdentityAPI, error) {
	if fixed, ok := c.fixed(); ok {
		if id, ok := fixed.(IdentityAPI); ok {
			return id, nil
		}
		return nil, errors.New("these IAM clients have no STS (GetCallerIdentity)")
	}
	if err := c.load(ctx); err != nil {
		return nil, err
	}
	return sts.NewFromConfig(c.cfg, func(o *sts.Options) {
		c.globalService(&o.Region, &o.Retryer, &o.BaseEndpoint)
		o.HTTPClient = bodyGuard{o.HTTPClient}
	}), nil
}

// globalService sets what iamsql sets on an STS or Organizations client:
// a region when the configuration has none (both have a global endpoint
// there), the retry policy of reads, and the endpoint override.
func (c *Clients) globalService(region *string, retryer *aws.Retryer, endpoint **string) {
	if *region == "" {
		*region = globalRegion
	}
	*retryer = NewRetryer(c.opts)
	if c.opts.EndpointURL != "" {
		*endpoint = aws.String(c.opts.EndpointURL)
	}
}

// Organizations returns the AWS Organizations client of the caller's
// credentials (the management account's, in org mode).
func (c *Clients) Organizations(ctx context.Context) (OrganizationsAPI, error) {
	if fixed, ok := c.fixed(); ok {
		if o, ok := fixed.(OrganizationsAPI); ok {
			return o, nil
		}
		return nil, errors.New("these IAM clients have no AWS Organizations client")
	}
	if err := c.load(ctx); err != nil {
		return nil, err
	}
	return organizations.NewFromConfig(c.cfg, func(o *organizations.Options) {
		c.globalService(&o.Region, &o.Retryer, &o.BaseEndpoint)
		o.HTTPClient = bodyGuard{o.HTTPClient}
	}), nil
}

// AssumeRole returns the clients of another account: its role roleArn
// assumed with these clients' credentials (an external id when set),
// the temporary credentials cached and refreshed before they expire.
// maxAttempts and maxBackoff, when positive, are the new clients' retry
// budget and longest wait between tries.
func (c *Clients) AssumeRole(ctx context.Context, roleArn, externalID string, maxAttempts int, maxBackoff time.Duration) (*Clients, error) {
	if c.assume != nil {
		o := c.opts
		if maxAttempts > 0 {
			o.MaxAttempts = maxAttempts
		}
		if maxBackoff > 0 {
			o.MaxBackoff = maxBackoff
		}
		return c.assume(ctx, roleArn, externalID, o)
	}
	if _, ok := c.fixed(); ok {
		return nil, errors.New("these IAM clients cannot assume a role")
	}
	stsc, err := c.Identity(ctx)
	if err != nil {
		return nil, err
	}
	assumer, ok := stsc.(stscreds.AssumeRoleAPIClient)
	if !ok {
		return nil, fmt.Errorf("internal: %T cannot assume a role", stsc)
	}
	cfg := c.cfg.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(assumer, roleArn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "iamsql"
		if externalID != "" {
			o.ExternalID = aws.String(externalID)
		}
	}))
	opts := c.opts
	opts.Config = &cfg
	if maxAttempts > 0 {
		opts.MaxAttempts = maxAttempts
	}
	if maxBackoff > 0 {
		opts.MaxBackoff = maxBackoff
	}
	return NewClients(opts), nil
}

// Credentials retrieves the clients' credentials (for assumed-role
// clients: the AssumeRole call, unless cached), so that an account whose
// role cannot be assumed is known before its first IAM call.
func (c *Clients) Credentials(ctx context.Context) error {
	if _, ok := c.fixed(); ok {
		return nil
	}
	if err := c.load(ctx); err != nil {
		return err
	}
	if c.cfg.Credentials == nil {
		return errors.New("no AWS credentials")
	}
	_, err := c.cfg.Credentials.Retrieve(ctx)
	return err
}

// Assumer assumes a role for clients that wrap an API (NewClientsFor):
// the sandbox's organization, in process. o are the new clients' retry
// bounds.
type Assumer func(ctx context.Context, roleArn, externalID string, o Options) (*Clients, error)

// WithAssumer lets clients that wrap an API assume roles with f.
func (c *Clients) WithAssumer(f Assumer) *Clients {
	c.assume = f
	return c
}

// fixed is the API NewClientsFor wraps.
func (c *Clients) fixed() (API, bool) {
	if c.wrapped == nil {
		return nil, false
	}
	return c.wrapped, true
}

type attemptLimitKey struct{}

// WithAttemptLimit makes every HTTP attempt of the calls made with ctx
// hold a slot of each of sems, taken in order, while it is sent and
// answered, and only then: a call waiting out its retry backoff holds
// none, so an account IAM throttles keeps no other from calling, and
// sends no more than its own bound at once.
func WithAttemptLimit(ctx context.Context, sems ...chan struct{}) context.Context {
	all := append(slices.Clone(attemptLimits(ctx)), sems...)
	return context.WithValue(ctx, attemptLimitKey{}, all)
}

// HasAttemptLimit reports whether ctx carries WithAttemptLimit's bounds.
func HasAttemptLimit(ctx context.Context) bool { return len(attemptLimits(ctx)) > 0 }

// AcquireAttempt takes a slot of each of ctx's attempt bounds
// (WithAttemptLimit) for one attempt of a call; release gives them back.
// Clients that send no HTTP request (the sandbox's) call it themselves.
func AcquireAttempt(ctx context.Context) (release func(), err error) {
	sems := attemptLimits(ctx)
	taken := 0
	release = func() {
		for _, sem := range sems[:taken] {
			<-sem
		}
	}
	for _, sem := range sems {
		select {
		case sem <- struct{}{}:
			taken++
		case <-ctx.Done():
			release()
			return func() {}, ctx.Err()
		}
	}
	return release, nil
}

func attemptLimits(ctx context.Context) []chan struct{} {
	sems, _ := ctx.Value(attemptLimitKey{}).([]chan struct{})
	return sems
}
