// Package sandbox connects iamsql to an in-process IAM emulator: the
// --sandbox account, and the engine-level tests of the shell and server.
package sandbox

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// Clients returns IAM clients that reach emu without a socket, signed with
// its root credentials. o may set retry bounds; its endpoint and AWS
// configuration are replaced.
func Clients(emu *emulator.Emulator, o awsiam.Options) *awsiam.Clients {
	id, secret := emu.RootCredentials()
	o.EndpointURL = "http://sandbox.iamsql.invalid"
	o.Config = &aws.Config{
		Region:      "us-east-1",
		HTTPClient:  &http.Client{Transport: emu.Transport()},
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, ""),
	}
	return awsiam.NewClients(o)
}
