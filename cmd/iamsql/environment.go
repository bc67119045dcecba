package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/iamsql/iamsql/internal/emulator"
	"github.com/iamsql/iamsql/internal/output"
	"github.com/iamsql/iamsql/internal/sandbox"
	"github.com/iamsql/iamsql/provider"
	"github.com/iamsql/iamsql/provider/awsiam"
)

// environment holds what the subcommands share: I/O, flags and the lazily
// built engine.
type environment struct {
	globals
	stdin          io.Reader
	stdout, stderr io.Writer

	closers []func()
	// The in-process sandbox account or organization, once made (the
	// rotation procedures verify new keys against it).
	sandboxEmu    *emulator.Emulator
	sandboxOrgEmu *emulator.Org
}

func (e *environment) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

func (e *environment) format() (output.Format, error) {
	f, err := output.ParseFormat(e.output)
	if err != nil {
		return "", errUsage{err.Error()}
	}
	return f, nil
}

func (e *environment) logger() *slog.Logger {
	if !e.debug {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// engine builds the SQL engine for the chosen account: the sandbox, or AWS
// through the standard configuration chain.
func (e *environment) engine(readOnly bool) (*provider.Engine, error) {
	clients, err := e.clients()
	if err != nil {
		return nil, err
	}
	audit, err := e.auditSink()
	if err != nil {
		return nil, err
	}
	journal, err := e.journal()
	if err != nil {
		return nil, err
	}
	org, err := e.orgConfig()
	if err != nil {
		return nil, err
	}
	rotation, err := e.rotationConfig(journal)
	if err != nil {
		return nil, err
	}
	return provider.NewEngine(provider.Config{
		Rotation:    rotation,
		Org:         org,
		Journal:     journal,
		Clients:     clients,
		Concurrency: e.engineConcurrency(),
		CallBudget:  e.callBudget,
		ReadOnly:    readOnly,
		Logger:      e.logger(),
		Audit:       audit,
		// An explicit --allow-root-keys; the shell's SET does it per session.
		AllowRootKeys: e.allowRootKeys,
	}), nil
}

func (e *environment) clients() (*awsiam.Clients, error) {
	if !e.sandbox {
		return awsiam.NewClients(awsiam.Options{Profile: e.profile, EndpointURL: e.endpointURL}), nil
	}
	if e.endpointURL != "" || e.profile != "" {
		return nil, errUsage{"--sandbox cannot be combined with --endpoint-url or --profile"}
	}
	if e.org {
		return e.sandboxOrg()
	}
	emu, err := emulator.New(emulator.Options{Seed: "demo", Logger: e.logger()})
	if err != nil {
		return nil, err
	}
	d, err := e.sandboxLatencyValue()
	if err != nil {
		return nil, err
	}
	emu.SetLatency(d)
	e.sandboxEmu = emu
	return sandbox.Clients(emu, awsiam.Options{}), nil
}

// auditSink appends audit records as JSON lines to --audit-log.
func (e *environment) auditSink() (func(provider.AuditRecord), error) {
	return jsonLines[provider.AuditRecord](e)
}

// jsonLines appends values as JSON lines to --audit-log (nil without it).
func jsonLines[T any](e *environment) (func(T), error) {
	if e.auditLog == "" {
		return nil, nil
	}
	f, err := os.OpenFile(e.auditLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--audit-log: %w", err)
	}
	e.closers = append(e.closers, func() { f.Close() })
	var mu sync.Mutex
	return func(rec T) {
		var b bytes.Buffer
		if err := json.NewEncoder(&b).Encode(rec); err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if _, err := f.Write(b.Bytes()); err != nil {
			fmt.Fprintf(e.stderr, "iamsql: writing audit log: %v\n", err)
		}
	}, nil
}
