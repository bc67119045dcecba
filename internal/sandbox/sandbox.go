// Package sandbox connects iamsql to an in-process IAM emulator: the
// --sandbox account, and the engine-level tests of the shell and server.
package sandbox

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// Clients returns IAM clients that reach emu without a socket, acting as
// its root user; being in the same process, they don't sign (the
// emulator's TrustedTransport). o may set retry bounds; its endpoint and
// AWS configuration are replaced.
func Clients(emu *emulator.Emulator, o awsiam.Options) *awsiam.Clients {
	id, _ := emu.RootCredentials()
	o.EndpointURL = "http://sandbox.iamsql.invalid"
	o.Config = &aws.Config{
		Region:      "us-east-1",
		HTTPClient:  &http.Client{Transport: emu.TrustedTransport(id)},
		Credentials: aws.AnonymousCredentials{},
	}
	return awsiam.NewClients(o)
}
