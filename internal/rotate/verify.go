package rotate

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// STSVerifier verifies a key with sts:GetCallerIdentity signed by it,
// with cfg's region, HTTP client and endpoint (endpoint "" for AWS's own
// or cfg's). Each attempt is one call: the rotation's retry loop is the
// bounded wait for propagation.
func STSVerifier(cfg aws.Config, endpoint string) Verifier {
	return func(ctx context.Context, keyID, secret string) (string, error) {
		c := cfg.Copy()
		c.Credentials = credentials.NewStaticCredentialsProvider(keyID, secret, "")
		client := sts.NewFromConfig(c, func(o *sts.Options) {
			o.RetryMaxAttempts = 1
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		})
		out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Arn), nil
	}
}
