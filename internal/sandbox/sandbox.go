// Package sandbox connects iamsql to an in-process IAM emulator: the
// --sandbox account, and the engine-level tests of the shell and server.
package sandbox

import (
	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// Clients returns IAM clients that reach emu in this process, acting as
// its root user: every partition's client calls the emulator's Invoke
// (direct.go), with the SDK's types, errors and retry loop. Of o only the
// retry bounds (MaxAttempts, MaxBackoff) apply.
func Clients(emu *emulator.Emulator, o awsiam.Options) *awsiam.Clients {
	id, _ := emu.RootCredentials()
	return awsiam.NewClientsFor(&direct{emu: emu, keyID: id, retryer: awsiam.NewRetryer(o)}, o)
}
