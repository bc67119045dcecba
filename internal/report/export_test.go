package report

// SetCondition makes a rule decide by another SQL condition until restore
// is called, so a test can show that the condition alone decides.
func SetCondition(name string, where func(t Thresholds, now string) string) (restore func()) {
	for i := range Rules {
		if Rules[i].Name == name {
			old := Rules[i].where
			Rules[i].where = where
			return func() { Rules[i].where = old }
		}
	}
	panic("no rule " + name)
}
