//go:build race

package provider

// raceDetector is set when the tests run with -race, where a million
// rows through the engine take minutes rather than seconds.
const raceDetector = true
