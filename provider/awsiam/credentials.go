package awsiam

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
)

// CredentialsError says why iamsql has no AWS credentials to sign with,
// and what to do about it, the way the aws CLI does ("Unable to locate
// credentials. You can configure credentials by running aws configure").
type CredentialsError struct {
	// Code is NoCredentials, SSOSessionExpired or UnknownProfile.
	Code    string
	Message string
	Err     error
}

func (e *CredentialsError) Error() string { return e.Message }
func (e *CredentialsError) Unwrap() error { return e.Err }

// hintNoCredentials lists the ways to give iamsql credentials.
const hintNoCredentials = "run aws configure (access keys) or aws sso login --profile NAME, " +
	"choose a profile with --profile or AWS_PROFILE, set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
	"or try iamsql --sandbox (a demo account, no AWS needed)"

// explainLoadError turns the configuration loader's error for a profile
// that does not exist into a CredentialsError.
func explainLoadError(err error) error {
	var missing config.SharedConfigProfileNotExistError
	if !errors.As(err, &missing) {
		return fmt.Errorf("loading AWS configuration: %w", err)
	}
	names := missing.Filename
	if len(names) == 0 {
		names = []string{
			envOr("AWS_CONFIG_FILE", config.DefaultSharedConfigFilename()),
			envOr("AWS_SHARED_CREDENTIALS_FILE", config.DefaultSharedCredentialsFilename()),
		}
	}
	files := strings.Join(names, " or ")
	return &CredentialsError{
		Code: "UnknownProfile",
		Message: fmt.Sprintf("AWS profile %q does not exist in %s: aws configure list-profiles lists the profiles there are; "+
			"aws configure --profile %s or aws configure sso --profile %s creates it", missing.Profile, files, missing.Profile, missing.Profile),
		Err: err,
	}
}

// explainedCredentials wraps the default chain's credentials so that a
// failure to get any says what happened and what to do, instead of the
// SDK's last attempt (the EC2 instance metadata service, or a token file).
type explainedCredentials struct {
	next aws.CredentialsProvider
	// profile is the profile in use ("" for the default).
	profile string
	// imdsOnly is set when nothing configured credentials, so the chain
	// fell through to the EC2 instance role: a failure there means no
	// credentials were found anywhere.
	imdsOnly bool
}

func explainCredentials(cfg *aws.Config, profile string) {
	if cfg.Credentials == nil {
		return
	}
	cache, ok := cfg.Credentials.(*aws.CredentialsCache)
	imdsOnly := ok && cache.IsCredentialsProvider(&ec2rolecreds.Provider{})
	cfg.Credentials = aws.NewCredentialsCache(explainedCredentials{next: cfg.Credentials, profile: profile, imdsOnly: imdsOnly})
}

func (p explainedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := p.next.Retrieve(ctx)
	if err == nil || ctx.Err() != nil {
		return creds, err
	}
	var sso *ssocreds.InvalidTokenError
	switch {
	case errors.As(err, &sso):
		login := "aws sso login"
		if p.profile != "" {
			login += " --profile " + p.profile
		}
		return creds, &CredentialsError{
			Code:    "SSOSessionExpired",
			Message: fmt.Sprintf("the AWS SSO session%s has expired or was never started: run %s, then try again", p.profileClause(), login),
			Err:     err,
		}
	case p.imdsOnly:
		return creds, &CredentialsError{
			Code:    "NoCredentials",
			Message: "no AWS credentials found (none in the environment, the shared config and credentials files, or an EC2 instance role): " + hintNoCredentials,
			Err:     err,
		}
	}
	return creds, err
}

func (p explainedCredentials) profileClause() string {
	if p.profile == "" {
		return ""
	}
	return fmt.Sprintf(" of profile %q", p.profile)
}

// profileInUse is the profile the configuration chain reads.
func profileInUse(o Options) string {
	if o.Profile != "" {
		return o.Profile
	}
	return os.Getenv("AWS_PROFILE")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
