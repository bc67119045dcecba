package report

import (
	"io"
	"sync"
	"time"

	"github.com/jedib0t/go-pretty/v6/progress"
)

// progressDisplay shows the report's steps on a terminal while they run.
// A nil display shows nothing, so callers need not check.
type progressDisplay struct {
	pw       progress.Writer
	rendered chan struct{}
	once     sync.Once
}

// progressEvery is how often the display redraws and polls call counts.
const progressEvery = 100 * time.Millisecond

func startProgress(w io.Writer) *progressDisplay {
	if w == nil {
		return nil
	}
	pw := progress.NewWriter()
	pw.SetOutputWriter(w)
	pw.SetAutoStop(false)
	pw.SetUpdateFrequency(progressEvery)
	pw.SetTrackerLength(24)
	pw.SetMessageLength(32)
	pw.SetStyle(progress.StyleDefault)
	pw.Style().Visibility.ETA = true
	pw.Style().Visibility.Value = true
	pw.Style().Options.TimeInProgressPrecision = time.Second
	pw.Style().Options.TimeDonePrecision = 100 * time.Millisecond
	d := &progressDisplay{pw: pw, rendered: make(chan struct{})}
	go func() {
		defer close(d.rendered)
		pw.Render()
	}()
	return d
}

// stop ends the display after drawing the final state, before the report
// itself is printed.
func (d *progressDisplay) stop() {
	if d == nil {
		return
	}
	d.once.Do(func() {
		// Stop is a no-op until Render has started, so repeat it.
		for {
			d.pw.Stop()
			select {
			case <-d.rendered:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// progressStep is one step of the display; nil-safe like the display.
type progressStep struct {
	t    *progress.Tracker
	msg  func() string
	quit chan struct{}
	wg   sync.WaitGroup
}

// step adds a step with total units of work (0 or less: unknown).
func (d *progressDisplay) step(msg string, total int) *progressStep {
	if d == nil {
		return nil
	}
	t := &progress.Tracker{Message: msg, Units: progress.UnitsDefault, AutoStopDisabled: true}
	if total > 0 {
		t.Total = int64(total)
	}
	d.pw.AppendTracker(t)
	t.Start()
	return &progressStep{t: t, quit: make(chan struct{})}
}

// watch polls value for the step's progress, and message for its text,
// until done is called.
func (s *progressStep) watch(value func() int, message func() string) {
	if s == nil {
		return
	}
	s.msg = message
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(progressEvery / 2)
		defer tick.Stop()
		for {
			s.t.SetValue(int64(value()))
			s.t.UpdateMessage(message())
			select {
			case <-s.quit:
				return
			case <-tick.C:
			}
		}
	}()
}

func (s *progressStep) done(err error) {
	if s == nil {
		return
	}
	close(s.quit)
	s.wg.Wait()
	if s.msg != nil {
		s.t.UpdateMessage(s.msg())
	}
	if err != nil {
		s.t.MarkAsErrored()
		return
	}
	if s.t.Total > 0 {
		s.t.SetValue(s.t.Total)
	}
	s.t.MarkAsDone()
}
