package awsiam

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// IdentityAPI is the part of STS that says who the caller is.
type IdentityAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var _ IdentityAPI = (*sts.Client)(nil)

// Identity is who iamsql acts as: GetCallerIdentity's answer.
type Identity struct {
	Account string // the 12-digit account id
	Arn     string // the principal: arn:aws:iam::123456789012:user/alice, …:root, …:assumed-role/Role/session
	UserID  string
}

// Name is the principal's short name: the user, "root", or the role of
// an assumed-role session.
func (id Identity) Name() string {
	_, res, ok := strings.Cut(id.Arn, ":"+id.Account+":")
	if !ok {
		return id.Arn
	}
	parts := strings.Split(res, "/")
	switch {
	case parts[0] == "root":
		return "root"
	case parts[0] == "assumed-role" && len(parts) > 1:
		return parts[1]
	}
	return parts[len(parts)-1]
}

// ErrNoIdentity is returned by Identity for clients that cannot ask STS.
var ErrNoIdentity = errors.New("who the caller is cannot be asked of these clients (no STS)")

// Identity asks STS who the caller is (GetCallerIdentity), once: the
// answer is kept for the life of the clients; a failure is not, so the
// next asking tries again. The call is made only when asked for (the
// shell's banner and status, exec --verbose, AWS_ACCOUNT(), the
// account_id column, org mode's management and profile accounts): one
// answer serves them all.
func (c *Clients) Identity(ctx context.Context) (Identity, error) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	if c.id != nil {
		return *c.id, nil
	}
	api, err := c.identityAPI(ctx)
	if err != nil {
		return Identity{}, err
	}
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, err
	}
	c.id = &Identity{Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn), UserID: aws.ToString(out.UserId)}
	return *c.id, nil
}

// KnownIdentity is the identity Identity already had, without asking.
func (c *Clients) KnownIdentity() (Identity, bool) {
	c.idMu.Lock()
	defer c.idMu.Unlock()
	if c.id == nil {
		return Identity{}, false
	}
	return *c.id, true
}

func (c *Clients) identityAPI(ctx context.Context) (IdentityAPI, error) {
	if c.identity != nil {
		return c.identity, nil
	}
	api, err := c.STS(ctx)
	if err != nil {
		return nil, err
	}
	c.identity = api
	return api, nil
}
