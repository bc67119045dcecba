package emulator

import "time"

// IAM makes a new key usable everywhere within a few seconds; SetPropagationDelay
// models that window so a client's retry of its first call is tested.

// notePropagationLocked starts a new key's propagation delay.
func (e *Emulator) notePropagationLocked(keyID string) {
	if e.propagation <= 0 {
		return
	}
	if e.newKeys == nil {
		e.newKeys = map[string]time.Time{}
	}
	e.newKeys[keyID] = e.now().Add(e.propagation)
}

// propagatingLocked reports whether a new key is still refused; a key
// past its delay is forgotten.
func (e *Emulator) propagatingLocked(keyID string) bool {
	until, ok := e.newKeys[keyID]
	if !ok {
		return false
	}
	if e.propagation <= 0 { // turned off: no key waits any longer
		delete(e.newKeys, keyID)
		return false
	}
	if e.now().Before(until) {
		return true
	}
	delete(e.newKeys, keyID)
	return false
}
