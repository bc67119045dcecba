package custody

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// formatVersion is written in each file's process record.
const formatVersion = 1

// The record types, one JSON line each.
const (
	typeProcess  = "process"  // first line: who writes the file
	typeIntent   = "intent"   // a CreateAccessKey is about to be sent
	typeCreated  = "created"  // IAM answered with the key id
	typeResolved = "resolved" // delivered, rolled back, failed or orphaned
	typeCleared  = "cleared"  // handled after its process was gone (Clear)
)

// record is one line of a journal file. Which fields are set depends on
// Type; none is ever a secret.
type record struct {
	Type string    `json:"type"`
	V    int       `json:"v,omitempty"`
	ID   int       `json:"id,omitempty"` // the entry's number in the file
	Time time.Time `json:"time"`

	// process
	PID     int       `json:"pid,omitempty"`
	Host    string    `json:"host,omitempty"`
	Started time.Time `json:"started,omitzero"`
	Command []string  `json:"command,omitempty"`

	// intent; created repeats user and region, so that a torn intent
	// still leaves enough to find the key
	User      string `json:"user,omitempty"` // "" is the caller's own identity
	Region    string `json:"region,omitempty"`
	Statement string `json:"statement,omitempty"`
	Endpoint  string `json:"endpoint,omitempty"`
	Account   string `json:"account,omitempty"`
	Profile   string `json:"profile,omitempty"`

	// created, resolved
	KeyID   string  `json:"access_key_id,omitempty"`
	Outcome Outcome `json:"outcome,omitempty"`

	// cleared: which process handled the entry
	By int `json:"by_pid,omitempty"`
}

func (r record) marshal() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("custody: encoding a record: %w", err)
	}
	return append(b, '\n'), nil
}

// fileState is what a journal file says once replayed.
type fileState struct {
	head    *record // the process record; nil when torn
	entries map[int]*entryState
	// complete is whether the file ends with a whole line (an append must
	// otherwise start on a new one).
	complete bool
	// skipped counts lines that could not be read (torn writes).
	skipped int
}

type entryState struct {
	intent   record // as recorded, or rebuilt from the created record
	keyID    string
	created  time.Time
	orphaned bool
	cleared  bool
}

// replay reads a file's records in order. Lines that are not a record (a
// write torn by a crash or a full disk) are skipped: the records around
// them still count.
func replay(data []byte) *fileState {
	st := &fileState{entries: map[int]*entryState{}, complete: len(data) == 0 || data[len(data)-1] == '\n'}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(line, &r); err != nil || r.Type == "" {
			st.skipped++
			continue
		}
		st.apply(r)
	}
	return st
}

func (st *fileState) apply(r record) {
	if r.Type == typeProcess {
		if st.head == nil {
			st.head = &r
		}
		return
	}
	if r.ID <= 0 {
		return
	}
	e := st.entries[r.ID]
	if e == nil {
		// Its intent is missing (torn): later records still say enough.
		e = &entryState{intent: record{Type: typeIntent, ID: r.ID, Time: r.Time, User: r.User, Region: r.Region}}
		st.entries[r.ID] = e
	}
	switch r.Type {
	case typeIntent:
		e.intent = r
	case typeCreated:
		e.keyID, e.created = r.KeyID, r.Time
	case typeResolved:
		if r.KeyID != "" && e.keyID == "" {
			e.keyID = r.KeyID
		}
		switch r.Outcome {
		case Orphaned:
			e.orphaned = true
		case Delivered, RolledBack, Failed:
			e.cleared = true
		}
	case typeCleared:
		e.cleared = true
	}
}

// pending returns the entries not cleared, in the order they were
// recorded.
func (st *fileState) pending() []*entryState {
	var out []*entryState
	for _, e := range st.entries {
		if !e.cleared {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].intent.ID < out[k].intent.ID })
	return out
}
