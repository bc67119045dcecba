package custody_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/iamsql/iamsql/internal/custody"
)

// The create path: an intent before CreateAccessKey, the key id after it,
// and how it ended.
func ExampleJournal() {
	dir, err := custody.DefaultDir()
	if err != nil {
		log.Fatal(err)
	}
	j, err := custody.Open(dir, custody.Meta{Profile: "prod", Account: "123456789012", Command: []string{"iamsql", "exec", "…"}})
	if err != nil {
		log.Fatal(err)
	}
	defer j.Close() // removes the file unless something is left pending

	e, err := j.Intent(custody.Creation{UserName: "alice", Region: "us-east-1", Statement: "INSERT INTO access_keys (UserName, region) VALUES ('alice', 'us-east-1')"})
	if err != nil {
		log.Fatal(err) // not journaled: do not create the key
	}
	keyID, err := createAccessKey() // CreateAccessKey, never retried
	switch {
	case errors.Is(err, errAmbiguous):
		_ = e.Resolve(custody.Orphaned) // the outcome is unknown: keep it pending
		return
	case err != nil:
		_ = e.Resolve(custody.Failed) // IAM refused: nothing exists
		return
	}
	_ = e.Created(keyID) // before handing the secret over
	switch {
	case deliverSecret() == nil:
		_ = e.Resolve(custody.Delivered)
	case deleteKey(keyID) == nil:
		_ = e.Resolve(custody.RolledBack)
	default:
		_ = e.Resolve(custody.Orphaned) // and tell the user the key id
	}
}

// At start-up, and in a recover command: what processes that died left.
func ExampleListPending() {
	dir, err := custody.DefaultDir()
	if err != nil {
		log.Fatal(err)
	}
	pending, err := custody.ListPending(dir)
	if err != nil {
		log.Print(err) // some files unreadable; pending holds the rest
	}
	for _, p := range pending {
		fmt.Println(p.Describe())
		fmt.Println("  " + p.RecoverySQL())
		if p.KeyID != "" && deleteKey(p.KeyID) == nil {
			if err := custody.Clear(p, custody.RolledBack); err != nil && !errors.Is(err, custody.ErrBusy) {
				log.Print(err)
			}
		}
	}
}

var errAmbiguous = errors.New("no answer, a dropped connection or a 5xx: a key may exist")

func createAccessKey() (string, error) { return "AKIAIOSFODNN7EXAMPLE", nil }

func deliverSecret() error { return nil }

func deleteKey(string) error { return nil }
