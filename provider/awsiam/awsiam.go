// Package awsiam is iamsql's IAM client layer: narrow interfaces with the
// SDK's own method signatures (so the real client, a counting decorator and
// test doubles all fit, and the SDK's paginators work on each), one client
// per AWS partition, and the retry policy: the SDK's standard retryer for
// reads, none for CreateAccessKey, which is not idempotent.
package awsiam

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/logging"

	"github.com/iamsql/iamsql/schema"
)

// AccessKeysAPI is the part of IAM that manages access keys.
type AccessKeysAPI interface {
	iam.ListAccessKeysAPIClient
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
}

// AccountAPI is the account-level part of IAM, and who the caller is.
type AccountAPI interface {
	GetAccountSummary(context.Context, *iam.GetAccountSummaryInput, ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
}

// UserContextAPI is the part of IAM that tells a user's context (tags,
// console password, MFA, groups, policies) and the credential report. It
// is asked of an API with a type assertion (ContextOf), so that test
// doubles of API need not implement it.
type UserContextAPI interface {
	ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
	ListMFADevices(context.Context, *iam.ListMFADevicesInput, ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	GetLoginProfile(context.Context, *iam.GetLoginProfileInput, ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	ListGroupsForUser(context.Context, *iam.ListGroupsForUserInput, ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
	ListAttachedUserPolicies(context.Context, *iam.ListAttachedUserPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	ListUserPolicies(context.Context, *iam.ListUserPoliciesInput, ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error)
	GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
}

var _ UserContextAPI = (*iam.Client)(nil)

// ContextOf is api's UserContextAPI, or an error naming the operation an
// API without it (a test double) cannot answer.
func ContextOf(api API, op string) (UserContextAPI, error) {
	if c, ok := api.(UserContextAPI); ok {
		return c, nil
	}
	return nil, fmt.Errorf("the IAM client %T cannot call %s", api, op)
}

// API is everything iamsql calls.
type API interface {
	AccessKeysAPI
	iam.ListUsersAPIClient
	AccountAPI
}

var _ API = (*iam.Client)(nil)

// NoRetry disables the SDK's retries for one call. CreateAccessKey uses it:
// a retry after a timeout could create a second key whose secret nobody sees.
func NoRetry(o *iam.Options) {
	o.RetryMaxAttempts = 1
	o.Retryer = aws.NopRetryer{}
}

// Options configure how clients are built.
type Options struct {
	// Profile selects a shared-config profile (like AWS_PROFILE).
	Profile string
	// EndpointURL overrides the IAM endpoint of every partition (an
	// emulator, a proxy). AWS_ENDPOINT_URL_IAM and AWS_ENDPOINT_URL are
	// honoured by the SDK when this is empty.
	EndpointURL string
	// HTTPClient replaces the SDK's HTTP client (tests, sandbox).
	HTTPClient *http.Client
	// Credentials replaces the default credential chain (sandbox).
	Credentials aws.CredentialsProvider
	// MaxAttempts bounds the attempts of one read (default 15), so that
	// throttling at scale is ridden out; MaxBackoff caps the jittered
	// exponential backoff between them (default the SDK's 20s).
	MaxAttempts int
	MaxBackoff  time.Duration
	// ConfigOptions are extra options for config.LoadDefaultConfig.
	ConfigOptions []func(*config.LoadOptions) error
	// APIOptions are passed to every client (middleware, e.g. counters).
	APIOptions []func(*iam.Options)
	// Config, when set, is used as it is instead of loading the default
	// configuration chain (the sandbox, tests).
	Config *aws.Config
}

// Clients hands out one IAM client per partition, built on first use so
// that start-up does no AWS configuration work a statement doesn't need.
type Clients struct {
	opts Options

	once    sync.Once
	cfg     aws.Config
	cfgErr  error
	mu      sync.Mutex
	clients map[string]API
	// wrapped is the API of NewClientsFor.
	wrapped API
	// assume, when set, is how clients that wrap an API assume a role.
	assume Assumer

	// identity asks STS who the caller is; id is its answer once had.
	idMu     sync.Mutex
	identity IdentityAPI
	id       *Identity
}

// NewClients prepares a client factory; nothing is loaded until For.
func NewClients(opts Options) *Clients {
	return &Clients{opts: opts, clients: map[string]API{}}
}

// NewClientsFor wraps an existing API (a test double, the sandbox) for
// every partition; of o only the retry bounds apply. An API that also
// answers GetCallerIdentity (IdentityAPI) tells who the caller is.
func NewClientsFor(api API, o ...Options) *Clients {
	c := &Clients{clients: map[string]API{}, wrapped: api}
	if len(o) > 0 {
		c.opts = o[0]
	}
	if id, ok := api.(IdentityAPI); ok {
		c.identity = id
	}
	c.once.Do(func() {})
	for p := range schema.SigningRegion {
		c.clients[p] = api
	}
	return c
}

func (c *Clients) load(ctx context.Context) error {
	c.once.Do(func() {
		if c.opts.Config != nil {
			c.cfg = c.opts.Config.Copy()
			return
		}
		// The SDK's own logger would print its warnings (falling back to
		// IMDSv1) on stderr; what matters reaches the user as an error.
		opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
		opts = append(opts, c.opts.ConfigOptions...)
		if c.opts.Profile != "" {
			opts = append(opts, config.WithSharedConfigProfile(c.opts.Profile))
		}
		if c.opts.HTTPClient != nil {
			opts = append(opts, config.WithHTTPClient(c.opts.HTTPClient))
		}
		if c.opts.Credentials != nil {
			opts = append(opts, config.WithCredentialsProvider(c.opts.Credentials))
		}
		c.cfg, c.cfgErr = config.LoadDefaultConfig(ctx, opts...)
		if c.cfgErr != nil {
			c.cfgErr = explainLoadError(c.cfgErr)
			return
		}
		if c.opts.Credentials == nil {
			explainCredentials(&c.cfg, profileInUse(c.opts))
		}
	})
	return c.cfgErr
}

// For returns the client for the partition a region belongs to. The region
// must already be validated.
func (c *Clients) For(ctx context.Context, region string) (API, error) {
	partition, ok := schema.Partition(region)
	if !ok {
		return nil, schema.Validate("region", region)
	}
	c.mu.Lock()
	api, ok := c.clients[partition]
	c.mu.Unlock()
	if ok {
		return api, nil
	}
	if err := c.load(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if api, ok := c.clients[partition]; ok {
		return api, nil
	}
	client := iam.NewFromConfig(c.cfg, func(o *iam.Options) {
		o.Region = schema.SigningRegion[partition]
		o.Retryer = NewRetryer(c.opts)
		o.HTTPClient = bodyGuard{o.HTTPClient}
		if c.opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.opts.EndpointURL)
		}
		for _, f := range c.opts.APIOptions {
			f(o)
		}
	})
	c.clients[partition] = client
	return client, nil
}

// EndpointURL is the endpoint override of the clients ("" for AWS's
// own, or the SDK's environment variables).
func (c *Clients) EndpointURL() string { return c.opts.EndpointURL }

// Config is the AWS configuration the clients are made from (the
// profile's credentials and region), for the other services a command
// calls (STS, Secrets Manager).
func (c *Clients) Config(ctx context.Context) (aws.Config, error) {
	if err := c.load(ctx); err != nil {
		return aws.Config{}, err
	}
	return c.cfg.Copy(), nil
}

// NewRetryer is the retry policy of reads: the SDK's standard retryer
// (jittered exponential backoff on throttling, 5xx and transient network
// errors) with o's attempts and backoff, more attempts than its default
// and without its retry quota, which a large inventory under sustained
// throttling would exhaust. (The SDK's adaptive mode was measured too: its
// client-side rate limiter slowed a throttled inventory many times over.)
func NewRetryer(o Options) aws.Retryer {
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = attempts
		so.RateLimiter = ratelimit.None
		if o.MaxBackoff > 0 {
			so.MaxBackoff = o.MaxBackoff
		}
	})
}

// MaxAttempts is how often a call IAM refused with throttling is tried.
func (c *Clients) MaxAttempts() int {
	if c.opts.MaxAttempts > 0 {
		return c.opts.MaxAttempts
	}
	return DefaultMaxAttempts
}

// Backoff is the jittered exponential wait before attempt n+1 of a call
// that IAM refused with throttling (the standard retryer's).
func (c *Clients) Backoff(attempt int, err error) time.Duration {
	max := c.opts.MaxBackoff
	if max <= 0 {
		max = 20 * time.Second
	}
	d, berr := retry.NewExponentialJitterBackoff(max).BackoffDelay(attempt, err)
	if berr != nil {
		return max
	}
	return d
}

// IsThrottle reports whether IAM refused a call with throttling: it says
// so before acting, so even CreateAccessKey may be sent again.
func IsThrottle(err error) bool {
	return retry.ThrottleErrorCode{Codes: retry.DefaultThrottleErrorCodes}.IsErrorThrottle(err).Bool()
}

// DefaultMaxAttempts is how often a read is tried before its error is
// returned. At 30% throttling a call fails all 15 attempts with
// probability 0.3^15 ≈ 1.4e-8, so a 1,000-user inventory (~2,000 calls)
// completes; 10 attempts failed about one such inventory in a hundred.
const DefaultMaxAttempts = 15

// bodyGuard hides the request body's WriteTo from net/http. smithy-go
// closes a request body as soon as response headers arrive, and its body
// wrapper then answers WriteTo with io.EOF; when a server answers within
// microseconds, net/http may still be finishing with the body, takes the
// io.EOF for a write error and drops the connection mid-response, and the
// call fails or is sent again. For CreateAccessKey that would create a key
// whose secret nobody sees. Read-only bodies avoid it.
type bodyGuard struct{ next iam.HTTPClient }

func (g bodyGuard) Do(r *http.Request) (*http.Response, error) {
	release, err := AcquireAttempt(r.Context())
	if err != nil {
		return nil, err
	}
	defer release()
	if r.Body != nil && r.Body != http.NoBody {
		r2 := *r
		r2.Body = readCloser{r.Body}
		r = &r2
	}
	return g.next.Do(r)
}

type readCloser struct{ rc io.ReadCloser }

func (b readCloser) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b readCloser) Close() error               { return b.rc.Close() }
